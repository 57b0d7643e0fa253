"""``trainlab train PIPELINE.yaml`` (or ``--resume RUN_ID``) and ``trainlab reproduce RUN_ID``.

Exit codes: 0 done; 2 the input was refused before any work (a bad pipeline, changed data or
code); 1 training failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from trainlab.cli.common import (
    TRACKING_URI_HELP,
    console,
    err_console,
    fail,
    full_run_id,
    open_store,
)

if TYPE_CHECKING:
    from trainlab.exceptions import TrainlabError
    from trainlab.training.runner import TrainResult


def import_from_here() -> None:
    """model.class may name a module of the current folder, as ``python -m`` would find it."""
    import os
    import sys

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _fail(exc: TrainlabError) -> NoReturn:
    refused = exc.error_code in ("INVALID_PARAMETER_VALUE", "INVALID_STATE")
    fail(exc.message, code=2 if refused else 1)


def train(
    pipeline: Path | None = typer.Argument(None, help="the pipeline file (YAML)"),
    set_: list[str] = typer.Option(
        [], "--set", help="override a key: --set model.params.max_depth=8 (repeatable)"
    ),
    experiment: str | None = typer.Option(None, "--experiment", "-e", help="experiment name"),
    resume: str | None = typer.Option(
        None, "--resume", metavar="RUN_ID", help="continue a killed run from its last checkpoint"
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_URI_HELP),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Train the model PIPELINE describes, track everything, print the run id and metrics."""
    from trainlab.exceptions import TrainlabError
    from trainlab.training.api import train as run_train
    from trainlab.training.spec import load_spec

    import_from_here()
    if resume is not None:
        if pipeline is not None or set_ or experiment:
            fail(
                "--resume continues a run with the pipeline it recorded: give no PIPELINE, "
                "--set or --experiment with it.",
                code=2,
            )
        try:
            result = run_train(
                resume_run=resume, tracking_uri=tracking_uri, progress=not no_progress
            )
        except TrainlabError as exc:
            _fail(exc)
        _report(result)
        return
    if pipeline is None:
        fail("give a PIPELINE file to train, or --resume RUN_ID to continue a run.", code=2)
    try:
        spec = load_spec(pipeline, set_, experiment)  # config errors: before any work
        result = run_train(spec, tracking_uri=tracking_uri, progress=not no_progress)
    except TrainlabError as exc:
        _fail(exc)
    _report(result)


def _report(result: TrainResult) -> None:
    from trainlab.cli.render import metrics_table

    console.print(
        f"run [bold]{result.run_id}[/] in experiment {result.experiment!r} ({result.task})"
    )
    if result.resumed_after_step is not None:
        console.print(f"resumed after the checkpoint at step {result.resumed_after_step}")
    console.print(metrics_table(result.metrics))
    for pair, count in result.overlaps.items():
        if count:
            console.print(
                f"[yellow]warning:[/] {count} identical rows in {pair.replace('/', ' and ')}"
            )
    if result.registered_version is not None:
        uri = f"models:/{result.registered_name}/{result.registered_version}"
        console.print(f"registered as [bold]{uri}[/]")
    flag = uri_flag(result.tracking_uri)
    console.print(
        f"\nnext: trainlab runs show {result.run_id}{flag}\n"
        f"      trainlab artifacts list {result.run_id}{flag}\n"
        f"      trainlab reproduce {result.run_id}{flag}"
    )


def uri_flag(uri: str) -> str:
    """`` --tracking-uri URI`` unless a plain command here would use ``uri`` anyway."""
    from trainlab.tuning.tuner import absolute_tracking_uri

    return (
        ""
        if absolute_tracking_uri(None) == absolute_tracking_uri(uri)
        else f" --tracking-uri {uri}"
    )


def reproduce(
    run_id: str = typer.Argument(..., help="the run to train again (its id, or a unique start)"),
    force: bool = typer.Option(False, "--force", help="train even if data or code changed"),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_URI_HELP),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Train a recorded run again from its pipeline and data, and compare the metrics."""
    from trainlab.exceptions import TrainlabError
    from trainlab.training.progress import Reporter
    from trainlab.training.reproduce import reproduce as run_reproduce

    import_from_here()
    try:
        run_id = full_run_id(open_store(tracking_uri), run_id)
        with Reporter(enabled=not no_progress) as reporter:
            rep = run_reproduce(run_id, force=force, tracking_uri=tracking_uri, reporter=reporter)
    except TrainlabError as exc:
        _fail(exc)
    for line in rep.differences:
        err_console.print(f"[yellow]forced past:[/] {line}")
    for line in rep.notes:
        err_console.print(f"[yellow]note:[/] {line}")
    if rep.packages:
        shown = ", ".join(rep.packages[:10])
        more = f" and {len(rep.packages) - 10} more" if len(rep.packages) > 10 else ""
        err_console.print(f"[yellow]packages changed since the run:[/] {shown}{more}")
    from trainlab.cli.render import comparison_table

    before = {k: m.value for k, m in rep.original.data.metrics.items()}
    after = {k: m.value for k, m in rep.reproduced.data.metrics.items()}
    console.print(f"run [bold]{rep.result.run_id}[/] reproduces {run_id}")
    console.print(comparison_table(before, after, run_id, rep.result.run_id))
