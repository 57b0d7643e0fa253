"""Engines and schema migration. Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from trainlab.exceptions import InvalidParameterValue

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision. Opening a store compares the database with it, so a process
# that finds its schema current never imports Alembic (a third of a second per process). A test
# checks it against the migrations folder.
HEAD_REVISION = "0008"
# Serialises concurrent migrations of one PostgreSQL database (two servers starting together).
_PG_MIGRATION_LOCK = 727_001
_SQLITE_MIGRATION_TRIES = 20
WRITE_OPTION = "trainlab_write"

log = logging.getLogger(__name__)


def normalize_uri(uri: str) -> str:
    """Map user-facing URIs onto SQLAlchemy driver URLs (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    if uri.startswith(("sqlite:", "postgresql+psycopg:")):
        return uri
    raise InvalidParameterValue(
        f"Unsupported backend store URI {uri!r}: use sqlite:///path/to/file.db or "
        "postgresql://user@host:port/database."
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event below open transactions, not the sqlite3 module.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Writers take the write lock up front (BEGIN IMMEDIATE), so a transaction that reads and
    then writes waits for a concurrent writer (busy_timeout) instead of failing with
    "database is locked"; readers stay concurrent with plain BEGIN."""
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(uri: str) -> Engine:
    url_text = normalize_uri(uri)
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise InvalidParameterValue(f"Invalid backend store URI {uri!r}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidParameterValue(
                f"Invalid store URI {uri!r}: it names no database file; give one, as in "
                "sqlite:///trainlab.db (a file in this folder) or sqlite:////abs/path.db."
            )
        try:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unopenable(uri, exc) from None
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "check_same_thread": False},
            pool_size=8,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def unopenable(uri: str, exc: Exception) -> InvalidParameterValue:
    """The error for a store that cannot be opened: the URI, without its password, and the
    first line of the driver's reason."""
    cause = getattr(exc, "orig", None) or exc
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    try:
        url = make_url(uri)
    except ArgumentError:
        return InvalidParameterValue(f"Cannot open the store {uri!r}: {reason}.")
    shown = url.render_as_string(hide_password=True)
    message = f"Cannot open the store {shown!r}: {reason}."
    missing_database = re.search(r'database ".*" does not exist', reason)
    if url.get_backend_name() == "postgresql" and missing_database:
        message += f" Create it first: {_createdb(url)}"
    return InvalidParameterValue(message)


def _createdb(url: URL) -> str:
    """The command that creates the PostgreSQL database of ``url`` (no password in it)."""
    import shlex

    args = ["createdb"]
    for flag, value in (("-h", url.host), ("-p", url.port), ("-U", url.username)):
        if value:
            args += [flag, str(value)]
    return shlex.join([*args, str(url.database)]) + " (or CREATE DATABASE in psql)."


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def scripted_head() -> str:
    """The head of the migrations folder, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def stored_revision(uri: str) -> str | None:
    """The schema revision of the database at ``uri`` (None when it has none), read without
    changing anything: an SQLite file is opened read-only, not switched to WAL."""
    url = make_url(normalize_uri(uri))
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, poolclass=NullPool)
        try:
            return current_revision(engine)
        finally:
            engine.dispose()
    import sqlite3

    path = Path(url.database or "").expanduser().absolute()
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])


def check_not_foreign(shown: str, revision: str | None) -> None:
    """Refuse a database (``shown``: its URI without password) whose schema revision is not
    one of trainlab's (an MLflow store, or another tool's): nothing is changed in it."""
    if revision is None or revision in _trainlab_revisions():
        return
    if re.fullmatch(r"\d{4}", revision) and revision > HEAD_REVISION:
        raise InvalidParameterValue(
            f"{shown} was last upgraded by a newer trainlab (schema revision {revision}; this "
            f"one knows up to {HEAD_REVISION}): upgrade trainlab to use it."
        )
    raise InvalidParameterValue(
        f"{shown} holds another tool's database (its schema revision {revision!r} is not "
        "trainlab's), an MLflow store perhaps; trainlab leaves it as it is. Serve it with the "
        "tool that made it, and give trainlab a database of its own."
    )


def _trainlab_revisions() -> frozenset[str]:
    return frozenset(p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; a no-op when it already is. Returns the head.
    A database of another tool is refused unchanged."""
    head = HEAD_REVISION
    current = current_revision(engine)
    if current == head:
        return head
    check_not_foreign(engine.url.render_as_string(hide_password=True), current)
    from alembic import command

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                if current_revision(engine) != head:
                    command.upgrade(_alembic_config(engine), "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
    else:
        _upgrade_sqlite(engine, head)
    log.info("database schema upgraded to %s", head)
    return head


def _upgrade_sqlite(engine: Engine, head: str) -> None:
    """Processes that open a new database at once race to create it; SQLite refuses the
    losers' writes ("database is locked": their read of the schema went stale). A refused
    migration changed nothing (SQLite's DDL is transactional, and Alembic records each step
    with it), so the loser reads the revision again and goes on from there."""
    from alembic import command
    from sqlalchemy.exc import OperationalError

    for attempt in range(_SQLITE_MIGRATION_TRIES):
        try:
            command.upgrade(_alembic_config(engine), "head")
            return
        except OperationalError as exc:
            if "database is locked" not in str(exc) or attempt == _SQLITE_MIGRATION_TRIES - 1:
                raise
        time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        if current_revision(engine) == head:
            return
