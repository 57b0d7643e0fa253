"""The store contracts (tracking, registry) run on: the SQL store on SQLite, on PostgreSQL, and
the REST client against a real `trainlab server` process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trainlab.store._base import BaseRegistryStore, BaseTrackingStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "rest"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[BaseTrackingStore]:
    if request.param == "rest":
        from trainlab.client.rest import RestTrackingStore

        server = request.getfixturevalue("server")
        rest = RestTrackingStore(server.url)  # type: ignore[attr-defined]
        yield rest
        rest.close()
        return
    from trainlab.store.sql.tracking import SqlTrackingStore

    uri = request.getfixturevalue("sqlite_uri" if request.param == "sqlite" else "postgres_uri")
    sql = SqlTrackingStore(uri, f"file://{tmp_path}/artifacts")
    yield sql
    sql.engine.dispose()


@pytest.fixture
def registry(store: BaseTrackingStore) -> BaseRegistryStore:
    """The registry store of the same backend as ``store`` (same database / same server)."""
    from trainlab.client.rest import RestTrackingStore

    if isinstance(store, RestTrackingStore):
        from trainlab.client.rest_registry import RestRegistryStore

        return RestRegistryStore(store)
    from trainlab.store.sql.registry import SqlRegistryStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    assert isinstance(store, SqlTrackingStore)
    return SqlRegistryStore(store)
