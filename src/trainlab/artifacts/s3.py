"""Artifacts in S3-compatible object storage (AWS, MinIO, Ceph): ``s3://bucket/prefix``.

Uploads are cut into fixed-size parts as the chunks arrive (one PutObject when the file is
smaller than a part), downloads iterate the object body: memory stays at about one part.
boto3 blocks, so every call in an async method runs in a worker thread. Credentials come from
the standard AWS sources (``AWS_ACCESS_KEY_ID``..., profiles, instance roles).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import posixpath
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from trainlab.artifacts.base import (
    CHUNK_SIZE,
    ArtifactDownload,
    BaseArtifactRepository,
    FileInfo,
    MultipartUpload,
    PartCredential,
    PresignedDownload,
    UploadedPart,
    attachment,
    crosses_a_file,
    names_a_folder,
)
from trainlab.artifacts.paths import validate_artifact_path, validate_file_path
from trainlab.exceptions import (
    InvalidParameterValue,
    ResourceNotFound,
    ServiceUnavailable,
    TrainlabError,
)

PART_SIZE = 8 * 1024 * 1024  # S3 needs >= 5 MiB for every part but the last
MAX_PARTS = 10_000
PRESIGN_EXPIRES_S = 3600
_DELETE_BATCH = 1000


def _listable(name: str) -> bool:
    """A key's name that is a valid artifact path: not empty, '.' or '..', and nothing a client
    joining it onto a folder could take outside it (keys written around the server may hold
    anything)."""
    try:
        return bool(name) and validate_artifact_path(name) == name
    except InvalidParameterValue:
        return False


def endpoint_url_from_env() -> str | None:
    return os.environ.get("TRAINLAB_S3_ENDPOINT_URL") or os.environ.get("MLFLOW_S3_ENDPOINT_URL")


def _translate(exc: Exception, what: str) -> TrainlabError:
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        return ServiceUnavailable(f"{what}: cannot reach the object storage ({exc}).")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NoSuchUpload", "NotFound"):
            return ResourceNotFound(f"{what} not found.")
        if code in (
            "InvalidPart",
            "InvalidPartOrder",
            "EntityTooSmall",
            "MalformedXML",
            "KeyTooLongError",
        ):
            return InvalidParameterValue(f"{what}: {code}.")
        if code in (
            "NoSuchBucket",
            "AccessDenied",
            "403",  # a HEAD request's answer has no body: its status is its code
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        ):  # the server's set-up, not a moment's trouble: a client waiting would wait in vain
            return TrainlabError(
                f"{what}: object storage answered {code}; check the server's S3 destination "
                "and credentials."
            )
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:  # the storage's own trouble (InternalError, SlowDown): try again
            return ServiceUnavailable(f"{what}: object storage answered {code} ({status}).")
        return TrainlabError(f"{what}: object storage answered {code}.")
    return TrainlabError(f"{what}: {exc}")


@contextlib.contextmanager
def _s3_errors(what: str) -> Iterator[None]:
    """Object storage errors as trainlab errors (the one translation boundary for S3)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise _translate(exc, what) from None


class S3ArtifactRepository(BaseArtifactRepository):
    supports_multipart = True

    def __init__(
        self, uri: str, endpoint_url: str | None = None, part_size: int = PART_SIZE
    ) -> None:
        import boto3
        from botocore.config import Config

        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidParameterValue(f"Invalid S3 destination {uri!r}: use s3://bucket/prefix.")
        self.bucket = parts.netloc
        self.prefix = validate_artifact_path(parts.path.lstrip("/"))
        self.part_size = part_size
        self.endpoint_url = endpoint_url or endpoint_url_from_env()
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            # S3-compatible servers do not all know the newer default checksums
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=32,
        )
        session = boto3.session.Session()
        self._s3: Any = session.client("s3", endpoint_url=self.endpoint_url, config=config)

    def check(self) -> None:
        """A bucket that does not exist, credentials it refuses or storage out of reach, as the
        error the first request would meet: one listing of the prefix (what listing artifacts
        needs anyway), without the retries and long timeouts of requests."""
        import boto3
        from botocore.config import Config

        quick = self._s3.meta.config.merge(
            Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        )
        client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, config=quick)
        prefix = self._dir_prefix(self.prefix)
        with _s3_errors(f"The S3 destination s3://{self.bucket}/{prefix}"):
            client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)

    # keys -------------------------------------------------------------------------------------

    def _key(self, path: str, file: bool = False, new: bool = False) -> str:
        """The object key of ``path``; every path goes through the one validator (that of new
        files when ``new``)."""
        rel = validate_file_path(path, new) if file else validate_artifact_path(path)
        if not self.prefix:
            return rel
        return f"{self.prefix}/{rel}" if rel else self.prefix

    def _dir_prefix(self, key: str) -> str:
        return f"{key}/" if key else ""

    def _objects(self, prefix: str, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        yield from self._s3.get_paginator("list_objects_v2").paginate(**kwargs)

    # streaming --------------------------------------------------------------------------------

    async def write_stream(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        with _s3_errors(f"Upload of {path!r}"):
            return await self._write_stream(path, chunks)

    async def _write_stream(self, path: str, chunks: AsyncIterator[bytes]) -> int:
        key = self._key(path, file=True, new=True)
        await asyncio.to_thread(self._refuse_clash, path, key)
        buf = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[UploadedPart] = []
        try:
            async for chunk in chunks:
                buf += chunk
                size += len(chunk)
                while len(buf) >= self.part_size:
                    if upload_id is None:
                        upload_id = await asyncio.to_thread(self._create_upload, key)
                    body = bytes(buf[: self.part_size])
                    del buf[: self.part_size]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, body))
                    del body
            if upload_id is None:
                body = bytes(buf)
                buf.clear()
                await asyncio.to_thread(self._s3.put_object, Bucket=self.bucket, Key=key, Body=body)
            else:
                if buf:
                    body = bytes(buf)
                    buf.clear()
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, body))
                await asyncio.to_thread(self._complete, key, upload_id, parts)
        except BaseException:
            if upload_id is not None:
                self._abort_quietly(key, upload_id)
            raise
        return size

    def _refuse_clash(self, path: str, key: str) -> None:
        """A file cannot take the name of a folder (keys below ``key/``), nor a folder that of
        a file (an object at a folder of ``key``), as on a filesystem: S3 stores both, and no
        client could then download the folder. The lookups run at once: one round trip."""
        root = len(self.prefix) + 1 if self.prefix else 0
        folders = [key[:i] for i, ch in enumerate(key) if ch == "/" and i > root]
        with ThreadPoolExecutor(len(folders) + 1) as pool:
            below = pool.submit(
                self._s3.list_objects_v2, Bucket=self.bucket, Prefix=f"{key}/", MaxKeys=1
            )
            files = [pool.submit(self._is_object, folder) for folder in folders]
            if below.result().get("KeyCount", 0):
                raise names_a_folder(path)
            if any(f.result() for f in files):
                raise crosses_a_file(path)

    def _is_object(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _create_upload(self, key: str) -> str:
        resp = self._s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        return str(resp["UploadId"])

    async def _upload_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> UploadedPart:
        resp = await asyncio.to_thread(
            self._s3.upload_part,
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        return UploadedPart(number, str(resp["ETag"]))

    def _complete(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        self._s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]
            },
        )

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # the original error matters more; a bucket lifecycle rule reaps stale uploads
        with contextlib.suppress(BotoCoreError, ClientError):
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    async def open_read(self, path: str) -> ArtifactDownload:
        key = self._key(path, file=True)
        from botocore.exceptions import ClientError

        try:
            resp = await asyncio.to_thread(self._s3.get_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise _translate(exc, f"Artifact {path!r}") from None
        body = resp["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
                    yield chunk
            finally:
                body.close()

        name = key.rsplit("/", 1)[-1]
        return ArtifactDownload(name, int(resp["ContentLength"]), chunks(), close=body.close)

    # listing and deletion ---------------------------------------------------------------------

    def list(self, path: str = "") -> list[FileInfo]:
        with _s3_errors(f"Listing of {path!r}"):
            return self._list(path)

    def _list(self, path: str) -> builtins.list[FileInfo]:
        prefix = self._dir_prefix(self._key(path))
        out: list[FileInfo] = []
        for page in self._objects(prefix, delimiter="/"):
            for cp in page.get("CommonPrefixes", []):
                name = str(cp["Prefix"])[len(prefix) :].rstrip("/")
                if _listable(name):
                    out.append(FileInfo(name, True, None))
            for obj in page.get("Contents", []):
                name = str(obj["Key"])[len(prefix) :]
                if _listable(name):  # "folder/" marker objects have no name of their own
                    out.append(FileInfo(name, False, int(obj["Size"])))
        return sorted(out, key=lambda f: f.path)

    def _keys_at(self, key: str) -> builtins.list[str]:
        """``key`` itself and every key below ``key/`` (not ``key-2``, which shares the
        prefix)."""
        keys = []
        for page in self._objects(key):
            for obj in page.get("Contents", []):
                k = str(obj["Key"])
                if k == key or k.startswith(f"{key}/"):
                    keys.append(k)
        return keys

    def delete(self, path: str) -> None:
        if not validate_artifact_path(path):
            raise InvalidParameterValue("Refusing to delete the artifact root.")
        with _s3_errors(f"Deletion of {path!r}"):
            keys = self._keys_at(self._key(path))
            if not keys:
                raise ResourceNotFound(f"Artifact {path!r} not found.")
            for i in range(0, len(keys), _DELETE_BATCH):
                batch = [{"Key": k} for k in keys[i : i + _DELETE_BATCH]]
                self._s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )

    def exists(self, path: str) -> bool:
        key = self._key(path)
        with _s3_errors(f"Lookup of {path!r}"):
            for page in self._objects(key):
                for obj in page.get("Contents", []):
                    k = str(obj["Key"])
                    if k == key or k.startswith(self._dir_prefix(key)):
                        return True
        return False

    # presigned multipart ----------------------------------------------------------------------

    def create_multipart(self, path: str, num_parts: int) -> MultipartUpload:
        if not 1 <= num_parts <= MAX_PARTS:
            raise InvalidParameterValue(f"num_parts must be between 1 and {MAX_PARTS}.")
        key = self._key(path, file=True, new=True)
        with _s3_errors(f"Multipart upload of {path!r}"):
            self._refuse_clash(path, key)
            upload_id = self._create_upload(key)
        credentials = [
            PartCredential(
                number,
                self._s3.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=PRESIGN_EXPIRES_S,
                ),
            )
            for number in range(1, num_parts + 1)
        ]
        return MultipartUpload(upload_id, credentials)

    def complete_multipart(
        self, path: str, upload_id: str, parts: builtins.list[UploadedPart]
    ) -> None:
        from botocore.exceptions import ClientError

        key = self._key(path, file=True)
        try:
            self._complete(key, upload_id, sorted(parts, key=lambda p: p.part_number))
        except ClientError as exc:
            raise _translate(exc, f"Multipart upload {upload_id!r}") from None

    def abort_multipart(self, path: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        key = self._key(path, file=True)
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            raise _translate(exc, f"Multipart upload {upload_id!r}") from None

    def presigned_download(self, path: str) -> PresignedDownload:
        key = self._key(path, file=True)
        with _s3_errors(f"Artifact {path!r}"):
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        url = self._s3.generate_presigned_url(
            "get_object",
            # Signed into the URL: a browser saves the file instead of rendering it.
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": attachment(posixpath.basename(key)),
            },
            ExpiresIn=PRESIGN_EXPIRES_S,
        )
        return PresignedDownload(url, int(head["ContentLength"]))
