from __future__ import annotations

import typer

from trainlab.cli.common import TRACKING_URI_HELP, command_group

app = command_group("Artifacts of runs: list and download.")


@app.command("list")
def list_cmd(
    run_id: str = typer.Argument(..., help="The run's id, or a unique start of it."),
    path: str = typer.Argument("", help="A folder of the run's artifacts (default: the root)."),
    tracking_uri: str = typer.Option(None, help=TRACKING_URI_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Files and folders directly under PATH of a run's artifacts."""
    from rich.table import Table

    from trainlab.cli.common import (
        console,
        fail,
        full_run_id,
        open_store,
        print_json,
        with_errors,
    )
    from trainlab.client.artifacts import list_artifacts

    with with_errors():
        run_id = full_run_id(open_store(tracking_uri), run_id)
        files = list_artifacts(run_id, path, tracking_uri=tracking_uri)
    if path and not files:
        fail(
            f"Run {run_id} has no artifacts under {path!r} (a file, or nothing, is there). "
            f"See `trainlab artifacts list {run_id}`."
        )
    if as_json:
        print_json([{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in files])
        return
    table = Table(
        title=f"{len(files)} artifact(s) of run {run_id}" + (f" under {path}" if path else "")
    )
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    for f in files:
        table.add_row(f.path + ("/" if f.is_dir else ""), "-" if f.is_dir else str(f.file_size))
    console.print(table)


@app.command("download")
def download_cmd(
    run_id: str = typer.Argument(..., help="The run's id, or a unique start of it."),
    path: str = typer.Argument("", help="A file or folder of the run's artifacts (default: all)."),
    dst: str = typer.Option(..., "--dst", "-d", help="Local folder to copy into."),
    tracking_uri: str = typer.Option(None, help=TRACKING_URI_HELP),
) -> None:
    """Copy a run's artifact (file or folder) into DST; prints the local path."""
    from trainlab.cli.common import full_run_id, open_store, with_errors
    from trainlab.client.artifacts import download_artifacts

    with with_errors():
        run_id = full_run_id(open_store(tracking_uri), run_id)
        local = download_artifacts(run_id, path, dst, tracking_uri=tracking_uri)
    typer.echo(local)
