"""Parallel workers on one machine: long-lived worker processes (``python -m
trainlab.tuning.worker``) share one study storage; this process hands out slots one at a time
over their stdin and reads ``done SLOT STATE`` back. A worker that dies (killed, out of memory)
gives its slot back: it goes to another worker, which fails the dead attempt and tries its
params again, and a new worker takes the dead one's place.

The workers start when the pool is entered, before the study and its run exist: they import
their modules while this process sets the study up, and open the study at their first slot."""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from trainlab.client.resolve import ENV_TRACKING_URI
from trainlab.exceptions import TrainlabError

OnDone = Callable[[int, str], None]
CLOSE_GRACE_SECONDS = 30.0  # for a worker to end its trial's run KILLED once told to stop


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[str]
    slot: int | None = None


class LocalPool:
    """``with LocalPool(...) as pool: pool.run(slots, on_done)``; leaving the block ends every
    worker."""

    def __init__(
        self,
        study: str,
        storage: str,
        workers: int,
        tracking_uri: str,
        max_restarts: int | None = None,
    ):
        self.study = study
        self.storage = storage
        self.workers = workers
        self.tracking_uri = tracking_uri
        self.max_restarts = workers * 3 if max_restarts is None else max_restarts
        self.restarts = 0
        self._started = 0
        self._all: list[_Worker] = []
        self._idle: list[_Worker] = []

    def __enter__(self) -> LocalPool:
        self._idle = [self._spawn() for _ in range(self.workers)]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """End every worker: those still running are terminated, and their stdin closed, so a
        worker waiting for a slot ends even if the signal went by; one still there after
        ``grace`` seconds (its trial's run ending KILLED) is killed."""
        for worker in self._all:
            if worker.process.poll() is None:
                worker.process.terminate()
            if worker.process.stdin is not None and not worker.process.stdin.closed:
                with contextlib.suppress(OSError):  # a worker gone: a slot left unread
                    worker.process.stdin.close()
        deadline = time.monotonic() + grace
        for worker in self._all:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            if worker.process.stdout is not None:
                worker.process.stdout.close()

    def _spawn(self) -> _Worker:
        index = self._started
        self._started += 1
        command = [sys.executable, "-m", "trainlab.tuning.worker", "--study", self.study]
        command += ["--storage", self.storage, "--worker", str(index)]
        # Workers import what this process can: its module search path goes with them.
        path = [p for p in sys.path if p and os.path.isdir(p)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}
        env[ENV_TRACKING_URI] = self.tracking_uri  # the study's, whatever this shell says
        # Each worker's numeric libraries (XGBoost, LightGBM, BLAS, PyTorch) get their share of
        # the cores, not all of them each, unless told otherwise.
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // self.workers)))
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env
        )
        worker = _Worker(index, process)
        self._all.append(worker)
        return worker

    def run(self, slots: Iterable[int], on_done: OnDone, deadline: float | None = None) -> None:
        """Run ``slots`` on the workers; returns when all are done, or at ``deadline`` (no new
        slot is handed out after it) once the running ones are."""
        pending = deque(slots)
        selector = selectors.DefaultSelector()
        live: list[_Worker] = []

        def hand_out(worker: _Worker) -> None:
            assert worker.process.stdin is not None
            if pending and (deadline is None or time.monotonic() < deadline):
                worker.slot = pending.popleft()
                worker.process.stdin.write(f"{worker.slot}\n")
                worker.process.stdin.flush()
            else:
                worker.slot = None
                worker.process.stdin.close()  # the worker exits

        def start(worker: _Worker | None = None) -> None:
            worker = worker or self._spawn()
            live.append(worker)
            assert worker.process.stdout is not None
            selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
            hand_out(worker)

        try:
            for ready in self._idle:
                start(ready)  # those without a slot exit
            self._idle = []
            while any(w.slot is not None for w in live):
                for key, _ in selector.select(timeout=1.0):
                    worker: _Worker = key.data
                    line = key.fileobj.readline()  # type: ignore[union-attr]
                    if line.startswith("done "):
                        _, slot, state = line.split()
                        worker.slot = None
                        on_done(int(slot), state)
                        hand_out(worker)
                    elif not line:  # the worker is gone
                        selector.unregister(key.fileobj)
                        live.remove(worker)
                        worker.process.wait()
                        if worker.slot is not None:
                            self._lost(worker, pending)
                            start()
        finally:
            selector.close()

    def _lost(self, worker: _Worker, pending: deque[int]) -> None:
        """A worker died holding a slot. Killed by a signal (killed, out of memory): its slot
        goes back. Exited with an error (it could not start, a bug): that stops the study."""
        assert worker.slot is not None
        code = worker.process.returncode
        if code is not None and code > 0:
            raise TrainlabError(
                f"A tuning worker exited with code {code} in slot {worker.slot}; its error is "
                "above."
            )
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise TrainlabError(
                f"Tuning workers died {self.restarts} times (the last with exit code "
                f"{worker.process.returncode} in slot {worker.slot}); see their messages above."
            )
        pending.appendleft(worker.slot)
