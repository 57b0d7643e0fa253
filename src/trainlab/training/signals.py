"""Ctrl-C and SIGTERM (what ``timeout``, SLURM and Kubernetes send) stop training the same way:
the run ends KILLED with its end time, a study's run and its trials in flight too, and
``trainlab train`` / ``trainlab tune`` say how to continue.

Python turns Ctrl-C (SIGINT) into ``KeyboardInterrupt``; inside :func:`sigterm_interrupts`
SIGTERM raises :class:`Interrupted`, a ``KeyboardInterrupt`` too, so that everything which ends
a run KILLED on Ctrl-C does so on SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn


class Interrupted(KeyboardInterrupt):
    """Training stopped by a signal (``signal_name``: SIGINT or SIGTERM). Raised again once
    training has a run, with that run's id (``run_id``): it ended KILLED."""

    def __init__(self, signal_name: str = "SIGINT", run_id: str | None = None) -> None:
        super().__init__(signal_name if run_id is None else f"{signal_name}: run {run_id}")
        self.signal_name = signal_name
        self.run_id = run_id

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 130 for SIGINT, 143 SIGTERM."""
        return 128 + int(getattr(signal, self.signal_name, signal.SIGINT))


def signal_of(exc: KeyboardInterrupt) -> str:
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"


def interrupted(exc: KeyboardInterrupt, run_id: str) -> Interrupted:
    """``exc`` as an :class:`Interrupted` of ``run_id`` (an inner run's id is kept)."""
    if isinstance(exc, Interrupted) and exc.run_id is not None:
        return exc
    return Interrupted(signal_of(exc), run_id).with_traceback(exc.__traceback__)


@contextmanager
def naming_run(run_id: str) -> Iterator[None]:
    """A Ctrl-C or SIGTERM inside comes out as :class:`Interrupted` naming ``run_id``."""
    try:
        yield
    except KeyboardInterrupt as exc:
        raise interrupted(exc, run_id) from None


def _raise_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted("SIGTERM")


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Inside it, SIGTERM raises :class:`Interrupted` as Ctrl-C raises ``KeyboardInterrupt``.
    Only in the main thread (the only one Python delivers signals to), and only where the
    process has no SIGTERM handler of its own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held() -> Iterator[None]:
    """Inside it, Ctrl-C and SIGTERM are ignored (in the main thread): what stops work after a
    first one (workers ended, runs ended KILLED) is not cut short by a second (Ctrl-C pressed
    twice; `timeout` signals the process, then its whole group). A handler set meanwhile by
    someone else stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in _STOPPING}
    for number in _STOPPING:
        signal.signal(number, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, handler in previous.items():
            if signal.getsignal(number) is signal.SIG_IGN and handler is not None:
                signal.signal(number, handler)


def ignore_further_signals() -> None:
    """Ctrl-C and SIGTERM ignored from now on: a command that is reporting how it was stopped
    exits with that report, whatever comes after."""
    if threading.current_thread() is threading.main_thread():
        for number in _STOPPING:
            signal.signal(number, signal.SIG_IGN)


_held: list[Any] = []  # the SIGTERM handler that hold_sigterm replaced


def hold_sigterm() -> None:
    """From now until :func:`release_sigterm`, SIGTERM raises :class:`Interrupted`: an SDK run
    active when ``timeout``, SLURM or Kubernetes stops the script ends KILLED with everything
    it logged, where the process would otherwise die with points not yet delivered. As
    :func:`sigterm_interrupts`, only in the main thread and where the process has no SIGTERM
    handler of its own."""
    if _held or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return
    signal.signal(signal.SIGTERM, _raise_sigterm)
    _held.append(previous)


def release_sigterm() -> None:
    """SIGTERM as it was before :func:`hold_sigterm` (unless the process has set its own)."""
    if not _held or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is _raise_sigterm:
        signal.signal(signal.SIGTERM, _held[0])
    _held.clear()


def exit_by(exc: KeyboardInterrupt) -> NoReturn:
    """End this process by the signal that interrupted it, as if it had not been caught: the
    parent sees it killed by that signal, without a traceback."""
    number = getattr(signal, signal_of(exc))
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
    raise SystemExit(128 + int(number))  # not reached: the signal ends the process
