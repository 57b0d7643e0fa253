"""The fluent SDK (``trainlab.start_run`` & co.) writing straight to a database: SQLite and
PostgreSQL. Every value is read back through the store.

The behaviour tests here take the ``tracking_uri`` fixture; ``tests/integration/
test_sdk_server.py`` imports them and runs them again with ``tracking_uri`` = a real server."""

from __future__ import annotations

import ast
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import trainlab
from trainlab.client import fluent
from trainlab.client.resolve import store_for
from trainlab.entities import Metric, Run, RunStatus
from trainlab.entities.paging import every_page
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound, ServiceUnavailable

# Modules the SDK must never need to import (the server stack, the SQL stack, pandas).
HEAVY_AT_IMPORT = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "httpx", "pandas")


# -- helpers shared with tests/integration/test_sdk_server.py -------------------------------------
def reset_sdk() -> None:
    """End this thread's active runs, forget the tracking URI, close every cached client."""
    while (run := trainlab.active_run()) is not None:
        run.end(RunStatus.KILLED)
    trainlab.set_tracking_uri(None)
    with fluent._clients_lock:
        clients = list(fluent._clients.values())
        fluent._clients.clear()
    for client in clients:
        client.logger.close(timeout=30)
        close_store(client.store)


def close_store(store: Any) -> None:
    store.close()


def history(uri: str, run_id: str, key: str) -> list[Metric]:
    """The full metric history, read through a fresh store (all pages)."""
    store = store_for(uri)
    try:
        return list(every_page(lambda token: store.get_metric_history(run_id, key, 5000, token)))
    finally:
        close_store(store)


def run_ids(runs: Sequence[Run]) -> list[str]:
    return [r.info.run_id for r in runs]


@pytest.fixture(autouse=True)
def isolated_sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No tracking URI or experiment from the environment, spool and artifacts in tmp_path."""
    monkeypatch.setenv("TRAINLAB_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TRAINLAB_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.delenv("TRAINLAB_TRACKING_URI", raising=False)
    monkeypatch.delenv("TRAINLAB_EXPERIMENT", raising=False)
    monkeypatch.chdir(tmp_path)
    reset_sdk()
    yield
    reset_sdk()


@pytest.fixture(scope="module")
def module_postgres_uri(postgres_admin_uri: str) -> Iterator[str]:
    """One new PostgreSQL database for this module, dropped afterwards. The tests here each
    work in their own experiment, so they can share it; a database per test (``postgres_uri``)
    costs about a second each to create, migrate and drop."""
    import psycopg

    name = f"trainlab_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_admin_uri.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(postgres_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracking_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend under test. Clients are closed here, before a database is dropped."""
    name = "sqlite_uri" if request.param == "sqlite" else "module_postgres_uri"
    yield str(request.getfixturevalue(name))
    reset_sdk()


@pytest.fixture(name="experiment")
def experiment_fixture() -> str:
    return f"exp-{uuid.uuid4().hex[:12]}"


# -- behaviour shared by every backend ------------------------------------------------------------
def test_run_finishes_with_params_tags_and_end_time(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(
        experiment=experiment,
        run_name="baseline",
        params={"lr": 0.1, "depth": 6, "model": "rf"},
        tags={"stage": "dev", "seed": 7},
        tracking_uri=tracking_uri,
    ) as run:
        assert trainlab.active_run() is run
        during = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
        assert during.info.status == RunStatus.RUNNING
        assert during.info.end_time is None
    assert trainlab.active_run() is None

    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    exp = store_for(tracking_uri)
    try:
        found = exp.find_experiment_by_name(experiment)
    finally:
        close_store(exp)
    assert found is not None and stored.info.experiment_id == found.experiment_id
    assert stored.info.run_name == "baseline"
    assert stored.info.status == RunStatus.FINISHED
    assert stored.info.start_time is not None and stored.info.end_time is not None
    assert stored.info.end_time >= stored.info.start_time
    assert stored.data.params == {"lr": "0.1", "depth": "6", "model": "rf"}
    assert stored.data.tags["stage"] == "dev"
    assert stored.data.tags["seed"] == "7"
    assert stored.data.tags["mlflow.source.type"] == "LOCAL"
    assert "mlflow.parentRunId" not in stored.data.tags


def test_bad_keys_are_refused_before_the_run_exists(tracking_uri: str, experiment: str) -> None:
    for params, error in (({1: "a", "lr": 0.1}, TypeError), ({"../x": 1}, InvalidParameterValue)):
        with pytest.raises(error):
            trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri, params=params)
    with pytest.raises(InvalidParameterValue):
        trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri, tags={"a\nb": "x"})
    with pytest.raises(InvalidParameterValue, match="param 'x': 7000 characters, the limit is"):
        trainlab.start_run(
            experiment=experiment, tracking_uri=tracking_uri, params={"x": "y" * 7000}
        )
    assert trainlab.active_run() is None
    with pytest.raises(InvalidParameterValue, match="No experiment named"):  # nor its experiment
        trainlab.search_runs(experiment, tracking_uri=tracking_uri)


def test_a_value_the_server_would_refuse_fails_the_call_and_logs_none_of_it(
    tracking_uri: str, experiment: str
) -> None:
    """Checked only by the server, an over-long value was dropped after the call had returned
    (the run ended FINISHED without it), and log_metrics stored the points before a bad one."""
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        with pytest.raises(InvalidParameterValue, match="limit is 6000"):
            trainlab.log_params({"fine": 1, "long": "q" * 7000})
        with pytest.raises(InvalidParameterValue, match="limit is 8000"):
            trainlab.set_tags({"fine": "1", "long": "t" * 8001})
        with pytest.raises(ValueError, match="Metric 'b': value 'x' is not a number"):
            trainlab.log_metrics({"a": 1, "b": "x", "c": 3})
        with pytest.raises(ValueError, match="Metric 'a': step 1.5 is not a whole number"):
            trainlab.log_metrics({"a": 1, "c": 3}, step=1.5)
        with pytest.raises(ValueError, match="Metric 'c': timestamp 'now' is not a whole num"):
            run.log_metric("c", 1.0, 0, "now")  # type: ignore[arg-type]
        trainlab.log_metrics({"a": 1})
        trainlab.log_metric("s", 0.5, step=2.0)  # a step computed as a float: it is whole
    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.data.params == {}
    assert "fine" not in stored.data.tags
    assert {k: m.value for k, m in stored.data.metrics.items()} == {"a": 1.0, "s": 0.5}
    assert stored.data.metrics["s"].step == 2


@pytest.mark.parametrize(
    ("error", "status"),
    [(ValueError, RunStatus.FAILED), (KeyboardInterrupt, RunStatus.KILLED)],
    ids=["exception-FAILED", "ctrl-c-KILLED"],
)
def test_error_in_block_ends_run_and_propagates(
    tracking_uri: str, experiment: str, error: type[BaseException], status: RunStatus
) -> None:
    with (
        pytest.raises(error, match="boom"),
        trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run,
    ):
        trainlab.log_metric("loss", 0.5, step=1)
        raise error("boom")
    assert trainlab.active_run() is None
    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.info.status == status
    assert stored.info.end_time is not None
    # What was logged before the error was flushed by the end of the run.
    assert stored.data.metrics["loss"].value == 0.5


def test_log_params_metrics_and_tags(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        trainlab.log_param("optimizer", "adam")
        trainlab.log_params({"lr": 0.01, "layers": 3})
        run.log_param("batch", 64)
        for step in range(5):
            trainlab.log_metric("loss", 1.0 / (step + 1), step=step)
        trainlab.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
        trainlab.log_metrics({"acc": 0.95}, step=8)
        run.log_metric("lr_now", 0.001)
        trainlab.set_tag("stage", "tuning")
        trainlab.set_tags({"team": "vision", "gpu": 1})
        run.set_tag("note", "via ActiveRun")

    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.data.params == {
        "optimizer": "adam",
        "lr": "0.01",
        "layers": "3",
        "batch": "64",
    }
    tags = stored.data.tags
    assert (tags["stage"], tags["team"], tags["gpu"], tags["note"]) == (
        "tuning",
        "vision",
        "1",
        "via ActiveRun",
    )
    latest = {k: (m.value, m.step) for k, m in stored.data.metrics.items()}
    assert latest == {
        "loss": (0.2, 4),
        "acc": (0.95, 8),
        "f1": (0.8, 7),
        "lr_now": (0.001, 0),
    }
    loss = history(tracking_uri, run.run_id, "loss")
    assert [(m.step, m.value) for m in loss] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert [(m.step, m.value) for m in history(tracking_uri, run.run_id, "acc")] == [
        (7, 0.9),
        (8, 0.95),
    ]
    # log_metrics stamps all keys of one call with the same timestamp.
    f1 = history(tracking_uri, run.run_id, "f1")
    assert f1[0].timestamp == history(tracking_uri, run.run_id, "acc")[0].timestamp


def test_nested_run_records_parent(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as parent:
        with trainlab.start_run(run_name="child", nested=True) as child:
            assert trainlab.active_run() is child
            trainlab.log_param("fold", 1)  # goes to the innermost run
        assert trainlab.active_run() is parent
        trainlab.log_param("folds", 5)

    p = trainlab.get_run(parent.run_id, tracking_uri=tracking_uri)
    c = trainlab.get_run(child.run_id, tracking_uri=tracking_uri)
    assert c.data.tags["mlflow.parentRunId"] == parent.run_id
    assert c.info.experiment_id == p.info.experiment_id
    assert (c.data.params, p.data.params) == ({"fold": "1"}, {"folds": "5"})
    assert c.info.status == p.info.status == RunStatus.FINISHED
    children = trainlab.search_runs(
        experiment,
        f"tags.`mlflow.parentRunId` = '{parent.run_id}'",
        output="list",
        tracking_uri=tracking_uri,
    )
    assert run_ids(children) == [child.run_id]


def test_second_top_level_run_is_refused(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        with pytest.raises(InvalidParameterValue) as info:
            trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri)
        assert run.run_id in info.value.message
        assert "nested=True" in info.value.message
        assert trainlab.active_run() is run
    # No run was created by the refused call.
    runs = trainlab.search_runs(experiment, output="list", tracking_uri=tracking_uri)
    assert run_ids(runs) == [run.run_id]


def test_a_metric_that_is_not_a_number_is_named(tracking_uri: str, experiment: str) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri):
        for value in ("abc", None, [1.0]):
            with pytest.raises(ValueError, match=r"Metric 'z': value .* not a number"):
                trainlab.log_metric("z", value)  # type: ignore[arg-type]
        trainlab.log_metric("z", "0.5")  # a number's text is a number, as float() takes it


def test_ending_the_run_flushes_everything(tracking_uri: str, experiment: str) -> None:
    n = 10_000
    with trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri) as run:
        for step in range(n):
            trainlab.log_metric("loss", step * 0.5, step=step)
        trainlab.log_param("n", n)
    # No explicit flush: leaving the block must have delivered all of it.
    points = history(tracking_uri, run.run_id, "loss")
    assert len(points) == n
    assert [m.step for m in points] == list(range(n))
    assert [m.value for m in points] == [s * 0.5 for s in range(n)]
    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.data.metrics["loss"].step == n - 1
    assert stored.data.params == {"n": str(n)}


def test_rejected_point_is_reported_and_the_rest_lands(
    tracking_uri: str, experiment: str, caplog: pytest.LogCaptureFixture
) -> None:
    with trainlab.start_run(
        experiment=experiment, params={"lr": 0.1}, tracking_uri=tracking_uri
    ) as run:
        trainlab.flush()
        trainlab.log_param("lr", 0.2)  # a param cannot change its value: rejected
        trainlab.log_metric("loss", 0.3, step=2)
        trainlab.set_tag("stage", "after")
    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.params == {"lr": "0.1"}
    assert stored.data.metrics["loss"].value == 0.3
    assert stored.data.tags["stage"] == "after"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, errors
    assert run.run_id in errors[0] and "'lr'" in errors[0] and "0.2" in errors[0]


def test_end_run_ends_the_active_run(tracking_uri: str, experiment: str) -> None:
    run = trainlab.start_run(experiment=experiment, tracking_uri=tracking_uri)
    trainlab.log_metric("m", 3.0)
    trainlab.end_run()
    assert trainlab.active_run() is None
    stored = trainlab.get_run(run.run_id, tracking_uri=tracking_uri)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.metrics["m"].value == 3.0
    trainlab.end_run()  # no active run: nothing to do
    with pytest.raises(InvalidParameterValue, match="No active run"):
        trainlab.log_metric("m", 4.0)


class Outage:
    """Stands in for the store behind a client's logger: unreachable while ``down``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = True

    def log_batch(self, *args: Any, **kwargs: Any) -> None:
        if self.down:
            raise ServiceUnavailable("connection refused")
        self.inner.log_batch(*args, **kwargs)

    def update_run_info(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ServiceUnavailable("connection refused")
        return self.inner.update_run_info(*args, **kwargs)


def test_a_run_ended_while_the_server_is_down_ends_once_it_is_back(
    sqlite_uri: str, experiment: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = trainlab.start_run(experiment=experiment, tracking_uri=sqlite_uri)
    trainlab.log_metric("loss", 1.0, step=0)
    trainlab.flush()
    logger = fluent._client(sqlite_uri).logger
    outage = Outage(logger._sender.store)
    logger._sender.store = outage  # type: ignore[assignment]
    for step in range(1, 100):
        trainlab.log_metric("loss", 1.0 / (step + 1), step=step)
    before = time.time_ns() // 1_000_000

    with caplog.at_level(logging.ERROR, logger="trainlab"):
        trainlab.end_run(RunStatus.FAILED)

    after = time.time_ns() // 1_000_000
    assert trainlab.active_run() is None
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert run.run_id in error and sqlite_uri in error
    assert "100 item(s), the end of the run included" in error  # 99 points and the end
    assert str(logger.spool_path) in error and "`trainlab spool flush --tracking-uri " in error
    stored = trainlab.get_run(run.run_id, tracking_uri=sqlite_uri)
    assert (stored.info.status, stored.info.end_time) == (RunStatus.RUNNING, None)

    outage.down = False
    trainlab.flush()

    stored = trainlab.get_run(run.run_id, tracking_uri=sqlite_uri)
    assert stored.info.status == RunStatus.FAILED
    assert stored.info.end_time is not None and before <= stored.info.end_time <= after
    points = history(sqlite_uri, run.run_id, "loss")
    assert [(m.step, m.value) for m in points] == [(s, 1.0 / (s + 1)) for s in range(100)]


def _seed_models(uri: str, experiment: str) -> dict[str, str]:
    """Four finished runs; returns run name -> run id."""
    ids = {}
    for name, model, acc in [
        ("rf-a", "rf", 0.91),
        ("rf-b", "rf", 0.72),
        ("xgb", "xgb", 0.88),
        ("svm", "svm", 0.55),
    ]:
        with trainlab.start_run(
            experiment=experiment, run_name=name, params={"model": model}, tracking_uri=uri
        ) as run:
            trainlab.log_metric("acc", acc)
            trainlab.set_tag("family", "tree" if model != "svm" else "kernel")
        ids[name] = run.run_id
    return ids


def test_search_runs_returns_a_frame(tracking_uri: str, experiment: str) -> None:
    ids = _seed_models(tracking_uri, experiment)
    df = trainlab.search_runs(
        experiment,
        "metrics.acc > 0.8 OR params.model = 'svm'",
        order_by=["metrics.acc DESC"],
        tracking_uri=tracking_uri,
    )
    assert list(df["run_id"]) == [ids["rf-a"], ids["xgb"], ids["svm"]]
    assert {"metrics.acc", "params.model", "tags.family", "status", "end_time"} <= set(df.columns)
    assert list(df["metrics.acc"]) == [0.91, 0.88, 0.55]
    assert list(df["params.model"]) == ["rf", "xgb", "svm"]
    assert list(df["tags.family"]) == ["tree", "tree", "kernel"]
    assert list(df["run_name"]) == ["rf-a", "xgb", "svm"]
    assert set(df["status"]) == {"FINISHED"}
    assert df["end_time"].notna().all()

    runs = trainlab.search_runs(
        experiment,
        "metrics.acc > 0.8 OR params.model = 'svm'",
        order_by=["metrics.acc DESC"],
        output="list",
        tracking_uri=tracking_uri,
    )
    assert all(isinstance(r, Run) for r in runs)
    assert run_ids(runs) == list(df["run_id"])


# filter, order_by, expected run names: one seeded experiment answers all of them.
SEARCH_CASES: list[tuple[str | None, list[str], list[str]]] = [
    (
        "(params.model = 'rf' OR params.model = 'xgb') AND metrics.acc > 0.8",
        ["metrics.acc ASC"],
        ["xgb", "rf-a"],
    ),
    (
        "params.model = 'svm' OR (params.model = 'rf' AND metrics.acc < 0.8)",
        ["metrics.acc DESC"],
        ["rf-b", "svm"],
    ),
    ("tags.family = 'kernel' OR metrics.acc >= 0.91", ["attributes.run_name ASC"], ["rf-a", "svm"]),
    (
        "params.model IN ('svm', 'xgb') OR params.model LIKE 'r%'",
        ["metrics.acc DESC"],
        ["rf-a", "xgb", "rf-b", "svm"],
    ),
    (None, ["params.model DESC", "metrics.acc ASC"], ["xgb", "svm", "rf-b", "rf-a"]),
    ("params.model = 'rf' AND (metrics.acc < 0.6 OR metrics.acc > 0.95)", [], []),
]


def test_search_runs_or_and_parentheses(tracking_uri: str, experiment: str) -> None:
    ids = _seed_models(tracking_uri, experiment)
    for filter_string, order_by, expected in SEARCH_CASES:
        df = trainlab.search_runs(experiment, filter_string, order_by, tracking_uri=tracking_uri)
        assert list(df["run_id"]) == [ids[name] for name in expected], (filter_string, order_by)


def test_search_runs_without_matches(tracking_uri: str, experiment: str) -> None:
    _seed_models(tracking_uri, experiment)
    df = trainlab.search_runs(experiment, "metrics.acc > 2", tracking_uri=tracking_uri)
    assert len(df) == 0
    assert {"run_id", "experiment_id", "status", "start_time", "end_time"} <= set(df.columns)
    assert list(df["run_id"]) == []
    none = trainlab.search_runs(
        experiment, "metrics.acc > 2", output="list", tracking_uri=tracking_uri
    )
    assert none == []


class SmallPages:
    """The real store, but answering at most ``size`` runs per search page (like a server with
    a lower page limit), so that search_runs has to follow page tokens."""

    def __init__(self, inner: Any, size: int) -> None:
        self.inner = inner
        self.size = size
        self.calls: list[tuple[int, str | None]] = []

    def search_runs(self, *args: Any, **kwargs: Any) -> Any:
        ids, filter_string, view, max_results, order_by, token = args
        self.calls.append((max_results, token))
        return self.inner.search_runs(
            ids, filter_string, view, min(max_results, self.size), order_by, token
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_search_runs_pages_and_caps(tracking_uri: str, experiment: str) -> None:
    expected = []
    for i in range(30):
        with trainlab.start_run(
            experiment=experiment, params={"i": f"{i:02d}"}, tracking_uri=tracking_uri
        ) as run:
            pass
        expected.append(run.run_id)
    order = ["params.i ASC"]

    capped = trainlab.search_runs(
        experiment, order_by=order, max_results=25, output="list", tracking_uri=tracking_uri
    )
    assert run_ids(capped) == expected[:25]

    client = fluent._client(tracking_uri)
    client.store = paged = SmallPages(client.store, size=7)  # type: ignore[assignment]
    every = trainlab.search_runs(
        experiment, order_by=order, output="list", tracking_uri=tracking_uri
    )
    assert run_ids(every) == expected
    assert len(paged.calls) == 5  # 7 + 7 + 7 + 7 + 2
    assert paged.calls[0] == (1000, None) and all(t for _, t in paged.calls[1:])

    paged.calls.clear()
    df = trainlab.search_runs(experiment, order_by=order, max_results=25, tracking_uri=tracking_uri)
    assert list(df["run_id"]) == expected[:25]
    assert [m for m, _ in paged.calls] == [25, 18, 11, 4]  # never asks for more than the cap
    assert list(df["params.i"]) == [f"{i:02d}" for i in range(25)]


# -- no active run ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: trainlab.log_metric("m", 1.0),
        lambda: trainlab.log_metrics({"m": 1.0}, step=1),
        lambda: trainlab.log_param("p", 1),
        lambda: trainlab.log_params({"p": 1}),
        lambda: trainlab.set_tag("t", "v"),
        lambda: trainlab.set_tags({"t": "v"}),
    ],
    ids=["log_metric", "log_metrics", "log_param", "log_params", "set_tag", "set_tags"],
)
def test_logging_without_active_run_raises(call: Callable[[], None], tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=r"No active run.*start_run"):
        call()
    assert not (tmp_path / "trainlab.db").exists()  # nothing was opened or created


# -- where runs go ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "winner"),
    [
        (("argument", "set_tracking_uri", "env"), "argument"),
        (("set_tracking_uri", "env"), "set_tracking_uri"),
        (("argument", "env"), "argument"),
        (("env",), "env"),
        ((), "default"),
    ],
    ids=["argument>set>env", "set>env", "argument>env", "env", "default-in-cwd"],
)
def test_tracking_uri_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: tuple[str, ...], winner: str
) -> None:
    uris = {
        source: f"sqlite:///{tmp_path}/{source}.db"
        for source in ("argument", "set_tracking_uri", "env")
    }
    uris["default"] = "sqlite:///trainlab.db"  # relative to the working directory (tmp_path)
    if "env" in given:
        monkeypatch.setenv("TRAINLAB_TRACKING_URI", uris["env"])
    if "set_tracking_uri" in given:
        trainlab.set_tracking_uri(uris["set_tracking_uri"])
    argument = uris["argument"] if "argument" in given else None

    with trainlab.start_run(experiment="where", tracking_uri=argument) as run:
        trainlab.log_param("p", "v")

    if winner != "argument":
        assert trainlab.get_tracking_uri() == uris[winner]
    assert (tmp_path / "trainlab.db").exists() == (winner == "default")
    for source, uri in uris.items():
        store = store_for(uri)
        try:
            if source == winner:
                assert store.get_run(run.run_id).data.params == {"p": "v"}
            else:
                with pytest.raises(ResourceNotFound):
                    store.get_run(run.run_id)
        finally:
            close_store(store)


def test_set_tracking_uri_none_goes_back_to_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_uri = f"sqlite:///{tmp_path}/env.db"
    monkeypatch.setenv("TRAINLAB_TRACKING_URI", env_uri)
    trainlab.set_tracking_uri(f"sqlite:///{tmp_path}/other.db")
    trainlab.set_tracking_uri(None)
    assert trainlab.get_tracking_uri() == env_uri
    monkeypatch.delenv("TRAINLAB_TRACKING_URI")
    assert trainlab.get_tracking_uri() == "sqlite:///trainlab.db"


def test_unsupported_tracking_uri_is_explained() -> None:
    with pytest.raises(InvalidParameterValue, match=r"Unsupported tracking URI 'mysql://x'"):
        trainlab.start_run(tracking_uri="mysql://x")
    assert trainlab.active_run() is None


def test_get_metric_history_reads_the_whole_curve_logged_so_far(sqlite_uri: str) -> None:
    with trainlab.start_run(tracking_uri=sqlite_uri) as run:
        for step in range(30_000):  # more than one page
            trainlab.log_metric("loss", 1 / (step + 1), step=step)
        curve = trainlab.get_metric_history(run.run_id, "loss", tracking_uri=sqlite_uri)
        assert [m.step for m in curve] == list(range(30_000)) and curve[9].value == 0.1
    assert trainlab.get_metric_history(run.run_id, "nope", tracking_uri=sqlite_uri) == []


def test_experiment_from_environment(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINLAB_EXPERIMENT", "from-env")
    with trainlab.start_run(tracking_uri=sqlite_uri) as run:
        pass
    found = trainlab.search_runs(output="list", tracking_uri=sqlite_uri)
    assert run_ids(found) == [run.run_id]
    assert trainlab.search_runs("Default", output="list", tracking_uri=sqlite_uri) == []
    with pytest.raises(InvalidParameterValue, match="No experiment named 'nope'"):
        trainlab.search_runs("nope", tracking_uri=sqlite_uri)
    with pytest.raises(InvalidParameterValue, match="No experiment named '77' or with that id"):
        trainlab.search_runs("77", tracking_uri=sqlite_uri)
    assert trainlab.search_runs("0", output="list", tracking_uri=sqlite_uri) == []  # by its id


# -- import cost --------------------------------------------------------------------------------
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_times(code: str) -> dict[str, int]:
    """Module -> cumulative import time (us) of ``code`` in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    times = {}
    for line in proc.stderr.splitlines():
        if m := IMPORT_LINE.match(line):
            times[m.group(4)] = int(m.group(2))
    return times


def test_import_is_light() -> None:
    times = import_times("import trainlab")
    assert "trainlab" in times, "no -X importtime output for trainlab"
    heavy = sorted(m for m in times if m.split(".")[0] in HEAVY_AT_IMPORT)
    assert heavy == []
    assert "trainlab.client.fluent" not in times  # the SDK loads on first use
    print(f"import trainlab: {times['trainlab']} us cumulative")


def test_dir_lists_the_api_before_it_loads() -> None:
    """Tab completion and help() see the whole API of the lazily loaded module."""
    listed = subprocess.run(
        [sys.executable, "-c", "import sys, trainlab; print(dir(trainlab)); "
         "print('trainlab.client.fluent' in sys.modules)"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert set(trainlab.__all__) <= set(ast.literal_eval(listed[0]))
    assert listed[1] == "False"


def test_logging_to_an_ended_run_is_stored_and_said(
    sqlite_uri: str, experiment: str, caplog: pytest.LogCaptureFixture
) -> None:
    with trainlab.start_run(experiment=experiment, tracking_uri=sqlite_uri) as run:
        pass
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        run.log_metric("late", 1.0)
        run.log_param("p", 1)
        run.set_tag("t", "x")
        run.flush()
    warned = [r.getMessage() for r in caplog.records if "has ended" in r.getMessage()]
    assert len(warned) == 1 and f"start_run(run_id='{run.run_id}')" in warned[0]
    data = trainlab.get_run(run.run_id, tracking_uri=sqlite_uri).data
    assert ("late" in data.metrics, data.params, data.tags["t"]) == (True, {"p": "1"}, "x")


def test_other_threads_are_told_to_log_on_the_run_object(sqlite_uri: str, experiment: str) -> None:
    import threading

    seen: list[BaseException] = []
    with trainlab.start_run(experiment=experiment, tracking_uri=sqlite_uri):

        def log() -> None:
            try:
                trainlab.log_metric("x", 1.0)
            except InvalidParameterValue as exc:
                seen.append(exc)

        thread = threading.Thread(target=log)
        thread.start()
        thread.join()
    assert len(seen) == 1 and "run.log_metric" in str(seen[0])


def test_a_relative_stores_spool_waits_for_that_folders_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///trainlab.db` of another folder is another store: a process there never takes
    over (and drops, its runs unknown there) what was spooled for this one."""
    from trainlab.client.spool import Batch, SpoolFile, claim_orphans

    spools = tmp_path / "spool"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    client = fluent._Client("sqlite:///trainlab.db")
    try:
        target = f"sqlite:///{tmp_path / 'a' / 'trainlab.db'}"
        assert client.logger._target == target
    finally:
        client.logger.close(timeout=10)
        client.store.close()
    left = SpoolFile.create(spools, target)  # what a process of folder a left
    left.append([("0" * 32, Batch(params={"p": "1"}))])
    left.close()  # kept: it holds an item
    monkeypatch.chdir(tmp_path / "b")
    assert claim_orphans(spools, fluent.absolute_tracking_uri("sqlite:///trainlab.db")) == []
    monkeypatch.chdir(tmp_path / "a")
    (claimed,) = claim_orphans(spools, fluent.absolute_tracking_uri("sqlite:///trainlab.db"))
    assert claimed.pending_items == 1
    claimed.close()
