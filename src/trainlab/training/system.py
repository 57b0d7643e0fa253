"""System metrics sampled in the background while a run trains, under MLflow's names."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("trainlab")
MB = 2**20


class SystemMetricsSampler:
    """Calls ``log(values, step)`` every ``interval_s`` seconds with CPU, memory, disk and
    (through NVML) GPU use; ``peak_rss_mb`` is the largest RSS of the process and its
    children seen."""

    KEY = "system/cpu_utilization_percentage"

    def __init__(
        self,
        log_fn: Callable[[dict[str, float], int], None],
        interval_s: float = 10.0,
        *,
        pid: int | None = None,
        first_step: int = 0,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        import psutil

        self._log = log_fn
        self.interval_s = interval_s
        self._proc = psutil.Process(pid or os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._step = first_step  # a resumed run continues its system-metric steps
        self._warned = False
        self.peak_rss_mb = self._rss_mb()
        self._nvml: Any = None

    def _rss_mb(self) -> float:
        import psutil

        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return float(total) / MB

    def sample(self) -> dict[str, float]:
        import psutil

        vm = psutil.virtual_memory()
        rss = self._rss_mb()
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        values = {
            "system/cpu_utilization_percentage": psutil.cpu_percent(interval=None),
            "system/system_memory_usage_megabytes": (vm.total - vm.available) / MB,
            "system/system_memory_usage_percentage": vm.percent,
            "system/process_rss_megabytes": rss,
            "system/disk_usage_percentage": psutil.disk_usage(os.getcwd()).percent,
        }
        values.update(self._gpu())
        return values

    def _gpu(self) -> dict[str, float]:
        if self._nvml is None:
            return {}
        out = {}
        nv = self._nvml
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            mem = nv.nvmlDeviceGetMemoryInfo(h)
            out[f"system/gpu_{i}_utilization_percentage"] = float(
                nv.nvmlDeviceGetUtilizationRates(h).gpu
            )
            out[f"system/gpu_{i}_memory_usage_megabytes"] = mem.used / MB
            out[f"system/gpu_{i}_memory_usage_percentage"] = 100.0 * mem.used / mem.total
        return out

    def _emit(self) -> None:
        try:
            self._log(self.sample(), self._step)
            self._step += 1
        except Exception as exc:  # noqa: BLE001 - sampling must never stop training
            if not self._warned:
                log.warning("trainlab: system metrics sample failed: %s", exc)
                self._warned = True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._emit()

    def start(self) -> None:
        import psutil

        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
        except Exception:  # noqa: BLE001 - no NVML or no GPU
            self._nvml = None
        psutil.cpu_percent(interval=None)  # the first call only sets the baseline
        self._thread = threading.Thread(target=self._loop, name="trainlab-sysmetrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._emit()
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
            self._nvml = None

    def __enter__(self) -> SystemMetricsSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
