from __future__ import annotations

import typer

from trainlab.cli.common import TRACKING_URI, command_group

app = command_group("Experiments: list, delete and restore.")


@app.command("list")
def list_cmd(
    tracking_uri: str = TRACKING_URI,
    filter_string: str = typer.Option(None, "--filter", help="e.g. \"name LIKE 'wine%'\""),
    view: str = typer.Option("active", help="active | deleted | all"),
    max_results: int = typer.Option(1000, min=1, max=50000),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List experiments: id, name, stage, creation time and artifact location."""
    from rich.table import Table

    from trainlab.cli.common import (
        check_search,
        console,
        opened_store,
        print_json,
        timestamp,
        with_errors,
    )
    from trainlab.entities import ViewType
    from trainlab.store import search

    views = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
    if view not in views:
        from trainlab.cli.common import fail

        fail(f"Invalid --view {view!r}: use one of active, deleted, all.", code=2)
    check_search(filter_string, (), search.experiments_filter, search.experiments_order_by)
    with with_errors(), opened_store(tracking_uri) as store:
        page = store.search_experiments(views[view], max_results, filter_string)
    if as_json:
        print_json([vars(e) for e in page])
        return
    table = Table(title=f"{len(page)} experiment(s)")
    for col in ("id", "name", "stage", "created", "artifact location"):
        table.add_column(col)
    for e in page:
        table.add_row(
            e.experiment_id,
            e.name,
            e.lifecycle_stage,
            timestamp(e.creation_time),
            e.artifact_location,
        )
    console.print(table)


_EXPERIMENT = typer.Argument(..., metavar="EXPERIMENT", help="The experiment's name or id.")


@app.command("delete")
def delete_cmd(experiment: str = _EXPERIMENT, tracking_uri: str = TRACKING_URI) -> None:
    """Delete an experiment and its runs: lists, searches and the web UI leave them out;
    nothing is removed, and `trainlab experiments restore` brings them back."""
    _set_stage(experiment, tracking_uri, delete=True)


@app.command("restore")
def restore_cmd(experiment: str = _EXPERIMENT, tracking_uri: str = TRACKING_URI) -> None:
    """Restore a deleted experiment and the runs deleted with it (a run deleted on its own
    before stays deleted)."""
    _set_stage(experiment, tracking_uri, delete=False)


def _set_stage(experiment: str, tracking_uri: str, delete: bool) -> None:
    from trainlab.cli.common import console, opened_store, uri_flag, with_errors
    from trainlab.client.fluent import experiment_ids

    with with_errors(), opened_store(tracking_uri) as store:
        (experiment_id,) = experiment_ids(store, [experiment])
        (store.delete_experiment if delete else store.restore_experiment)(experiment_id)
        name = store.get_experiment(experiment_id).name
    done, undo = ("Deleted", "restore") if delete else ("Restored", "delete")
    runs = "its runs" if delete else "the runs deleted with it"
    console.print(f"{done} experiment {name!r} (id {experiment_id}) and {runs}")
    console.print(
        f"Undo: trainlab experiments {undo} {experiment_id}{uri_flag(tracking_uri)}", style="dim"
    )
