"""Rich rendering of runs for the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from trainlab.cli.common import console, timestamp
from trainlab.entities import Run
from trainlab.entities.tags import (
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    PARENT_RUN_TAG,
    SOURCE_NAME_TAG,
    TRIAL_STATE_TAG,
)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def status(run: Run) -> str:
    """The run's status; a tuning trial the pruner stopped says so (it ends KILLED)."""
    pruned = run.data.tags.get(TRIAL_STATE_TAG) == "PRUNED"
    return f"{run.info.status} (pruned)" if pruned else str(run.info.status)


def run_cell(run: Run, columns: list[str]) -> list[str]:
    cells = [
        run.info.run_id,
        run.info.run_name,
        status(run),
        timestamp(run.info.start_time),
    ]
    for col in columns:
        kind, _, key = col.partition(".")
        if kind in ("metric", "metrics"):
            m = run.data.metrics.get(key)
            cells.append(_fmt(m.value) if m else "")
        elif kind in ("param", "params"):
            cells.append(run.data.params.get(key, ""))
        else:
            cells.append(run.data.tags.get(key, ""))
    return cells


def run_json(run: Run) -> dict[str, Any]:
    return {
        "info": {**vars(run.info), "status": str(run.info.status)},
        "params": run.data.params,
        "metrics": {
            k: {"value": m.value, "step": m.step, "timestamp": m.timestamp}
            for k, m in run.data.metrics.items()
        },
        "tags": run.data.tags,
        "inputs": [
            {"name": d.dataset.name, "digest": d.dataset.digest, "tags": d.tags}
            for d in run.inputs.dataset_inputs
        ],
    }


@dataclass
class RunModel:
    """A model a run logged, and the registry versions made of it (``name/version``)."""

    model_id: str
    name: str
    registered: list[str]


def print_run(run: Run, experiment: str | None = None, models: Sequence[RunModel] = ()) -> None:
    """The run's info, params, latest metrics, tags, inputs and models; ``experiment``: its
    name."""
    i = run.info
    info = Table.grid(padding=(0, 2))
    for label, value in (
        ("run id", i.run_id),
        ("name", i.run_name),
        ("experiment", f"{experiment} ({i.experiment_id})" if experiment else i.experiment_id),
        ("status", status(run)),
        ("user", i.user_id or "-"),
        ("started", timestamp(i.start_time)),
        ("ended", timestamp(i.end_time)),
        ("artifacts", i.artifact_uri),
        ("parent", run.data.tags.get(PARENT_RUN_TAG)),
        ("code", _code_version(run.data.tags)),
    ):
        if value is not None:
            info.add_row(f"[bold]{label}[/]", value)
    console.print(info)
    for title, rows in (
        ("params", sorted(run.data.params.items())),
        (
            "metrics (latest)",
            sorted((k, f"{_fmt(m.value)}  (step {m.step})") for k, m in run.data.metrics.items()),
        ),
        ("tags", sorted((k, v) for k, v in run.data.tags.items() if not k.startswith("mlflow."))),
    ):
        if rows:
            t = Table(title=title, title_justify="left")
            t.add_column("key")
            t.add_column("value", overflow="fold")
            for k, v in rows:
                t.add_row(k, v)
            console.print(t)
    for d in run.inputs.dataset_inputs:
        console.print(f"[bold]dataset[/] {d.dataset.name} digest={d.dataset.digest} {d.tags}")
    if models:
        t = Table(title="models", title_justify="left")
        t.add_column("name")
        t.add_column("load with", overflow="fold")
        t.add_column("registered as", overflow="fold")
        for m in models:
            registered = ", ".join(f"models:/{v}" for v in m.registered) or "-"
            t.add_row(m.name, f"models:/{m.model_id}", registered)
        console.print(t)


def _code_version(tags: dict[str, str]) -> str | None:
    """``commit (uncommitted changes) on branch, source`` from the run's git tags."""
    commit = tags.get(GIT_COMMIT_TAG)
    if not commit:
        return None
    text = commit[:12]
    if tags.get(GIT_DIRTY_TAG) == "True":
        text += " (with uncommitted changes)"
    if branch := tags.get(GIT_BRANCH_TAG):
        text += f" on {branch}"
    if source := tags.get(SOURCE_NAME_TAG):
        text += f", {source}"
    return text


def metrics_table(metrics: dict[str, float]) -> Table:
    """Scores as one row per split (``train_f1`` -> row train, column f1), cross-validation as a
    row of mean ± std, columns in the order of ``metrics``; the rest (iterations, time, memory)
    as the caption, not under a score."""
    splits = ("train", "valid", "test")

    def split_of(key: str) -> tuple[str, str] | None:
        head, _, name = key.partition("_")
        if head in splits and name:
            return head, name
        if head == "cv" and name.endswith("_mean"):
            return "cv", name.removesuffix("_mean")
        return None

    scored = {k: pair for k in metrics if (pair := split_of(k)) is not None}
    # in the order they were scored (the pipeline's metrics: list), train's first
    order = (*splits, "cv")
    ranked = sorted(scored.values(), key=lambda pair: order.index(pair[0]))
    names = list(dict.fromkeys(name for _, name in ranked))
    others = {k: v for k, v in metrics.items() if k not in scored and not k.startswith("cv_")}
    caption = ", ".join(f"{k} {_fmt(others[k])}" for k in sorted(others))
    table = Table(title="metrics", caption=caption or None)
    table.add_column("split")
    for name in names or ["value"]:
        table.add_column(name, justify="right")
    for split in (*splits, "cv"):
        cells = []
        for n in names:
            if split == "cv" and f"cv_{n}_mean" in metrics:
                std = metrics.get(f"cv_{n}_std")
                spread = f" ± {std:.2g}" if std is not None else ""
                cells.append(f"{_fmt(metrics[f'cv_{n}_mean'])}{spread}")
            else:
                cells.append(_fmt(metrics[f"{split}_{n}"]) if f"{split}_{n}" in metrics else "")
        if any(cells):
            table.add_row(split, *cells)
    return table


# Vary from run to run by nature; a difference there is no sign of drift.
_VOLATILE = ("training_time_s", "peak_memory_mb")


def comparison_table(
    before: dict[str, float], after: dict[str, float], before_id: str, after_id: str
) -> Table:
    """One row per metric of the two runs (system metrics left out): both values and the
    difference, in yellow where a result metric differs."""
    import math

    table = Table(title="metrics: original vs reproduction")
    table.add_column("metric")
    table.add_column(before_id[:12], justify="right")
    table.add_column(after_id[:12], justify="right")
    table.add_column("difference", justify="right")
    for key in sorted(set(before) | set(after)):
        if key.startswith("system/"):
            continue
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            diff = "only in one"
        elif a == b or (math.isnan(a) and math.isnan(b)):
            diff = "0"
        else:
            diff = f"{b - a:+.3g}"
            if key not in _VOLATILE:
                diff = f"[yellow]{diff}[/]"
        table.add_row(key, "" if a is None else _fmt(a), "" if b is None else _fmt(b), diff)
    return table
