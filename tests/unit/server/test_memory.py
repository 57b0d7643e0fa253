"""The idle trimmer returns memory only after work, once the server is quiet, and once."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest

from trainlab.server.memory import IdleTrimmer, malloc_trim


class FakeCpu:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def _trimmer(cpu: FakeCpu, trims: list[int], trim_cost_s: float = 0.0) -> IdleTrimmer:
    def trim() -> None:
        trims.append(1)
        cpu.seconds += trim_cost_s

    return IdleTrimmer(trim, cpu_time=cpu, idle_cpu_s=0.01, work_cpu_s=0.2)


def test_nothing_to_return_when_the_server_did_no_work() -> None:
    cpu, trims = FakeCpu(), []
    trimmer = _trimmer(cpu, trims)
    for _ in range(5):
        cpu.seconds += 0.001
        assert trimmer.check() is False
    assert trims == []


def test_no_trim_while_requests_keep_the_server_busy() -> None:
    cpu, trims = FakeCpu(), []
    trimmer = _trimmer(cpu, trims)
    for _ in range(10):
        cpu.seconds += 0.5  # every interval busy
        assert trimmer.check() is False
    assert trims == []


def test_trims_once_when_the_server_goes_quiet_after_work() -> None:
    cpu, trims = FakeCpu(), []
    trimmer = _trimmer(cpu, trims, trim_cost_s=0.3)  # a trim dearer than the work threshold
    cpu.seconds += 1.0
    assert trimmer.check() is False  # this interval was busy
    assert trimmer.check() is True  # now idle, with work since the last trim
    assert [trimmer.check() for _ in range(5)] == [False] * 5  # its own cost is not work
    assert trims == [1]


def test_small_work_spread_over_intervals_adds_up() -> None:
    cpu, trims = FakeCpu(), []
    trimmer = _trimmer(cpu, trims)
    for _ in range(30):  # 30 quiet intervals of 9 ms each: 0.27 s of work in all
        cpu.seconds += 0.009
        trimmer.check()
    assert trims == [1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_malloc_trim_is_found_and_callable_on_glibc() -> None:
    trim = malloc_trim()
    assert trim is not None
    assert trim() in (0, 1)  # 1: memory was released, 0: there was none to release


def test_a_failing_trim_is_logged_and_stops_only_the_trimmer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cpu = FakeCpu()

    def trim() -> None:
        raise OSError("no")

    trimmer = IdleTrimmer(trim, cpu_time=cpu, idle_cpu_s=0.01, work_cpu_s=0.0)
    outcome: list[BaseException | None] = []

    def serve() -> None:
        # A loop of its own on a thread of its own, as under uvicorn: the test's thread may
        # already be running one (Playwright's, in the end-to-end suite).
        try:
            asyncio.run(asyncio.wait_for(trimmer.run(interval_s=0.001), timeout=5))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    with caplog.at_level(logging.ERROR, logger="trainlab.server"):
        thread = threading.Thread(target=serve)
        thread.start()
        thread.join(timeout=10)
    assert outcome == [None]  # run() returned by itself, well before the timeout
    assert "returning idle memory failed" in caplog.text
