"""``trainlab models``: registered models, their versions and aliases (with history/rollback)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from trainlab.cli.common import TRACKING_URI, command_group, login_user

app = command_group("Model registry: models, versions, aliases.")
alias_app = command_group("Aliases: set, delete, history, rollback.")
app.add_typer(alias_app, name="alias")

_NAME = typer.Argument(..., metavar="NAME", help="The registered model's name.")
_ALIAS = typer.Argument(..., metavar="ALIAS", help="The alias, e.g. champion.")
_JSON = typer.Option(False, "--json", help="Machine-readable output.")
_REASON = typer.Option("", "--reason", "-r", help="Why: kept in the alias history.")
_USER = typer.Option(None, "--user", help="Who moves it (default: the login name).")


@contextmanager
def _registry(tracking_uri: str | None) -> Iterator[Any]:
    from trainlab.cli.common import opened_store
    from trainlab.client.resolve import registry_for

    with opened_store(tracking_uri) as store:
        yield registry_for(store)


_FORCE = typer.Option(
    False, "--force", help="Point the alias at a version that failed the promotion gate."
)


def refuse_gate_failure(
    registry: Any,
    name: str,
    alias: str,
    version: int,
    force: bool,
    tracking_uri: str | None,
    move: str = "",
) -> None:
    """A version that failed the promotion gate gets an alias only with --force (exit 2);
    ``move`` says which move that would be."""
    from trainlab.cli.common import fail, uri_flag
    from trainlab.evaluation.verdict import alias_verdict
    from trainlab.exceptions import ResourceNotFound

    try:
        tags = registry.get_model_version(name, version).tags
    except ResourceNotFound:
        return  # the registry says what is wrong with it
    verdict, evidence = alias_verdict(tags, alias)
    if force or verdict != "FAIL":
        return
    evidence += uri_flag(tracking_uri)
    fail(
        f"{move}Version {version} of {name} failed the promotion gate (evidence: `trainlab "
        f"runs show {evidence}`). Pass --force to point {name}@{alias} at it anyway; the move "
        "is kept in the alias history with your --reason.",
        code=2,
    )


def roll_back(
    name: str, alias: str, reason: str, user: str | None, tracking_uri: str | None, force: bool
) -> str:
    """Point the alias back at the version it held before its last move; says the move (after
    a rollback, that is the version the rollback left: a second rollback undoes the first)."""
    from trainlab.cli.common import with_errors

    with with_errors(), _registry(tracking_uri) as registry:
        target = registry.rollback_registered_model_alias(name, alias, dry_run=True)
        move = _undoing(registry.get_alias_history(name, alias)[-1], int(target.version))
        refuse_gate_failure(
            registry, name, alias, int(target.version), force, tracking_uri,
            f"Rolling back moves {move}. ",
        )  # fmt: skip
        registry.rollback_registered_model_alias(name, alias, login_user(user), reason)
    return move


def _undoing(last: Any, target: int) -> str:
    """``wine@champion v1 -> v2, undoing its last move (v2 -> v1 by erin at ...: 'why')``."""
    from trainlab.cli.common import timestamp

    def shown(version: int | None) -> str:
        return f"v{version}" if version is not None else "unset"

    why = f": {last.reason!r}" if last.reason else ""
    return (
        f"{last.name}@{last.alias} {shown(last.to_version)} -> v{target}, undoing its last move "
        f"({shown(last.from_version)} -> {shown(last.to_version)} by {last.user or 'unknown'} "
        f"at {timestamp(last.timestamp)}{why})"
    )


def _version_json(v: Any) -> dict[str, Any]:
    return {**vars(v), "status": str(v.status)}


def _model_json(m: Any) -> dict[str, Any]:
    return {**vars(m), "latest_versions": [_version_json(v) for v in m.latest_versions]}


def _versions_table(title: str, versions: list[Any]) -> Any:
    from rich.table import Table

    from trainlab.cli.common import timestamp

    table = Table(title=title)
    for col in ("version", "stage", "aliases", "created"):
        table.add_column(col, overflow="fold")
    table.add_column("run id", no_wrap=True, min_width=32)  # whole: it is pasted into commands
    table.add_column("source", overflow="fold")
    for v in versions:
        table.add_row(
            str(v.version),
            v.current_stage,
            ", ".join(v.aliases),
            timestamp(v.creation_timestamp),
            v.run_id or "",
            v.source,
        )
    return table


@app.command("list")
def list_cmd(
    filter_string: str = typer.Option(
        None, "--filter", "-f", help="e.g. \"name LIKE 'fraud%' AND tags.team = 'risk'\""
    ),
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, max=1000),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = _JSON,
) -> None:
    """List registered models, by name."""
    from rich.table import Table

    from trainlab.cli.common import check_search, console, print_json, timestamp, with_errors
    from trainlab.store import search

    check_search(
        filter_string, (), search.registered_models_filter, search.registered_models_order_by
    )
    with with_errors(), _registry(tracking_uri) as registry:
        page = registry.search_registered_models(filter_string, max_results)
    if as_json:
        print_json([_model_json(m) for m in page])
        return
    more = " (more: raise --max-results)" if page.next_page_token else ""
    table = Table(title=f"{len(page)} registered model(s){more}")
    for col in ("name", "latest", "aliases", "updated", "description"):
        table.add_column(col, overflow="fold")
    for m in page:
        latest = max((v.version for v in m.latest_versions), default=None)
        table.add_row(
            m.name,
            "" if latest is None else str(latest),
            ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()),
            timestamp(m.last_updated_timestamp),
            m.description,
        )
    console.print(table)


@app.command("show")
def show_cmd(name: str = _NAME, tracking_uri: str = TRACKING_URI, as_json: bool = _JSON) -> None:
    """One registered model: description, tags, aliases, latest versions."""
    from trainlab.cli.common import console, print_json, timestamp, with_errors

    with with_errors(), _registry(tracking_uri) as registry:
        model = registry.get_registered_model(name)
    if as_json:
        print_json(_model_json(model))
        return
    console.print(f"[bold]{model.name}[/]  {model.description}")
    console.print(
        f"created {timestamp(model.creation_timestamp)}, "
        f"updated {timestamp(model.last_updated_timestamp)}"
    )
    for k, v in model.tags.items():
        console.print(f"  tag {k} = {v}")
    for a, v in model.aliases.items():
        console.print(f"  alias [cyan]@{a}[/] -> version {v}")
    console.print(_versions_table("latest versions per stage", model.latest_versions))


@app.command("versions")
def versions_cmd(
    name: str = _NAME,
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, max=10000),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = _JSON,
) -> None:
    """The versions of a model, newest first, with lineage in --json."""
    from trainlab.cli.common import console, print_json, with_errors

    with with_errors(), _registry(tracking_uri) as registry:
        registry.get_registered_model(name)
        quoted = name.replace("'", "''")
        page = registry.search_model_versions(
            f"name = '{quoted}'", max_results, order_by=["version_number DESC"]
        )
    if as_json:
        print_json([_version_json(v) for v in page])
        return
    more = " (more: raise --max-results)" if page.next_page_token else ""
    console.print(_versions_table(f"{len(page)} version(s) of {name}{more}", list(page)))


@app.command("register")
def register_cmd(
    run_id: str = typer.Argument(
        ..., metavar="RUN_ID", help="The run that logged the model (6 or more characters)."
    ),
    name: str = _NAME,
    model: str = typer.Option("model", "--model", "-m", help="The logged model's name in the run."),
    tracking_uri: str = TRACKING_URI,
) -> None:
    """Register the model RUN_ID logged as a new version of NAME (created if new), with its
    lineage (run, data, code)."""
    from trainlab.cli.common import console, full_run_id, opened_store, uri_flag, with_errors
    from trainlab.models.log import register_model

    with with_errors():
        with opened_store(tracking_uri) as store:
            run_id = full_run_id(store, run_id)
        version = register_model(f"runs:/{run_id}/{model}", name, tracking_uri=tracking_uri)
    from rich.markup import escape

    flag, shown = uri_flag(tracking_uri), shlex.quote(name)  # commands to paste: quoted
    console.print(
        escape(f"registered runs:/{run_id}/{model} as ")
        + f"[bold]{escape(f'models:/{name}/{version}')}[/]\n"
        + escape(
            f"next: trainlab promote {shown} --version {version} --policy POLICY.yaml{flag}\n"
            f"      trainlab models alias set {shown} ALIAS {version}{flag}"
        )
    )


@alias_app.command("set")
def alias_set(
    name: str = _NAME,
    alias: str = _ALIAS,
    version: int = typer.Argument(..., metavar="VERSION", help="The version to point it at."),
    reason: str = _REASON,
    user: str = _USER,
    tracking_uri: str = TRACKING_URI,
    force: bool = _FORCE,
) -> None:
    """Point ALIAS of model NAME at VERSION (a version that failed the promotion gate only
    with --force)."""
    from trainlab.cli.common import console, with_errors

    with with_errors(), _registry(tracking_uri) as registry:
        refuse_gate_failure(registry, name, alias, version, force, tracking_uri)
        registry.set_registered_model_alias(name, alias, version, login_user(user), reason)
    console.print(f"{name}@{alias} -> version {version}")


@alias_app.command("delete")
def alias_delete(
    name: str = _NAME,
    alias: str = _ALIAS,
    reason: str = _REASON,
    user: str = _USER,
    tracking_uri: str = TRACKING_URI,
) -> None:
    """Remove ALIAS from model NAME."""
    from trainlab.cli.common import console, fail, with_errors

    with with_errors(), _registry(tracking_uri) as registry:
        if alias not in registry.get_registered_model(name).aliases:
            fail(f"{name}@{alias} is not set. See `trainlab models show {name}`.")
        registry.delete_registered_model_alias(name, alias, login_user(user), reason)
    console.print(f"{name}@{alias} deleted")


@alias_app.command("history")
def alias_history(
    name: str = _NAME,
    alias: str = typer.Argument(
        None, metavar="ALIAS", help="Only this alias (default: every alias)."
    ),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = _JSON,
) -> None:
    """Every move of the model's aliases: when, who, from which version to which, why."""
    from rich.table import Table

    from trainlab.cli.common import console, fail, print_json, timestamp, with_errors

    never_set = ""
    with with_errors(), _registry(tracking_uri) as registry:
        events = registry.get_alias_history(name, alias)
        if alias and not any(e.alias for e in events):  # a typo, most likely: say which
            others = sorted({e.alias for e in registry.get_alias_history(name) if e.alias})
            never_set = f"Alias {alias!r} of {name} was never set (aliases with a history: "
            never_set += f"{', '.join(others) or 'none'})."
    if as_json:
        print_json([vars(e) for e in events])
        return
    if never_set:  # as rollback of that alias would: an error (--json lists nothing: [])
        fail(never_set)
    moves = sum(1 for e in events if e.alias)
    table = Table(title=f"{moves} alias move(s) of {name}")
    for col in ("when", "alias", "from", "to", "user", "reason"):
        table.add_column(col, overflow="fold")
    for e in events:
        table.add_row(
            timestamp(e.timestamp),
            e.alias or "(every alias)",
            "-" if e.from_version is None else str(e.from_version),
            "-" if e.to_version is None else str(e.to_version),
            e.user,
            e.reason,
        )
    console.print(table)


@alias_app.command("rollback")
def alias_rollback(
    name: str = _NAME,
    alias: str = _ALIAS,
    reason: str = _REASON,
    user: str = _USER,
    tracking_uri: str = TRACKING_URI,
    force: bool = _FORCE,
) -> None:
    """Point ALIAS back at the version it held before its last move (one that failed the
    promotion gate only with --force)."""
    from trainlab.cli.common import console

    console.print(
        f"rolled back: {roll_back(name, alias, reason, user, tracking_uri, force)}", markup=False
    )
