"""``trainlab train PIPELINE.yaml`` (or ``--resume RUN_ID``) and ``trainlab reproduce RUN_ID``.

Exit codes: 0 done; 2 the input was refused before any work (a bad pipeline, changed data or
code); 1 training failed (its run records why); 130 / 143 stopped by Ctrl-C / SIGTERM (its run
ends KILLED and can be resumed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from trainlab.cli.common import (
    TRACKING_URI,
    console,
    err_console,
    fail,
    full_run_id,
    not_empty,
    opened_store,
    uri_flag,
)

if TYPE_CHECKING:
    from trainlab.exceptions import TrainlabError
    from trainlab.training.runner import TrainResult


NO_PROGRESS = typer.Option(
    False, "--no-progress", help="no progress bars, nor the line naming the run as it starts"
)


def import_from_here() -> None:
    """model.class may name a module of the current folder, as ``python -m`` would find it."""
    import os
    import sys

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _fail(exc: TrainlabError, tracking_uri: str | None = None) -> NoReturn:
    from trainlab.training.failure import failed_run

    refused = exc.error_code in ("INVALID_PARAMETER_VALUE", "INVALID_STATE")
    run_id = failed_run(exc)
    if run_id is not None:  # found in training (an early-stopping curve it does not report):
        fail(f"{exc.message}\n{_where_failed(exc, run_id, tracking_uri)}")  # a failed run
    fail(exc.message, code=2 if refused else 1)


def _where_failed(exc: BaseException, run_id: str, tracking_uri: str | None) -> str:
    from trainlab.exceptions import ServiceUnavailable
    from trainlab.training.failure import TRACEBACK_ARTIFACT, traceback_stored

    flag = uri_flag(tracking_uri)
    if isinstance(exc, ServiceUnavailable):  # nothing wrong with the training: continue it
        return (
            f"run {run_id} ended FAILED; once the server answers again, continue it from its "
            f"last checkpoint: trainlab train --resume {run_id}{flag}"
        )
    if not traceback_stored(exc):  # the store refused it, and the warning above says why
        return f"run {run_id} ended FAILED; its traceback could not be stored with it."
    return (
        f"run {run_id} ended FAILED; its traceback: trainlab artifacts download {run_id} "
        f"{TRACEBACK_ARTIFACT} -d .{flag}"
    )


def _training_failed(exc: Exception, tracking_uri: str | None) -> NoReturn:
    """An error in training, recorded on its run: its type and message, not a traceback. An
    error before any run existed is not ours to shorten: it is raised as it is."""
    from trainlab.training.failure import describe, failed_run

    run_id = failed_run(exc)
    if run_id is None:
        raise exc
    fail(f"training failed: {describe(exc)}\n{_where_failed(exc, run_id, tracking_uri)}", code=1)


def report_interrupt(
    exc: KeyboardInterrupt, what: Callable[[str], str], before: str, resume: Callable[[str], str]
) -> NoReturn:
    """Ctrl-C or SIGTERM: one line on what happened (``what(run_id)`` ended KILLED, or it
    came ``before`` a run existed) and how to continue (``resume(run_id)``); the signal's exit
    code."""
    from trainlab.training.signals import Interrupted, ignore_further_signals

    ignore_further_signals()  # a second Ctrl-C (or `timeout`'s) does not cut the report short
    stopped = exc if isinstance(exc, Interrupted) else Interrupted()
    if stopped.run_id is None:
        err_console.print(f"interrupted ({stopped.signal_name}) before {before}.")
    else:
        err_console.print(
            f"interrupted ({stopped.signal_name}): {what(stopped.run_id)} ended KILLED; "
            f"continue it with: {resume(stopped.run_id)}",
            soft_wrap=True,
        )
    raise typer.Exit(stopped.exit_code)


def _interrupted(exc: KeyboardInterrupt, tracking_uri: str | None) -> NoReturn:
    flag = uri_flag(tracking_uri)
    report_interrupt(
        exc,
        lambda run_id: f"run {run_id}",
        "a run was started",
        lambda run_id: f"trainlab train --resume {run_id}{flag}",
    )


@contextmanager
def _outcome(tracking_uri: str | None) -> Iterator[None]:
    """How train and reproduce end when training does not: a refusal (exit 2) or a failure
    recorded on its run (1), each in a line or two; Ctrl-C or SIGTERM (130 / 143)."""
    from trainlab.exceptions import TrainlabError

    try:
        yield
    except TrainlabError as exc:
        _fail(exc, tracking_uri)
    except KeyboardInterrupt as exc:
        _interrupted(exc, tracking_uri)
    except Exception as exc:  # noqa: BLE001 - the model's own error, recorded on the run
        _training_failed(exc, tracking_uri)


def train(
    pipeline: Path | None = typer.Argument(
        None, metavar="PIPELINE", help="the pipeline file (YAML)"
    ),
    set_: list[str] = typer.Option(
        [],
        "--set",
        metavar="KEY=VALUE",
        help="override a key: --set model.params.max_depth=8 (repeatable)",
    ),
    experiment: str | None = typer.Option(
        None, "--experiment", "-e", metavar="NAME", help="experiment name", callback=not_empty
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        metavar="RUN_ID",
        help="continue a killed or failed run from its last checkpoint (its id, or a unique start)",
    ),
    tracking_uri: str | None = TRACKING_URI,
    no_progress: bool = NO_PROGRESS,
) -> None:
    """Train the model PIPELINE describes, track everything, print the run id and metrics."""
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
        with _outcome(tracking_uri):
            with opened_store(tracking_uri) as store:
                run_id = full_run_id(store, resume)
            result = run_train(
                resume_run=run_id, tracking_uri=tracking_uri, progress=not no_progress
            )
        _report(result)
        return
    if pipeline is None:
        fail("give a PIPELINE file to train, or --resume RUN_ID to continue a run.", code=2)
    with _outcome(tracking_uri):
        spec = load_spec(pipeline, set_, experiment)  # config errors: before any work
        result = run_train(spec, tracking_uri=tracking_uri, progress=not no_progress)
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


def reproduce(
    run_id: str = typer.Argument(
        ..., metavar="RUN_ID", help="the run to train again (its id, or a unique start)"
    ),
    force: bool = typer.Option(False, "--force", help="train even if data or code changed"),
    tracking_uri: str | None = TRACKING_URI,
    no_progress: bool = NO_PROGRESS,
) -> None:
    """Train a recorded run again from its pipeline and data, and compare the metrics."""
    from trainlab.training.progress import Reporter
    from trainlab.training.reproduce import reproduce as run_reproduce
    from trainlab.training.signals import sigterm_interrupts

    import_from_here()
    with _outcome(tracking_uri):
        with opened_store(tracking_uri) as store:
            run_id = full_run_id(store, run_id)
        with sigterm_interrupts(), Reporter(enabled=not no_progress) as reporter:
            rep = run_reproduce(run_id, force=force, tracking_uri=tracking_uri, reporter=reporter)
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
    if rep.result.registered_version is not None:  # the pipeline registers what it trains
        name, version = rep.result.registered_name, rep.result.registered_version
        console.print(f"registered as [bold]models:/{name}/{version}[/] (the pipeline's register)")
