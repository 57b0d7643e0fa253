"""The artifact repository interface: one API, a local-filesystem and an S3 backend.

Paths are relative to the repository's root and go through ``paths.validate_artifact_path``
inside every backend. Transfers stream: ``write_stream`` consumes an async iterator of chunks and
``open_read`` hands back one, so no backend holds a whole file in memory. ``list``, ``delete``
and ``exists`` block (disk or network I/O): call them from a worker thread in async code.
"""

from __future__ import annotations

import builtins
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from trainlab.exceptions import InvalidParameterValue, TrainlabError

CHUNK_SIZE = 1024 * 1024
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
PRESIGNED_UNSUPPORTED = (
    "Presigned downloads are not supported for the current artifact repository; download "
    "through the server (GET /api/2.0/mlflow-artifacts/artifacts/PATH)."
)


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the file under ``name``."""
    quoted = quote(name)
    if quoted != name:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{name}"'


def names_a_folder(path: str) -> InvalidParameterValue:
    """A file may not take the name of a folder (on every backend, as on a filesystem)."""
    return InvalidParameterValue(f"Invalid path {path!r}: it is a directory.")


def crosses_a_file(path: str) -> InvalidParameterValue:
    """A folder may not take the name of a file (on every backend, as on a filesystem)."""
    return InvalidParameterValue(f"Invalid path {path!r}: a folder in it is an existing file.")


class MultipartUnsupported(TrainlabError):
    """Answered 501 with MLflow's message, so the stock client falls back to a single PUT."""

    error_code = "NOT_IMPLEMENTED"

    def __init__(self, message: str = MULTIPART_UNSUPPORTED) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None


@dataclass
class ArtifactDownload:
    """An open artifact. ``chunks`` streams it; ``local_path`` is set when the file is on this
    machine (a server may then send it with sendfile); ``close`` releases the backend's handle
    and must be called once, whether or not ``chunks`` was consumed."""

    name: str
    size: int
    chunks: AsyncIterator[bytes]
    local_path: Path | None = None
    close: Callable[[], None] = field(default=lambda: None)

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class PresignedDownload:
    """A time-limited URL of one file on the object store, which clients read directly, in
    ranged parts (MLflow's multipart download)."""

    url: str
    size: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartCredential:
    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartUpload:
    upload_id: str
    credentials: list[PartCredential]


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    etag: str


class BaseArtifactRepository(ABC):
    # Object stores: multipart uploads and presigned (ranged) downloads straight from the store.
    supports_multipart: bool = False

    def check(self) -> None:
        """Refuse, before a server takes requests, a destination it could not use."""
        return None

    @abstractmethod
    async def write_stream(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        """Store ``chunks`` at ``path`` (replacing it); returns the number of bytes written.
        The artifact appears whole or not at all."""

    @abstractmethod
    async def open_read(self, path: str) -> ArtifactDownload:
        """Open the file at ``path``; ``ResourceNotFound`` if there is none."""

    @abstractmethod
    def list(self, path: str = "") -> list[FileInfo]:
        """Direct children of the folder ``path`` (names only), sorted; [] if it has none."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete a file, or a folder with everything under it; ``ResourceNotFound`` if
        nothing is there. The root itself cannot be deleted."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file or a non-empty folder is at ``path``."""

    def create_multipart(self, path: str, num_parts: int) -> MultipartUpload:
        """Start a multipart upload of ``path``: an id and one presigned URL per part, which
        the client PUTs to directly, collecting each part's ETag."""
        raise MultipartUnsupported()

    def complete_multipart(
        self, path: str, upload_id: str, parts: builtins.list[UploadedPart]
    ) -> None:
        raise MultipartUnsupported()

    def abort_multipart(self, path: str, upload_id: str) -> None:
        raise MultipartUnsupported()

    def presigned_download(self, path: str) -> PresignedDownload:
        """A URL to read the file at ``path`` from directly, with its size;
        ``ResourceNotFound`` if there is none."""
        raise MultipartUnsupported(PRESIGNED_UNSUPPORTED)
