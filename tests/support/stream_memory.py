"""Stream a generated file through an artifact repository and report peak-RSS growth.

Run as ``python -m tests.support.stream_memory DESTINATION SIZE_MIB [ENDPOINT_URL]``; prints one
JSON line. A subprocess, so the test process's own memory does not blur the numbers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import resource
import sys
from collections.abc import AsyncIterator

from trainlab.artifacts.factory import artifact_repository

MiB = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def generated(total_mib: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    block = bytearray(range(256)) * (MiB // 256)
    for i in range(total_mib):
        block[:8] = i.to_bytes(8, "little")  # every MiB differs
        chunk = bytes(block)
        digest.update(chunk)
        yield chunk


async def main(destination: str, total_mib: int, endpoint: str | None) -> dict[str, float]:
    repo = artifact_repository(destination, endpoint)
    warm = hashlib.sha256()
    await repo.write_stream("warmup.bin", generated(12, warm))  # load every code path once
    dl = await repo.open_read("warmup.bin")
    async for _ in dl.chunks:
        pass
    dl.close()
    baseline = peak_rss_mib()

    sent = hashlib.sha256()
    size = await repo.write_stream("big/stream.bin", generated(total_mib, sent))
    after_upload = peak_rss_mib()

    received = hashlib.sha256()
    dl = await repo.open_read("big/stream.bin")
    n = 0
    try:
        async for chunk in dl.chunks:
            received.update(chunk)
            n += len(chunk)
    finally:
        dl.close()
    after_download = peak_rss_mib()
    return {
        "file_mib": size / MiB,
        "downloaded_mib": n / MiB,
        "same_bytes": float(sent.digest() == received.digest()),
        "baseline_peak_mib": baseline,
        "upload_growth_mib": after_upload - baseline,
        "download_growth_mib": after_download - baseline,
    }


if __name__ == "__main__":
    dest, mib = sys.argv[1], int(sys.argv[2])
    url = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps(asyncio.run(main(dest, mib, url))))
