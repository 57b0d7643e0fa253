"""The durable spool: batches as JSON rows in an SQLite file owned through flock, and the
sender that splits a rejected batch so that only the rejected items are dropped."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainlab.client.spool import (
    Batch,
    RunEnd,
    Sender,
    SpoolFile,
    claim_orphans,
    deliver_spool,
    target_key,
)
from trainlab.entities import MetricColumns, RunStatus
from trainlab.exceptions import ServiceUnavailable
from trainlab.store.sql.tracking import SqlTrackingStore

TARGET = "http://tracking.example:5000"
NON_FINITE = [math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    s = SqlTrackingStore(f"sqlite:///{tmp_path}/tracking.db", str(tmp_path / "artifacts"))
    yield s
    s.engine.dispose()


@pytest.fixture
def run_id(store: SqlTrackingStore) -> str:
    return store.create_run(store.create_experiment("spool")).info.run_id


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def make_batch(n_metrics: int, n_params: int = 0, n_tags: int = 0) -> Batch:
    return Batch(
        metrics=MetricColumns.from_points(
            [("loss", i / 7, 1_000 + i, i) for i in range(n_metrics)]
        ),
        params={f"p{i}": str(i) for i in range(n_params)},
        tags={f"t{i}": f"v{i}" for i in range(n_tags)},
    )


def flat(batch: Batch) -> list[object]:
    return [*batch.metrics, *batch.params.items(), *batch.tags.items()]


def spool_files(spool_dir: Path) -> list[str]:
    return sorted(p.name for p in spool_dir.iterdir()) if spool_dir.exists() else []


# -- Batch ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_metrics", "n_params", "n_tags"), [(1, 0, 0), (5, 0, 0), (2, 3, 0), (0, 3, 4), (3, 2, 2)]
)
def test_split_halves_keep_order_and_extend_restores(n_metrics: int, n_params: int, n_tags: int):
    batch = make_batch(n_metrics, n_params, n_tags)
    first, second = batch.split()
    assert len(first) == len(batch) // 2
    assert flat(first) + flat(second) == flat(batch)
    first.extend(second)
    assert flat(first) == flat(batch)


def test_json_round_trip_keeps_non_finite_values_and_is_standard_json():
    batch = Batch(
        metrics=MetricColumns.from_points(
            [("m", v, 1_700_000_000_000 + i, i) for i, v in enumerate(NON_FINITE)]
        ),
        params={"lr": "0.1"},
        tags={"note": "ünïcode ✓"},
    )
    text = batch.to_json()

    def reject_constant(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    json.loads(text, parse_constant=reject_constant)  # no NaN/Infinity literals
    back = Batch.from_json(text)
    assert math.isnan(back.metrics[0][1])
    assert [m[1] for m in back.metrics[1:]] == NON_FINITE[1:]
    assert math.copysign(1.0, back.metrics[3][1]) == -1.0  # -0.0 stays negative
    assert [m[2:] for m in back.metrics] == [m[2:] for m in batch.metrics]
    assert back.params == {"lr": "0.1"}
    assert back.tags == {"note": "ünïcode ✓"}


def test_the_run_end_is_one_item_round_trips_and_stays_last_when_split():
    batch = make_batch(3, 1, 1)
    batch.end = RunEnd("FINISHED", 1_700_000_000_123)
    assert len(batch) == 6
    assert json.loads(batch.to_json())["e"] == ["FINISHED", 1_700_000_000_123]
    assert Batch.from_json(batch.to_json()) == batch
    assert "e" not in json.loads(make_batch(2).to_json())  # no end: written as in version 1

    first, second = batch.split()
    assert (len(first), len(second)) == (3, 3)
    assert (first.end, second.end) == (None, RunEnd("FINISHED", 1_700_000_000_123))
    assert flat(first) + flat(second) == flat(batch)
    first.extend(second)
    assert first == batch
    only_end = Batch(end=RunEnd("KILLED", 1))
    assert len(only_end) == 1 and only_end.split() == (Batch(), only_end)


# -- SpoolFile -----------------------------------------------------------------------------
def test_rows_are_kept_in_order_counted_replaced_and_deleted(spool_dir: Path):
    spool = SpoolFile.create(spool_dir, TARGET)
    spool.append([("run-a", make_batch(3)), ("run-b", make_batch(0, 2)), ("run-a", Batch())])
    spool.append([("run-a", make_batch(1, 0, 1))])
    assert spool.pending_items == 3 + 2 + 2  # the empty batch is not written
    rows = spool.oldest()
    assert [(r.run_id, len(r.batch)) for r in rows] == [("run-a", 3), ("run-b", 2), ("run-a", 2)]
    assert spool.run_ids() == {"run-a", "run-b"}

    spool.replace(rows[0].row_id, make_batch(1))
    assert spool.pending_items == 5
    spool.delete(rows[1].row_id)
    assert spool.pending_items == 3
    assert [(r.run_id, len(r.batch)) for r in spool.oldest()] == [("run-a", 1), ("run-a", 2)]
    spool.close()


def test_spool_file_is_sqlite_wal_with_full_sync(spool_dir: Path):
    spool = SpoolFile.create(spool_dir, TARGET)
    spool.append([("r", make_batch(2))])
    sync = spool._conn.execute("PRAGMA synchronous").fetchone()[0]
    assert sync == 2  # FULL
    with sqlite3.connect(spool.path) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert reader.execute("SELECT target, run_id, n_items FROM batches").fetchall() == [
            (TARGET, "r", 2)
        ]
    reader.close()
    spool.close()


def test_closing_an_empty_spool_removes_its_files(spool_dir: Path):
    spool = SpoolFile.create(spool_dir, TARGET)
    spool.append([("r", make_batch(2))])
    spool.delete(spool.oldest()[0].row_id)
    spool.close()
    spool.close()  # idempotent
    assert spool_files(spool_dir) == []


def test_owned_spool_cannot_be_claimed_until_its_owner_lets_go(spool_dir: Path):
    owner = SpoolFile.create(spool_dir, TARGET)
    owner.append([("r", make_batch(4))])
    assert SpoolFile.claim(owner.path, TARGET) is None
    assert claim_orphans(spool_dir, TARGET) == []

    owner.close()  # not empty: the file stays for a later process
    assert owner.path.exists()
    [claimed] = claim_orphans(spool_dir, TARGET)
    assert claimed.path == owner.path
    assert claimed.pending_items == 4
    assert claim_orphans(spool_dir, TARGET) == []  # now owned by `claimed`
    claimed.close()


def test_spool_of_another_target_is_never_claimed(spool_dir: Path):
    other = SpoolFile.create(spool_dir, "http://other:5000")
    other.append([("r", make_batch(1))])
    other.close()
    assert claim_orphans(spool_dir, TARGET) == []
    assert SpoolFile.claim(other.path, TARGET) is None
    [mine] = claim_orphans(spool_dir, "http://other:5000")
    mine.close()


def test_claiming_a_file_that_was_just_deleted_gives_nothing(spool_dir: Path):
    spool = SpoolFile.create(spool_dir, TARGET)
    path = spool.path
    spool.close()  # empty: deleted
    assert SpoolFile.claim(path, TARGET) is None
    assert spool_files(spool_dir) == []


# -- Sender and deliver_spool against the real store ----------------------------------------
def test_sender_drops_only_the_rejected_items(store: SqlTrackingStore, run_id: str):
    batch = make_batch(7, 2, 1)
    points = list(batch.metrics.points())
    points[4] = ("bad key!", 1.0, 5, 4)
    batch.metrics = MetricColumns.from_points(points)
    sender = Sender(store)
    assert sender.send(run_id, batch) is None
    assert sender.delivered == 9
    [error] = sender.errors
    assert (error.run_id, error.item.key, error.error_code) == (
        run_id,
        "bad key!",
        "INVALID_PARAMETER_VALUE",
    )
    assert "bad key!" in error.message
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 5, 6]
    assert store.get_run(run_id).data.params == {"p0": "0", "p1": "1"}


def test_deliver_spool_delivers_leftovers_and_removes_the_files(
    store: SqlTrackingStore, run_id: str, spool_dir: Path
):
    left = SpoolFile.create(spool_dir, TARGET)
    left.append(
        [
            (run_id, make_batch(3, 1)),
            (run_id, Batch(MetricColumns.from_points([("nan", math.nan, 9, 0)]))),
        ]
    )
    left.close()

    assert deliver_spool(store, TARGET, spool_dir) == 5
    assert [m.value for m in store.get_metric_history(run_id, "loss")] == [0.0, 1 / 7, 2 / 7]
    assert math.isnan(store.get_metric_history(run_id, "nan")[0].value)
    assert store.get_run(run_id).data.params == {"p0": "0"}
    assert spool_files(spool_dir) == []
    assert deliver_spool(store, TARGET, spool_dir) == 0


class DownStore:
    def log_batch(self, run_id: str, metrics=(), params=(), tags=()) -> None:
        raise ServiceUnavailable("connection refused")

    def update_run_info(self, run_id: str, status=None, end_time=None, run_name=None) -> None:
        raise ServiceUnavailable("connection refused")


def test_deliver_spool_to_an_unreachable_backend_keeps_the_rows(spool_dir: Path):
    left = SpoolFile.create(spool_dir, TARGET)
    left.append([("r", make_batch(3))])
    left.close()
    with pytest.raises(ServiceUnavailable, match="3 remain"):
        deliver_spool(DownStore(), TARGET, spool_dir)  # type: ignore[arg-type]
    [again] = claim_orphans(spool_dir, TARGET)
    assert again.pending_items == 3
    again.close()


def test_deliver_spool_leaves_files_of_live_owners_alone(
    store: SqlTrackingStore, run_id: str, spool_dir: Path
):
    live = SpoolFile.create(spool_dir, TARGET)
    live.append([(run_id, make_batch(2))])
    assert deliver_spool(store, TARGET, spool_dir) == 0
    assert live.pending_items == 2
    live.close()


# -- the run end in the spool, and format versions ------------------------------------------
def test_deliver_spool_ends_the_run_after_its_items(
    store: SqlTrackingStore, run_id: str, spool_dir: Path
):
    left = SpoolFile.create(spool_dir, TARGET)
    assert left.path.name.startswith(f"trainlab-spool-v2-{target_key(TARGET)}-")
    assert left._conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == ("2",)
    ended = make_batch(2)
    ended.end = RunEnd("FAILED", 1_700_000_000_456)
    left.append([(run_id, make_batch(3, 1)), (run_id, ended)])
    assert left.pending_items == 4 + 3
    left.close()

    assert deliver_spool(store, TARGET, spool_dir) == 7
    info = store.get_run(run_id).info
    assert (info.status, info.end_time) == (RunStatus.FAILED, 1_700_000_000_456)
    # make_batch(2) repeats steps 0-1 of make_batch(3) exactly: stored once.
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == [0, 1, 2]
    assert spool_files(spool_dir) == []


def test_sender_keeps_an_unreachable_run_end(store: SqlTrackingStore, run_id: str):
    class EndsDown:
        def __init__(self) -> None:
            self.log_batch = store.log_batch

        def update_run_info(self, *args: object, **kwargs: object) -> None:
            raise ServiceUnavailable("connection refused")

    batch = make_batch(2)
    batch.end = RunEnd("FINISHED", 9)
    sender = Sender(EndsDown())  # type: ignore[arg-type]
    assert sender.send(run_id, batch) == Batch(end=RunEnd("FINISHED", 9))
    assert sender.delivered == 2
    assert Sender(DownStore()).send(run_id, batch) == batch  # type: ignore[arg-type]
    assert Sender(store).send(run_id, Batch(end=RunEnd("FINISHED", 9))) is None
    assert store.get_run(run_id).info.end_time == 9


def write_v1_spool(spool_dir: Path, rows: list[tuple[str, str]]) -> Path:
    """A spool file exactly as trainlab wrote it before run ends (format version 1)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    path = spool_dir / f"trainlab-spool-{target_key(TARGET)}-4242-0badf00d.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE batches (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                target TEXT NOT NULL,
                run_id TEXT NOT NULL,
                n_items INTEGER NOT NULL,
                payload TEXT NOT NULL,
                created_ms INTEGER NOT NULL
            );
            """
        )
        db.execute("INSERT INTO meta VALUES ('target', ?), ('version', '1')", (TARGET,))
        db.executemany(
            "INSERT INTO batches (target, run_id, n_items, payload, created_ms) "
            "VALUES (?, ?, ?, ?, 0)",
            [(TARGET, r, len(json.loads(p)["m"]), p) for r, p in rows],
        )
    db.close()
    return path


def test_a_version_1_spool_file_is_still_delivered(
    store: SqlTrackingStore, run_id: str, spool_dir: Path
):
    old = write_v1_spool(
        spool_dir,
        [
            (run_id, '{"m":[["loss",0.5,1000,0],["loss","nan",1001,1]],"p":[],"t":[]}'),
            (run_id, '{"m":[["loss",0.25,1002,2]],"p":[["lr","0.1"]],"t":[]}'),
        ],
    )
    [claimed] = claim_orphans(spool_dir, TARGET)
    assert (claimed.path, claimed.pending_items) == (old, 3)
    claimed.close()

    assert deliver_spool(store, TARGET, spool_dir) == 4
    points = store.get_metric_history(run_id, "loss")
    assert [m.step for m in points] == [0, 1, 2]
    assert points[0].value == 0.5 and math.isnan(points[1].value) and points[2].value == 0.25
    assert store.get_run(run_id).data.params == {"lr": "0.1"}
    assert store.get_run(run_id).info.status == RunStatus.RUNNING
    assert spool_files(spool_dir) == []


def test_a_spool_file_of_a_newer_format_is_left_alone(
    spool_dir: Path, caplog: pytest.LogCaptureFixture
):
    newer = SpoolFile.create(spool_dir, TARGET)
    newer.append([("r", make_batch(1))])
    with newer._conn:
        newer._conn.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    newer.close()
    with caplog.at_level(logging.ERROR, logger="trainlab"):
        assert claim_orphans(spool_dir, TARGET) == []
    assert newer.path.exists()
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert str(newer.path) in error and "version 99" in error
