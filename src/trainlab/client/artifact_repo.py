"""Client-side artifact access for one artifact root URI.

``mlflow-artifacts:/...`` roots go through the tracking server's proxied artifact API, streamed
with httpx; ``file://...`` roots (the embedded store) are plain folders, copied directly. Every
path goes through ``validate_artifact_path``; no file is read into memory whole."""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

from trainlab.artifacts.base import CHUNK_SIZE, FileInfo
from trainlab.artifacts.local import LocalArtifactRepository, temp_file_beside
from trainlab.artifacts.paths import (
    PROXY_SCHEME,
    proxied_path,
    validate_artifact_path,
    validate_file_path,
)
from trainlab.client.retry import Retrier, check_available
from trainlab.exceptions import InvalidParameterValue, from_json

if TYPE_CHECKING:
    import httpx

    from trainlab.store._base import BaseTrackingStore

PROXY_API = "/api/2.0/mlflow-artifacts/artifacts"

__all__ = ["ArtifactRepo", "FileInfo", "repo_for"]


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


class ArtifactRepo(ABC):
    """Files under one artifact root; ``path`` arguments are relative to it ('' = the root)."""

    root_uri: str

    @abstractmethod
    def upload_file(self, local: Path, path: str) -> None: ...

    @abstractmethod
    def list(self, path: str = "") -> list[FileInfo]:
        """Entries directly under ``path``, their paths relative to the root."""

    @abstractmethod
    def download_file(self, path: str, dst: Path) -> None: ...

    @abstractmethod
    def is_dir(self, path: str) -> bool: ...

    @abstractmethod
    def delete(self, path: str) -> None:
        """Remove the file or folder ``path`` (never the root)."""

    def upload_dir(self, local_dir: Path, path: str = "") -> None:
        if not local_dir.is_dir():
            raise InvalidParameterValue(f"{str(local_dir)!r} is not a directory.")
        for current, dirs, files in os.walk(local_dir):
            dirs.sort()
            rel_dir = Path(current).relative_to(local_dir).as_posix()
            for name in sorted(files):
                rel = _join(path, "" if rel_dir == "." else rel_dir, name)
                self.upload_file(Path(current) / name, rel)

    def download(self, path: str, dst_dir: Path) -> Path:
        """``path`` (file or folder) copied under ``dst_dir``; the local path it landed at."""
        rel = validate_artifact_path(path)
        if rel == "" or self.is_dir(rel):
            target = dst_dir / rel if rel else dst_dir
            target.mkdir(parents=True, exist_ok=True)
            for info in self.list(rel):
                if info.is_dir:
                    self.download(info.path, dst_dir)
                else:
                    self.download_file(info.path, dst_dir / info.path)
            return target
        target = dst_dir / rel
        self.download_file(rel, target)
        return target


def _atomic_write_from(dst: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``dst``, then move it into place."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(dst.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalRepo(ArtifactRepo):
    """A ``file://`` artifact root: files are copied in and out directly, through the server's
    ``LocalArtifactRepository`` (its path and symlink rules)."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri
        self.root = Path(url2pathname(urlsplit(root_uri).path))
        self._files = LocalArtifactRepository(self.root)

    def upload_file(self, local: Path, path: str) -> None:
        target = self._files.upload_target(path)
        with open(local, "rb") as src:
            _atomic_write_from(target, lambda f: shutil.copyfileobj(src, f, CHUNK_SIZE))

    def list(self, path: str = "") -> list[FileInfo]:
        rel = validate_artifact_path(path)
        return [
            FileInfo(_join(rel, info.path), info.is_dir, info.file_size)
            for info in self._files.list(rel)
        ]

    def is_dir(self, path: str) -> bool:
        return self.root.is_dir() and self._files.local_path(path).is_dir()

    def delete(self, path: str) -> None:
        self._files.delete(path)

    def download_file(self, path: str, dst: Path) -> None:
        with open(self._files.file_path(path), "rb") as src:
            _atomic_write_from(dst, lambda f: shutil.copyfileobj(src, f, CHUNK_SIZE))


class ProxiedRepo(ArtifactRepo):
    """An ``mlflow-artifacts:/<prefix>`` root, served by the tracking server at ``http``;
    calls are retried while the server is briefly away (see ``trainlab.client.retry``)."""

    def __init__(self, root_uri: str, http: httpx.Client, retrier: Retrier) -> None:
        self.root_uri = root_uri
        self._http = http
        self._retrier = retrier
        self.prefix = validate_artifact_path(unquote(proxied_path(root_uri) or ""))

    def _url(self, path: str) -> str:
        return f"{PROXY_API}/{quote(_join(self.prefix, path))}"

    def _send(self, request: Callable[[], httpx.Response], what: str, safe: bool) -> httpx.Response:
        """The successful answer to ``request()``, tried again while the server is away."""

        def attempt() -> httpx.Response:
            response = request()
            check_available(response)
            _raise_for(response, what)
            return response

        return self._retrier.run(attempt, what=what, safe=safe)

    def upload_file(self, local: Path, path: str) -> None:
        import httpx

        rel = validate_file_path(path, new=True)  # the rules the server applies, checked here

        def put() -> httpx.Response:
            with open(local, "rb") as f:  # from its start on every try
                return self._http.put(
                    self._url(rel),
                    content=_chunks(f),
                    headers={
                        "Content-Length": str(os.fstat(f.fileno()).st_size),
                        "Content-Type": "application/octet-stream",
                    },
                    timeout=httpx.Timeout(30.0, write=None, read=None),
                )

        self._send(put, f"uploading {rel!r}", safe=True)  # a PUT: the same bytes again

    def list(self, path: str = "") -> list[FileInfo]:
        rel = validate_artifact_path(path)

        def get() -> httpx.Response:
            return self._http.get(PROXY_API, params={"path": _join(self.prefix, rel)})

        files = (self._send(get, f"listing {rel!r}", safe=True).json() or {}).get("files", [])
        return [
            FileInfo(_join(rel, f["path"]), bool(f.get("is_dir")), f.get("file_size"))
            for f in files
        ]

    def is_dir(self, path: str) -> bool:
        rel = validate_artifact_path(path)
        if not rel:
            return True
        parent = rel.rpartition("/")[0]
        return any(f.is_dir and f.path == rel for f in self.list(parent))

    def delete(self, path: str) -> None:
        rel = validate_artifact_path(path)
        if not rel:
            raise InvalidParameterValue("Refusing to delete the artifact root.")
        # Not safe to repeat: done once, a second try would answer that it is not there.
        self._send(lambda: self._http.delete(self._url(rel)), f"deleting {rel!r}", safe=False)

    def download_file(self, path: str, dst: Path) -> None:
        import httpx

        rel = validate_artifact_path(path)
        what = f"downloading {rel!r}"

        def write(f: Any) -> None:
            f.seek(0)
            f.truncate()  # from the start on every try
            timeout = httpx.Timeout(30.0, read=300.0)
            with self._http.stream("GET", self._url(rel), timeout=timeout) as r:
                check_available(r)
                _raise_for(r, what)
                for chunk in r.iter_bytes(CHUNK_SIZE):
                    f.write(chunk)

        _atomic_write_from(dst, lambda f: self._retrier.run(lambda: write(f), what=what, safe=True))


def _raise_for(response: httpx.Response, what: str) -> None:
    """The error a failed answer stands for (the server's own, when it sent one)."""
    if response.is_success:
        return
    response.read()
    try:
        payload = response.json()
    except ValueError:
        payload = {"message": f"HTTP {response.status_code} {what}: {response.text[:300]}"}
    raise from_json(payload if isinstance(payload, dict) else {}, response.status_code)


def _chunks(f: Any) -> Any:
    while chunk := f.read(CHUNK_SIZE):
        yield chunk


def repo_for(artifact_uri: str, store: BaseTrackingStore) -> ArtifactRepo:
    """The repository for a run's (or logged model's) ``artifact_uri``, reached through
    ``store`` when it is proxied by a tracking server."""
    if artifact_uri.startswith(PROXY_SCHEME):
        from trainlab.client.rest import RestTrackingStore

        if not isinstance(store, RestTrackingStore):
            raise InvalidParameterValue(
                f"Artifacts at {artifact_uri!r} are served by a tracking server; use its "
                "http(s):// URI as the tracking URI to read or write them."
            )
        return ProxiedRepo(artifact_uri, store._http, store.retrier)
    if artifact_uri.startswith("file:"):
        return LocalRepo(artifact_uri)
    if "://" not in artifact_uri and not artifact_uri.startswith(("s3:", "gs:")):
        return LocalRepo(Path(artifact_uri).absolute().as_uri())
    raise InvalidParameterValue(
        f"Artifacts at {artifact_uri!r} cannot be reached from the trainlab SDK: run the tracking "
        "server with --artifacts-destination so that it proxies them (mlflow-artifacts: URIs)."
    )
