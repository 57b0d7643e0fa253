from __future__ import annotations

from dataclasses import dataclass

from trainlab.artifacts.base import BaseArtifactRepository
from trainlab.server.settings import ServerSettings
from trainlab.store.sql.logged_models import SqlLoggedModelStore
from trainlab.store.sql.overview import SqlOverviewStore
from trainlab.store.sql.registry import SqlRegistryStore
from trainlab.store.sql.tracking import SqlTrackingStore


@dataclass
class ServerContext:
    """Everything a request handler needs, built once by the app's lifespan."""

    settings: ServerSettings
    tracking: SqlTrackingStore
    logged_models: SqlLoggedModelStore
    registry: SqlRegistryStore
    overview: SqlOverviewStore
    artifacts: BaseArtifactRepository

    @property
    def direct_transfers(self) -> bool:
        """Whether clients move files straight to and from the object store (advertised in
        server-info as multipart uploads and downloads)."""
        return self.settings.direct_transfers and self.artifacts.supports_multipart
