"""SDK artifacts against a real ``trainlab server`` (``mlflow-artifacts:`` roots): the unit
behaviour tests run again over HTTP, then cross-checks with the stock mlflow client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.client.test_artifacts_sdk import (  # noqa: F401 - collected and used by pytest
    BINARY,
    make_tree,
    test_clear_errors,
    test_cli_list_and_download,
    test_log_artifact_and_download_round_trip_binary,
    test_log_artifacts_nested_dirs_list_and_download_all,
    test_log_text_and_dict_json_and_yaml,
    test_overwrite_replaces_the_file,
    test_traversal_paths_are_refused,
)
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)

import trainlab

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def tracking_uri(server: Any) -> Iterator[str]:
    yield str(server.url)
    reset_sdk()


def test_run_artifact_uri_is_proxied(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")


def test_mlflow_downloads_what_trainlab_logged(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "tree")
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_artifacts(tree, "data")
        trainlab.log_dict({"k": [1, 2]}, "cfg.json")
    mlflow.set_tracking_uri(tracking_uri)
    out = Path(
        mlflow.artifacts.download_artifacts(run_id=run.run_id, dst_path=str(tmp_path / "ml"))
    )
    assert (out / "data" / "sub" / "b.bin").read_bytes() == BINARY
    assert (out / "data" / "sub" / "deeper" / "c.json").read_text() == '{"c": 1}'
    assert mlflow.artifacts.load_dict(f"runs:/{run.run_id}/cfg.json") == {"k": [1, 2]}
    listed = mlflow.MlflowClient().list_artifacts(run.run_id, "data")
    assert sorted((f.path, f.is_dir) for f in listed) == [("data/a.txt", False), ("data/sub", True)]


def test_trainlab_downloads_what_mlflow_logged(tracking_uri: str, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(f"ml-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tree), "from-mlflow")
        mlflow.log_text("by mlflow", "t/note.txt")
    rid = run.info.run_id
    listed = trainlab.list_artifacts(rid, tracking_uri=tracking_uri)
    assert [(f.path, f.is_dir) for f in listed] == [("from-mlflow", True), ("t", True)]
    out = Path(
        trainlab.download_artifacts(rid, dst_path=tmp_path / "tl", tracking_uri=tracking_uri)
    )
    assert (out / "from-mlflow" / "sub" / "b.bin").read_bytes() == BINARY
    assert (out / "t" / "note.txt").read_text() == "by mlflow"
