"""Unit of work: one session per operation, committed at the edge, database errors translated
into trainlab errors here and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from trainlab.exceptions import ResourceConflict, ServiceUnavailable


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    session = Session(engine, expire_on_commit=False, autoflush=False)
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ResourceConflict(
            f"The write conflicts with data stored concurrently: {exc.orig}. Retry the request."
        ) from None
    except OperationalError as exc:
        session.rollback()
        raise ServiceUnavailable(f"The database is not available: {exc.orig}") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert_insert(session: Session, model: Any) -> Any:
    """``INSERT`` with the dialect's ON CONFLICT support (SQLite and PostgreSQL share it)."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model)
