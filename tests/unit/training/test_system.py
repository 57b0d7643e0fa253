"""System metrics: sampled in the background under MLflow's names, steps continuing on resume."""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

import psutil
import pytest

from trainlab.training.system import SystemMetricsSampler


def test_samples_in_the_background_and_once_at_stop() -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    three = threading.Event()

    def log(values: dict[str, float], step: int) -> None:
        seen.append((step, values))
        if len(seen) >= 3:
            three.set()

    sampler = SystemMetricsSampler(log, 0.02, first_step=7)
    with sampler:
        ballast = bytearray(64 * 2**20)  # the peak RSS must see this
        assert three.wait(10)
    del ballast
    assert [step for step, _ in seen] == list(range(7, 7 + len(seen)))
    values = seen[-1][1]
    assert 0 <= values["system/cpu_utilization_percentage"] <= 100 * psutil.cpu_count()
    assert values["system/process_rss_megabytes"] > 10
    assert 0 < values["system/system_memory_usage_percentage"] < 100
    assert sampler.peak_rss_mb >= 64
    assert not any(k.startswith("system/gpu") for k in values)  # no NVML here


class FakeNvml(types.ModuleType):
    """A stand-in for nvidia-ml-py with one 80 GiB GPU at 42% (no GPU on the test machine)."""

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.shutdown = False

    def nvmlInit(self) -> None: ...  # noqa: N802 - the library's names

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shutdown = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:  # noqa: N802
        return types.SimpleNamespace(used=20 * 2**30, total=80 * 2**30)

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:  # noqa: N802
        return types.SimpleNamespace(gpu=42)


def test_gpu_metrics_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    seen: list[dict[str, float]] = []
    sampler = SystemMetricsSampler(lambda values, step: seen.append(values), 60)
    sampler.start()
    sampler.stop()
    assert seen[-1]["system/gpu_0_utilization_percentage"] == 42
    assert seen[-1]["system/gpu_0_memory_usage_megabytes"] == 20 * 1024
    assert seen[-1]["system/gpu_0_memory_usage_percentage"] == 25
    assert nvml.shutdown


def test_a_failing_logger_never_stops_training(caplog: pytest.LogCaptureFixture) -> None:
    def broken(values: dict[str, float], step: int) -> None:
        raise OSError("disk full")

    sampler = SystemMetricsSampler(broken, 60)
    sampler.start()
    sampler.stop()
    assert "system metrics sample failed: disk full" in caplog.text
