"""Artifacts on the local filesystem: streamed writes, atomic replace, no path escapes."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from trainlab.artifacts.base import CHUNK_SIZE, ArtifactDownload, BaseArtifactRepository, FileInfo
from trainlab.artifacts.paths import resolve_under, validate_artifact_path
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound

__all__ = ["FileInfo", "LocalArtifactRepository"]


# Bytes received before they are handed to a thread to write.
WRITE_BATCH = 4 * CHUNK_SIZE


async def _write_all(f: BinaryIO, chunks: AsyncIterator[bytes]) -> int:
    """Write ``chunks`` to ``f`` while the next ones arrive: a thread writes one batch while
    the event loop receives the next (a write into the page cache can block for a while)."""
    size = 0
    batch: list[bytes] = []
    batched = 0
    pending: asyncio.Future[None] | None = None
    try:
        async for chunk in chunks:
            batch.append(chunk)
            batched += len(chunk)
            if batched >= WRITE_BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(f.writelines, batch))
                size += batched
                batch, batched = [], 0
        if pending is not None:
            await pending
        await asyncio.to_thread(f.writelines, batch)
        return size + batched
    finally:
        if pending is not None and not pending.done():
            await asyncio.wait([pending])  # the file must outlive its last write


async def _read_chunks(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK_SIZE):
            yield chunk


class LocalArtifactRepository(BaseArtifactRepository):
    """Multipart uploads are not supported (as in MLflow): clients send one streamed PUT."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().absolute()

    def local_path(self, path: str) -> Path:
        return resolve_under(self.root, validate_artifact_path(path))

    async def write_stream(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        """Write ``chunks`` to ``path``; the file appears whole or not at all."""
        rel = validate_artifact_path(path)
        if not rel:
            raise InvalidParameterValue("Invalid path '': an artifact needs a file name.")
        target = resolve_under(self.root, rel)
        if target.is_dir():
            raise InvalidParameterValue(f"Invalid path {path!r}: it is a directory.")
        target.parent.mkdir(parents=True, exist_ok=True)
        resolve_under(self.root, rel)  # re-check after creating parents
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                size = await _write_all(f, chunks)
                f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def file_path(self, path: str) -> Path:
        target = self.local_path(path)
        if not target.is_file():
            raise ResourceNotFound(f"Artifact {path!r} not found.")
        return target

    async def open_read(self, path: str) -> ArtifactDownload:
        target = await asyncio.to_thread(self.file_path, path)
        size = target.stat().st_size
        return ArtifactDownload(target.name, size, _read_chunks(target), local_path=target)

    def exists(self, path: str) -> bool:
        return self.local_path(path).exists()

    def list(self, path: str = "") -> list[FileInfo]:
        rel = validate_artifact_path(path)
        target = resolve_under(self.root, rel)
        if not target.is_dir():
            return []
        out = []
        for entry in sorted(target.iterdir()):
            if entry.name.startswith(".upload-"):
                continue
            is_dir = entry.is_dir()
            out.append(FileInfo(entry.name, is_dir, None if is_dir else entry.stat().st_size))
        return out

    def delete(self, path: str) -> None:
        rel = validate_artifact_path(path)
        if not rel:
            raise InvalidParameterValue("Refusing to delete the artifact root.")
        target = resolve_under(self.root, rel)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            raise ResourceNotFound(f"Artifact {path!r} not found.")
