"""Which store a tracking URI means: an argument, ``$TRAINLAB_TRACKING_URI``, or the embedded
default (``sqlite:///trainlab.db`` with artifacts in ``./trainlab-artifacts``, the same files
``trainlab server`` uses by default when started in the same folder)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from trainlab.exceptions import InvalidParameterValue
from trainlab.store._base import BaseRegistryStore, BaseTrackingStore

ENV_TRACKING_URI = "TRAINLAB_TRACKING_URI"
DEFAULT_TRACKING_URI = "sqlite:///trainlab.db"
DEFAULT_ARTIFACTS_DIR = "trainlab-artifacts"


_SQL_SCHEMES = ("sqlite:", "postgresql:", "postgres:", "postgresql+psycopg:")


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``uri``, else ``$TRAINLAB_TRACKING_URI``, else the embedded default; refused when it
    is given empty or names no store trainlab speaks to."""
    if uri is not None and not uri.strip():
        raise InvalidParameterValue(
            f"The tracking URI is empty: give one ({_FORMS}), or leave it out for the default, "
            f"{DEFAULT_TRACKING_URI}."
        )
    resolved = uri or os.environ.get(ENV_TRACKING_URI) or DEFAULT_TRACKING_URI
    if resolved == DEFAULT_TRACKING_URI and uri is None:
        _warn_mlflow_uri_unused()
    if not is_remote(resolved) and not resolved.startswith(_SQL_SCHEMES):
        raise InvalidParameterValue(f"Unsupported tracking URI {resolved!r}: use {_FORMS}.")
    return resolved


def absolute_tracking_uri(uri: str | None) -> str:
    """``resolve_tracking_uri``, with a relative SQLite path made absolute: the same store
    from any folder (for workers in other processes, and for the spool, whose files wait for
    one store: ``sqlite:///trainlab.db`` of another folder is another store)."""
    resolved = resolve_tracking_uri(uri)
    path = resolved.removeprefix("sqlite:///")
    if resolved.startswith("sqlite:///") and not path.startswith("/") and path != ":memory:":
        return f"sqlite:///{Path(path).absolute()}"
    return resolved


_FORMS = (
    "http(s)://host:port for a trainlab server, sqlite:///path.db or postgresql://user@host/db "
    "for a database"
)


_warned_mlflow_uri: set[str] = set()


def _warn_mlflow_uri_unused() -> None:
    """MLflow's variable names a server, trainlab's none: say (once) where runs go instead, as
    a team whose scripts set MLFLOW_TRACKING_URI would otherwise log to a local file unawares."""
    theirs = os.environ.get("MLFLOW_TRACKING_URI", "")
    if is_remote(theirs) and theirs not in _warned_mlflow_uri:
        _warned_mlflow_uri.add(theirs)
        logging.getLogger("trainlab").warning(
            "trainlab: MLFLOW_TRACKING_URI is %s, but trainlab reads %s: runs go to the embedded "
            "store %s. Set %s=%s (or pass tracking_uri=) to use that server.",
            redacted(theirs),
            ENV_TRACKING_URI,
            DEFAULT_TRACKING_URI,
            ENV_TRACKING_URI,
            redacted(theirs),
        )


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def local_artifact_root() -> str:
    root = os.environ.get("TRAINLAB_ARTIFACTS_DIR", DEFAULT_ARTIFACTS_DIR)
    return Path(root).expanduser().absolute().as_uri()


def store_for(uri: str, retry_seconds: float | None = None) -> BaseTrackingStore:
    """A store speaking to ``uri``; SQL support is imported only when a database URI is used.
    ``retry_seconds``: how long a server's calls are retried while it is away (default:
    ``$TRAINLAB_HTTP_RETRY_SECONDS``, else 60)."""
    if is_remote(uri):
        from trainlab.client.rest import RestTrackingStore

        return RestTrackingStore(uri, retry_seconds=retry_seconds)
    if uri.startswith(_SQL_SCHEMES):
        from trainlab.store.sql.tracking import SqlTrackingStore

        return SqlTrackingStore(uri, local_artifact_root())
    raise InvalidParameterValue(f"Unsupported tracking URI {uri!r}: use {_FORMS}.")


def registry_for(store: BaseTrackingStore) -> BaseRegistryStore:
    """The model registry beside a tracking store: same server, or same database."""
    from trainlab.client.rest import RestTrackingStore

    if isinstance(store, RestTrackingStore):
        from trainlab.client.rest_registry import RestRegistryStore

        return RestRegistryStore(store)
    from trainlab.store.sql.registry import SqlRegistryStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    if not isinstance(store, SqlTrackingStore):
        raise InvalidParameterValue(f"No model registry for a {type(store).__name__}.")
    return SqlRegistryStore(store)


def redacted(uri: str) -> str:
    """``uri`` with any password in it shown as ``***``, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if not parts.password:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
