"""Non-blocking logging: log calls append a tuple to a deque and return; one daemon thread
batches per run, sends with ``log_batch`` and, while the backend is unreachable, writes to a
durable spool (see :mod:`trainlab.client.spool`) that it delivers later, also in a later process.

Ordering: per run, items reach the store in the order they were logged. Once a run has data in
the spool, newer data of that run is spooled behind it until the spool is delivered. The end of a
run (``end_run``) is such an item: it is sent with ``update_run_info`` after everything logged
before it for that run, and spooled like the rest while the backend is unreachable.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import operator
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from trainlab.client.resolve import redacted
from trainlab.client.spool import (
    Batch,
    DeliveryError,
    RunEnd,
    Sender,
    SpoolFile,
    claim_orphans,
    deliver_spool,
)
from trainlab.entities import MetricColumns, RunStatus
from trainlab.exceptions import InvalidState
from trainlab.store._base import BaseTrackingStore
from trainlab.validation import validate_key, validate_param_value, validate_tag_value

log = logging.getLogger("trainlab")

# The server's limits for one log_batch call.
MAX_PARAMS_TAGS_PER_BATCH = 100

_TICK_S = 0.1  # how often the logging thread looks at the queue while it waits
_FULL_BATCH = 5_000  # points worth a request of their own (at most the store's batch limit)
MAX_RETRY_INTERVAL_S = 30.0
ATEXIT_TIMEOUT_S = 30.0
_DRAIN_MAX = 200_000  # items handled per pass; flush markers wait for the pass that holds them
_METRIC, _PARAMS, _TAGS, _REQUEST, _END = 0, 1, 2, 3, 4
_KIND_RUN = operator.itemgetter(0, 1)


@dataclass(frozen=True)
class FlushResult:
    """Where the logged items are. Counts are totals for the logger's lifetime; the end of a
    run (``end_run``) counts as one item."""

    delivered: int  # items stored by the backend (including spooled items delivered later)
    spooled: int  # items waiting in spool files, delivered when the backend is reachable
    rejected: int  # items the backend refused; see BatchingLogger.errors
    timed_out: bool = False  # the timeout passed before everything was delivered or spooled
    spool_paths: tuple[Path, ...] = ()  # the files holding the spooled items

    @property
    def complete(self) -> bool:
        return not self.timed_out and self.spooled == 0


class _Request:
    """A flush (or close) marker; it travels through the queue behind the items it waits for."""

    __slots__ = ("done", "result", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.result: FlushResult | None = None
        self.stop = stop

    def resolve(self, result: FlushResult) -> None:
        self.result = result
        self.done.set()


class _Abandoned(Exception):
    """close() timed out and spooled what the thread had not finished; the thread stops."""


# The logging thread's nice value: where cores are busy, training threads come first.
LOGGER_NICENESS = 10


def _lower_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: nice is per thread). Delivery
    still runs when a core is free, and a flush waits for it; elsewhere this does nothing."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + LOGGER_NICENESS
            )


# Keys found valid, so that a log call checks each key once (at most this many are kept).
_VALID_KEYS: set[str] = set()
_VALID_KEYS_KEPT = 100_000


def metric_value(key: str, value: object) -> float:
    """``value`` as a float, or an error naming the metric (float's own names neither)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # a ValueError, as float's and the timestamp's checks
        raise ValueError(
            f"Metric {key!r}: value {value!r} is not a number; log numbers (a text goes in a "
            "tag: set_tag)."
        ) from None


def whole_number(key: str, value: object, what: str) -> int:
    """``value`` (the ``what``: step, timestamp) as an int: an integer of any kind (numpy's
    too), or a float with no fraction (a step computed as ``epoch * n / batch``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"Metric {key!r}: {what} {value!r} is not a whole number.") from None


def check_key(key: object) -> str:
    """A metric, param or tag key as the server takes it, refused here at the call: TypeError
    for a non-string, InvalidParameterValue (naming the problem) for a name the server
    refuses."""
    if key.__class__ is str and key in _VALID_KEYS:
        return key
    if not isinstance(key, str):
        raise TypeError(f"keys must be str, got {type(key).__name__}: {key!r}")
    validate_key(key)
    if len(_VALID_KEYS) < _VALID_KEYS_KEPT:
        _VALID_KEYS.add(key)
    return key


def checked_params(params: dict[str, Any]) -> dict[str, str]:
    """``params`` as the server stores them (values as text), every key and value checked
    here, at the call: one the server would refuse fails the call, and none of them is logged."""
    return {check_key(k): validate_param_value(str(v), k) for k, v in params.items()}


def checked_tags(tags: dict[str, Any]) -> dict[str, str]:
    """``tags`` checked as :func:`checked_params` checks params."""
    return {check_key(k): validate_tag_value(str(v), k) for k, v in tags.items()}


class BatchingLogger:
    """Logs metrics, params and tags of runs without blocking the caller. Thread safe."""

    def __init__(
        self,
        store: BaseTrackingStore,
        *,
        target: str,
        spool_dir: Path,
        flush_interval: float = 0.5,
        retry_interval: float = 1.0,
    ) -> None:
        self._target = target
        self._shown_target = redacted(target)  # in messages: no password
        self._spool_dir = Path(spool_dir)
        self._flush_interval = flush_interval
        self._tick = min(flush_interval, _TICK_S)
        self._retry_interval = retry_interval
        self._queue: deque[tuple[Any, ...]] = deque()
        self._closed = False
        self._closed_reason = "The logger is closed."
        self._final: FlushResult | None = None
        self._close_lock = threading.Lock()
        self._wake = threading.Event()
        self._sender = Sender(store)
        self._store = store
        # Shared with a timed-out close(): guarded by _state_lock.
        self._state_lock = threading.Lock()
        self._abandoned = False
        self._inflight: dict[int, tuple[str, Batch]] = {}
        self._own: SpoolFile | None = None
        # Owned by the logging thread.
        self._claimed: list[SpoolFile] = []
        self._spooled_runs: set[str] = set()
        self._down = False
        self._backoff = retry_interval
        self._next_retry = 0.0
        self._thread = threading.Thread(target=self._run, name="trainlab-logger", daemon=True)
        self._thread.start()
        atexit.register(self._close_at_exit)
        _LIVE.add(self)

    # -- the caller's side (hot path: no locks, no objects besides one tuple) -----------------
    def log_metric(
        self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        if self._closed:
            raise InvalidState(self._closed_reason)
        if key.__class__ is not str or key not in _VALID_KEYS:
            check_key(key)
        if value.__class__ is not float:
            value = metric_value(key, value)
        if step.__class__ is not int:
            step = whole_number(key, step, "step")
        if timestamp is None:
            timestamp = time.time_ns() // 1_000_000
        else:
            timestamp = whole_number(key, timestamp, "timestamp")
            if timestamp < 0:
                raise ValueError(
                    f"timestamp must be milliseconds since the epoch, not negative: {timestamp}"
                )
        self._queue.append((_METRIC, run_id, key, value, step, timestamp))

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        if self._closed:
            raise InvalidState(self._closed_reason)
        self._queue.append((_PARAMS, run_id, checked_params(params)))

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        if self._closed:
            raise InvalidState(self._closed_reason)
        self._queue.append((_TAGS, run_id, checked_tags(tags)))

    def end_run(self, run_id: str, status: str, end_time: int) -> None:
        """Mark the run ended (``update_run_info(run_id, status=..., end_time=...)``) after
        everything logged for it before this call is stored. Like the log calls it only
        enqueues: ``flush()`` waits for it; while the backend is unreachable it is spooled
        behind the run's data. A rejection is reported like a rejected item (:attr:`errors`)."""
        if self._closed:
            raise InvalidState(self._closed_reason)
        status = RunStatus(status).value  # ValueError here, not in the thread
        if end_time.__class__ is not int:
            end_time = operator.index(end_time)
        self._queue.append((_END, run_id, status, end_time))

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Wait until everything logged before this call is delivered, spooled (backend
        unreachable) or rejected; also retries the spool once. Never waits past ``timeout``."""
        if self._final is not None:
            return self._final
        request = _Request()
        self._queue.append((_REQUEST, request))
        self._wake.set()
        result = self._wait(request, timeout)
        return result if result is not None else self._result(timed_out=True)

    def close(self, timeout: float | None = None) -> FlushResult:
        """Flush, stop the thread and let go of the spool files. Idempotent. If the timeout
        passes first, what is not yet delivered is written to the spool."""
        with self._close_lock:
            if self._final is not None:
                return self._final
            self._closed = True
            atexit.unregister(self._close_at_exit)
            deadline = None if timeout is None else time.monotonic() + timeout
            request = _Request(stop=True)
            self._queue.append((_REQUEST, request))
            self._wake.set()
            result = self._wait(request, timeout)
            if result is not None:  # the thread only lets go of its files now: a short grace
                self._thread.join(
                    None if deadline is None else max(1.0, deadline - time.monotonic())
                )
            if result is None or self._thread.is_alive():
                result = self._abandon()
            elif self._queue:  # logged by another thread while closing: rare, handled here
                result = self._finish_leftovers()
            self._final = result
        if result.spooled:
            log.warning(
                "trainlab: %d logged items could not reach %s and are kept in %s; they are "
                "delivered the next time trainlab logs to it, or by `trainlab spool flush "
                "--tracking-uri %s`.",
                result.spooled,
                self._shown_target,
                ", ".join(map(str, result.spool_paths)),
                self._shown_target,
            )
        return result

    @property
    def errors(self) -> list[DeliveryError]:
        """Items the backend rejected (dropped, with the server's message)."""
        return list(self._sender.errors)

    @property
    def spool_path(self) -> Path | None:
        """This logger's spool file; None until the backend was unreachable once."""
        own = self._own
        return own.path if own is not None else None

    def _wait(self, request: _Request, timeout: float | None) -> FlushResult | None:
        """The request's result, or None if the timeout passed or the thread is gone."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not request.done.is_set():
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0 or not self._thread.is_alive():
                return request.result
            request.done.wait(min(1.0, left))
        return request.result

    def _close_at_exit(self) -> None:
        self.close(timeout=ATEXIT_TIMEOUT_S)

    def _disown(self) -> None:
        """In a forked child: the thread and the spool belong to the parent; stay off them."""
        self._closed_reason = "The logger belongs to the parent process; create one in the child."
        self._closed = True
        self._final = FlushResult(delivered=0, spooled=0, rejected=0)
        atexit.unregister(self._close_at_exit)

    def _result(self, timed_out: bool = False) -> FlushResult:
        spools = [*self._claimed, *([self._own] if self._own is not None else [])]
        return FlushResult(
            delivered=self._sender.delivered,
            spooled=sum(s.pending_items for s in spools),
            rejected=len(self._sender.errors),
            timed_out=timed_out,
            spool_paths=tuple(s.path for s in spools if s.pending_items),
        )

    # -- the logging thread ------------------------------------------------------------------
    def _run(self) -> None:
        _lower_priority()
        try:
            self._adopt_orphans()
            while True:
                started = time.monotonic()
                if not self._cycle():
                    break
                self._idle(started + self._flush_interval)
        except _Abandoned:
            pass
        finally:
            self._release_spools()

    def _idle(self, deadline: float) -> None:
        """Wait until there is something worth a request: a full batch, a flush or close, or
        points that have waited ``flush_interval``. Each request costs the same fixed work on
        both sides however few points it carries, and a slow loop's training competes with
        it for the CPU: sending every 0.5 s instead of every 0.1 s took the overhead of a
        1,000-epoch loop logging 10 metrics an epoch through a server on the same machine
        from 122 to 73-80 us an epoch (bench/training_overhead.py's small loop); a tight
        loop still sends a full batch every tick. ``deadline``: ``flush_interval`` after the
        last pass began."""
        full_batch = min(self._store.max_batch_metrics, _FULL_BATCH)
        while not self._wake.wait(max(0.0, min(self._tick, deadline - time.monotonic()))):
            if len(self._queue) >= full_batch or time.monotonic() >= deadline:
                break
        self._wake.clear()

    def _cycle(self) -> bool:
        """Handle what is queued; False once a close request was handled."""
        while True:
            items, requests = self._drain()
            try:
                if items:
                    self._process(items)
                if requests or self._retry_due():
                    self._retry_spools(force=bool(requests))
            except _Abandoned:
                raise
            # The thread is a boundary: a bug must be loud, not end logging or hang flush().
            except Exception:
                log.exception("trainlab: the logging thread failed; spooling unfinished batches")
                self._spool_inflight()
            result = self._result()
            for request in requests:
                request.resolve(result)
            if any(r.stop for r in requests):
                return False
            if len(self._queue) < self._store.max_batch_metrics:
                return True

    def _drain(self) -> tuple[list[tuple[Any, ...]], list[_Request]]:
        items: list[tuple[Any, ...]] = []
        requests: list[_Request] = []
        popleft = self._queue.popleft
        for _ in range(min(len(self._queue), _DRAIN_MAX)):
            item = popleft()
            if item[0] == _REQUEST:
                requests.append(item[1])
            else:
                items.append(item)
        return items, requests

    def _process(self, items: list[tuple[Any, ...]]) -> None:
        units = [
            (run_id, b)
            for run_id, batches in _build_batches(items, self._store.max_batch_metrics).items()
            for b in batches
        ]
        with self._state_lock:
            self._check_abandoned()
            self._inflight = dict(enumerate(units))
        to_spool: list[int] = []
        for i, (run_id, batch) in enumerate(units):
            if self._down or run_id in self._spooled_runs:
                to_spool.append(i)
                continue
            rest = self._sender.send(run_id, batch)
            with self._state_lock:
                self._check_abandoned()
                if rest is None:
                    del self._inflight[i]
                else:
                    self._inflight[i] = (run_id, rest)
            if rest is not None:
                self._mark_down()
                to_spool.append(i)
        if to_spool:
            with self._state_lock:
                self._check_abandoned()
                self._spool([self._inflight[i] for i in to_spool])
                self._inflight.clear()

    def _spool_inflight(self) -> None:
        with self._state_lock:
            self._check_abandoned()
            entries = list(self._inflight.values())
            self._inflight.clear()
            if entries:
                self._spool(entries)

    def _check_abandoned(self) -> None:
        if self._abandoned:
            raise _Abandoned

    def _spool(self, entries: list[tuple[str, Batch]]) -> None:
        """Write to this logger's spool (call with _state_lock held). If even that fails, the
        items are reported as lost, loudly."""
        try:
            if self._own is None or self._own.closed:
                self._own = SpoolFile.create(self._spool_dir, self._target)
            self._own.append(entries)
        except (OSError, sqlite3.Error) as exc:
            for run_id, batch in entries:
                self._sender.reject(run_id, batch, exc, code="DATA_LOSS")
            return
        self._spooled_runs.update(run_id for run_id, _ in entries)

    def _mark_down(self) -> None:
        if not self._down:
            why = self._sender.unavailable
            log.warning(
                "trainlab: %s is unavailable (%s); logging continues into the spool and is "
                "delivered when it is back.",
                self._shown_target,
                why.message if why is not None else "no answer",
            )
        self._down = True
        self._next_retry = time.monotonic() + self._backoff

    def _retry_due(self) -> bool:
        return bool(self._spooled_runs) and time.monotonic() >= self._next_retry

    def _retry_spools(self, force: bool) -> None:
        """Deliver the spools, oldest first; on success logging goes direct again."""
        if not self._spooled_runs:
            self._down = False
            return
        if not force and time.monotonic() < self._next_retry:
            return
        for spool in [*self._claimed, *([self._own] if self._own is not None else [])]:
            if not self._sender.deliver_spool(spool):
                self._mark_down()
                self._backoff = min(self._backoff * 2, MAX_RETRY_INTERVAL_S)
                return
        for spool in self._claimed:
            spool.close()
        self._claimed = []
        if self._down:
            log.warning(
                "trainlab: %s is reachable again; the spool is delivered.", self._shown_target
            )
        self._down = False
        self._spooled_runs.clear()
        self._backoff = self._retry_interval

    def _adopt_orphans(self) -> None:
        """Claim the spools that dead processes left for this target and deliver them."""
        try:
            self._claimed = claim_orphans(self._spool_dir, self._target)
            for spool in self._claimed:
                self._spooled_runs.update(spool.run_ids())
            if self._claimed:
                log.info(
                    "trainlab: delivering %d items left in %s",
                    sum(s.pending_items for s in self._claimed),
                    ", ".join(str(s.path) for s in self._claimed),
                )
                self._retry_spools(force=True)
        # As in _cycle: the thread must live on (the spool stays for a later retry).
        except Exception:
            log.exception("trainlab: cannot deliver the spools in %s", self._spool_dir)

    def _release_spools(self) -> None:
        with self._state_lock:
            for spool in [*self._claimed, *([self._own] if self._own is not None else [])]:
                spool.close()

    # -- a close() that timed out ------------------------------------------------------------
    def _abandon(self) -> FlushResult:
        """Spool what the thread has not finished, so nothing is lost when the process exits.
        Parts of it may have reached the backend already; re-sending them is a no-op there."""
        with self._state_lock:
            self._abandoned = True
            entries = list(self._inflight.values())
            self._inflight.clear()
            items, requests = self._drain_all()
            entries += [
                (r, b)
                for r, batches in _build_batches(items, self._store.max_batch_metrics).items()
                for b in batches
            ]
            if entries:
                self._spool(entries)
        result = self._result(timed_out=True)
        for request in requests:
            request.resolve(result)
        if entries:
            log.warning(
                "trainlab: the logger did not finish in time; %d unfinished batches were spooled.",
                len(entries),
            )
        return result

    def _finish_leftovers(self) -> FlushResult:
        """The thread has stopped: handle the few items another thread logged during close()."""
        items, requests = self._drain_all()
        self._process(items)
        result = self._result()
        for request in requests:
            request.resolve(result)
        self._release_spools()
        return result

    def _drain_all(self) -> tuple[list[tuple[Any, ...]], list[_Request]]:
        items: list[tuple[Any, ...]] = []
        requests: list[_Request] = []
        while self._queue:
            more, reqs = self._drain()
            items += more
            requests += reqs
        return items, requests


_LIVE: weakref.WeakSet[BatchingLogger] = weakref.WeakSet()


def _disown_after_fork() -> None:
    for logger in list(_LIVE):
        logger._disown()


os.register_at_fork(after_in_child=_disown_after_fork)


def _build_batches(items: list[tuple[Any, ...]], max_items: int) -> dict[str, list[Batch]]:
    """Group queued items per run into batches within the store's limits (``max_items``
    metrics and items in all, 100 params, 100 tags), in logged order. Consecutive points of
    one run (nearly all items) are moved as columns, in C: no Python step per point."""
    builders: dict[str, _BatchBuilder] = {}
    for (kind, run_id), group in groupby(items, key=_KIND_RUN):
        builder = builders.get(run_id)
        if builder is None:
            builder = builders[run_id] = _BatchBuilder(max_items)
        if kind == _METRIC:
            _, _, keys, values, steps, stamps = zip(*group, strict=True)
            builder.metrics(keys, values, stamps, steps)
        elif kind == _PARAMS:
            for item in group:
                builder.params(item[2])
        elif kind == _TAGS:
            for item in group:
                builder.tags(item[2])
        else:
            for item in group:
                builder.end(RunEnd(item[2], item[3]))
    return {run_id: b.finish() for run_id, b in builders.items()}


class _BatchBuilder:
    """Cuts one run's items into batches. A param logged twice with another value starts a new
    batch (the earlier value is sent first, the server rejects the change); a tag set twice in
    one batch keeps the last value. A run end closes its batch: it is sent after the batch's
    items, and what is logged after it goes into the next batch."""

    __slots__ = ("batches", "columns", "current", "max_items", "size")

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.batches: list[Batch] = []
        self.current = Batch()
        # The current batch's points: keys, values, timestamps, steps.
        self.columns: tuple[list[Any], ...] = ([], [], [], [])
        self.size = 0

    def _cut(self) -> None:
        self.current.metrics = MetricColumns(*self.columns)
        self.batches.append(self.current)
        self.current = Batch()
        self.columns = ([], [], [], [])
        self.size = 0

    def metrics(self, *columns: Sequence[Any]) -> None:
        """Points given as keys, values, timestamps and steps."""
        done, total = 0, len(columns[0])
        while done < total:
            if self.size >= self.max_items:
                self._cut()
            take = min(total - done, self.max_items - self.size)
            for mine, given in zip(self.columns, columns, strict=True):
                mine.extend(given[done : done + take])
            self.size += take
            done += take

    def params(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            old = self.current.params.get(key)
            if old == value:
                continue
            if old is not None or self._full(len(self.current.params)):
                self._cut()
            self.current.params[key] = value
            self.size += 1

    def tags(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            if key not in self.current.tags:
                if self._full(len(self.current.tags)):
                    self._cut()
                self.size += 1
            self.current.tags[key] = value

    def end(self, end: RunEnd) -> None:
        self.current.end = end
        self.size += 1
        self._cut()

    def _full(self, n_of_kind: int) -> bool:
        return n_of_kind >= MAX_PARAMS_TAGS_PER_BATCH or self.size >= self.max_items

    def finish(self) -> list[Batch]:
        if self.size:
            self._cut()
        return self.batches


__all__ = [
    "BatchingLogger",
    "DeliveryError",
    "FlushResult",
    "deliver_spool",
]
