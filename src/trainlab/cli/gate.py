"""``trainlab promote`` (the promotion gate) and ``trainlab rollback``. Exit codes of promote:
0 passed (the alias moved), 1 failed (nothing moved), 2 refused or not run (a bad policy,
changed data, incompatible models, a model or version that does not exist, a server that does
not answer: nothing evaluated). A script tells "the candidate lost" (1) from the rest."""

from __future__ import annotations

from pathlib import Path

import typer

from trainlab.cli.common import TRACKING_URI, console, existing_store, fail, uri_flag


def promote(
    model: str = typer.Argument(..., metavar="MODEL", help="registered model"),
    version: int = typer.Option(..., "--version", "-v", help="the candidate version"),
    alias: str = typer.Option("champion", "--alias", "-a", help="the alias to move"),
    policy: Path = typer.Option(..., "--policy", "-p", help="the gate's policy (YAML)"),
    user: str = typer.Option("", "--user", help="who promotes (default: the login name)"),
    tracking_uri: str | None = TRACKING_URI,
) -> None:
    """Score the candidate and the alias's holder on the candidate's sealed held-out data and
    move the alias only if the policy passes."""
    from rich.table import Table

    from trainlab.cli.train import import_from_here
    from trainlab.evaluation.gate import promote as run_gate
    from trainlab.evaluation.policy import load_policy
    from trainlab.exceptions import TrainlabError

    existing_store(tracking_uri)
    import_from_here()  # a model class of the user's own module loads as it trained
    try:
        rules = load_policy(policy)
        result = run_gate(model, version, alias, rules, tracking_uri=tracking_uri, user=user)
    except TrainlabError as exc:  # the gate did not decide: not its verdict (1)
        fail(exc.message, code=2)
    except ImportError as exc:
        fail(
            f"Cannot load a model the gate scores: {exc}. Its class's module must be "
            "importable: run promote from the folder it was trained in, or install the module.",
            code=2,
        )
    d = result.decision
    against = f"version {result.champion}" if result.champion is not None else "no champion"
    left_out = (
        f"; {result.left_out} left out: the champion was trained on them" if result.left_out else ""
    )
    console.print(
        f"{model} v{version} against {against}, on {result.rows} held-out rows "
        f"(test split {result.data_digest[:12]}{left_out})"
    )
    if result.unchecked:
        console.print(
            f"[yellow]warning:[/] {result.unchecked}; the champion may have been trained on "
            "some of these rows, which would flatter it."
        )
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column(f"v{version}", justify="right")
    if d.champion_metrics is not None:
        table.add_column(f"v{result.champion}", justify="right")
    for name, value in d.candidate_metrics.items():
        row = [name, f"{value:.4f}"]
        if d.champion_metrics is not None:
            row.append(f"{d.champion_metrics[name]:.4f}")
        table.add_row(*row)
    console.print(table)
    checks = Table(title="checks")
    checks.add_column("check")
    checks.add_column("result")
    checks.add_column("evidence")
    for check in d.checks:
        mark = (
            "skipped" if check.skipped else ("[green]pass[/]" if check.passed else "[red]FAIL[/]")
        )
        checks.add_row(check.name, mark, check.detail)
    console.print(checks)
    if result.moved:
        previous = f"; v{result.champion} keeps alias 'previous'" if result.champion else ""
        console.print(f"[green]PASS[/]: {alias} -> v{version}{previous}")
    else:
        stays = f"stays on {against}" if result.champion is not None else "stays unset"
        console.print(f"[red]FAIL[/]: {alias} {stays}")
    flag = uri_flag(tracking_uri)
    console.print(f"evidence: trainlab runs show {result.evaluation_run_id}{flag}")
    raise typer.Exit(0 if result.moved else 1)


def rollback(
    model: str = typer.Argument(..., metavar="MODEL", help="registered model"),
    alias: str = typer.Option("champion", "--alias", "-a", help="the alias to move back"),
    reason: str = typer.Option("", "--reason", help="why (audit log)"),
    user: str = typer.Option("", "--user", help="who moves it (default: the login name)"),
    tracking_uri: str | None = TRACKING_URI,
    force: bool = typer.Option(
        False, "--force", help="Move it back to a version that failed the promotion gate."
    ),
) -> None:
    """Move ALIAS back to the version it held before its last move (one that failed the
    promotion gate only with --force)."""
    from trainlab.cli.models import roll_back

    console.print(
        f"rolled back: {roll_back(model, alias, reason, user, tracking_uri, force)}", markup=False
    )
