"""Database errors become trainlab errors in one place, and a refused write leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from trainlab.exceptions import InvalidParameterValue, ServiceUnavailable
from trainlab.store.sql.engine import make_engine, upgrade
from trainlab.store.sql.models import ExperimentModel
from trainlab.store.sql.uow import unit_of_work


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_a_bad_request(postgres_uri: str) -> None:
    """What the stores' own checks miss and PostgreSQL refuses (a string longer than its
    column, a NUL character) is an InvalidParameterValue with the database's reason."""
    engine = make_engine(postgres_uri)
    upgrade(engine)
    insert = text(
        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time) VALUES (:name, 'x', 'active', 0, 0)"
    )
    try:
        refused = pytest.raises(InvalidParameterValue, match="value too long")
        with refused, unit_of_work(engine) as s:
            s.execute(insert, {"name": "kept?"})
            s.execute(insert, {"name": "n" * 501})
        with pytest.raises(InvalidParameterValue, match="NUL"), unit_of_work(engine) as s:
            s.execute(insert, {"name": "a\x00b"})
        with unit_of_work(engine, write=False) as s:
            assert s.scalar(select(func.count()).select_from(ExperimentModel)) == 0
    finally:
        engine.dispose()


def test_a_query_larger_than_sqlite_takes_is_a_bad_request_not_an_outage(tmp_path: Path) -> None:
    """A 503 would have the stock client retry for minutes what can never succeed."""
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    upgrade(engine)
    try:
        sort = ", ".join(["name"] * 2001)
        refused = pytest.raises(InvalidParameterValue, match="larger than the database takes")
        with refused, unit_of_work(engine, write=False) as s:
            s.execute(text(f"SELECT name FROM experiments ORDER BY {sort}"))
        with pytest.raises(ServiceUnavailable), unit_of_work(engine, write=False) as s:
            s.execute(text("SELECT * FROM experiments_gone"))  # any other: the database's
    finally:
        engine.dispose()
