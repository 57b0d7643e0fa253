"""Unit of work: one session per operation, committed at the edge, database errors translated
into trainlab errors here and nowhere else."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from trainlab.exceptions import InvalidParameterValue, ResourceConflict, ServiceUnavailable
from trainlab.store.sql.engine import WRITE_OPTION


@functools.lru_cache(maxsize=32)
def _writer(engine: Engine) -> Engine:
    """The engine's writing variant (made once: making one per operation costs more than a
    small write)."""
    return engine.execution_options(**{WRITE_OPTION: True})


# Errors of a query's size, not of the database's health (SQLite's limits; PostgreSQL's
# "stack depth limit exceeded" for a deeply nested expression).
_QUERY_LIMITS = (
    "too many terms",
    "pattern too complex",
    "expression tree is too large",
    "too many sql variables",
    "parser stack overflow",
    "stack depth limit exceeded",
)


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session committed on success and rolled back on any error. ``write=False`` for
    read-only work lets SQLite readers run beside a writer."""
    bind = _writer(engine) if write else engine
    session = Session(bind, expire_on_commit=False, autoflush=False)
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ResourceConflict(
            f"The write conflicts with data stored concurrently: {exc.orig}. Retry the request."
        ) from None
    except DataError as exc:
        # A value the stores' own checks let through but the database refuses (PostgreSQL: a
        # string longer than its column, a NUL character). Nothing was written.
        session.rollback()
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise InvalidParameterValue(
            f"The database refused a value of the request: {reason}."
        ) from None
    except OperationalError as exc:
        session.rollback()
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        if any(limit in reason.lower() for limit in _QUERY_LIMITS):
            # The request made a query larger than the database takes: retrying cannot help.
            raise InvalidParameterValue(
                f"The request makes a query larger than the database takes ({reason}); "
                "narrow its filter or order_by."
            ) from None
        raise ServiceUnavailable(f"The database is not available: {exc.orig}") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert_insert(session: Session, model: Any) -> Any:
    """``INSERT`` with the dialect's ON CONFLICT support (SQLite and PostgreSQL share it)."""
    return dialect_insert(session.get_bind().dialect.name, model)


def dialect_insert(dialect: str, model: Any) -> Any:
    """``upsert_insert`` for a dialect named ahead of any session (a statement built once)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model.__table__)  # Core insert: no ORM bookkeeping per row
