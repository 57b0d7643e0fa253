"""Rich rendering of runs for the CLI."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from trainlab.cli.common import console, timestamp
from trainlab.entities import Run


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def run_cell(run: Run, columns: list[str]) -> list[str]:
    cells = [
        run.info.run_id,
        run.info.run_name,
        str(run.info.status),
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


def print_run(run: Run) -> None:
    i = run.info
    info = Table.grid(padding=(0, 2))
    for label, value in (
        ("run id", i.run_id),
        ("name", i.run_name),
        ("experiment", i.experiment_id),
        ("status", str(i.status)),
        ("user", i.user_id or "-"),
        ("started", timestamp(i.start_time)),
        ("ended", timestamp(i.end_time)),
        ("artifacts", i.artifact_uri),
    ):
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
