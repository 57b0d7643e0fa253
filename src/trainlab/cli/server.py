from __future__ import annotations

import os
import sys

import typer

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each request thread its own malloc arena, and freed memory stays in them: a
    server that has handled large requests keeps a high RSS while idle. Two arenas keep it low
    (measured in bench/). Also applies to worker processes, which inherit the environment."""
    os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        libc_name = ctypes.util.find_library("c")
        if libc_name:
            m_arena_max = -8
            ctypes.CDLL(libc_name).mallopt(m_arena_max, arenas)


def _check_port_free(host: str, port: int) -> None:
    """Fail before any work when the address is taken, with what to do about it."""
    import errno
    import socket

    from trainlab.cli.common import fail

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except socket.gaierror as exc:
            fail(f"--host {host!r}: {exc.strerror}; give an address of this machine.", code=2)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                fail(f"--host {host}: {exc.strerror}; give an address of this machine.", code=2)
            fail(
                f"Cannot listen on {host}:{port}: {exc.strerror}. Is another server running "
                "there? Stop it or choose another --port."
            )


def _announce(backend_store_uri: str, artifacts_destination: str, workers: int) -> None:
    """Which store and destination this server uses (uvicorn then says where it listens):
    one look at the log tells two replicas that should share them apart."""
    from trainlab import __version__
    from trainlab.client.resolve import redacted

    typer.echo(
        f"INFO:     trainlab {__version__}: runs in {redacted(backend_store_uri)}, artifacts in "
        f"{artifacts_destination}, {workers} worker{'s' if workers > 1 else ''}",
        err=True,
    )


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(5000, min=1, max=65535, help="Port to listen on."),
    backend_store_uri: str = typer.Option(
        "sqlite:///trainlab.db", help="sqlite:///path.db or postgresql://user@host:port/db"
    ),
    artifacts_destination: str = typer.Option(
        "./trainlab-artifacts",
        help="Where proxied artifacts are stored: a folder, or s3://bucket/prefix.",
    ),
    s3_endpoint_url: str | None = typer.Option(
        None,
        help="S3-compatible endpoint (MinIO, Ceph); default $TRAINLAB_S3_ENDPOINT_URL, "
        "$MLFLOW_S3_ENDPOINT_URL, else AWS. Credentials: the standard AWS variables.",
    ),
    direct_transfers: bool | None = typer.Option(
        None,
        "--direct-transfers/--no-direct-transfers",
        help="Let clients move large files straight to and from an S3 destination (presigned "
        "multipart uploads and ranged downloads; the default, also $TRAINLAB_DIRECT_TRANSFERS). "
        "--no-direct-transfers when only the server can reach the object store: everything "
        "then streams through it.",
        show_default=False,
    ),
    allowed_hosts: str = typer.Option(
        "",
        envvar="TRAINLAB_ALLOWED_HOSTS",
        help="Host names clients reach this server by, besides IP addresses, localhost and this "
        "machine's name: comma-separated, *.example.com patterns, * for any. A request naming "
        "another host is refused: a web page of another site cannot reach the server through "
        "a name of its own (DNS rebinding).",
        show_default=False,
    ),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    log_level: str = typer.Option(
        "info", help="uvicorn log level: " + " | ".join(_LOG_LEVELS) + "."
    ),
) -> None:
    """Run the tracking server (MLflow REST API compatible)."""
    from trainlab.cli.common import fail

    try:
        import fastapi  # noqa: F401
        import pydantic_settings  # noqa: F401
        import uvicorn
    except ImportError as exc:
        fail(f"trainlab server needs its extra ({exc}): pip install 'trainlab[server]'")

    from trainlab.artifacts.factory import artifact_repository, normalized_destination
    from trainlab.exceptions import TrainlabError
    from trainlab.server.hosts import parse_allowed_hosts
    from trainlab.store.sql.engine import make_engine, unopenable, upgrade

    if log_level.lower() not in _LOG_LEVELS:
        fail(f"--log-level {log_level!r}: use {', '.join(_LOG_LEVELS)}.", code=2)
    try:
        parse_allowed_hosts(allowed_hosts)
    except TrainlabError as exc:
        fail(exc.message, code=2)
    _check_port_free(host, port)
    try:
        artifacts_destination = normalized_destination(artifacts_destination)
    except TrainlabError as exc:
        fail(f"{exc.message} (--artifacts-destination)", code=2)
    try:
        engine = make_engine(backend_store_uri)  # the URI's form: nothing is made yet
    except TrainlabError as exc:
        fail(exc.message)
    except Exception as exc:  # noqa: BLE001 - as below
        fail(unopenable(backend_store_uri, exc).message)
    try:  # before the database is made: a refused start leaves no new database file
        artifact_repository(artifacts_destination, s3_endpoint_url).check()
    except TrainlabError as exc:
        fail(
            f"{exc.message} (the destination: --artifacts-destination, --s3-endpoint-url; the "
            "credentials: the standard AWS variables)"
            if artifacts_destination.startswith("s3://")
            else f"{exc.message} (--artifacts-destination)"
        )
    try:
        upgrade(engine)  # once here, so workers never race on a migration
        engine.dispose()
    except TrainlabError as exc:
        fail(exc.message)
    except Exception as exc:  # noqa: BLE001 - any connection failure is reported the same way
        fail(unopenable(backend_store_uri, exc).message)
    _limit_malloc_arenas()
    os.environ["TRAINLAB_BACKEND_STORE_URI"] = backend_store_uri
    os.environ["TRAINLAB_ARTIFACTS_DESTINATION"] = artifacts_destination
    os.environ["TRAINLAB_ALLOWED_HOSTS"] = allowed_hosts
    os.environ["TRAINLAB_LISTEN_HOST"] = host
    if s3_endpoint_url:
        os.environ["TRAINLAB_S3_ENDPOINT_URL"] = s3_endpoint_url
    if direct_transfers is not None:  # else $TRAINLAB_DIRECT_TRANSFERS, or on
        os.environ["TRAINLAB_DIRECT_TRANSFERS"] = "true" if direct_transfers else "false"
    if workers > 1:
        from trainlab.server import SUPERVISOR_ENV

        os.environ[SUPERVISOR_ENV] = str(os.getpid())
    if log_level.lower() in ("info", "debug", "trace"):
        _announce(backend_store_uri, artifacts_destination, workers)
    uvicorn.run(
        "trainlab.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        log_config=_log_config(log_level.lower()),
        access_log=False,
    )


def _log_config(level: str) -> dict[str, object]:
    """uvicorn's logging, with trainlab's own messages (a cut-off upload, a memory warning)
    printed the same way at the same level."""
    import copy

    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["trainlab"] = {
        "handlers": ["default"],
        "level": LOG_LEVELS[level],
        "propagate": False,
    }
    return config
