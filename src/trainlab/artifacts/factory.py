"""Which repository a destination names: ``s3://bucket/prefix`` or a local folder."""

from __future__ import annotations

from trainlab.artifacts.base import BaseArtifactRepository


def artifact_repository(
    destination: str, s3_endpoint_url: str | None = None
) -> BaseArtifactRepository:
    if destination.startswith("s3://"):
        from trainlab.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(destination, endpoint_url=s3_endpoint_url)
    from trainlab.artifacts.local import LocalArtifactRepository

    if destination.startswith("file://"):
        destination = destination[len("file://") :]
    return LocalArtifactRepository(destination)
