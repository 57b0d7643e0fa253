"""Artifacts from the SDK on the embedded store (``file:`` artifact roots).

The behaviour tests take ``tracking_uri``; ``tests/integration/test_artifacts_sdk.py`` runs them
again against a real server (``mlflow-artifacts:`` roots, proxied uploads and downloads)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.unit.client.test_fluent import (  # noqa: F401 - fixtures used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
)
from typer.testing import CliRunner

import trainlab
from trainlab.cli.main import app
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound

BINARY = bytes(range(256)) * 4099 + b"\x00\r\n\xff"


@pytest.fixture
def tracking_uri(sqlite_uri: str) -> Iterator[str]:
    yield sqlite_uri
    reset_sdk()


def make_tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.bin").write_bytes(BINARY)
    (root / "sub" / "deeper" / "c.json").write_text('{"c": 1}')
    return root


def test_log_artifact_and_download_round_trip_binary(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(BINARY)
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_artifact(src)
        trainlab.log_artifact(src, "ckpt/epoch1")
    out = trainlab.download_artifacts(
        run.run_id, "ckpt/epoch1/weights.bin", tmp_path / "dl", tracking_uri=tracking_uri
    )
    assert Path(out) == tmp_path / "dl" / "ckpt" / "epoch1" / "weights.bin"
    assert Path(out).read_bytes() == BINARY
    top = trainlab.list_artifacts(run.run_id, tracking_uri=tracking_uri)
    assert [(f.path, f.is_dir) for f in top] == [("ckpt", True), ("weights.bin", False)]
    assert top[1].file_size == len(BINARY)


def test_log_artifacts_nested_dirs_list_and_download_all(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "tree")
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        run.log_artifacts(tree, "data")
        assert [f.path for f in run.list_artifacts("data/sub")] == [
            "data/sub/b.bin",
            "data/sub/deeper",
        ]
    listed = trainlab.list_artifacts(run.run_id, "data", tracking_uri=tracking_uri)
    assert [(f.path, f.is_dir) for f in listed] == [("data/a.txt", False), ("data/sub", True)]

    root = Path(
        trainlab.download_artifacts(
            run.run_id, dst_path=tmp_path / "all", tracking_uri=tracking_uri
        )
    )
    assert root == tmp_path / "all"
    assert (root / "data" / "a.txt").read_text() == "alpha"
    assert (root / "data" / "sub" / "b.bin").read_bytes() == BINARY
    assert (root / "data" / "sub" / "deeper" / "c.json").read_text() == '{"c": 1}'

    sub = Path(trainlab.download_artifacts(run.run_id, "data/sub", tracking_uri=tracking_uri))
    assert sub.name == "sub" and (sub / "deeper" / "c.json").is_file()
    assert sorted(p.name for p in sub.rglob("*")) == ["b.bin", "c.json", "deeper"]


def test_log_text_and_dict_json_and_yaml(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> None:
    d = {"lr": 0.1, "layers": [64, 32], "name": "ünïcode"}
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_text("héllo\nworld", "notes/readme.txt")
        trainlab.log_dict(d, "cfg/config.json")
        run.log_dict(d, "cfg/config.yaml")
        run.log_text("x", "root.txt")
    dl = Path(
        trainlab.download_artifacts(run.run_id, dst_path=tmp_path / "d", tracking_uri=tracking_uri)
    )
    assert (dl / "notes" / "readme.txt").read_text(encoding="utf-8") == "héllo\nworld"
    assert json.loads((dl / "cfg" / "config.json").read_text(encoding="utf-8")) == d
    assert yaml.safe_load((dl / "cfg" / "config.yaml").read_text(encoding="utf-8")) == d
    assert (dl / "root.txt").read_text() == "x"


def test_overwrite_replaces_the_file(tracking_uri: str, experiment: str, tmp_path: Path) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_text("one", "f.txt")
        trainlab.log_text("two", "f.txt")
    out = trainlab.download_artifacts(
        run.run_id, "f.txt", tmp_path / "o", tracking_uri=tracking_uri
    )
    assert Path(out).read_text() == "two"


@pytest.mark.parametrize("bad", ["../escape", "a/../../b", "%2e%2e/x", "/abs/path", "a\\b", "a#b"])
def test_traversal_paths_are_refused(
    tracking_uri: str, experiment: str, tmp_path: Path, bad: str
) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        with pytest.raises(InvalidParameterValue):
            trainlab.log_artifact(src, bad)
        with pytest.raises(InvalidParameterValue):
            trainlab.log_text("x", bad)
    with pytest.raises(InvalidParameterValue):
        trainlab.download_artifacts(run.run_id, bad, tmp_path / "o", tracking_uri=tracking_uri)


def test_clear_errors(tracking_uri: str, experiment: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="No active run"):
        trainlab.log_text("x", "a.txt")
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        with pytest.raises(InvalidParameterValue, match="missing.txt': no such file"):
            trainlab.log_artifact(tmp_path / "missing.txt")
        with pytest.raises(InvalidParameterValue, match="is not a file .log_artifacts takes"):
            trainlab.log_artifact(tmp_path)
        with pytest.raises(InvalidParameterValue, match="not a directory"):
            trainlab.log_artifacts(tmp_path / "missing")
        with pytest.raises(InvalidParameterValue):
            trainlab.log_text("x", "")
        with pytest.raises(  # the path, not a server's URL, the same embedded and over HTTP
            InvalidParameterValue, match=r"^Invalid path 'a\\tb.txt': it contains the control ch"
        ):
            trainlab.log_text("x", "a\tb.txt")
    with pytest.raises(ResourceNotFound, match="has no artifact 'nope.txt'"):
        trainlab.download_artifacts(
            run.run_id, "nope.txt", tmp_path / "o" / "deeper", tracking_uri=tracking_uri
        )
    assert not (tmp_path / "o").exists()  # the folders made for the copy are gone again
    with pytest.raises(ResourceNotFound):
        trainlab.list_artifacts("0" * 32, tracking_uri=tracking_uri)
    assert trainlab.list_artifacts(run.run_id, tracking_uri=tracking_uri) == []


def test_cli_list_and_download(tracking_uri: str, experiment: str, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_artifacts(tree)
    runner = CliRunner()
    res = runner.invoke(
        app, ["artifacts", "list", run.run_id, "sub", "--json", "--tracking-uri", tracking_uri]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [
        {"path": "sub/b.bin", "is_dir": False, "file_size": len(BINARY)},
        {"path": "sub/deeper", "is_dir": True, "file_size": None},
    ]
    res = runner.invoke(app, ["artifacts", "list", run.run_id, "--tracking-uri", tracking_uri])
    assert res.exit_code == 0 and "a.txt" in res.stdout and "sub/" in res.stdout
    dst = tmp_path / "cli-dl"
    res = runner.invoke(
        app,
        [
            "artifacts",
            "download",
            run.run_id,
            "sub",
            "--dst",
            str(dst),
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert res.exit_code == 0, res.output
    assert Path(res.stdout.strip()) == dst / "sub"
    assert (dst / "sub" / "b.bin").read_bytes() == BINARY
    res = runner.invoke(
        app,
        [
            "artifacts",
            "download",
            run.run_id,
            "nope",
            "--dst",
            str(dst),
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert res.exit_code == 1 and "nope" in res.output


def test_import_trainlab_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, trainlab; trainlab.log_artifact; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ}
    )
    mods = out.stdout
    for heavy in ("'httpx'", "'pandas'", "'sqlalchemy'", "'yaml'", "'fastapi'"):
        assert heavy not in mods
