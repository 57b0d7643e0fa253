"""Artifacts on the local filesystem: streamed writes, atomic replace, no path escapes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from trainlab.artifacts.base import (
    CHUNK_SIZE,
    ArtifactDownload,
    BaseArtifactRepository,
    FileInfo,
    crosses_a_file,
    names_a_folder,
)
from trainlab.artifacts.paths import (
    possible,
    resolve_under,
    validate_artifact_path,
    validate_file_path,
)
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound, StorageFailure

__all__ = ["FileInfo", "LocalArtifactRepository"]

# What the storage itself answers when it cannot keep a file (a broken client stream is not it)
_STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}
)


# Bytes received before they are handed to a thread to write.
WRITE_BATCH = 4 * CHUNK_SIZE
# An upload is written to a temporary file with this prefix beside its target, then renamed:
# listings leave such files out, and no part of an artifact's path may be named so.
UPLOAD_PREFIX = ".trainlab-upload-"
# An upload's file untouched this long belongs to a server killed mid-upload.
STALE_UPLOAD_S = 3600.0
# What earlier releases named them (``tempfile.mkstemp(prefix=".upload-")``): reserved too.
_OLD_UPLOAD = re.compile(r"\.upload-[a-z0-9_]{8}")


def _reserved(name: str) -> bool:
    """Whether ``name`` is an upload's temporary file: never an artifact, never listed."""
    return name.startswith(UPLOAD_PREFIX) or _OLD_UPLOAD.fullmatch(name) is not None


@functools.cache
def _umask() -> int:
    """This process's umask, read without changing it where Linux shows it."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_file_beside(folder: Path) -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``folder`` under the reserved upload name, with the mode a plain
    ``open`` would give the file (mkstemp's 0600 would hide artifacts from the team's other
    accounts, and downloads from their user's other tools)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=UPLOAD_PREFIX)
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


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


def _leads_below(link: Path, root: Path, folder: Path) -> bool:
    """Whether ``link`` (in ``folder``) is listed: it must lead to something in the root that
    is not ``folder`` or a folder above it (walking into that would never end)."""
    try:
        resolved = link.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop
        return False
    return resolved.is_relative_to(root) and not folder.is_relative_to(resolved)


class LocalArtifactRepository(BaseArtifactRepository):
    """Multipart uploads are not supported (as in MLflow): clients send one streamed PUT."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().absolute()

    def check(self) -> None:
        """The folder exists, or can be made, and takes files."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=UPLOAD_PREFIX)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise InvalidParameterValue(
                f"The artifact destination {str(self.root)!r} cannot hold files: "
                f"{exc.strerror or exc}."
            ) from None

    def remove_stale_uploads(self, idle_s: float = STALE_UPLOAD_S) -> int:
        """Delete the temporary files of uploads no process has written to for ``idle_s``
        (their server was killed mid-upload); returns how many. Run as a server starts."""
        cutoff = time.time() - idle_s
        removed = 0
        for folder, _dirs, files in os.walk(self.root):  # links are not followed
            for name in files:
                if not name.startswith(UPLOAD_PREFIX):  # a reserved name: never an artifact
                    continue
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):  # gone meanwhile: another server's sweep
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
        return removed

    def local_path(self, path: str) -> Path:
        return resolve_under(self.root, validate_artifact_path(path))

    def upload_target(self, path: str) -> Path:
        """Where a file uploaded as ``path`` goes, with its folders created."""
        rel = validate_file_path(path, new=True)
        if any(_reserved(part) for part in rel.split("/")):
            raise InvalidParameterValue(
                f"Invalid path {path!r}: names starting with {UPLOAD_PREFIX!r}, or '.upload-' "
                "and 8 letters or digits, are reserved for uploads in progress."
            )
        target = resolve_under(self.root, rel)
        if target.is_dir():
            raise names_a_folder(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise crosses_a_file(path) from None
        return resolve_under(self.root, rel)  # checked again now that the folders exist

    async def write_stream(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        """Write ``chunks`` to ``path``; the file appears whole or not at all. A failure of the
        storage itself (disk full, read-only) is a ``StorageFailure`` that says what it was."""
        try:
            target = self.upload_target(path)
            fd, tmp = temp_file_beside(target.parent)
        except OSError as exc:
            if exc.errno in _STORAGE_ERRNOS:
                raise self._storage_failure(path, exc) from None
            raise
        try:
            with os.fdopen(fd, "wb") as f:
                size = await _write_all(f, chunks)
                f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            self._remove_empty_folders(target.parent)
            if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:  # not the client's
                raise self._storage_failure(path, exc) from None
            raise
        return size

    def _storage_failure(self, path: str, exc: OSError) -> StorageFailure:
        reason = exc.strerror or type(exc).__name__
        return StorageFailure(
            f"The server could not store artifact {path!r}: {reason} (in its artifacts "
            f"destination, {self.root}). Whoever runs the server must free space there or let "
            "it write; nothing of the file was kept."
        )

    def _remove_empty_folders(self, folder: Path) -> None:
        """``folder`` and its parents below the root, while empty: the folders a failed upload
        created go with it."""
        root = self.root.resolve()
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:  # not empty (another upload's file, or an older one's): stop
                return
            folder = folder.parent

    def file_path(self, path: str) -> Path:
        target = resolve_under(self.root, validate_file_path(path))
        if not target.is_file():
            raise ResourceNotFound(f"Artifact {path!r} not found.")
        return target

    async def open_read(self, path: str) -> ArtifactDownload:
        target = await asyncio.to_thread(self.file_path, path)
        size = target.stat().st_size
        return ArtifactDownload(target.name, size, _read_chunks(target), local_path=target)

    def exists(self, path: str) -> bool:
        try:
            return self.local_path(path).exists()
        except ResourceNotFound:  # a path no filesystem holds
            return False

    def list(self, path: str = "") -> list[FileInfo]:
        rel = validate_artifact_path(path)
        try:
            target = resolve_under(self.root, rel)
        except ResourceNotFound:  # a path no filesystem holds: nothing under it
            return []
        if not target.is_dir():
            return []
        root = self.root.resolve()
        out = []
        for entry in sorted(target.iterdir()):
            if _reserved(entry.name):
                continue
            if entry.is_symlink() and not _leads_below(entry, root, target):
                continue
            is_dir = entry.is_dir()
            out.append(FileInfo(entry.name, is_dir, None if is_dir else entry.stat().st_size))
        return out

    def delete(self, path: str) -> None:
        """Delete a file or a folder with its contents; a symlink is removed itself, not what
        it leads to."""
        rel = validate_artifact_path(path)
        if not rel:
            raise InvalidParameterValue("Refusing to delete the artifact root.")
        folder, _, name = rel.rpartition("/")
        entry = possible(resolve_under(self.root, folder) / name, rel)
        if entry.is_symlink():
            entry.unlink()
            return
        target = resolve_under(self.root, rel)
        if target == self.root.resolve():
            raise InvalidParameterValue(f"Refusing to delete the artifact root (at {path!r}).")
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            raise ResourceNotFound(f"Artifact {path!r} not found.")
