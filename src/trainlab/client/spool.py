"""Durable delivery of logged batches: the spool file and the sender that splits rejections.

A spool is one SQLite file per logging process in the spool folder (WAL, ``synchronous=FULL``, so
a committed row survives a crash), one row per batch: target, run id, item count and a JSON
payload. Non-finite metric values are written as the strings ``"nan"``, ``"inf"``, ``"-inf"``
so the JSON stays standard. A batch may close with the end of its run (status and end time,
sent with ``update_run_info`` after the batch's items); it counts as one item. The file is owned
by whoever holds ``fcntl.flock`` on its ``.lock`` file: the creating logger for its lifetime,
afterwards any logger of the same target that finds it unlocked (its owner died or closed
without reaching the server) and claims it. Two live processes therefore never deliver the same
file. Rows are delivered oldest first and deleted only after the store accepted them; an empty
file is removed when its owner lets go of it.

File names carry a hash of the target (the tracking URI), so a spool is only ever delivered to
the backend it was meant for.

Format versions (``meta.version``): 1 had no run ends; its files are named ``trainlab-spool-*``
and are still claimed and delivered as they are. 2 adds the run end (the payload's ``"e"``);
its files are named ``trainlab-spool-v2-*`` so that trainlab releases that only know version 1
(they do not check the version) never claim them and drop the run ends. A file of a newer
version than this release knows is left alone, with an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trainlab.entities import LifecycleStage, Metric, MetricColumns, Param, RunStatus, RunTag
from trainlab.exceptions import (
    InvalidParameterValue,
    ResourceNotFound,
    ServiceUnavailable,
    TrainlabError,
)
from trainlab.store._base import BaseTrackingStore

log = logging.getLogger("trainlab")

FILE_PREFIX = "trainlab-spool-v2-"  # files written by this release (format 2)
_V1_FILE_PREFIX = "trainlab-spool-"  # format 1: no run ends; still claimed and delivered
_FORMAT_VERSION = "2"
_READABLE_VERSIONS = frozenset({"1", "2"})
# Answers that mean "try again later", besides ServiceUnavailable itself.
_TRANSIENT_HTTP_STATUS = frozenset({429, 503, 504})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    run_id TEXT NOT NULL,
    n_items INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class RunEnd:
    """The end of a run: ``update_run_info(run_id, status=status, end_time=end_time)``."""

    status: str  # a RunStatus value
    end_time: int  # ms since the epoch


@dataclass(slots=True)
class Batch:
    """What one ``log_batch`` call sends for one run; params and tags never repeat a key. If
    ``end`` is set, the run is ended after the batch's items are stored."""

    metrics: MetricColumns = field(default_factory=lambda: MetricColumns((), (), (), ()))
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    end: RunEnd | None = None

    def __len__(self) -> int:
        """Items, the run end counted as one."""
        return len(self.metrics) + len(self.params) + len(self.tags) + (self.end is not None)

    def split(self) -> tuple[Batch, Batch]:
        """Two halves, in order (metrics, then params, then tags, then the end)."""
        half = len(self) // 2
        first, second = Batch(), Batch(end=self.end)  # the end is last: always in the second
        first.metrics, second.metrics = self.metrics[:half], self.metrics[half:]
        rest = half - len(first.metrics)
        first.params, second.params = _split_dict(self.params, rest)
        rest -= len(first.params)
        first.tags, second.tags = _split_dict(self.tags, rest)
        return first, second

    def extend(self, other: Batch) -> None:
        """Append the items of a later part of the same original batch."""
        self.metrics = self.metrics + other.metrics
        self.params.update(other.params)
        self.tags.update(other.tags)
        if other.end is not None:
            self.end = other.end

    def items_only(self) -> Batch:
        """The batch without its end (the same lists and dicts, not copies)."""
        return Batch(self.metrics, self.params, self.tags)

    def entities(self) -> tuple[MetricColumns, list[Param], list[RunTag]]:
        return (
            self.metrics,
            [Param(k, v) for k, v in self.params.items()],
            [RunTag(k, v) for k, v in self.tags.items()],
        )

    def to_json(self) -> str:
        isfinite = math.isfinite
        payload: dict[str, object] = {
            "m": [
                [k, v if isfinite(v) else repr(v), ts, s] for k, v, ts, s in self.metrics.points()
            ],
            "p": list(self.params.items()),
            "t": list(self.tags.items()),
        }
        if self.end is not None:
            payload["e"] = [self.end.status, self.end.end_time]
        return json.dumps(payload, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Batch:
        """Reads both formats (version 1 has no ``"e"``)."""
        payload = json.loads(text)
        end = payload.get("e")
        return cls(
            metrics=MetricColumns.from_points(
                [(str(k), float(v), int(ts), int(s)) for k, v, ts, s in payload["m"]]
            ),
            params={str(k): str(v) for k, v in payload["p"]},
            tags={str(k): str(v) for k, v in payload["t"]},
            end=None if end is None else RunEnd(str(end[0]), int(end[1])),
        )


def _split_dict(d: dict[str, str], n: int) -> tuple[dict[str, str], dict[str, str]]:
    if n <= 0:
        return {}, dict(d)
    items = list(d.items())
    return dict(items[:n]), dict(items[n:])


@dataclass(frozen=True)
class SpooledBatch:
    row_id: int
    run_id: str
    batch: Batch


def target_key(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:16]


class SpoolFile:
    """One spool file, owned (flock'd) by this object until :meth:`close`. Thread safe."""

    def __init__(self, path: Path, lock_fd: int, conn: sqlite3.Connection, target: str) -> None:
        self.path = path
        self.target = target
        self._lock_fd = lock_fd
        self._conn = conn
        self._mutex = threading.Lock()
        self._closed = False
        row = conn.execute("SELECT COALESCE(SUM(n_items), 0) FROM batches").fetchone()
        self.pending_items: int = int(row[0])

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, spool_dir: Path, target: str) -> SpoolFile:
        """A new file for this process. The lock is taken before the database exists, so no
        other process can mistake it for an orphan."""
        spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"{FILE_PREFIX}{target_key(target)}-{os.getpid()}-{os.urandom(4).hex()}.db"
        path = spool_dir / name
        fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            conn = _connect(path, create=True)
        except BaseException:
            _unlink(_lock_path(path))
            os.close(fd)
            raise
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT INTO meta VALUES ('target', ?), ('version', ?)", (target, _FORMAT_VERSION)
            )
        return cls(path, fd, conn, target)

    @classmethod
    def claim(cls, path: Path, target: str) -> SpoolFile | None:
        """Take over a file whose owner is gone; None if it is owned, gone or not for target."""
        lock_path = _lock_path(path)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if not _same_file(fd, lock_path):  # deleted by an owner that emptied it meanwhile
            os.close(fd)
            return None
        if not path.exists():
            _unlink(lock_path)
            os.close(fd)
            return None
        try:
            conn = _connect(path, create=False)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            log.error("trainlab: cannot read the spool file %s: %s; leaving it alone", path, exc)
            os.close(fd)
            return None
        if meta.get("target") != target or meta.get("version") not in _READABLE_VERSIONS:
            if meta.get("target") == target:
                log.error(
                    "trainlab: the spool file %s has format version %s, which this trainlab "
                    "release cannot read; deliver it with a newer trainlab "
                    "(`trainlab spool flush`). Leaving it alone.",
                    path,
                    meta.get("version"),
                )
            conn.close()
            os.close(fd)
            return None
        return cls(path, fd, conn, target)

    # -- rows ------------------------------------------------------------------------------
    def append(self, entries: Sequence[tuple[str, Batch]]) -> None:
        """Write (run_id, batch) rows in one durable transaction."""
        now = time.time_ns() // 1_000_000
        rows = [(self.target, run_id, len(b), b.to_json(), now) for run_id, b in entries if b]
        with self._mutex, self._conn:
            self._check_open()
            self._conn.executemany(
                "INSERT INTO batches (target, run_id, n_items, payload, created_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        self.pending_items += sum(r[2] for r in rows)

    def oldest(self, limit: int = 64) -> list[SpooledBatch]:
        with self._mutex:
            self._check_open()
            rows = self._conn.execute(
                "SELECT id, run_id, payload FROM batches WHERE target = ? ORDER BY id LIMIT ?",
                (self.target, limit),
            ).fetchall()
        return [SpooledBatch(row_id, run_id, Batch.from_json(p)) for row_id, run_id, p in rows]

    def replace(self, row_id: int, batch: Batch) -> None:
        """Keep only ``batch`` (what is left of the row after a partial delivery)."""
        with self._mutex, self._conn:
            self._check_open()
            old = self._n_items(row_id)
            self._conn.execute(
                "UPDATE batches SET payload = ?, n_items = ? WHERE id = ?",
                (batch.to_json(), len(batch), row_id),
            )
        self.pending_items += len(batch) - old

    def delete(self, row_id: int) -> None:
        with self._mutex, self._conn:
            self._check_open()
            old = self._n_items(row_id)
            self._conn.execute("DELETE FROM batches WHERE id = ?", (row_id,))
        self.pending_items -= old

    def run_ids(self) -> set[str]:
        with self._mutex:
            self._check_open()
            rows = self._conn.execute("SELECT DISTINCT run_id FROM batches").fetchall()
        return {r[0] for r in rows}

    def _n_items(self, row_id: int) -> int:
        row = self._conn.execute("SELECT n_items FROM batches WHERE id = ?", (row_id,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise sqlite3.ProgrammingError(f"spool {self.path} is closed")

    # -- letting go ------------------------------------------------------------------------
    def close(self) -> None:
        """Release the file: removed when empty, otherwise left for a later claim. Idempotent."""
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            empty = self._conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
            self._conn.close()
            if empty:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    _unlink(Path(f"{self.path}{suffix}"))
                _unlink(_lock_path(self.path))
            os.close(self._lock_fd)


def _lock_path(path: Path) -> Path:
    return Path(f"{path}.lock")


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    uri = f"{path.absolute().as_uri()}?mode={'rwc' if create else 'rw'}"
    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@dataclass(frozen=True)
class SpoolSummary:
    path: Path
    target: str  # '' when the file cannot be read
    items: int


def spool_summaries(spool_dir: Path) -> list[SpoolSummary]:
    """Every spool file in ``spool_dir``, read without claiming it: the URI it waits for and
    how many items it holds."""
    out = []
    for path in sorted(spool_dir.glob(f"{_V1_FILE_PREFIX}*.db")):  # format 2's prefix extends it
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                items = conn.execute("SELECT COALESCE(SUM(n_items), 0) FROM batches").fetchone()[0]
                row = conn.execute("SELECT value FROM meta WHERE key = 'target'").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            out.append(SpoolSummary(path, "", 0))
            continue
        out.append(SpoolSummary(path, row[0] if row else "", int(items)))
    return out


def claim_orphans(spool_dir: Path, target: str) -> list[SpoolFile]:
    """Every unowned spool file of ``target`` in ``spool_dir``, oldest first, now owned by us
    (files of format version 1 included)."""
    key = target_key(target)
    candidates = []
    for prefix in (_V1_FILE_PREFIX, FILE_PREFIX):
        for p in spool_dir.glob(f"{prefix}{key}-*.db"):
            with contextlib.suppress(FileNotFoundError):
                candidates.append((p.stat().st_mtime, p.name, p))
    claimed = []
    for *_, path in sorted(candidates):
        spool = SpoolFile.claim(path, target)
        if spool is not None:
            claimed.append(spool)
    return claimed


# -- delivery ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryError:
    """An item the server rejected; it was dropped, the rest of its batch was delivered. A
    rejected end of a run (the run was not marked ended) has a :class:`RunEnd` as ``item``."""

    run_id: str
    item: Metric | Param | RunTag | RunEnd
    error_code: str
    message: str


def is_transient(exc: TrainlabError) -> bool:
    return isinstance(exc, ServiceUnavailable) or exc.http_status in _TRANSIENT_HTTP_STATUS


class Sender:
    """Sends batches to a store. A rejected batch is split in halves until only the rejected
    items are left; those are dropped, recorded in :attr:`errors` and logged as errors. (A run
    that does not exist or is deleted rejects the whole batch at once.) A batch's run end is
    sent last, with ``update_run_info``, once its items are stored or rejected."""

    def __init__(self, store: BaseTrackingStore) -> None:
        self.store = store
        self.delivered = 0
        self.errors: list[DeliveryError] = []
        self.unavailable: TrainlabError | None = None  # why the backend was, when last it was

    def send(self, run_id: str, batch: Batch) -> Batch | None:
        """Deliver ``batch``. Returns None when done, or, if the backend became unreachable,
        the part that was not delivered (in order, the run end last)."""
        end = batch.end
        if end is None:
            return self._send_items(run_id, batch)
        items = batch.items_only()
        rest = self._send_items(run_id, items) if items else None
        if rest is not None:
            rest.end = end
            return rest
        error = self._try_end(run_id, end)
        if error is None:
            self.delivered += 1
        elif isinstance(error, TrainlabError) and is_transient(error):
            self.unavailable = error
            return Batch(end=end)
        else:
            self.reject(run_id, Batch(end=end), error)
        return None

    def _send_items(self, run_id: str, batch: Batch) -> Batch | None:
        todo = [batch]  # a stack: the next part to send is at the end
        while todo:
            part = todo.pop()
            error = self._try(run_id, part)
            if error is None:
                self.delivered += len(part)
            elif isinstance(error, TrainlabError) and is_transient(error):
                self.unavailable = error
                for later in reversed(todo):
                    part.extend(later)
                return part
            elif len(part) == 1 or self._rejects_whole_run(run_id, error):
                self.reject(run_id, part, error)
            else:
                first, second = part.split()
                todo += [second, first]
        return None

    def _rejects_whole_run(self, run_id: str, error: Exception) -> bool:
        """The run does not exist or is deleted: every item fails alike, splitting is no use.
        (A deleted run's refusal has the code of a bad item, INVALID_PARAMETER_VALUE, as in
        MLflow: the run's state tells them apart.)"""
        if isinstance(error, ResourceNotFound):
            return True
        if not isinstance(error, InvalidParameterValue):
            return False
        try:
            return self.store.get_run(run_id).info.lifecycle_stage != LifecycleStage.ACTIVE
        except TrainlabError:
            return False

    def _try(self, run_id: str, part: Batch) -> Exception | None:
        metrics, params, tags = part.entities()
        try:
            self.store.log_batch(run_id, metrics, params, tags)
        except TrainlabError as exc:
            return exc
        # The logging thread is a boundary: an unexpected error of the store must not kill it.
        # It is handled like a rejection (split, then the failing items reported loudly).
        except Exception as exc:
            log.debug("trainlab: log_batch failed unexpectedly", exc_info=True)
            return exc
        return None

    def _try_end(self, run_id: str, end: RunEnd) -> Exception | None:
        try:
            status = RunStatus(end.status)
            self.store.update_run_info(run_id, status=status, end_time=end.end_time)
        except TrainlabError as exc:
            return exc
        except Exception as exc:  # as in _try: reported as a rejection, the thread lives on
            log.debug("trainlab: update_run_info failed unexpectedly", exc_info=True)
            return exc
        return None

    def reject(self, run_id: str, batch: Batch, error: Exception, code: str = "") -> None:
        if isinstance(error, TrainlabError):
            code = code or error.to_json()["error_code"]
            message = error.message
        else:
            code = code or "INTERNAL_ERROR"
            message = f"{type(error).__name__}: {error}"
        for item in _items(batch):
            self.errors.append(DeliveryError(run_id, item, code, message))
            if isinstance(item, RunEnd):
                log.error(
                    "trainlab: could not mark run %s %s (end time %d): %s (%s)",
                    run_id,
                    item.status,
                    item.end_time,
                    message,
                    code,
                )
            else:
                shown = repr(item)
                shown = shown if len(shown) <= 300 else f"{shown[:300]}... ({len(shown)} chars)"
                log.error("trainlab: dropped %s of run %s: %s (%s)", shown, run_id, message, code)

    def deliver_spool(self, spool: SpoolFile) -> bool:
        """Deliver the rows of ``spool``, oldest first. False if the backend is unreachable."""
        while rows := spool.oldest():
            for row in rows:
                rest = self.send(row.run_id, row.batch)
                if rest is not None:
                    if len(rest) != len(row.batch):
                        spool.replace(row.row_id, rest)
                    return False
                spool.delete(row.row_id)
        return True


def _items(batch: Batch) -> Iterator[Metric | Param | RunTag | RunEnd]:
    metrics, params, tags = batch.entities()
    yield from metrics
    yield from params
    yield from tags
    if batch.end is not None:
        yield batch.end


def deliver_spool(store: BaseTrackingStore, target: str, spool_dir: Path) -> int:
    """Deliver to ``store`` the spool files of ``target`` (the tracking URI they were logged
    for; the store's own, unless the server moved) left in ``spool_dir`` by processes that are
    gone (``trainlab spool flush``). Returns the number of items delivered (a run end counts as
    one); rejected items are logged as errors. Raises ServiceUnavailable if the backend cannot
    be reached (what was not delivered stays in the spool)."""
    sender = Sender(store)
    spools = claim_orphans(Path(spool_dir), target)
    try:
        for spool in spools:
            if not sender.deliver_spool(spool):
                left = sum(s.pending_items for s in spools)
                files = ", ".join(str(s.path) for s in spools if s.pending_items)
                why = sender.unavailable.message if sender.unavailable else "It is unreachable."
                raise ServiceUnavailable(
                    f"{why} Delivered {sender.delivered} items; {left} remain in {files}."
                )
    finally:
        for spool in spools:
            spool.close()
    return sender.delivered
