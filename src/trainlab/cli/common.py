"""Shared CLI helpers: errors, JSON output, the tracking URI option."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

TRACKING_URI_HELP = (
    "http(s)://server, sqlite:///file.db or postgresql://... "
    "(default: $TRAINLAB_TRACKING_URI, else the embedded store)"
)


def login_user(user: str | None) -> str:
    """Who an audited change is by: ``--user``, else the login name."""
    from trainlab._user import login_name

    return user or login_name()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def timestamp(ms: int | None) -> str:
    if not ms:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def open_store(tracking_uri: str | None) -> Any:
    from trainlab.client.resolve import resolve_tracking_uri, store_for

    return store_for(resolve_tracking_uri(tracking_uri))


class with_errors:  # noqa: N801 - used as a context manager: `with with_errors():`
    """Turn trainlab errors into a red message and exit code 1 (no traceback)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from trainlab.exceptions import TrainlabError

        if isinstance(exc, TrainlabError):
            fail(exc.message)
