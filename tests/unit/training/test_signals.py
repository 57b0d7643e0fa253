"""Signals while stopping: a second Ctrl-C or SIGTERM does not cut the clean-up short."""

from __future__ import annotations

import os
import signal

import pytest

from trainlab.training.signals import Interrupted, signals_held, sigterm_interrupts


def test_signals_held_ignores_a_second_signal_and_restores_the_handlers() -> None:
    with sigterm_interrupts():
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)  # would raise Interrupted
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with pytest.raises(Interrupted):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()  # not reached: the handler runs first
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_handler_set_while_held_stays() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.getsignal(signal.SIGTERM)
    try:
        with signals_held():
            signal.signal(signal.SIGTERM, mine)
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)
