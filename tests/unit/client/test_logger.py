"""The non-blocking batching logger against the real SQL store (SQLite). Fault injection wraps
the store: ``down`` makes it answer ServiceUnavailable like an unreachable server."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from trainlab.client.logger import (
    _END,
    _METRIC,
    _TAGS,
    BatchingLogger,
    DeliveryError,
    FlushResult,
    _build_batches,
    deliver_spool,
)
from trainlab.client.spool import RunEnd
from trainlab.entities import Metric, Param, RunInfo, RunStatus, RunTag
from trainlab.exceptions import InvalidParameterValue, InvalidState, ServiceUnavailable
from trainlab.store.sql.tracking import SqlTrackingStore

TARGET = "http://tracking.example:5000"


class FlakyStore:
    """The real store behind a switch; records every log_batch that reached it."""

    def __init__(self, inner: SqlTrackingStore) -> None:
        self.inner = inner
        self.down = False
        self.ends_down = False  # only update_run_info answers ServiceUnavailable
        self.gate: threading.Event | None = None  # when set up, log_batch waits for it
        self.delivered: list[tuple[str, list[Metric], list[Param], list[RunTag]]] = []
        # Each run end that reached the store: run id, status, end time, and how many items of
        # that run the store had received by then.
        self.ends: list[tuple[str, RunStatus | None, int | None, int]] = []

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        if self.gate is not None:
            self.gate.wait(30)
        if self.down:
            raise ServiceUnavailable("connection refused")
        self.inner.log_batch(run_id, metrics, params, tags)
        self.delivered.append((run_id, list(metrics), list(params), list(tags)))

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        if self.down or self.ends_down:
            raise ServiceUnavailable("connection refused")
        info = self.inner.update_run_info(run_id, status, end_time, run_name)
        self.ends.append((run_id, status, end_time, self.items_before(run_id)))
        return info

    def items_before(self, run_id: str) -> int:
        return sum(len(m) + len(p) + len(t) for r, m, p, t in self.delivered if r == run_id)

    def delivered_steps(self, run_id: str, key: str) -> list[int]:
        return [m.step for r, ms, _, _ in self.delivered if r == run_id for m in ms if m.key == key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def sql_store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    s = SqlTrackingStore(f"sqlite:///{tmp_path}/tracking.db", str(tmp_path / "artifacts"))
    yield s
    s.engine.dispose()


@pytest.fixture
def store(sql_store: SqlTrackingStore) -> FlakyStore:
    return FlakyStore(sql_store)


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def new_run(sql_store: SqlTrackingStore) -> Callable[[], str]:
    experiment_id = sql_store.create_experiment("logger")
    return lambda: sql_store.create_run(experiment_id).info.run_id


@pytest.fixture
def make_logger(store: FlakyStore, spool_dir: Path) -> Iterator[Callable[..., BatchingLogger]]:
    loggers: list[BatchingLogger] = []

    def make(backend: Any = None, **kwargs: Any) -> BatchingLogger:
        kwargs.setdefault("retry_interval", 0.05)
        logger = BatchingLogger(
            backend if backend is not None else store, target=TARGET, spool_dir=spool_dir, **kwargs
        )
        loggers.append(logger)
        return logger

    yield make
    for logger in loggers:
        logger.close(timeout=10)


def history(store: FlakyStore, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in store.inner.get_metric_history(run_id, key)]


def spool_dbs(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.glob("*.db")) if spool_dir.exists() else []


# -- delivery --------------------------------------------------------------------------------
def test_points_are_delivered_exactly_once_and_in_order(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    runs = [new_run(), new_run()]
    logger = make_logger()
    for step in range(2500):
        for n, run_id in enumerate(runs):
            logger.log_metric(run_id, "loss", step / (n + 1), step, timestamp=1_000 + step)
    logger.log_params(runs[0], {"lr": "0.01", "layers": 3})  # type: ignore[dict-item]

    result = logger.flush()

    assert result == FlushResult(delivered=5002, spooled=0, rejected=0)
    for n, run_id in enumerate(runs):
        assert store.delivered_steps(run_id, "loss") == list(range(2500))
        assert history(store, run_id, "loss") == [(s, s / (n + 1)) for s in range(2500)]
    assert store.inner.get_run(runs[0]).data.params == {"lr": "0.01", "layers": "3"}
    assert logger.errors == []


def test_batches_respect_the_server_limits(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    logger.log_params(run_id, {f"p{i}": str(i) for i in range(250)})
    logger.set_tags(run_id, {f"t{i}": str(i) for i in range(150)})
    limit = store.max_batch_metrics
    n_metrics = 2 * limit + 100
    for step in range(n_metrics):
        logger.log_metric(run_id, "m", 1.0, step)

    assert logger.flush().delivered == 250 + 150 + n_metrics

    for _, metrics, params, tags in store.delivered:
        assert len(metrics) <= limit and len(params) <= 100 and len(tags) <= 100
        assert len(metrics) + len(params) + len(tags) <= limit
    data = store.inner.get_run(run_id).data
    assert len(data.params) == 250 and len([k for k in data.tags if k.startswith("t")]) == 150
    assert len(history(store, run_id, "m")) == n_metrics


def test_one_runs_points_are_cut_in_column_slices_in_logged_order():
    items = [(_METRIC, "r", "loss", float(i), i, 1_000 + i) for i in range(25)]
    batches = _build_batches(items, 10)
    assert list(batches) == ["r"]
    assert [len(b) for b in batches["r"]] == [10, 10, 5]
    points = [p for b in batches["r"] for p in b.metrics.points()]
    assert points == [("loss", float(i), 1_000 + i, i) for i in range(25)]
    # Cut the same way when other items come in the same pass.
    mixed = _build_batches([*items, (_TAGS, "other", {"t": "v"})], 10)
    assert mixed["r"] == batches["r"] and len(mixed["other"]) == 1


def test_a_run_end_closes_its_batch_between_points_of_other_runs():
    def points(run_id: str, steps: range) -> list[tuple[Any, ...]]:
        return [(_METRIC, run_id, "m", float(i), i, i) for i in steps]

    items = [
        *points("r", range(5)),
        *points("s", range(3)),
        (_END, "r", "FINISHED", 99),
        *points("r", range(5, 9)),
        *points("s", range(3, 4)),
    ]
    batches = _build_batches(items, 10)
    assert [([m.step for m in b.metrics], b.end) for b in batches["r"]] == [
        ([0, 1, 2, 3, 4], RunEnd("FINISHED", 99)),
        ([5, 6, 7, 8], None),
    ]
    assert [[m.step for m in b.metrics] for b in batches["s"]] == [[0, 1, 2, 3]]


def test_tags_end_with_the_last_value_and_repeated_params_are_not_errors(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    for value in ("a", "b", "c"):
        logger.set_tags(run_id, {"phase": value})
        logger.log_params(run_id, {"seed": "7"})
        logger.log_metric(run_id, "x", 1.0)
    logger.flush()
    logger.set_tags(run_id, {"phase": "d"})
    logger.set_tags(run_id, {"phase": "e"})

    assert logger.flush().rejected == 0
    data = store.inner.get_run(run_id).data
    assert (data.tags["phase"], data.params["seed"]) == ("e", "7")
    for _, _, params, tags in store.delivered:
        assert len({p.key for p in params}) == len(params)
        assert len({t.key for t in tags}) == len(tags)


def test_logging_from_several_threads(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()

    def train(worker: int) -> None:
        for step in range(3000):
            logger.log_metric(run_id, f"w{worker}", float(step), step)

    threads = [threading.Thread(target=train, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert logger.flush().delivered == 12000
    for w in range(4):
        assert store.delivered_steps(run_id, f"w{w}") == list(range(3000))


def test_log_call_types_are_checked_at_the_call(
    make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str], store: FlakyStore
):
    run_id = new_run()
    logger = make_logger()
    with pytest.raises(TypeError):
        logger.log_metric(run_id, 3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Metric 'x': value 'not a number' is not a number"):
        logger.log_metric(run_id, "x", "not a number")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Metric 'x': step 1.5 is not a whole number"):
        logger.log_metric(run_id, "x", 1.0, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Metric 'x': timestamp 1.5 is not a whole number"):
        logger.log_metric(run_id, "x", 1.0, timestamp=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not negative: -1"):
        logger.log_metric(run_id, "x", 1.0, timestamp=-1)
    logger.log_metric(run_id, "x", 2, step=True)  # int and bool coerce
    assert logger.flush().delivered == 1
    assert history(store, run_id, "x") == [(1, 2.0)]


# -- unreachable backend and the spool ---------------------------------------------------------
def test_down_spools_then_delivers_exactly_once_when_back(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    run_id = new_run()
    logger = make_logger()
    store.down = True
    for step in range(1500):
        logger.log_metric(run_id, "loss", step * 0.5, step)
    logger.log_params(run_id, {"lr": "0.1"})

    down = logger.flush()

    assert (down.delivered, down.spooled, down.rejected) == (0, 1501, 0)
    assert logger.spool_path is not None and down.spool_paths == (logger.spool_path,)
    assert logger.spool_path.exists()
    for step in range(1500, 1600):  # logging goes on while the server is down
        logger.log_metric(run_id, "loss", step * 0.5, step)
    assert logger.flush().spooled == 1601

    store.down = False
    back = logger.flush()

    assert (back.delivered, back.spooled, back.rejected, back.spool_paths) == (1601, 0, 0, ())
    assert store.delivered_steps(run_id, "loss") == list(range(1600))
    assert history(store, run_id, "loss") == [(s, s * 0.5) for s in range(1600)]
    assert store.inner.get_run(run_id).data.params == {"lr": "0.1"}
    logger.close()
    assert spool_dbs(spool_dir) == []


def test_background_retry_delivers_the_spool_without_a_flush(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger(retry_interval=0.01, flush_interval=0.01)
    store.down = True
    logger.log_metric(run_id, "loss", 1.0, 0)
    assert logger.flush().spooled == 1
    store.down = False
    deadline = time.monotonic() + 20
    while not store.delivered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert history(store, run_id, "loss") == [(0, 1.0)]


def test_non_finite_values_round_trip_through_the_spool(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    values = [math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, 0.1]
    logger = make_logger()
    store.down = True
    for step, value in enumerate(values):
        logger.log_metric(run_id, "v", value, step)
    assert logger.flush().spooled == len(values)
    store.down = False
    assert logger.flush().delivered == len(values)

    got = history(store, run_id, "v")
    assert [s for s, _ in got] == list(range(len(values)))
    assert math.isnan(got[0][1])
    assert [v for _, v in got[1:]] == values[1:]


def test_new_data_of_a_spooled_run_goes_behind_the_spool(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    spooled_run, other_run = new_run(), new_run()
    logger = make_logger(retry_interval=3600)  # no background retry: only flush() retries
    store.down = True
    logger.set_tags(spooled_run, {"state": "old"})
    logger.log_metric(spooled_run, "m", 1.0, 0)
    assert logger.flush().spooled == 2

    # Back up, but the thread has not retried yet: new data of the spooled run must not
    # overtake the spool.
    store.down = False
    logger.log_metric(other_run, "m", 5.0, 0)
    logger.set_tags(spooled_run, {"state": "new"})
    logger.log_metric(spooled_run, "m", 2.0, 1)
    result = logger.flush()

    assert (result.delivered, result.spooled) == (5, 0)
    assert store.delivered_steps(spooled_run, "m") == [0, 1]
    tag_values = [t.value for r, _, _, tags in store.delivered if r == spooled_run for t in tags]
    assert tag_values == ["old", "new"]
    assert store.inner.get_run(spooled_run).data.tags["state"] == "new"
    assert history(store, other_run, "m") == [(0, 5.0)]


def test_flush_while_still_down_returns_the_spooled_count_and_path(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    store.down = True
    logger.log_metric(run_id, "m", 1.0)
    first = logger.flush(timeout=30)
    assert (first.spooled, first.timed_out, first.complete) == (1, False, False)
    result = logger.close(timeout=30)
    assert result.spooled == 1 and result.spool_paths == (logger.spool_path,)
    assert logger.spool_path is not None and logger.spool_path.exists()


def test_an_unwritable_spool_reports_the_items_as_lost(
    store: FlakyStore,
    new_run: Callable[[], str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    run_id = new_run()
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    logger = BatchingLogger(store, target=TARGET, spool_dir=not_a_folder)  # type: ignore[arg-type]
    store.down = True
    logger.log_metric(run_id, "m", 1.0, 0)
    with caplog.at_level(logging.ERROR, logger="trainlab"):
        result = logger.close()
    assert (result.delivered, result.spooled, result.rejected) == (0, 0, 1)
    [error] = logger.errors
    assert (error.run_id, error.item.key, error.error_code) == (run_id, "m", "DATA_LOSS")
    assert any("DATA_LOSS" in r.getMessage() for r in caplog.records)


def test_spool_of_a_live_logger_is_left_alone_and_claimed_once_it_lets_go(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    run_id = new_run()
    unreachable = FlakyStore(store.inner)
    unreachable.down = True
    first = make_logger(unreachable)
    for step in range(300):
        first.log_metric(run_id, "m", float(step), step)
    assert first.flush().spooled == 300

    second = make_logger()  # reachable, same target: must not take the live logger's file
    assert second.flush() == FlushResult(delivered=0, spooled=0, rejected=0)
    assert history(store, run_id, "m") == []

    first.close()  # still down: the file stays, unlocked
    third = make_logger()
    assert third.flush() == FlushResult(delivered=300, spooled=0, rejected=0)
    assert history(store, run_id, "m") == [(s, float(s)) for s in range(300)]
    third.close()
    assert spool_dbs(spool_dir) == []


CHILD = """
import pathlib, sys, time
from trainlab.client.logger import BatchingLogger
from trainlab.exceptions import ServiceUnavailable

class Down:
    max_batch_metrics = 1000

    def log_batch(self, run_id, metrics=(), params=(), tags=()):
        raise ServiceUnavailable("connection refused")

run_id, target, spool_dir = sys.argv[1:4]
logger = BatchingLogger(Down(), target=target, spool_dir=pathlib.Path(spool_dir))
for step in range(1500):
    logger.log_metric(run_id, "loss", step / 3, step)
logger.log_params(run_id, {"lr": "0.1"})
logger.set_tags(run_id, {"host": "a"})
logger.log_metric(run_id, "nan", float("nan"), 0)
print(logger.flush().spooled, flush=True)
time.sleep(120)
"""


def test_spool_of_a_killed_process_is_delivered_by_the_next_logger(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    run_id = new_run()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, run_id, TARGET, str(spool_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "1503"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert len(spool_dbs(spool_dir)) == 1

    logger = make_logger()
    result = logger.flush()

    assert (result.delivered, result.spooled) == (1503, 0)
    assert history(store, run_id, "loss") == [(s, s / 3) for s in range(1500)]
    assert math.isnan(history(store, run_id, "nan")[0][1])
    data = store.inner.get_run(run_id).data
    assert (data.params, data.tags["host"]) == ({"lr": "0.1"}, "a")
    logger.close()
    assert spool_dbs(spool_dir) == []


EXITING_CHILD = """
import pathlib, sys
from trainlab.client.logger import BatchingLogger
from trainlab.store.sql.tracking import SqlTrackingStore

db_uri, artifacts, run_id, target, spool_dir = sys.argv[1:6]
store = SqlTrackingStore(db_uri, artifacts)
logger = BatchingLogger(store, target=target, spool_dir=pathlib.Path(spool_dir))
for step in range(3000):
    logger.log_metric(run_id, "loss", step / 3, step)
logger.set_tags(run_id, {"done": "yes"})
# no flush, no close: the interpreter's exit must deliver everything
"""


def test_interpreter_exit_delivers_what_was_not_flushed(
    sql_store: SqlTrackingStore, new_run: Callable[[], str], spool_dir: Path, tmp_path: Path
):
    run_id = new_run()
    args = [sql_store.uri, str(tmp_path / "artifacts"), run_id, TARGET, str(spool_dir)]
    subprocess.run([sys.executable, "-c", EXITING_CHILD, *args], check=True, timeout=120)
    points = sql_store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in points] == [(s, s / 3) for s in range(3000)]
    assert sql_store.get_run(run_id).data.tags["done"] == "yes"
    assert spool_dbs(spool_dir) == []


# -- the end of a run ----------------------------------------------------------------------------
def run_info(store: FlakyStore, run_id: str) -> tuple[str, int | None]:
    info = store.inner.get_run(run_id).info
    return info.status, info.end_time


def spooled_ends(path: Path | None) -> list[list[object] | None]:
    """The run end of each row of a spool file, in delivery order."""
    assert path is not None
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT payload FROM batches ORDER BY id").fetchall()
    db.close()
    return [json.loads(payload).get("e") for (payload,) in rows]


def test_run_end_is_delivered_after_the_data_logged_before_it(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id, other_run = new_run(), new_run()
    logger = make_logger()
    logger.log_params(run_id, {"lr": "0.1"})
    for step in range(2500):
        logger.log_metric(run_id, "loss", step / 2, step)
        if step == 1200:
            logger.log_metric(other_run, "m", 1.0, 0)
    logger.end_run(run_id, "FINISHED", 1_700_000_000_123)
    logger.set_tags(run_id, {"after": "end"})  # logged after the end: sent after it

    result = logger.flush()

    assert result == FlushResult(delivered=2504, spooled=0, rejected=0)
    # When the end arrived, the store held all 2501 items logged before it, and not the tag.
    assert store.ends == [(run_id, RunStatus.FINISHED, 1_700_000_000_123, 2501)]
    last_batch = [(m, p, t) for r, m, p, t in store.delivered if r == run_id][-1]
    assert last_batch == ([], [], [RunTag("after", "end")])
    assert run_info(store, run_id) == (RunStatus.FINISHED, 1_700_000_000_123)
    assert run_info(store, other_run) == (RunStatus.RUNNING, None)
    assert history(store, run_id, "loss") == [(s, s / 2) for s in range(2500)]
    assert store.inner.get_run(run_id).data.tags["after"] == "end"
    assert logger.errors == []


def test_end_run_checks_its_arguments_at_the_call(
    make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str], store: FlakyStore
):
    run_id = new_run()
    logger = make_logger()
    with pytest.raises(ValueError, match="DONE"):
        logger.end_run(run_id, "DONE", 1)
    with pytest.raises(TypeError):
        logger.end_run(run_id, "FINISHED", 1.5)  # type: ignore[arg-type]
    logger.end_run(run_id, RunStatus.KILLED, 7)
    assert logger.flush() == FlushResult(delivered=1, spooled=0, rejected=0)
    assert run_info(store, run_id) == (RunStatus.KILLED, 7)
    logger.close()
    with pytest.raises(InvalidState):
        logger.end_run(run_id, "FINISHED", 8)


def test_spooled_run_end_is_delivered_after_recovery_exactly_once_and_in_order(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    run_id = new_run()
    logger = make_logger(retry_interval=3600)  # no background retry: only flush() retries
    store.down = True
    for step in range(1500):
        logger.log_metric(run_id, "loss", step * 0.5, step)
    logger.end_run(run_id, "KILLED", 42_000)

    down = logger.flush()

    assert (down.delivered, down.spooled, down.rejected) == (0, 1501, 0)
    ends = spooled_ends(logger.spool_path)
    assert ends[-1] == ["KILLED", 42_000] and set(map(str, ends[:-1])) <= {
        "None"
    }  # last row ends it
    assert run_info(store, run_id) == (RunStatus.RUNNING, None)
    assert store.ends == []

    store.down = False
    back = logger.flush()

    assert (back.delivered, back.spooled, back.rejected) == (1501, 0, 0)
    assert store.ends == [(run_id, RunStatus.KILLED, 42_000, 1500)]
    assert run_info(store, run_id) == (RunStatus.KILLED, 42_000)
    assert history(store, run_id, "loss") == [(s, s * 0.5) for s in range(1500)]
    assert logger.flush().delivered == 1501
    logger.close()
    assert len(store.ends) == 1
    assert spool_dbs(spool_dir) == []


def test_run_end_goes_behind_the_runs_spooled_data_once_the_backend_is_back(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger(retry_interval=3600)  # no background retry: only flush() retries
    store.down = True
    for step in range(10):
        logger.log_metric(run_id, "m", float(step), step)
    assert logger.flush().spooled == 10

    # Back up, but the spool is not retried yet: the end must not overtake the spooled data.
    store.down = False
    logger.end_run(run_id, "FINISHED", 99)
    result = logger.flush()

    assert (result.delivered, result.spooled) == (11, 0)
    assert store.ends == [(run_id, RunStatus.FINISHED, 99, 10)]
    assert run_info(store, run_id) == (RunStatus.FINISHED, 99)


def test_background_retry_delivers_a_spooled_run_end_without_a_flush(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger(retry_interval=0.01, flush_interval=0.01)
    store.down = True
    logger.log_metric(run_id, "loss", 1.0, 0)
    logger.end_run(run_id, "FINISHED", 123)
    assert logger.flush().spooled == 2
    store.down = False
    deadline = time.monotonic() + 20
    while not store.ends and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.ends == [(run_id, RunStatus.FINISHED, 123, 1)]
    assert run_info(store, run_id) == (RunStatus.FINISHED, 123)
    assert history(store, run_id, "loss") == [(0, 1.0)]


def test_an_unreachable_run_end_alone_is_spooled_and_delivered_later(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger(retry_interval=3600)
    store.ends_down = True  # log_batch goes through, update_run_info does not
    for step in range(5):
        logger.log_metric(run_id, "m", float(step), step)
    logger.end_run(run_id, "FAILED", 500)

    result = logger.flush()

    assert (result.delivered, result.spooled) == (5, 1)
    assert spooled_ends(logger.spool_path) == [["FAILED", 500]]
    assert history(store, run_id, "m") == [(s, float(s)) for s in range(5)]
    assert run_info(store, run_id) == (RunStatus.RUNNING, None)
    store.ends_down = False
    assert logger.flush() == FlushResult(delivered=6, spooled=0, rejected=0)
    assert store.ends == [(run_id, RunStatus.FAILED, 500, 5)]
    assert run_info(store, run_id) == (RunStatus.FAILED, 500)


def test_a_spooled_run_end_is_delivered_by_the_next_logger_and_by_deliver_spool(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    first_run, second_run = new_run(), new_run()
    unreachable = FlakyStore(store.inner)
    unreachable.down = True
    for n, (run_id, end_time) in enumerate(((first_run, 1_000), (second_run, 2_000)), 1):
        gone = make_logger(unreachable)  # claims what the one before left, cannot deliver it
        for step in range(300):
            gone.log_metric(run_id, "acc", step / 300, step)
        gone.end_run(run_id, "FINISHED", end_time)
        assert gone.close().spooled == 301 * n  # the files stay for a later process
    assert len(spool_dbs(spool_dir)) == 2

    # `trainlab spool flush` delivers both files, then a new logger finds nothing left.
    assert deliver_spool(store, TARGET, spool_dir) == 602
    for run_id, end_time in ((first_run, 1_000), (second_run, 2_000)):
        assert run_info(store, run_id) == (RunStatus.FINISHED, end_time)
        assert history(store, run_id, "acc") == [(s, s / 300) for s in range(300)]
    assert [(r, n) for r, _, _, n in store.ends] == [(first_run, 300), (second_run, 300)]
    assert spool_dbs(spool_dir) == []

    third_run = new_run()
    gone = make_logger(unreachable)
    gone.log_metric(third_run, "acc", 0.5, 0)
    gone.end_run(third_run, "KILLED", 3_000)
    assert gone.close().spooled == 2
    successor = make_logger()
    assert successor.flush() == FlushResult(delivered=2, spooled=0, rejected=0)
    assert store.ends[-1] == (third_run, RunStatus.KILLED, 3_000, 1)
    assert len(store.ends) == 3
    assert run_info(store, third_run) == (RunStatus.KILLED, 3_000)


def test_a_rejected_run_end_is_reported(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
):
    alive, deleted = new_run(), new_run()
    missing = "f" * 32
    logger = make_logger(retry_interval=3600)
    logger.end_run(missing, "FINISHED", 5)
    logger.end_run(alive, "FAILED", 6)
    assert logger.flush() == FlushResult(delivered=1, spooled=0, rejected=1)
    store.down = True  # deleted while its end waits in the spool
    logger.end_run(deleted, "FINISHED", 7)
    assert logger.flush().spooled == 1
    store.inner.delete_run(deleted)
    store.down = False

    with caplog.at_level(logging.ERROR, logger="trainlab"):
        result = logger.flush()

    assert (result.delivered, result.spooled, result.rejected) == (1, 0, 2)
    assert run_info(store, alive) == (RunStatus.FAILED, 6)
    not_found, is_deleted = logger.errors
    assert not_found == DeliveryError(
        missing, RunEnd("FINISHED", 5), "RESOURCE_DOES_NOT_EXIST", not_found.message
    )
    assert "not found" in not_found.message
    assert is_deleted == DeliveryError(
        deleted, RunEnd("FINISHED", 7), "INVALID_PARAMETER_VALUE", is_deleted.message
    )
    assert "deleted" in is_deleted.message
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert missing in errors[0] and "RESOURCE_DOES_NOT_EXIST" in errors[0]
    assert deleted in errors[1] and "FINISHED" in errors[1]
    assert "INVALID_PARAMETER_VALUE" in errors[1]
    assert store.ends == [(alive, RunStatus.FAILED, 6, 0)]


# -- rejections ----------------------------------------------------------------------------------
def test_rejection_keeps_the_good_items_and_reports_the_bad_ones(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
):
    run_id = new_run()
    logger = make_logger()
    logger.log_params(run_id, {"lr": "0.1"})
    for step in range(20):
        # a step out of int64's range: the store refuses it (the call checks keys, not steps)
        logger.log_metric(run_id, "loss", float(step), 2**63 if step == 13 else step)
    logger.log_params(run_id, {"lr": "0.2"})  # params are immutable: a change is rejected
    logger.set_tags(run_id, {"ok": "yes"})

    with caplog.at_level(logging.ERROR, logger="trainlab"):
        result = logger.flush()

    assert (result.delivered, result.rejected) == (21, 2)
    assert [s for s, _ in history(store, run_id, "loss")] == [s for s in range(20) if s != 13]
    data = store.inner.get_run(run_id).data
    assert (data.params, data.tags["ok"]) == ({"lr": "0.1"}, "yes")
    bad_metric, bad_param = logger.errors
    assert bad_metric.run_id == run_id and bad_metric.item.step == 2**63
    assert bad_metric.error_code == "INVALID_PARAMETER_VALUE"
    assert bad_param.item == Param("lr", "0.2")
    assert "immutable" in bad_param.message
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "trainlab"]
    assert len(errors) == 2
    assert run_id in errors[0].getMessage() and "step of metric 'loss'" in errors[0].getMessage()
    assert "immutable" in errors[1].getMessage()


def test_a_key_the_server_would_refuse_is_refused_at_the_call(
    make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    for bad in ("bad key!", "../x", "lr\n", "k" * 251, ""):
        with pytest.raises(InvalidParameterValue):
            logger.log_metric(run_id, bad, 1.0)
        with pytest.raises(InvalidParameterValue):
            logger.log_params(run_id, {bad: "1"})
        with pytest.raises(InvalidParameterValue):
            logger.set_tags(run_id, {bad: "1"})
    with pytest.raises(TypeError, match="keys must be str"):
        logger.log_metric(run_id, 3, 1.0)  # type: ignore[arg-type]
    assert logger.flush() == FlushResult(delivered=0, spooled=0, rejected=0)


def test_rejected_spooled_items_are_split_off_too(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    store.down = True
    for step in range(10):
        logger.log_metric(run_id, "loss", float(step), 2**63 if step == 4 else step)
    assert logger.flush().spooled == 10
    store.down = False
    result = logger.flush()
    assert (result.delivered, result.spooled, result.rejected) == (9, 0, 1)
    assert [s for s, _ in history(store, run_id, "loss")] == [0, 1, 2, 3, 5, 6, 7, 8, 9]


def test_a_deleted_run_is_rejected_without_touching_other_runs(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    deleted, alive = new_run(), new_run()
    store.inner.delete_run(deleted)
    logger = make_logger()
    for step in range(5):
        logger.log_metric(deleted, "m", 1.0, step)
        logger.log_metric(alive, "m", 2.0, step)
    tries: list[str] = []
    real_log_batch = store.log_batch
    store.log_batch = lambda run_id, *a: tries.append(run_id) or real_log_batch(run_id, *a)  # type: ignore[method-assign]
    result = logger.flush()
    assert (result.delivered, result.rejected) == (5, 5)
    assert {e.run_id for e in logger.errors} == {deleted}
    assert {e.error_code for e in logger.errors} == {"INVALID_PARAMETER_VALUE"}  # MLflow's code
    assert tries.count(deleted) == 1  # the run's state told: the batch was not split to find why
    assert len(history(store, alive, "m")) == 5


# -- timeouts and closing ----------------------------------------------------------------------
def test_flush_timeout_is_honoured_and_close_spools_what_is_unfinished(
    store: FlakyStore,
    make_logger: Callable[..., BatchingLogger],
    new_run: Callable[[], str],
    spool_dir: Path,
):
    run_id = new_run()
    store.gate = threading.Event()  # the backend hangs
    logger = make_logger()
    for step in range(1200):
        logger.log_metric(run_id, "m", float(step), step)

    started = time.monotonic()
    flushed = logger.flush(timeout=0.2)
    assert flushed.timed_out and time.monotonic() - started < 10
    closed = logger.close(timeout=0.2)
    assert closed.timed_out and closed.spooled == 1200
    assert logger.close() is closed  # idempotent
    with pytest.raises(InvalidState):
        logger.log_metric(run_id, "m", 1.0)

    store.gate.set()  # the hung call completes; the old thread lets go of its spool
    logger._thread.join(30)
    assert not logger._thread.is_alive()
    store.gate = None
    successor = make_logger()
    assert successor.flush().spooled == 0
    # Parts delivered twice (by the hung call and from the spool) are stored once.
    assert history(store, run_id, "m") == [(s, float(s)) for s in range(1200)]
    successor.close()
    assert spool_dbs(spool_dir) == []


def test_close_flushes_and_is_idempotent(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    logger.log_metric(run_id, "m", 1.0)
    result = logger.close()
    assert result == FlushResult(delivered=1, spooled=0, rejected=0)
    assert logger.close() == result and logger.flush() == result
    assert not logger._thread.is_alive()
    assert history(store, run_id, "m")[0][1] == 1.0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_stays_off_the_parents_thread_and_spool(
    store: FlakyStore, make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    store.down = True
    logger.log_metric(run_id, "m", 1.0, 0)
    assert logger.flush().spooled == 1
    pid = os.fork()
    if pid == 0:  # the child: logging is refused loudly, closing touches nothing
        code = 0
        try:
            logger.log_metric(run_id, "m", 2.0, 1)
            code = 1
        except InvalidState as exc:
            code = 0 if "parent process" in str(exc) else 2
        if logger.close() != FlushResult(delivered=0, spooled=0, rejected=0):
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.down = False
    logger.log_metric(run_id, "m", 3.0, 2)
    assert logger.flush() == FlushResult(delivered=2, spooled=0, rejected=0)
    assert history(store, run_id, "m") == [(0, 1.0), (2, 3.0)]


# -- the hot path (a sanity print, never an assertion on time) -------------------------------------
def test_log_metric_latency_and_throughput_sanity_print(
    make_logger: Callable[..., BatchingLogger], new_run: Callable[[], str]
):
    run_id = new_run()
    logger = make_logger()
    n = 50_000
    clock = time.perf_counter_ns
    samples = []
    started = time.perf_counter()
    for step in range(n):
        t0 = clock()
        logger.log_metric(run_id, "loss", 0.5, step)
        samples.append(clock() - t0)
    result = logger.flush()
    elapsed = time.perf_counter() - started
    assert result.delivered == n
    print(
        f"\nlog_metric median {statistics.median(samples) / 1000:.2f} us, "
        f"end to end {n / elapsed:,.0f} points/s (SqlTrackingStore on SQLite)"
    )
