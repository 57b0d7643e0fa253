"""Shared fixtures: real databases (a SQLite file, a fresh PostgreSQL database per test)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_ADMIN_URI = os.environ.get(
    "TRAINLAB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background by a script inherits SIGINT ignored (POSIX), and so
    # would every process it starts: the tests that press Ctrl-C need it delivered.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _mlflow_tracking_uri_stays_in_its_test() -> Iterator[None]:
    """mlflow.set_tracking_uri also sets $MLFLOW_TRACKING_URI (for subprocesses): left set, a
    later test's embedded runs would warn that it is not read, in what they print."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def _postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URI, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_admin_uri() -> str:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URI}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URI}")
    return POSTGRES_ADMIN_URI


@pytest.fixture
def postgres_uri(postgres_admin_uri: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"trainlab_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_uri.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgres_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_uri(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/trainlab.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_uri(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_uri" if request.param == "sqlite" else "postgres_uri"
    return str(request.getfixturevalue(name))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One real `trainlab server` (SQLite) for the whole session."""
    from tests.support.server import ServerProcess

    root = tmp_path_factory.mktemp("server")
    with ServerProcess(f"sqlite:///{root}/trainlab.db", root / "artifacts") as proc:
        yield proc


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One real S3-compatible server process (moto) for the whole session."""
    from tests.support.s3 import MotoServer

    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy AWS credentials in the environment, where boto3 looks for them."""
    from tests.support.s3 import AWS_ENV

    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
