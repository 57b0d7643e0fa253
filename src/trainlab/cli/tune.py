"""``trainlab tune PIPELINE.yaml`` (a study) and ``trainlab tune-worker`` (one trial slot of a
study, what a Kubernetes pod runs). Exit codes: 0 done; 2 refused before any trial (a bad tune
section, a study that exists without --resume); 1 failed, every trial included; 130 / 143
stopped by Ctrl-C / SIGTERM (the study's run and its trials in flight end KILLED; --resume
continues it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from trainlab.cli.common import TRACKING_URI, console, err_console, fail, not_empty

if TYPE_CHECKING:
    from trainlab.exceptions import TrainlabError
    from trainlab.tuning.tuner import StudyPlan, TuneResult


def _fail(exc: TrainlabError) -> NoReturn:
    refused = exc.error_code in ("INVALID_PARAMETER_VALUE", "INVALID_STATE")
    fail(exc.message, code=2 if refused else 1)


def tune(
    pipeline: Path = typer.Argument(
        ..., metavar="PIPELINE", help="the pipeline file, with a tune: section"
    ),
    trials: int | None = typer.Option(
        None, "--trials", "-n", min=1, help="trials in all (tune.trials)"
    ),
    timeout: float | None = typer.Option(None, "--timeout", help="no new trial after S seconds"),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="trials at once"),
    backend: str = typer.Option("local", "--backend", help="local | ray | kubernetes"),
    resume: bool = typer.Option(False, "--resume", help="continue the study where it stopped"),
    study: str | None = typer.Option(None, "--study", help="study name (the experiment's)"),
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage (journal:FILE, postgresql://...)"
    ),
    set_: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="override a key (repeatable)"
    ),
    experiment: str | None = typer.Option(
        None, "--experiment", "-e", metavar="NAME", help="experiment name", callback=not_empty
    ),
    tracking_uri: str | None = TRACKING_URI,
    address: str | None = typer.Option(None, "--address", help="ray: the cluster's address"),
    image: str | None = typer.Option(None, "--image", help="kubernetes: the worker image"),
    namespace: str = typer.Option("default", "--namespace", help="kubernetes namespace"),
    cpu: str | None = typer.Option(None, "--cpu", help="kubernetes: CPU per worker (2, 500m)"),
    memory: str | None = typer.Option(None, "--memory", help="kubernetes: memory (4Gi)"),
    gpu: int = typer.Option(0, "--gpu", help="kubernetes: GPUs per worker"),
    secret: str | None = typer.Option(
        None, "--secret", help="kubernetes: Secret with TRAINLAB_TRACKING_URI, credentials"
    ),
    retries: int = typer.Option(2, "--retries", help="kubernetes: retries of one trial slot"),
    dry_run: bool = typer.Option(False, "--dry-run", help="kubernetes: print the Job only"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bar"),
) -> None:
    """Search the hyperparameters of PIPELINE's tune: section with Optuna: the study is a
    parent run, each trial a child run."""
    from trainlab.cli.train import import_from_here
    from trainlab.exceptions import TrainlabError
    from trainlab.training.spec import load_spec
    from trainlab.tuning import k8s_backend
    from trainlab.tuning.kubernetes import JobSettings, manifest_yaml
    from trainlab.tuning.tuner import plan_pipeline, run_study

    if backend not in ("local", "ray", "kubernetes"):
        fail(f"--backend {backend!r}: use local, ray or kubernetes.", code=2)
    if (dry_run or image) and backend != "kubernetes":
        fail("--image and --dry-run are for --backend kubernetes.", code=2)
    import_from_here()
    plan: StudyPlan | None = None
    try:
        spec = load_spec(pipeline, set_, experiment)
        plan = plan_pipeline(spec, tracking_uri, study, storage)
        settings = None
        if backend == "kubernetes":
            if not image:
                fail("--backend kubernetes needs --image: an image with trainlab and your code.")
            n = plan.tune.trials if trials is None else trials
            settings = JobSettings(
                name=k8s_backend.job_name(plan.name),
                image=image,
                command=[],
                completions=n,
                parallelism=workers,
                namespace=namespace,
                cpu=cpu,
                memory=memory,
                gpu=gpu,
                secret=secret,
                backoff_limit_per_index=retries,
            )
            if dry_run:
                job = k8s_backend.manifest(plan.name, plan.storage, n, settings)
                typer.echo(manifest_yaml(job), nl=False)
                return
        result = run_study(
            plan,
            trials=trials,
            timeout=timeout,
            workers=workers,
            backend=backend,  # type: ignore[arg-type]
            resume=resume,
            progress=not no_progress,
            ray_address=address,
            kubernetes=settings,
        )
    except TrainlabError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        name = plan.name if plan is not None else str(study)
        _interrupted(exc, _resume_command(name))
    assert plan is not None
    _report(result, plan.tune.metrics, plan.tune.directions[0])
    _fail_if_all_failed(result)


_URI_OPTIONS = ("--storage", "--tracking-uri", "--address")


def _resume_command(study: str) -> str:
    """The command that continues the study: this one as it was given (backend, workers and
    every other option), naming the study, with --resume; passwords in URIs masked."""
    import shlex
    import sys

    from trainlab.client.resolve import redacted

    words, given = ["trainlab"], sys.argv[1:]
    index = 0
    while index < len(given):
        word = given[index]
        name, _, inline = word.partition("=")
        if name == "--study":  # named again below
            index += 1 if inline else 2
            continue
        if word != "--resume":
            if name in _URI_OPTIONS and inline:
                word = f"{name}={redacted(inline)}"
            elif word in _URI_OPTIONS and index + 1 < len(given):
                words += [word, redacted(given[index + 1])]
                index += 2
                continue
            words.append(word)
        index += 1
    return shlex.join([*words, "--study", study, "--resume"])


def _interrupted(exc: KeyboardInterrupt, resume: str) -> NoReturn:
    from trainlab.cli.train import report_interrupt

    report_interrupt(
        exc,
        lambda run_id: f"the study's run {run_id} and its trials in flight",
        "the study started",
        lambda _run_id: resume,
    )


def _fail_if_all_failed(result: TuneResult) -> None:
    """A study none of whose trials completed or was pruned is a failure: exit 1."""
    counts = result.summary.counts
    if counts.get("fail", 0) and not counts.get("complete", 0) and not counts.get("pruned", 0):
        errors = result.summary.errors  # newest first
        first = f"; the first: {errors[-1]}" if errors else ""
        fail(f"all {counts['fail']} trials of study {result.study} failed{first}", code=1)


def _report(result: TuneResult, metrics: list[str], direction: str) -> None:
    from rich.table import Table

    s = result.summary
    counts = ", ".join(f"{v} {k}" for k, v in s.counts.items())
    console.print(f"study [bold]{result.study}[/] ({counts}); its run {result.parent_run_id}")
    if s.best:
        table = Table(title="best trial" if len(s.best) == 1 else "best trials (Pareto front)")
        table.add_column("trial", justify="right")
        for m in metrics:
            table.add_column(m, justify="right")
        table.add_column("params", overflow="fold")
        table.add_column("run", no_wrap=True, min_width=32)  # whole: it is pasted into commands
        for b in s.best:
            params = ", ".join(f"{k}={_short(v)}" for k, v in b.params.items())
            table.add_row(str(b.number), *(f"{v:.6g}" for v in b.values), params, b.run_id or "")
        console.print(table)
    if s.importances:
        ranked = sorted(s.importances.items(), key=lambda kv: -kv[1])
        console.print("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked))
    for error in s.errors[:3]:
        console.print(f"[yellow]failed:[/] {error}")
    from trainlab.cli.common import uri_flag

    flag = uri_flag(result.tracking_uri)
    if result.registered is not None:
        trial, name, version = result.registered
        console.print(
            f"registered trial {trial}'s model as [bold]{name}[/] version {version}; promote it: "
            f"trainlab promote {name} --version {version} --alias champion --policy POLICY{flag}",
            soft_wrap=True,
        )
    parent = result.parent_run_id
    order = "ASC" if direction == "minimize" else "DESC"  # the best trials first
    console.print(
        f"\nnext: trainlab runs list -e {result.experiment} "
        f"-f \"tags.mlflow.parentRunId = '{parent}'\" -o 'metrics.{metrics[0]} {order}'{flag}\n"
        f"      trainlab runs show {parent}{flag}",
        soft_wrap=True,
    )


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def tune_worker(
    study: str = typer.Option(..., "--study", help="the study"),
    storage: str | None = typer.Option(
        None, "--storage", help="its storage (default: $TRAINLAB_STUDY_STORAGE)"
    ),
    slot: int | None = typer.Option(
        None, "--slot", help="the trial slot (default: $JOB_COMPLETION_INDEX)"
    ),
) -> None:
    """Run one trial slot of a study (what each pod of a Kubernetes tuning Job runs)."""
    from trainlab.exceptions import TrainlabError
    from trainlab.training.signals import Interrupted, sigterm_interrupts
    from trainlab.tuning.worker import SlotRunner

    where = storage or os.environ.get("TRAINLAB_STUDY_STORAGE")
    index = slot if slot is not None else os.environ.get("JOB_COMPLETION_INDEX")
    if not where:
        fail("give --storage, or set TRAINLAB_STUDY_STORAGE.", code=2)
    if index is None:
        fail("give --slot, or run as an Indexed Job (JOB_COMPLETION_INDEX).", code=2)
    if not str(index).isdigit():
        fail(f"slot {index}: a slot is a number, 0 or more.", code=2)
    # A pod is stopped with SIGTERM (the Job deleted, a node drained): the trial's run ends
    # KILLED, and the slot's trial is tried again when Kubernetes retries the index.
    try:
        with sigterm_interrupts():
            state = SlotRunner(study, where, int(index)).run(int(index))
    except TrainlabError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        stopped = exc if isinstance(exc, Interrupted) else Interrupted()
        err_console.print(
            f"slot {index}: interrupted ({stopped.signal_name}); its trial's run ended KILLED, "
            "and the trial runs again when the slot is run again."
        )
        raise typer.Exit(stopped.exit_code) from None
    console.print(f"slot {index}: {state.name}")
