"""Trials on a Ray cluster: one Ray actor per worker runs slots in turn (it keeps the data it
loaded), this process hands out the slots and records each as it finishes. An actor that dies
(its node lost, its process killed) gives its slot back to another actor, which fails the dead
attempt and tries its params again; a new actor takes the dead one's place.

The study's storage must be reachable from every node: a journal file on one machine (or a
shared file system), else an RDB (``--storage postgresql://...``)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from trainlab.exceptions import InvalidParameterValue, TrainlabError


class _Worker:
    """The Ray actor: a SlotRunner kept for the life of the actor."""

    def __init__(self, study: str, storage: str, index: int) -> None:
        from trainlab.tuning.worker import SlotRunner

        self.runner = SlotRunner(study, storage, index)

    def run(self, slot: int) -> str:
        return self.runner.run(slot).name


def _reachable(address: str) -> None:
    """A cluster address (``host:port`` or ``ray://host:port``) that answers within 5 s;
    Ray itself retries an address that does not for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    host = host.removeprefix("[").removesuffix("]")  # [::1]:6379
    if not host or not port.isdigit():
        return  # Ray's own forms ("auto", "local"): Ray says what is wrong with them
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise InvalidParameterValue(
            f"--address {address}: no Ray cluster answers there ({exc.strerror or exc}). Check "
            "the head node's address and port (`ray status` on the head prints it)."
        ) from None


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (else start one on this machine), before the study
    exists: a cluster that cannot be reached leaves no empty study behind."""
    try:
        import ray
    except ImportError:
        raise InvalidParameterValue(
            'The ray backend needs Ray: pip install "trainlab[ray]"'
        ) from None
    if address:
        _reachable(address)
    try:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=True)
    except Exception as exc:  # noqa: BLE001 - Ray's start-up errors come in many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise InvalidParameterValue(
            f"Cannot start or join {where}: {type(exc).__name__}: {first}"
        ) from None


def run_on_ray(
    study: str,
    storage: str,
    slots: list[int],
    workers: int,
    address: str | None,
    deadline: float | None,
    on_done: Callable[[int, str], None],
    max_restarts: int | None = None,
) -> None:
    connect(address)  # joined already by run_study: a no-op then
    import ray

    actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Worker)
    pending = deque(slots)
    restarts, limit = 0, workers * 3 if max_restarts is None else max_restarts
    started = 0
    idle: list[Any] = []
    inflight: dict[Any, tuple[Any, int]] = {}  # result ref -> (actor, slot)
    try:
        for _ in range(min(workers, len(pending))):
            idle.append(actor.remote(study, storage, started))
            started += 1
        while pending or inflight:
            while idle and pending and (deadline is None or time.monotonic() < deadline):
                handle, slot = idle.pop(), pending.popleft()
                inflight[handle.run.remote(slot)] = (handle, slot)
            if not inflight:
                break
            (ref,), _ = ray.wait(list(inflight), num_returns=1)
            handle, slot = inflight.pop(ref)
            try:
                state = ray.get(ref)
            except (ray.exceptions.ActorDiedError, ray.exceptions.WorkerCrashedError) as exc:
                restarts += 1
                if restarts > limit:
                    raise TrainlabError(f"Ray workers died {restarts} times: {exc}") from None
                pending.appendleft(slot)
                idle.append(actor.remote(study, storage, started))
                started += 1
                continue
            except ray.exceptions.RayTaskError as exc:
                raise TrainlabError(f"A tuning worker on Ray failed: {exc}") from None
            on_done(slot, state)
            idle.append(handle)
    finally:
        for handle in idle + [h for h, _ in inflight.values()]:
            ray.kill(handle)
