"""``trainlab``: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from trainlab.cli import (
    artifacts,
    db,
    experiments,
    gate,
    models,
    runs,
    server,
    spool,
    train,
    tune,
)

app = typer.Typer(
    name="trainlab",
    help="Reproducible, tracked ML training. Docs: README.md.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help, as command_group's
)


def _version(value: bool) -> None:
    if value:
        from trainlab import __version__

        typer.echo(f"trainlab {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


app.command("server")(server.serve)
app.command("train")(train.train)
app.command("reproduce")(train.reproduce)
app.command("tune")(tune.tune)
app.command("tune-worker")(tune.tune_worker)
app.command("promote")(gate.promote)
app.command("rollback")(gate.rollback)
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(db.app, name="db")
app.add_typer(experiments.app, name="experiments")
app.add_typer(models.app, name="models")
app.add_typer(runs.app, name="runs")
app.add_typer(spool.app, name="spool")


def main() -> None:
    app()
