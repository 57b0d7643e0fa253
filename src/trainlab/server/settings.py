from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Server configuration; every field can also come from ``TRAINLAB_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TRAINLAB_")

    backend_store_uri: str = "sqlite:///trainlab.db"
    artifacts_destination: str = "./trainlab-artifacts"  # a folder, or s3://bucket/prefix
    s3_endpoint_url: str | None = None  # MinIO, Ceph...; also $MLFLOW_S3_ENDPOINT_URL
    serve_artifacts: bool = True
    # Clients may move large files straight to and from the object store (presigned multipart
    # uploads and ranged downloads); off when only the server can reach the store.
    direct_transfers: bool = True
    # Host names the server answers to besides IP addresses, localhost and this machine's name
    # (comma-separated, ``*.example.com`` patterns, ``*`` for any): see server/hosts.py.
    allowed_hosts: str = ""
    listen_host: str = "127.0.0.1"  # the --host it listens on: a name there is its own
