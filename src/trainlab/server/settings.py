from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Server configuration; every field can also come from ``TRAINLAB_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TRAINLAB_")

    backend_store_uri: str = "sqlite:///trainlab.db"
    artifacts_destination: str = "./trainlab-artifacts"
    serve_artifacts: bool = True
