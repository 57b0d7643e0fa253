"""Side-by-side benchmark: the reference MLflow tracking server vs `trainlab server`.

    .venv/bin/python bench/run.py [--only NAME ...] [--quick] [--standin] [--output PATH]

Both servers are driven by the stock `mlflow.MlflowClient`, one after the other, in fresh
directories under bench/work/. Prints the comparison table and writes it to bench/RESULTS.md
(bench/work/RESULTS-quick.md for --quick). See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.measures import (  # noqa: E402
    CEILING_MEASURES,
    FULL,
    MEASURES,
    QUICK,
    TRAINLAB_ONLY,
    Context,
    Sizes,
)
from benchlib.report import Results, markdown_table, rich_table, table_rows  # noqa: E402
from benchlib.results_file import RunInfo, write_results  # noqa: E402
from benchlib.servers import (  # noqa: E402
    BENCH_DIR,
    CEILING,
    IDLE_SETTLE_S,
    REFERENCE,
    STANDIN,
    TRAINLAB,
    RunningServer,
    ServerSpec,
    server_command_available,
    start_server,
)
from mlflow import MlflowClient  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

ALWAYS_MEASURED = ["startup", "rss_startup", "rss_after"]
console = Console(width=None if sys.stdout.isatty() else 150)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="trainlab vs reference MLflow server benchmark")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(MEASURES),
        metavar="NAME",
        help=f"run only these workloads ({', '.join(MEASURES)}); start-up and RSS always run",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--standin",
        action="store_true",
        help="use a second reference server as the trainlab side (to develop the harness)",
    )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=["reference", "trainlab", "ceiling"],
        default=["reference", "trainlab", "ceiling"],
        help="which sides to run (default: all; ceiling = the stock client against canned "
        "replies, bench/canned_server.py)",
    )
    parser.add_argument("--output", type=Path, help="where to write the Markdown results")
    parser.add_argument("--keep-work", action="store_true", help="keep bench/work/<run>/ dirs")
    return parser.parse_args()


def selected_specs(args: argparse.Namespace) -> list[ServerSpec]:
    trainlab = STANDIN if args.standin else TRAINLAB
    return [spec for spec in (REFERENCE, trainlab, CEILING) if spec.key in args.servers]


def run_measures(
    server: RunningServer, sizes: Sizes, names: list[str], progress: Progress, task: Any
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    results: dict[str, dict[str, Any]] = {}
    ctx = Context(server=server, client=MlflowClient(server.uri), sizes=sizes)
    for name in names:
        progress.update(task, description=f"{server.spec.label}: {name}")
        try:
            results[name] = MEASURES[name](ctx)
        except Exception as exc:
            results[name] = {"error": repr(exc)}
            ctx.notes.append(f"{name}: ERROR {exc!r}")
            console.print(f"[red]{server.spec.label} {name} failed[/red]: {exc!r}")
            traceback.print_exc(file=sys.stderr)
        progress.advance(task)
        console.print(f"  {server.spec.label} {name}: {summarize(results[name])}")
    return results, ctx.notes


def summarize(entry: dict[str, Any]) -> str:
    shown = {k: v for k, v in entry.items() if k not in {"top_names", "reads_s"}}
    return ", ".join(
        f"{k}={v:,.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
    )


def bench_server(
    spec: ServerSpec, workdir: Path, sizes: Sizes, names: list[str], progress: Progress, task: Any
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Start `spec`, run the selected workloads, measure RSS, stop it."""
    if not server_command_available(spec):
        progress.advance(task, len(names) + 2)
        return {}, [f"`{spec.executable} server` is not available: side not measured"]
    progress.update(task, description=f"{spec.label}: starting")
    # The side before wrote gigabytes: both sides start with that written out, not with the
    # disk busy writing it back while their modules load.
    os.sync()
    server = start_server(spec, workdir)
    results: dict[str, dict[str, Any]] = {"startup": {"value": server.startup_s}}
    notes: list[str] = []
    try:
        quiet_s = server.wait_quiet()
        notes.append(f"quiet (tree CPU < 10% of a core) {quiet_s:.1f} s after the first 200")
        time.sleep(IDLE_SETTLE_S)
        results["rss_startup"] = {"value": server.rss_mb()}
        notes.append(f"idle RSS after start-up by process: {rss_breakdown(server)}")
        progress.advance(task)
        console.print(
            f"  {spec.label} started in {server.startup_s:.2f} s, quiet after {quiet_s:.1f} s, "
            f"idle RSS {results['rss_startup']['value']:.0f} MB"
        )
        measured, measure_notes = run_measures(server, sizes, names, progress, task)
        results.update(measured)
        notes += measure_notes
        server.wait_quiet()
        time.sleep(IDLE_SETTLE_S)
        results["rss_after"] = {"value": server.rss_mb()}
        notes.append(f"idle RSS after the workload by process: {rss_breakdown(server)}")
        progress.advance(task)
    finally:
        server.stop()
    return results, notes


def rss_breakdown(server: RunningServer) -> str:
    roles = server.rss_by_role().items()
    return "; ".join(f"{role} x{count}: {mb:,.0f} MB" for role, (count, mb) in roles)


def measures_for(spec: ServerSpec, selected: list[str]) -> list[str]:
    if spec.key == "reference":
        return [name for name in selected if name not in TRAINLAB_ONLY]
    if spec.key == "ceiling":
        return [name for name in selected if name in CEILING_MEASURES]
    return selected


def compare_search(results: Results) -> str | None:
    ref = results.get("reference", {}).get("search", {}).get("top_names")
    tl = results.get("trainlab", {}).get("search", {}).get("top_names")
    if ref is None or tl is None:
        return None
    if ref == tl:
        return f"search: both servers returned the same {len(ref)} runs in the same order"
    return f"search: RESULTS DIFFER (reference {ref[:3]}..., trainlab {tl[:3]}...)"


def has_errors(results: Results, notes: dict[str, list[str]]) -> bool:
    failed_measure = any("error" in entry for side in results.values() for entry in side.values())
    failed_server = any(
        note.startswith("server failed") for side in notes.values() for note in side
    )
    return failed_measure or failed_server


def exit_on_sigterm(signum: int, _frame: object) -> None:
    """Turn SIGTERM into SystemExit so that `finally` blocks stop the servers."""
    raise SystemExit(128 + signum)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # set_terminated prints URLs
    sizes = QUICK if args.quick else FULL
    selected = args.only or list(MEASURES)
    specs = selected_specs(args)
    run_dir = BENCH_DIR / "work" / time.strftime("run-%Y%m%d-%H%M%S")
    results: Results = {}
    notes: dict[str, list[str]] = {}
    started = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        for spec in specs:
            names = measures_for(spec, selected)
            task = progress.add_task(spec.label, total=len(names) + 2)
            try:
                results[spec.key], notes[spec.key] = bench_server(
                    spec, run_dir / spec.key, sizes, names, progress, task
                )
            except Exception as exc:
                results[spec.key], notes[spec.key] = {}, [f"server failed: {exc!r}"]
                console.print(f"[red]{spec.label} failed[/red]: {exc!r}")
    if comparison := compare_search(results):
        notes.setdefault("comparison", []).append(comparison)
    trainlab_label = STANDIN.label if args.standin else TRAINLAB.label
    rows = table_rows(results, sizes, set(ALWAYS_MEASURED) | set(selected))
    console.print(rich_table(rows, trainlab_label))
    output = args.output or (
        BENCH_DIR / "work" / "RESULTS-quick.md" if args.quick else BENCH_DIR / "RESULTS.md"
    )
    info = RunInfo(
        argv=sys.argv[1:],
        quick=args.quick,
        standin=args.standin,
        specs=specs,
        elapsed_s=time.perf_counter() - started,
    )
    write_results(output, info, markdown_table(rows, trainlab_label), notes, sizes)
    console.print(f"wrote {output}")
    if args.keep_work or has_errors(results, notes):
        console.print(f"server logs and data kept in {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
