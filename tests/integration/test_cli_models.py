"""``trainlab models`` as a real subprocess, against a SQLite file and a real server. The
registry is seeded through the stores; every check reads the command's output."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.integration.test_cli import assert_clean_error, cli, one_line, table_rows
from tests.unit.client.test_fluent import close_store

from trainlab.client.resolve import registry_for, store_for
from trainlab.client.rest import RestTrackingStore
from trainlab.client.rest_logged_models import logged_models_for
from trainlab.store.sql.tracking import SqlTrackingStore


@dataclass
class Registry:
    uri: str
    cwd: Path
    model: str
    run_id: str


@pytest.fixture(params=["sqlite", "server"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    if request.param == "server":
        uri = str(request.getfixturevalue("server").url)
    else:
        uri = f"sqlite:///{tmp_path}/cli.db"
    store = store_for(uri)
    registry = registry_for(store)
    model = f"fraud-{uuid.uuid4().hex[:8]}"
    run_id = store.create_run("0", run_name="train").info.run_id
    registry.create_registered_model(model, {"team": "risk"}, "fraud detector")
    for _ in range(3):
        registry.create_model_version(model, f"runs:/{run_id}/model", run_id)
    registry.set_registered_model_alias(model, "champion", 1, user="alice", reason="baseline")
    yield Registry(uri, tmp_path, model, run_id)
    if isinstance(store, RestTrackingStore):
        store.close()
    elif isinstance(store, SqlTrackingStore):
        store.engine.dispose()


def run(s: Registry, *args: str) -> Any:
    return cli("models", *args, "--tracking-uri", s.uri, cwd=s.cwd)


def test_list_and_show(seeded: Registry) -> None:
    proc = run(seeded, "list", "--filter", f"name = '{seeded.model}'")
    assert proc.returncode == 0, proc.stderr
    rows = table_rows(proc.stdout)
    assert [r[:3] for r in rows] == [[seeded.model, "3", "champion=v1"]]
    assert rows[0][4] == "fraud detector"
    as_json = json.loads(
        run(seeded, "list", "--filter", f"name = '{seeded.model}'", "--json").stdout
    )
    assert [(m["name"], m["aliases"], m["tags"]) for m in as_json] == [
        (seeded.model, {"champion": 1}, {"team": "risk"})
    ]
    shown = json.loads(run(seeded, "show", seeded.model, "--json").stdout)
    assert shown["description"] == "fraud detector"
    assert [v["version"] for v in shown["latest_versions"]] == [3]
    text = run(seeded, "show", seeded.model)
    assert text.returncode == 0 and "@champion" in text.stdout and "team = risk" in text.stdout


def test_versions(seeded: Registry) -> None:
    proc = run(seeded, "versions", seeded.model)
    assert proc.returncode == 0, proc.stderr
    rows = table_rows(proc.stdout)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("3", "None", "", seeded.run_id),
        ("2", "None", "", seeded.run_id),
        ("1", "None", "champion", seeded.run_id),
    ]
    data = json.loads(run(seeded, "versions", seeded.model, "--json").stdout)
    assert [v["version"] for v in data] == [3, 2, 1]
    assert data[0]["lineage"] == {"run_id": seeded.run_id}
    assert data[0]["source"] == f"runs:/{seeded.run_id}/model"
    first = run(seeded, "versions", seeded.model, "-n", "1")
    assert "1 version(s) of" in first.stdout and "(more: raise --max-results)" in first.stdout
    assert "more" not in run(seeded, "versions", seeded.model, "-n", "3").stdout


def test_alias_set_history_rollback_delete(seeded: Registry) -> None:
    m = seeded.model
    moved = run(
        seeded, "alias", "set", m, "champion", "3", "--reason", "[wip] beats v1", "--user", "bob"
    )
    assert moved.returncode == 0, moved.stderr
    assert f"{m}@champion -> version 3" in moved.stdout
    back = run(seeded, "alias", "rollback", m, "champion", "--reason", "regressed", "--user", "eve")
    assert back.returncode == 0, back.stderr
    assert one_line(back.stdout).startswith(
        f"rolled back: {m}@champion v3 -> v1, undoing its last move (v1 -> v3 by bob at "
    )
    assert one_line(back.stdout).endswith(": '[wip] beats v1')")  # brackets are not markup
    gone = run(seeded, "alias", "delete", m, "champion", "--user", "ops", "--reason", "retired")
    assert gone.returncode == 0, gone.stderr
    assert_clean_error(run(seeded, "alias", "delete", m, "champion"), f"{m}@champion is not set")
    history = json.loads(run(seeded, "alias", "history", m, "champion", "--json").stdout)
    assert [(e["from_version"], e["to_version"], e["user"], e["reason"]) for e in history] == [
        (None, 1, "alice", "baseline"),
        (1, 3, "bob", "[wip] beats v1"),
        (3, 1, "eve", "rollback: regressed"),
        (1, None, "ops", "retired"),
    ]
    table = run(seeded, "alias", "history", m)
    rows = table_rows(table.stdout)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("champion", "-", "1", "alice"),
        ("champion", "1", "3", "bob"),
        ("champion", "3", "1", "eve"),
        ("champion", "1", "-", "ops"),
    ]
    typo = run(seeded, "alias", "history", m, "champoin")
    assert_clean_error(
        typo, f"Alias 'champoin' of {m} was never set (aliases with a history: champion)."
    )
    assert json.loads(run(seeded, "alias", "history", m, "champoin", "--json").stdout) == []


def test_clean_errors(seeded: Registry) -> None:
    assert_clean_error(run(seeded, "show", "no-such-model"), "no-such-model", "not found")
    assert_clean_error(run(seeded, "alias", "set", seeded.model, "latest", "1"), "reserved")
    assert_clean_error(run(seeded, "alias", "set", seeded.model, "prod", "9"), "version=9")
    assert_clean_error(
        run(seeded, "alias", "rollback", seeded.model, "champion"), "no previous version"
    )
    bad = run(seeded, "list", "--filter", "name = ")
    assert bad.returncode == 2 and "filter" in bad.stderr and "Traceback" not in bad.stderr
    for args in (("alias", "history", "wien"), ("alias", "set", "wien", "champion", "1")):
        assert_clean_error(run(seeded, *args), "Registered Model with name=wien not found")


def test_register_a_runs_model(seeded: Registry) -> None:
    from sklearn.linear_model import LogisticRegression

    import trainlab

    X, y = [[0.0, 1.0], [1.0, 0.0], [0.0, 0.5], [1.0, 0.2]], [0, 1, 0, 1]
    with trainlab.start_run(experiment="cli-register", tracking_uri=seeded.uri) as active:
        trainlab.log_model(LogisticRegression().fit(X, y), "clf")
    run_id = active.run_id
    name = f"reg-{uuid.uuid4().hex[:8]}"
    proc = run(seeded, "register", run_id[:8], name, "--model", "clf")
    assert proc.returncode == 0, proc.stderr
    assert f"registered runs:/{run_id}/clf as models:/{name}/1" in proc.stdout
    assert f"trainlab promote {name} --version 1 --policy POLICY.yaml" in proc.stdout
    store = store_for(seeded.uri)
    try:
        assert registry_for(store).get_model_version(name, 1).run_id == run_id
    finally:
        close_store(store)
    loaded = trainlab.load_model(f"models:/{name}/1", tracking_uri=seeded.uri)
    assert list(loaded.predict(X)) == y
    # the run shows its model, and the versions made of it
    model_id = trainlab.get_run(run_id, tracking_uri=seeded.uri).outputs.model_outputs[0][0]
    shown = cli("runs", "show", run_id, "--json", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert json.loads(shown.stdout)["models"] == [
        {"model_id": model_id, "name": "clf", "registered": [f"{name}/1"]}
    ]
    store = store_for(seeded.uri)
    try:  # a model the run logged and then deleted is not listed
        models = logged_models_for(store)
        experiment_id = store.get_run(run_id).info.experiment_id
        models.delete_logged_model(
            models.create_logged_model(experiment_id, "gone", run_id).model_id
        )
    finally:
        close_store(store)
    shown = cli("runs", "show", run_id, "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert shown.returncode == 0, shown.stderr
    assert ["clf", f"models:/{model_id}", f"models:/{name}/1"] in table_rows(shown.stdout)
    assert "gone" not in shown.stdout
    assert_clean_error(
        run(seeded, "register", run_id, name),
        f"Run {run_id} has no logged model named 'model'. Its logged models: clf.",
    )
    # A name with a space: the commands to paste next are quoted.
    proc = run(seeded, "register", run_id, f"{name} xgb", "--model", "clf")
    assert proc.returncode == 0, proc.stderr
    assert f"trainlab promote '{name} xgb' --version 1 --policy POLICY.yaml" in proc.stdout
