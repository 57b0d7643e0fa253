"""Shared CLI helpers: errors, JSON output, the tracking URI option."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

_PIPED_WIDTH = 1000


def _console(stderr: bool = False) -> Console:
    """Rich's console. Into a file or a pipe (COLUMNS unset) it is as wide as its lines, so
    that run ids, names and values come whole for grep and scripts: Rich would cut them at
    80 columns."""
    import os

    made = Console(stderr=stderr)
    if made.is_terminal or os.environ.get("COLUMNS"):
        return made
    return Console(stderr=stderr, width=_PIPED_WIDTH)


console = _console()
err_console = _console(stderr=True)

_TRACKING_URI_HELP = (
    "http(s)://server, sqlite:///file.db or postgresql://... "
    "(default: $TRAINLAB_TRACKING_URI, else the embedded store)"
)


def not_empty(value: str | None) -> str | None:
    """An option's callback: a value given must hold more than spaces (an empty
    ``--tracking-uri ""`` or ``-e ""`` from an unset shell variable is a mistake, not the
    default)."""
    if value is not None and not value.strip():
        raise typer.BadParameter("it is empty; give a value or leave the option out.")
    return value


# The --tracking-uri option of every command that reads or writes the store.
TRACKING_URI = typer.Option(
    None, "--tracking-uri", metavar="URI", help=_TRACKING_URI_HELP, callback=not_empty
)


def command_group(help: str) -> typer.Typer:
    """A group of subcommands (``trainlab runs ...``). Help is plain click help: rich's cut
    long option names (--artifacts-destination) at 80 columns."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


def login_user(user: str | None) -> str:
    """Who an audited change is by: ``--user``, else the login name."""
    from trainlab._user import login_name

    return user or login_name()


def fail(message: str, code: int = 1) -> NoReturn:
    """The message as written: brackets in it (a reason "[wip] ...", a key) are not markup."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def timestamp(ms: int | None) -> str:
    if not ms:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def existing_store(tracking_uri: str | None) -> str:
    """The URI of ``--tracking-uri`` (else the environment's, else the embedded store's),
    refused when it names an SQLite file that is not there: a command that reads or changes
    what was logged never creates an empty store."""
    from trainlab.client.resolve import resolve_tracking_uri
    from trainlab.exceptions import TrainlabError

    try:
        uri = resolve_tracking_uri(tracking_uri)
    except TrainlabError as exc:
        fail(exc.message)
    missing = _missing_sqlite_file(uri)
    if missing is not None:
        fail(
            f"No trainlab store at {missing} ({uri}). Run this in the folder that holds it, "
            "or pass --tracking-uri (or set TRAINLAB_TRACKING_URI) to name it."
        )
    _check_holds_a_store(uri)
    return uri


def _check_holds_a_store(uri: str) -> None:
    """Refuse a database without trainlab's tables (an empty file, another tool's database):
    reading it would create them. Read without changing anything; a database that cannot be
    read at all is reported when the store is opened."""
    from trainlab.client.resolve import is_remote, redacted
    from trainlab.exceptions import TrainlabError
    from trainlab.store.sql.engine import check_not_foreign, stored_revision

    if is_remote(uri):
        return
    try:
        revision = stored_revision(uri)
    except Exception:  # noqa: BLE001 - unreadable: store_for says why
        return
    shown = redacted(uri)
    if revision is None:
        fail(
            f"No trainlab store in {shown}: the database holds no trainlab tables, and a "
            "command that reads or changes what was logged does not create them. Name the "
            f"store with --tracking-uri, or create one there: trainlab db upgrade '{shown}'."
        )
    try:
        check_not_foreign(shown, revision)
    except TrainlabError as exc:
        fail(exc.message)


def _cli_retry_seconds() -> float | None:
    """At a prompt, a server that is down is said so after a few seconds, not a minute; the
    environment variable, when set, rules as for the SDK."""
    import os

    from trainlab.client.retry import ENV_RETRY_SECONDS

    return None if os.environ.get(ENV_RETRY_SECONDS, "").strip() else 5.0


def _open_store(tracking_uri: str | None) -> Any:
    """The store of ``--tracking-uri`` (``existing_store``)."""
    from trainlab.client.resolve import store_for
    from trainlab.exceptions import TrainlabError

    uri = existing_store(tracking_uri)
    try:
        return store_for(uri, retry_seconds=_cli_retry_seconds())
    except TrainlabError as exc:
        fail(exc.message)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable database alike
        fail(f"Cannot open the tracking store {uri!r}: {str(exc).splitlines()[0]}")


@contextmanager
def opened_store(tracking_uri: str | None) -> Iterator[Any]:
    """The store of ``--tracking-uri`` (``_open_store``), its connections closed at the end (a
    command run in-process, as tests and notebooks do, leaves none open)."""
    store = _open_store(tracking_uri)
    try:
        yield store
    finally:
        store.close()


def _missing_sqlite_file(uri: str) -> str | None:
    """The absolute path of a ``sqlite:`` URI's database file when that file does not exist."""
    if not uri.startswith("sqlite:"):
        return None
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        database = make_url(uri).database
    except ArgumentError:
        return None  # reported by store_for
    try:
        if not database or database == ":memory:" or Path(database).exists():
            return None
    except OSError:
        return None  # a path no file can have: reported by store_for
    return str(Path(database).absolute())


def check_search(
    filter_string: str | None,
    order_by: Sequence[str],
    filter_of: Callable[[str | None], object],
    order_of: Callable[[Sequence[str]], object],
) -> None:
    """A usage error (exit 2) for a filter or order the search grammar refuses (``filter_of``
    and ``order_of`` compile them for the entity searched), before any store is opened: the
    same code whether the store is a database or a server."""
    from trainlab.exceptions import InvalidParameterValue
    from trainlab.store.search import parse_order_by

    try:
        filter_of(filter_string)
        for clause in order_by:  # a blank one too: the stores skip it, an option is a typo
            parse_order_by(clause)
        order_of(order_by)
    except InvalidParameterValue as exc:
        fail(exc.message, code=2)


class with_errors:  # noqa: N801 - used as a context manager: `with with_errors():`
    """Turn trainlab errors into a red message and exit code 1 (no traceback)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from trainlab.exceptions import TrainlabError

        if isinstance(exc, TrainlabError):
            fail(exc.message)


def experiment_names(store: Any, every: bool = False) -> dict[str, str]:
    """Every active (``every``: also every deleted) experiment's name by id."""
    from trainlab.entities import ViewType
    from trainlab.entities.paging import every_page

    view = ViewType.ALL if every else ViewType.ACTIVE_ONLY
    pages = every_page(lambda token: store.search_experiments(view, 1000, page_token=token))
    return {e.experiment_id: e.name for e in pages}


def full_run_id(store: Any, given: str) -> str:
    """The run id ``given`` names: an id, or a unique start of one (6 or more of its hex
    characters, as tables show them); a shorter start is refused. Anything else is returned
    as given."""
    import re

    from trainlab.entities import ViewType

    if re.fullmatch(r"[0-9a-f]{1,5}", given):
        fail(f"{given!r} is too short to name a run: give 6 or more characters of its id.")
    if not re.fullmatch(r"[0-9a-f]{6,31}", given):
        return given
    found = store.search_runs(
        list(experiment_names(store, every=True)),
        f"attributes.run_id LIKE '{given}%'",  # hex only: nothing to escape
        run_view_type=ViewType.ALL,
        max_results=3,
    )
    if len(found) > 1:
        shown = ", ".join(r.info.run_id for r in found[:2])
        fail(f"{given!r} starts more than one run id ({shown}, ...): give more of it.")
    return found[0].info.run_id if found else given


def uri_flag(uri: str | None) -> str:
    """`` --tracking-uri URI`` for a command printed as the next step, unless the same command
    without it would use ``uri`` anyway (none given, or the default store)."""
    from trainlab.client.resolve import absolute_tracking_uri

    if not uri or absolute_tracking_uri(None) == absolute_tracking_uri(uri):
        return ""
    return f" --tracking-uri {shlex.quote(uri)}"
