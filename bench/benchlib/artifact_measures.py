"""Artifact transfers and registry writes through the stock client (`mlflow.MlflowClient`):
upload and download rates of a large file, the server's RSS growth while it streams a larger
one, and registering model versions with an alias move each."""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .measures import Context

MB = 10**6
TRANSFERS = 3  # timed uploads and downloads of the rate file; the median counts
REGISTRY_VERSIONS = 50
REGISTRY_READS = 30  # timed get_registered_model calls after the versions


def random_file(path: Path, size: int) -> Path:
    """A file of ``size`` random bytes (incompressible), written once and reused."""
    if path.exists() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = os.urandom(8 * 2**20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path


class PeakRss:
    """Samples the server tree's RSS every 50 ms while in use: peak minus the value before."""

    def __init__(self, ctx: Context) -> None:
        self.server = ctx.server
        self.before = self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> PeakRss:
        self.before = self.peak = self.server.rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.server.rss_mb())

    @property
    def growth_mb(self) -> float:
        return self.peak - self.before


def local_copies(source: Path, target: Path) -> list[float]:
    """Seconds of TRANSFERS plain copies of ``source`` on the disk the transfers use."""
    times = []
    for _ in range(TRANSFERS):
        started = time.perf_counter()
        shutil.copyfile(source, target)
        times.append(time.perf_counter() - started)
        target.unlink()
    return times


def measure_artifacts(ctx: Context) -> dict[str, Any]:
    sizes = ctx.sizes
    files = ctx.server.workdir.parent / "files"
    rate_file = random_file(files / "rate.bin", sizes.artifact_rate_mb * MB)
    rss_file = random_file(files / "rss.bin", sizes.artifact_rss_mb * MB)
    run_id = ctx.new_run(name="artifacts")
    uploads, downloads = [], []
    for i in range(-1, TRANSFERS):  # -1: an uncounted warm-up, as in the throughput rows
        # Each transfer starts with no dirty pages left to write back (from seeding, from the
        # transfer before): a download written while the kernel flushes them ran 3x slower.
        os.sync()
        started = time.perf_counter()
        ctx.client.log_artifact(run_id, str(rate_file), f"up{i}")
        uploads.append(time.perf_counter() - started)
        dst = ctx.server.workdir.parent / f"download-{ctx.server.spec.key}-{i}"
        os.sync()
        started = time.perf_counter()
        local = ctx.client.download_artifacts(run_id, f"up{i}/rate.bin", str(dst))
        downloads.append(time.perf_counter() - started)
        if Path(local).stat().st_size != rate_file.stat().st_size:
            raise RuntimeError(f"downloaded {local} has the wrong size")
        Path(local).unlink()
        if i < 0:
            uploads.clear()
            downloads.clear()
    with PeakRss(ctx) as up_rss:
        ctx.client.log_artifact(run_id, str(rss_file), "big")
    dst = ctx.server.workdir.parent / f"download-{ctx.server.spec.key}-big"
    with PeakRss(ctx) as down_rss:
        local = ctx.client.download_artifacts(run_id, "big/rss.bin", str(dst))
    Path(local).unlink()
    up = sizes.artifact_rate_mb / statistics.median(uploads)
    down = sizes.artifact_rate_mb / statistics.median(downloads)
    copies = local_copies(rate_file, ctx.server.workdir.parent / "copy.bin")
    ctx.notes.append(
        f"artifacts: a plain local copy of the {sizes.artifact_rate_mb} MB file on the same disk "
        f"(shutil.copyfile, no server, no fsync; a client writing a download to this disk "
        f"cannot beat it): {', '.join(f'{sizes.artifact_rate_mb / t:.0f}' for t in copies)} MB/s"
    )
    ctx.notes.append(
        f"artifacts: {sizes.artifact_rate_mb} MB uploads "
        f"{', '.join(f'{t:.2f}' for t in uploads)} s, downloads "
        f"{', '.join(f'{t:.2f}' for t in downloads)} s; {sizes.artifact_rss_mb:,} MB: server "
        f"RSS {up_rss.before:.0f} -> peak {up_rss.peak:.0f} MB uploading, "
        f"{down_rss.before:.0f} -> peak {down_rss.peak:.0f} MB downloading"
    )
    return {
        "upload": up,
        "download": down,
        "upload_rss": up_rss.growth_mb,
        "download_rss": down_rss.growth_mb,
    }


def measure_registry(ctx: Context) -> dict[str, Any]:
    """Register REGISTRY_VERSIONS versions of one model from a run, moving alias `champion` to
    each new version: versions (with their alias move) per second."""
    run_id = ctx.new_run(name="registry")
    mlmodel = ctx.server.workdir.parent / "model" / "MLmodel"
    mlmodel.parent.mkdir(parents=True, exist_ok=True)
    mlmodel.write_text("artifact_path: model\nflavors: {}\n")
    ctx.client.log_artifact(run_id, str(mlmodel), "model")
    name = f"bench-model-{ctx.server.spec.key}"
    ctx.client.create_registered_model(name)
    started = time.perf_counter()
    for _ in range(REGISTRY_VERSIONS):
        version = ctx.client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
        ctx.client.set_registered_model_alias(name, "champion", version.version)
    elapsed = time.perf_counter() - started
    holder = ctx.client.get_model_version_by_alias(name, "champion").version
    if str(holder) != str(REGISTRY_VERSIONS):
        raise RuntimeError(f"alias champion is on version {holder}, not {REGISTRY_VERSIONS}")
    reads = []
    for _ in range(REGISTRY_READS):
        started = time.perf_counter()
        ctx.client.get_registered_model(name)
        reads.append(time.perf_counter() - started)
    ctx.notes.append(
        f"registry: {REGISTRY_VERSIONS} versions + alias moves in {elapsed:.2f} s; "
        f"get_registered_model of that model, median of {REGISTRY_READS}: "
        f"{statistics.median(reads) * 1000:.1f} ms"
    )
    return {"value": REGISTRY_VERSIONS / elapsed}
