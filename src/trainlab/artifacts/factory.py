"""Which repository a destination names: ``s3://bucket/prefix`` or a local folder."""

from __future__ import annotations

import os
import re

from trainlab.artifacts.base import BaseArtifactRepository
from trainlab.exceptions import InvalidParameterValue

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")  # two letters or more: not a drive letter


def normalized_destination(given: str) -> str:
    """``given`` as the server keeps it: ``s3://bucket/prefix`` (the scheme in lower case), or
    an absolute folder (also from ``file://``). Anything else is refused: a mistyped scheme
    (``s3:/b``, ``gs://b``) would otherwise be a local folder of that name, where no other
    replica finds the files."""
    scheme = _SCHEME.match(given)
    if scheme is None:
        return os.path.abspath(given)
    name = scheme.group(1).lower()
    rest = given[scheme.end() :]
    if name == "s3" and rest.startswith("//") and len(rest) > 2:
        return f"s3:{rest}"
    if name == "file":
        return os.path.abspath(rest[2:] if rest.startswith("//") else rest)
    if name == "s3":
        hint = "S3 destinations are written s3://bucket/prefix"
    else:
        hint = "give a folder, or s3://bucket/prefix for S3-compatible storage (AWS, MinIO, Ceph)"
    raise InvalidParameterValue(f"Unsupported artifact destination {given!r}: {hint}.")


def artifact_repository(
    destination: str, s3_endpoint_url: str | None = None
) -> BaseArtifactRepository:
    where = normalized_destination(destination)
    if where.startswith("s3://"):
        from trainlab.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(where, endpoint_url=s3_endpoint_url)
    from trainlab.artifacts.local import LocalArtifactRepository

    return LocalArtifactRepository(where)
