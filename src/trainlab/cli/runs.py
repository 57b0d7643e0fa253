from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import typer

from trainlab.cli.common import TRACKING_URI, command_group

if TYPE_CHECKING:
    from trainlab.cli.render import RunModel
    from trainlab.entities import Run
    from trainlab.store._base import BaseTrackingStore

app = command_group("Runs: list, search, inspect, end, delete and restore.")


_COLUMN_KINDS = ("params", "param", "metrics", "metric", "tags", "tag")
SHORT_ID = 8  # the characters of a run id a narrow table shows
_FULL_ID_WIDTH = 120  # the terminal width from which tables show whole run ids
_FIXED_COLUMNS_WIDTH = 64  # a narrow table's id, name, status and start, with borders
_METRIC_WIDTH = 9  # a value as tables show it (5 significant digits)
_EXPERIMENT_WIDTH = 16


@app.command("list")
def list_cmd(
    experiment: list[str] = typer.Option(
        [],
        "--experiment",
        "-e",
        metavar="NAME",
        help="Experiment name or id (repeatable; default: all).",
    ),
    filters: list[str] = typer.Option(
        [],
        "--filter",
        "-f",
        help="Search grammar, e.g. \"metrics.acc > 0.9 AND params.lr = '0.1'\" (repeatable: "
        "runs that match all).",
    ),
    order_by: list[str] = typer.Option([], "--order-by", "-o", help="e.g. 'metrics.acc DESC'"),
    max_results: int = typer.Option(50, "--max-results", "-n", min=1, max=50000),
    columns: list[str] = typer.Option(
        [], "--column", "-c", help="Extra columns: params.x, metrics.y, tags.z (repeatable)."
    ),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List runs, newest first: of every experiment, or of those named with -e."""
    from rich.table import Table

    from trainlab.cli.common import (
        check_search,
        console,
        experiment_names,
        fail,
        opened_store,
        print_json,
        with_errors,
    )
    from trainlab.cli.render import run_cell, run_json
    from trainlab.client.fluent import experiment_ids
    from trainlab.store import search

    for column in columns:
        kind, _, key = column.partition(".")
        if kind not in _COLUMN_KINDS or not key:
            fail(f"Column {column!r}: name it params.KEY, metrics.KEY or tags.KEY.", code=2)
    given = [f for f in filters if f.strip()]
    filter_string = given[0] if len(given) == 1 else " AND ".join(f"({f})" for f in given) or None
    check_search(filter_string, order_by, search.runs_filter, search.runs_order_by)
    with with_errors(), opened_store(tracking_uri) as store:
        if experiment:
            ids = experiment_ids(store, experiment)
            names = experiment_names(store) if len(ids) > 1 else {}  # for the experiment column
        else:
            names = experiment_names(store)
            ids = list(names)
        page = store.search_runs(ids, filter_string, max_results=max_results, order_by=order_by)
        unknown = _keys_no_run_has(store, ids, filter_string) if not page else []
    if as_json:
        print_json([run_json(r) for r in page])
        return
    # A full id takes 32 of a terminal's 80 columns: there, ids are shortened (any command
    # that takes a run id takes 6 or more of its first characters), and fewer metrics shown.
    short = console.width < _FULL_ID_WIDTH
    keys = _keys("metrics", page)
    held = Counter(k for r in page for k in r.data.metrics)  # how many runs have each
    if columns:  # as given, after the metrics the runs are sorted by
        sorted_by = [f"metrics.{k}" for k in sorted_metrics(keys, order_by)]
        cols = [c for c in sorted_by if c not in columns] + columns
    else:  # as many as fit whole, headers unbroken: at least one
        used = _FIXED_COLUMNS_WIDTH + (0 if short else 32 - SHORT_ID)
        used += _EXPERIMENT_WIDTH if len(ids) > 1 else 0
        cols = []
        for key in default_metrics(held, order_by):
            need = max(len(key), _METRIC_WIDTH) + 3
            if cols and used + need > console.width:
                break
            cols.append(f"metrics.{key}")
            used += need
    notes = []
    if short and page:
        notes.append("run ids shortened to fit: --json lists them in full")
    if not columns and len(default_metrics(held, order_by)) > len(cols):
        notes.append("more metrics: -c metrics.KEY, or a wider terminal")
    notes += [_missing_column(c, page) for c in columns if page and not _on_any(c, page)]
    table = Table(
        title=f"{len(page)} run(s)"
        + (" (more: raise --max-results)" if page.next_page_token else ""),
        caption="; ".join(notes) or None,
    )
    table.add_column("run id", no_wrap=True)
    several = len(ids) > 1
    if several:
        table.add_column("experiment")
    for c in ("name", "status"):
        table.add_column(c)
    table.add_column("started", no_wrap=True)
    for c in cols:  # named as given with -c; the default metric columns by their key
        # a value folded over lines misreads (0.00 / 3333): cut it, with an ellipsis
        number = c.startswith("metrics.")
        table.add_column(
            c if columns else c.partition(".")[2],
            overflow="ellipsis" if number else "fold",
            no_wrap=number,
        )
    for r in page:
        cells = run_cell(r, cols)
        if short:
            cells[0] = cells[0][:SHORT_ID]
        if several:
            cells.insert(1, names.get(r.info.experiment_id, r.info.experiment_id))
        table.add_row(*cells)
    console.print(table)
    if unknown:  # why nothing matched
        console.print(
            f"No run here has {', '.join(unknown)}: `trainlab runs show RUN_ID` lists what a "
            "run has.",
            soft_wrap=True,
        )


def _keys_no_run_has(
    store: BaseTrackingStore, ids: list[str], filter_string: str | None
) -> list[str]:
    """``metric 'acc'`` for each metric, param or tag the filter names that no run of the
    experiments has."""
    from trainlab.store.search import named_keys

    prefix = {"metric": "metrics", "param": "params", "tag": "tags"}
    return [
        f"{kind} {key!r}"
        for kind, key in named_keys(filter_string)
        if not store.search_runs(ids, f"{prefix[kind]}.`{key}` IS NOT NULL", max_results=1)
    ]


def _keys(kind: str, runs: Iterable[Run]) -> set[str]:
    field = kind if kind.endswith("s") else f"{kind}s"  # param.x is params.x
    return {k for r in runs for k in getattr(r.data, field)}


def _on_any(column: str, runs: Iterable[Run]) -> bool:
    kind, _, key = column.partition(".")
    return key in _keys(kind, runs)


def _missing_column(column: str, runs: Iterable[Run]) -> str:
    """A note for a -c column that no listed run has, with the closest keys they do have."""
    import difflib

    kind, _, key = column.partition(".")
    close = difflib.get_close_matches(key, sorted(_keys(kind, runs)), n=3, cutoff=0.75)
    hint = f" (closest: {', '.join(f'{kind}.{k}' for k in close)})" if close else ""
    return f"no run listed has {column}{hint}"


@app.command("show")
def show_cmd(
    run_id: str = typer.Argument(
        ..., metavar="RUN_ID", help="The run's id, or a unique start of it."
    ),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Everything about one run: info, params, latest metrics, tags, inputs."""
    from trainlab.cli.common import full_run_id, opened_store, print_json, with_errors
    from trainlab.cli.render import print_run, run_json

    with with_errors(), opened_store(tracking_uri) as store:
        run = store.get_run(full_run_id(store, run_id))
        experiment = store.get_experiment(run.info.experiment_id).name
        models = run_models(store, run)
    if as_json:
        print_json({**run_json(run), "models": [vars(m) for m in models]})
    else:
        print_run(run, experiment, models)


_RUN_IDS = typer.Argument(..., metavar="RUN_ID...", help="Run ids, or unique starts of them.")


@app.command("delete")
def delete_cmd(run_ids: list[str] = _RUN_IDS, tracking_uri: str = TRACKING_URI) -> None:
    """Delete runs: lists, searches and the web UI leave them out; nothing they logged is
    removed, and `trainlab runs restore` brings them back."""
    _set_stage(run_ids, tracking_uri, delete=True)


@app.command("restore")
def restore_cmd(run_ids: list[str] = _RUN_IDS, tracking_uri: str = TRACKING_URI) -> None:
    """Restore deleted runs."""
    _set_stage(run_ids, tracking_uri, delete=False)


@app.command("end")
def end_cmd(
    run_ids: list[str] = _RUN_IDS,
    status: str = typer.Option("KILLED", help="KILLED, FAILED or FINISHED."),
    tracking_uri: str = TRACKING_URI,
) -> None:
    """End runs left RUNNING by a process that is gone (killed, its machine lost): their
    status and end time. A `trainlab train` run is better continued: train --resume."""
    from trainlab.cli.common import console, fail, full_run_id, opened_store, with_errors
    from trainlab.entities import RunStatus
    from trainlab.training.trainer import check_not_training

    if status.upper() not in ("KILLED", "FAILED", "FINISHED"):
        fail(f"--status {status!r}: use KILLED, FAILED or FINISHED.", code=2)
    ended = RunStatus(status.upper())
    with with_errors(), opened_store(tracking_uri) as store:
        runs = [store.get_run(r) for r in dict.fromkeys(full_run_id(store, r) for r in run_ids)]
        for run in runs:  # every run checked before any changes
            if RunStatus(run.info.status).is_terminated:
                fail(f"Run {run.info.run_id} has ended already ({run.info.status}).")
            check_not_training(run, "its process would go on logging to an ended run")
        end_time = int(time.time() * 1000)
        for run in runs:
            store.update_run_info(run.info.run_id, status=ended, end_time=end_time)
    console.print(f"Ended {len(runs)} run(s) {ended}: {', '.join(r.info.run_id for r in runs)}")


def _set_stage(given: list[str], tracking_uri: str, delete: bool) -> None:
    from trainlab.cli.common import console, fail, full_run_id, opened_store, uri_flag, with_errors

    target = "deleted" if delete else "active"
    with with_errors(), opened_store(tracking_uri) as store:
        run_ids = list(dict.fromkeys(full_run_id(store, r) for r in given))  # each once
        for run_id in run_ids:  # every run checked before any changes
            if store.get_run(run_id).info.lifecycle_stage == target:
                fail(f"Run {run_id} is already {target}; nothing was changed.")
        for run_id in run_ids:
            (store.delete_run if delete else store.restore_run)(run_id)
    done, undo = ("Deleted", "restore") if delete else ("Restored", "delete")
    console.print(f"{done} {len(run_ids)} run(s): {', '.join(run_ids)}")
    console.print(
        f"Undo: trainlab runs {undo} {' '.join(run_ids)}{uri_flag(tracking_uri)}",
        style="dim",
    )


def run_models(store: BaseTrackingStore, run: Run) -> list[RunModel]:
    """The models the run logged (not deleted), each with the registry versions made of it."""
    from trainlab.cli.render import RunModel
    from trainlab.client.resolve import registry_for
    from trainlab.models.uri import run_logged_models

    models = run_logged_models(store, run.info.run_id, run.info.experiment_id)
    versions = registry_for(store).search_model_versions(f"run_id = '{run.info.run_id}'")
    return [
        RunModel(
            m.model_id,
            m.name,
            [f"{v.name}/{v.version}" for v in versions if v.model_id == m.model_id],
        )
        for m in models
    ]


_SCORE_PREFIXES = ("test_", "valid_", "cv_", "train_")
_NOT_SCORES = ("system/", "data_overlap_")


def sorted_metrics(keys: set[str], order_by: list[str]) -> list[str]:
    """The metrics of ``keys`` that the ``order_by`` clauses (as the store took them) sort by,
    in their order."""
    if not order_by:
        return []
    from trainlab.store.search import parse_order_by

    clauses = [parse_order_by(clause) for clause in order_by]
    ordered = [c.key for c in clauses if c.kind == "metric" and c.key in keys]
    return list(dict.fromkeys(ordered))


def default_metrics(keys: Mapping[str, int] | set[str], order_by: list[str]) -> list[str]:
    """The metric columns shown without ``-c``, best first (the table takes as many as fit):
    those the runs are ordered by, then scores (test, valid, cross-validation, train), then the
    rest, each group's metrics that more runs have first (``keys`` may say how many); not
    system metrics or data-overlap counts."""
    counts = keys if isinstance(keys, Mapping) else dict.fromkeys(keys, 1)

    def rank(key: str) -> tuple[int, int, str]:
        prefix = next((i for i, p in enumerate(_SCORE_PREFIXES) if key.startswith(p)), 9)
        return prefix, -counts[key], key

    rest = sorted((k for k in counts if not k.startswith(_NOT_SCORES)), key=rank)
    return list(dict.fromkeys([*sorted_metrics(set(counts), order_by), *rest]))
