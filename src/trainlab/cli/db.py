from __future__ import annotations

from pathlib import Path

import typer

from trainlab.cli.common import command_group

app = command_group("Database schema management.")


@app.command("upgrade")
def upgrade_cmd(
    uri: str = typer.Argument(..., metavar="URI", help="sqlite:///file.db or postgresql://..."),
) -> None:
    """Migrate the database at URI to the newest schema (a no-op when it is current)."""
    from trainlab.cli.common import console, fail
    from trainlab.exceptions import TrainlabError
    from trainlab.store.sql.engine import current_revision, make_engine, unopenable, upgrade

    try:
        engine = make_engine(uri)
        before = current_revision(engine)
        head = upgrade(engine)
    except TrainlabError as exc:
        fail(exc.message)
    except Exception as exc:  # noqa: BLE001 - connection errors of any driver
        fail(unopenable(uri, exc).message)
    if before == head:
        console.print(f"Schema already at revision [bold]{head}[/].")
    elif before is None and engine.dialect.name == "sqlite":  # where, in case of a typo
        where = Path(engine.url.database or "").resolve()
        console.print(f"Created a new store at {where} (schema [bold]{head}[/]).")
    else:
        console.print(f"Schema upgraded from {before or 'empty'} to [bold]{head}[/].")
