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
