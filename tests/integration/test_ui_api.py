"""What the web UI asks the server beyond MLflow's API: experiments with run counts and last
activity, an experiment's keys with how many runs have each, and a page of the runs table with
its total and child counts. The store on SQLite and PostgreSQL, then over HTTP (validation,
the pages and assets, artifacts of runs logged by the embedded store)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import ServerProcess

import trainlab.ui
from trainlab.entities import Metric, Param, RunStatus, ViewType
from trainlab.store.sql.overview import SqlOverviewStore
from trainlab.store.sql.tracking import SqlTrackingStore

UI = "/ajax-api/2.0/trainlab/ui"


@pytest.fixture
def stores(db_uri: str, tmp_path: Path) -> Iterator[tuple[SqlTrackingStore, SqlOverviewStore]]:
    tracking = SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts")
    yield tracking, SqlOverviewStore(tracking)
    tracking.engine.dispose()


def _study(tracking: SqlTrackingStore, exp: str, trials: int) -> tuple[str, list[str]]:
    parent = tracking.create_run(exp, "u", 5_000, {"role": "study"}, "study").info.run_id
    kids = []
    for i in range(trials):
        tags = {"mlflow.parentRunId": parent}
        kid = tracking.create_run(exp, "u", 5_001 + i, tags, f"trial-{i}").info.run_id
        tracking.log_batch(kid, [Metric("loss", 1.0 / (i + 1), 0, 0)], [Param("lr", str(i))])
        kids.append(kid)
    return parent, kids


def test_experiments_with_run_counts_and_last_activity(
    stores: tuple[SqlTrackingStore, SqlOverviewStore],
) -> None:
    tracking, overview = stores
    busy = tracking.create_experiment("busy")
    idle = tracking.create_experiment("idle")
    for i in range(3):
        run = tracking.create_run(busy, "u", 1_000 + i, {}, f"r{i}").info.run_id
        tracking.update_run_info(run, RunStatus.FINISHED, 9_000 + i)
    tracking.delete_run(tracking.create_run(busy, "u", 99_999, {}, "gone").info.run_id)
    found = {o.experiment.name: o for o in overview.experiments()}
    assert found["busy"].runs == 3  # the deleted run is not counted
    assert found["busy"].last_activity >= 9_002
    assert found["idle"].runs == 0
    assert found["idle"].last_activity == found["idle"].experiment.last_update_time
    assert found["idle"].experiment.experiment_id == idle


def test_run_keys_count_runs_per_key(stores: tuple[SqlTrackingStore, SqlOverviewStore]) -> None:
    tracking, overview = stores
    exp = tracking.create_experiment("keys")
    other = tracking.create_experiment("other")
    for i in range(3):
        run = tracking.create_run(exp, "u", i, {"team": "a"}, f"r{i}").info.run_id
        params = [Param("lr", "0.1")] + ([Param("depth", "3")] if i else [])
        tracking.log_batch(run, [Metric("acc", 0.5, 0, 0)], params)
    stray = tracking.create_run(other, "u", 0, {}, "stray").info.run_id
    tracking.log_batch(stray, [Metric("elsewhere", 1.0, 0, 0)])
    keys = overview.run_keys([exp])
    assert keys.params == {"depth": 2, "lr": 3}
    assert keys.metrics == {"acc": 3}
    assert keys.tags["team"] == 3 and keys.tags["mlflow.runName"] == 3
    assert list(keys.params) == sorted(keys.params)
    # A deleted run's keys are not counted.
    first = tracking.search_runs([exp], "run_name = 'r0'")[0].info.run_id
    tracking.delete_run(first)
    keys = overview.run_keys([exp])
    assert (keys.params, keys.metrics) == ({"depth": 2, "lr": 2}, {"acc": 2})


def test_run_table_pages_counts_and_folds_children(
    stores: tuple[SqlTrackingStore, SqlOverviewStore],
) -> None:
    tracking, overview = stores
    exp = tracking.create_experiment("table")
    for i in range(5):
        run = tracking.create_run(exp, "u", 1_000 + i, {}, f"solo-{i}").info.run_id
        tracking.log_batch(run, [Metric("loss", float(i), 0, 0)])
    parent, kids = _study(tracking, exp, 4)
    every = overview.run_table([exp], max_results=3, order_by=["attributes.start_time DESC"])
    assert every.total == 10 and len(every.runs) == 3
    last = overview.run_table(
        [exp], max_results=3, offset=9, order_by=["attributes.start_time DESC"]
    )
    assert last.total == 10 and len(last.runs) == 1
    assert overview.run_table([exp], offset=50).runs == []
    top = overview.run_table([exp], max_results=100, top_level_only=True)
    assert top.total == 6
    assert {r.info.run_id for r in top.runs} >= {parent}
    assert top.children == {parent: 4}
    page2 = overview.run_table([exp], "metrics.loss >= 0", ["metrics.loss DESC"], 2, 2)
    assert page2.total == 9  # 5 solo runs and 4 trials have a loss
    losses = [r.data.metrics["loss"].value for r in page2.runs]
    assert losses == sorted(losses, reverse=True) and len(losses) == 2
    filtered = overview.run_table([exp], f"tags.`mlflow.parentRunId` = '{parent}'")
    assert sorted(r.info.run_id for r in filtered.runs) == sorted(kids)


def test_grouped_table_lists_every_run_whose_parent_it_does_not_list(
    stores: tuple[SqlTrackingStore, SqlOverviewStore],
) -> None:
    """A child of a deleted run, of a run that is not there and of a run in another
    experiment would be folded under no row: each is a row of its own. A child's own
    children are counted, so it folds them (nested runs)."""
    tracking, overview = stores
    exp = tracking.create_experiment("orphans")
    other = tracking.create_experiment("elsewhere")

    def run(name: str, parent: str | None = None, experiment: str = exp) -> str:
        tags = {"mlflow.parentRunId": parent} if parent else {}
        return tracking.create_run(experiment, "u", 1_000, tags, name).info.run_id

    doomed = run("doomed")
    survivor = run("survivor", doomed)
    tracking.delete_run(doomed)
    stray = run("stray", "0000deadbeef0000")
    abroad = run("abroad", run("there", experiment=other))
    top = run("top")
    child = run("child", top)
    grandchild = run("grandchild", child)
    table = overview.run_table([exp], max_results=100, top_level_only=True)
    assert {r.info.run_name for r in table.runs} == {"survivor", "stray", "abroad", "top"}
    assert table.total == 4 and table.children == {top: 1}
    unfolded = overview.run_table([exp], f"tags.`mlflow.parentRunId` = '{top}'")
    assert [r.info.run_id for r in unfolded.runs] == [child]
    assert unfolded.children == {child: 1}
    every = overview.run_table([exp], max_results=100, view_type=ViewType.ALL, top_level_only=True)
    assert {r.info.run_name for r in every.runs} == {"doomed", "stray", "abroad", "top"}
    assert every.children == {doomed: 1, top: 1}  # the deleted run's child folds under it
    assert {survivor, stray, abroad, grandchild} <= {
        r.info.run_id for r in overview.run_table([exp], max_results=100).runs
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    """A server over a store the embedded SDK wrote, artifacts included (as after the demo)."""
    import trainlab

    root = tmp_path_factory.mktemp("embedded")
    db = f"sqlite:///{root}/trainlab.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRAINLAB_ARTIFACTS_DIR", str(root / "trainlab-artifacts"))
        with trainlab.start_run(experiment="embedded", tracking_uri=db) as run:
            run.log_text("from the embedded store\n", "notes/readme.txt")
            run.log_params({"lr": "0.1"})
            run.log_metrics({"loss": float("nan"), "acc": 0.5})
            run_id = run.run_id
    uri = trainlab.get_run(run_id, tracking_uri=db).info.artifact_uri
    assert uri.startswith(f"file://{root}/trainlab-artifacts/")
    with ServerProcess(db, root / "trainlab-artifacts") as server:
        yield server, run_id


def test_server_serves_embedded_runs_artifacts(served: tuple[ServerProcess, str]) -> None:
    server, run_id = served
    listing = httpx.get(
        f"{server.url}/ajax-api/2.0/mlflow/artifacts/list", params={"run_id": run_id}
    ).json()
    assert [f["path"] for f in listing["files"]] == ["notes"]
    body = httpx.get(
        f"{server.url}/get-artifact", params={"run_id": run_id, "path": "notes/readme.txt"}
    )
    assert body.status_code == 200 and body.text == "from the embedded store\n"
    for header, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "sandbox"),
    ):
        assert body.headers[header] == value
    assert body.headers["Content-Disposition"].startswith("attachment")
    escape = httpx.get(
        f"{server.url}/get-artifact", params={"run_id": run_id, "path": "../../../trainlab.db"}
    )
    assert escape.status_code == 400


def test_a_server_of_another_folder_says_how_to_serve_embedded_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trainlab

    db = f"sqlite:///{tmp_path}/trainlab.db"
    monkeypatch.setenv("TRAINLAB_ARTIFACTS_DIR", str(tmp_path / "trainlab-artifacts"))
    with trainlab.start_run(experiment="embedded", tracking_uri=db) as run:
        run.log_text("x", "a.txt")
    with ServerProcess(db, tmp_path / "elsewhere") as server:
        refused = httpx.get(
            f"{server.url}/ajax-api/2.0/mlflow/artifacts/list", params={"run_id": run.run_id}
        )
    assert refused.status_code == 400
    assert refused.json()["message"].endswith(
        "are not stored by this server; a server serves the files below its "
        "--artifacts-destination: start it with the folder that holds these (the embedded "
        "store's ./trainlab-artifacts), or read them from that location."
    )


def test_pages_and_assets_are_served(served: tuple[ServerProcess, str]) -> None:
    server, run_id = served
    for path in ("/", "/experiments/1", f"/runs/{run_id}", "/compare?runs=a,b", "/models/m%2Fx"):
        page = httpx.get(server.url + path)
        assert page.status_code == 200 and '<div id="app">' in page.text, path
    page = httpx.get(server.url + "/")
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    index = page.text
    for asset in ("/static/app.css", "/static/js/app.js", "/static/vendor/uPlot.iife.min.js"):
        assert asset in index
        got = httpx.get(server.url + asset)
        assert got.status_code == 200 and len(got.content) > 500, asset
    assert "cdn" not in index.lower() and "https://" not in index
    static = Path(trainlab.ui.__file__).parent / "static"
    modules = {p.relative_to(static).as_posix() for p in static.rglob("*.js")}
    preloaded = set(re.findall(r'rel="modulepreload" href="/static/([^"]+)"', index))
    assert preloaded == modules - {"js/app.js", "vendor/uPlot.iife.min.js"}  # all, in parallel
    assert httpx.get(server.url + "/static/../pyproject.toml").status_code == 404
    missing = httpx.get(server.url + "/api/2.0/mlflow/nope")
    assert missing.status_code == 404 and missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    # a browser opening an address no view has gets the app (which says so), a 404 still
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = httpx.get(server.url + "/nowhere", headers=browser)
    assert page.status_code == 404 and '<div id="app">' in page.text
    for path in ("/nowhere", "/api/2.0/mlflow/nope"):
        answer = httpx.get(server.url + path, headers=browser if "api" in path else {})
        assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND", path


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "experiment_ids"),
        ({"experiment_ids": ["1"], "max_results": 0}, "max_results"),
        ({"experiment_ids": ["1"], "max_results": 1001}, "max_results"),
        ({"experiment_ids": ["1"], "top_level_only": "yes"}, "top_level_only"),
        ({"experiment_ids": ["1"], "offset": -1}, "offset"),
        ({"experiment_ids": ["1"], "filter": "metrics.x >>> 1"}, "Invalid filter"),
        ({"experiment_ids": ["1"], "order_by": ["nonsense.x"]}, "'nonsense.x'"),
        ({"experiment_ids": ["x"]}, "experiment"),
    ],
)
def test_run_table_rejects_bad_input(
    served: tuple[ServerProcess, str], body: dict[str, Any], needle: str
) -> None:
    server, _ = served
    r = httpx.post(f"{server.url}{UI}/runs/table", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert needle in r.json()["message"], r.json()["message"]


def test_ui_endpoints_over_http(served: tuple[ServerProcess, str]) -> None:
    server, run_id = served
    exps = httpx.get(f"{server.url}{UI}/experiments").json()["experiments"]
    mine = next(e for e in exps if e["experiment"]["name"] == "embedded")
    assert mine["runs"] == 1
    exp = mine["experiment"]["experiment_id"]
    keys = httpx.get(f"{server.url}{UI}/experiments/keys", params={"experiment_ids": exp}).json()
    assert keys["tags"]["mlflow.runName"] == 1
    table = httpx.post(f"{server.url}{UI}/runs/table", json={"experiment_ids": [exp]}).json()
    assert table["total"] == 1 and table["runs"][0]["info"]["run_id"] == run_id
    row = table["runs"][0]  # compact: plain objects, latest values, NaN as MLflow writes it
    assert row["params"] == {"lr": "0.1"} and row["metrics"] == {"loss": "NaN", "acc": 0.5}
    assert row["tags"]["mlflow.runName"] == row["info"]["run_name"]
    assert table["children"] == {} and "unknown_keys" not in table
    # a filter that matches nothing names the keys it uses that no run has, each once
    wanted = "metric.acc > 1 AND (params.`l r` = 'x' OR metrics.acc > 2 OR tags.t = 'y')"
    body = {"experiment_ids": [exp], "filter": wanted}
    empty = httpx.post(f"{server.url}{UI}/runs/table", json=body).json()
    assert (empty["total"], empty["unknown_keys"]) == (0, ["param 'l r'", "tag 't'"])
    no_ids = httpx.get(f"{server.url}{UI}/experiments/keys")
    assert no_ids.status_code == 400 and "experiment_ids" in no_ids.json()["message"]
