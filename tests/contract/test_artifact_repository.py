"""The artifact-repository contract: one suite on the local filesystem and on S3 (a real
moto server process)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.traversal import TRAVERSAL_PATHS

from trainlab.artifacts.base import (
    BaseArtifactRepository,
    FileInfo,
    MultipartUnsupported,
    UploadedPart,
)
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound, TrainlabError

MiB = 1024 * 1024


class Backend:
    """The repository under test plus a way to see everything its storage holds."""

    def __init__(self, repo: BaseArtifactRepository, stored: Any, head: Any = None) -> None:
        self.repo = repo
        self.stored = stored  # () -> sorted list of every file/key in the storage
        self.head = head  # S3: path -> HeadObject response


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        from trainlab.artifacts.local import LocalArtifactRepository

        def files() -> list[str]:
            return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())

        return Backend(LocalArtifactRepository(tmp_path / "root"), files)
    from trainlab.artifacts.s3 import S3ArtifactRepository

    request.getfixturevalue("aws_env")
    moto = request.getfixturevalue("moto_server")
    bucket = moto.new_bucket()
    repo = S3ArtifactRepository(f"s3://{bucket}/team/artifacts", moto.url, part_size=5 * MiB)
    client = moto.client()
    return Backend(
        repo,
        lambda: sorted(moto.keys(bucket)),
        lambda path: client.head_object(Bucket=bucket, Key=f"team/artifacts/{path}"),
    )


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def write(repo: BaseArtifactRepository, path: str, data: bytes) -> int:
    return asyncio.run(repo.write_stream(path, _chunks(data)))


def read(repo: BaseArtifactRepository, path: str) -> bytes:
    async def go() -> bytes:
        dl = await repo.open_read(path)
        try:
            out = bytearray()
            async for chunk in dl.chunks:
                out += chunk
            assert dl.size == len(out)
            return bytes(out)
        finally:
            dl.close()

    return asyncio.run(go())


def test_nested_folders_round_trip(backend: Backend) -> None:
    repo = backend.repo
    files = {
        "run1/artifacts/a.txt": b"hello",
        "run1/artifacts/dir/b.json": b'{"x": 1}',
        "run1/artifacts/dir/sub/c.bin": bytes(range(256)),
        "run1/artifacts/dir-2/d.txt": b"",
    }
    for path, data in files.items():
        assert write(repo, path, data) == len(data)
    for path, data in files.items():
        assert read(repo, path) == data
    assert repo.list("run1/artifacts") == [
        FileInfo("a.txt", False, 5),
        FileInfo("dir", True, None),
        FileInfo("dir-2", True, None),
    ]
    assert repo.list("run1/artifacts/dir") == [
        FileInfo("b.json", False, 8),
        FileInfo("sub", True, None),
    ]
    assert repo.list("run1/artifacts/dir/sub/") == [FileInfo("c.bin", False, 256)]
    assert repo.list("nothing/here") == []
    assert repo.list("run1/artifacts/a.txt") == []
    assert repo.list("") == [FileInfo("run1", True, None)]
    assert repo.exists("run1/artifacts/dir") and repo.exists("run1/artifacts/a.txt")
    assert not repo.exists("run1/artifacts/di") and not repo.exists("run1/artifacts/a.tx")


def test_multi_megabyte_binary_is_byte_exact(backend: Backend) -> None:
    data = os.urandom(3 * MiB) * 4 + b"tail"  # 12 MiB: several parts on S3
    assert write(backend.repo, "big/model.bin", data) == len(data)
    back = read(backend.repo, "big/model.bin")
    assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
    assert backend.repo.list("big") == [FileInfo("model.bin", False, len(data))]
    if backend.head:  # streamed as a multipart upload of 5 MiB parts: 5 + 5 + 2
        assert backend.head("big/model.bin")["ETag"].endswith('-3"')


def test_overwrite_replaces_the_file(backend: Backend) -> None:
    write(backend.repo, "x/f.txt", b"first version, longer")
    write(backend.repo, "x/f.txt", b"second")
    assert read(backend.repo, "x/f.txt") == b"second"
    assert backend.repo.list("x") == [FileInfo("f.txt", False, 6)]


def test_a_stream_that_breaks_leaves_the_old_file_and_nothing_else(backend: Backend) -> None:
    write(backend.repo, "x/f.bin", b"old")
    before = backend.stored()

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(24):  # 12 MiB: writes and parts are under way when it breaks
            yield os.urandom(MiB // 2)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(backend.repo.write_stream("x/f.bin", broken()))
    assert read(backend.repo, "x/f.bin") == b"old"
    assert backend.stored() == before
    # Into new folders: they go with the file, and no empty folder shows in the listing.
    with pytest.raises(ConnectionResetError):
        asyncio.run(backend.repo.write_stream("x/new/deeper/f.bin", broken()))
    assert backend.repo.list("x") == [FileInfo("f.bin", False, 3)]


def test_delete_file_and_prefix(backend: Backend) -> None:
    repo = backend.repo
    for path in ("r/a.txt", "r/d/b.txt", "r/d/e/c.txt", "r/d-2/keep.txt", "r/dd.txt"):
        write(repo, path, b"data")
    repo.delete("r/a.txt")
    assert not repo.exists("r/a.txt")
    repo.delete("r/d")  # recursive; "d-2" and "dd.txt" share the prefix but stay
    assert [f.path for f in repo.list("r")] == ["d-2", "dd.txt"]
    assert read(repo, "r/d-2/keep.txt") == b"data"
    with pytest.raises(ResourceNotFound):
        repo.delete("r/d")
    with pytest.raises(InvalidParameterValue):
        repo.delete("")


def test_missing_file(backend: Backend) -> None:
    write(backend.repo, "dir/there.txt", b"x")
    for path in ("dir/missing.txt", "nothing"):
        with pytest.raises(ResourceNotFound):
            read(backend.repo, path)
    assert not backend.repo.exists("dir/missing.txt")


def test_a_file_cannot_take_a_folders_name(backend: Backend) -> None:
    write(backend.repo, "plots/a.png", b"png")
    before = backend.stored()
    with pytest.raises(InvalidParameterValue, match="'plots': it is a directory"):
        write(backend.repo, "plots", b"file")
    assert backend.stored() == before
    assert read(backend.repo, "plots/a.png") == b"png"


@pytest.mark.parametrize("path", ["notes/a.txt", "notes/deeper/a.txt", "dir/notes/a.txt"])
def test_a_folder_cannot_take_a_files_name(backend: Backend, path: str) -> None:
    """Object storage would keep both, and then no client could download the folder."""
    write(backend.repo, "notes", b"file")
    write(backend.repo, "dir/notes", b"file")
    before = backend.stored()
    with pytest.raises(InvalidParameterValue, match="a folder in it is an existing file"):
        write(backend.repo, path, b"x")
    if backend.repo.supports_multipart:
        with pytest.raises(InvalidParameterValue, match="a folder in it is an existing file"):
            backend.repo.create_multipart(path, 1)
    assert backend.stored() == before
    assert read(backend.repo, "notes") == b"file"
    write(backend.repo, "notes2/a.txt", b"a")  # a name that only starts like the file's
    assert read(backend.repo, "notes2/a.txt") == b"a"


def test_write_needs_a_file_name(backend: Backend) -> None:
    with pytest.raises(InvalidParameterValue):
        write(backend.repo, "", b"x")
    for path in ("newdir/", "1/run/artifacts/", "a/b/."):
        with pytest.raises(InvalidParameterValue, match="names a folder: give a file name"):
            write(backend.repo, path, b"x")
    assert backend.stored() == []
    write(backend.repo, "newdir/f.txt", b"f")  # the refused path left no file in the way
    assert read(backend.repo, "newdir/f.txt") == b"f"


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_traversal_is_rejected_and_nothing_is_written(backend: Backend, path: str) -> None:
    repo = backend.repo
    write(repo, "inside/keep.txt", b"keep")
    before = backend.stored()
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        write(repo, path, b"x")
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        read(repo, path)
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        repo.list(path)
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        repo.delete(path)
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        repo.exists(path)
    assert backend.stored() == before


def test_multipart(backend: Backend) -> None:
    repo = backend.repo
    if not repo.supports_multipart:
        with pytest.raises(MultipartUnsupported) as info:
            repo.create_multipart("m/file.bin", 2)
        assert info.value.http_status == 501
        assert info.value.message.startswith("Multipart upload is not supported")
        return
    data = os.urandom(5 * MiB) + os.urandom(MiB)
    upload = repo.create_multipart("m/file.bin", 2)
    assert [c.part_number for c in upload.credentials] == [1, 2]
    parts = []
    for cred, body in zip(upload.credentials, (data[: 5 * MiB], data[5 * MiB :]), strict=True):
        r = httpx.put(cred.url, content=body, headers=cred.headers, timeout=60)
        assert r.status_code == 200, r.text
        parts.append(UploadedPart(cred.part_number, r.headers["ETag"]))
    assert not repo.exists("m/file.bin")  # nothing visible before complete
    repo.complete_multipart("m/file.bin", upload.upload_id, list(reversed(parts)))
    assert read(repo, "m/file.bin") == data

    aborted = repo.create_multipart("m/aborted.bin", 1)
    repo.abort_multipart("m/aborted.bin", aborted.upload_id)
    with pytest.raises(TrainlabError):  # AWS: NoSuchUpload (404); moto answers 500
        repo.complete_multipart("m/aborted.bin", aborted.upload_id, [UploadedPart(1, "x")])
    assert not repo.exists("m/aborted.bin")
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        repo.create_multipart("../escape.bin", 1)


def test_presigned_download(backend: Backend) -> None:
    repo = backend.repo
    data = os.urandom(3 * MiB) + b"end"
    write(repo, "d/file name.bin", data)
    if not repo.supports_multipart:
        with pytest.raises(MultipartUnsupported) as info:
            repo.presigned_download("d/file name.bin")
        assert info.value.http_status == 501
        return
    signed = repo.presigned_download("d/file name.bin")
    assert signed.size == len(data)
    whole = httpx.get(signed.url, headers=signed.headers, timeout=60)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-disposition"] == "attachment; filename*=utf-8''file%20name.bin"
    tail = httpx.get(signed.url, headers={"Range": f"bytes={3 * MiB}-"}, timeout=60)
    assert tail.status_code == 206 and tail.content == b"end"
    with pytest.raises(ResourceNotFound):
        repo.presigned_download("d/missing.bin")
    for path in ("../escape.bin", "d", ""):  # outside the root; a folder; the root
        with pytest.raises((InvalidParameterValue, ResourceNotFound)):
            repo.presigned_download(path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "s3"])
def test_streaming_memory_stays_flat(kind: str, tmp_path: Path, request: Any) -> None:
    """A 200 MiB upload and download through the repository: peak RSS grows by a few parts,
    not by the file (a memory bound, measured in a fresh subprocess)."""
    import json
    import subprocess
    import sys

    from tests.support.s3 import AWS_ENV

    size_mib = 200
    args = [str(tmp_path / "root")]
    if kind == "s3":
        moto = request.getfixturevalue("moto_server")
        args = [f"s3://{moto.new_bucket()}/prefix", moto.url]
    cmd = [sys.executable, "-m", "tests.support.stream_memory", args[0], str(size_mib), *args[1:]]
    out = subprocess.run(
        cmd,
        env={**os.environ, **AWS_ENV},
        capture_output=True,
        text=True,
        timeout=280,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(kind, result)
    assert result["file_mib"] == size_mib and result["downloaded_mib"] == size_mib
    assert result["same_bytes"] == 1.0
    assert result["upload_growth_mib"] < 48, result
    assert result["download_growth_mib"] < 48, result


def test_s3_errors_are_trainlab_errors(moto_server: Any, aws_env: None) -> None:
    """A destination whose bucket does not exist answers a clear error naming it, not one to
    try again later (clients would wait for a set-up to change)."""
    from trainlab.artifacts.s3 import S3ArtifactRepository

    repo = S3ArtifactRepository("s3://no-such-bucket/prefix", endpoint_url=moto_server.url)

    async def one_chunk() -> AsyncIterator[bytes]:
        yield b"data"

    for call in (
        lambda: asyncio.run(repo.write_stream("a.txt", one_chunk())),
        lambda: repo.list(""),
    ):
        with pytest.raises(TrainlabError, match="NoSuchBucket; check the server's S3") as err:
            call()
        assert err.value.error_code == "INTERNAL_ERROR" and err.value.http_status == 500


def test_s3_listings_leave_out_names_no_client_can_use(moto_server: Any, aws_env: None) -> None:
    """Keys written around the server may hold '..' or '.' segments: a listing that named them
    would hand a client joining names onto a folder a path out of it."""
    from trainlab.artifacts.s3 import S3ArtifactRepository

    bucket = moto_server.new_bucket()
    client = moto_server.client()
    for key in ("p/run/../x.txt", "p/run/./y.txt", "p/run/a\\b.txt", "p/run/ok.txt"):
        client.put_object(Bucket=bucket, Key=key, Body=b"1")
    repo = S3ArtifactRepository(f"s3://{bucket}/p", endpoint_url=moto_server.url)
    assert [f.path for f in repo.list("run")] == ["ok.txt"]


def test_the_object_storages_own_failures_are_temporary() -> None:
    """A 5xx of the storage (moto answers an unknown upload id so) is a 503 to try again, not
    a 500 of the server."""
    from botocore.exceptions import ClientError

    from trainlab.artifacts.s3 import _translate
    from trainlab.exceptions import ServiceUnavailable

    for code, status in (("InternalError", 500), ("SlowDown", 503)):
        error = ClientError(
            {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
        )
        translated = _translate(error, "Artifact 'a'")
        assert isinstance(translated, ServiceUnavailable), translated
        assert code in translated.message
    unknown = ClientError(
        {"Error": {"Code": "Odd"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutObject"
    )
    assert type(_translate(unknown, "Artifact 'a'")) is TrainlabError
