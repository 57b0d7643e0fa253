"""The web UI with 10,000 runs and a 1,000,000-point metric, in a real browser, against the
reference MLflow server's UI on the same data in the same run.

Both servers start in fresh folders (bench/work/ui-*/) on SQLite. Each gets one experiment of
10,000 runs with 20 params and 20 metrics (benchlib.seed_data.seed_run: the reference through a
bulk SQL insert as bench/seed_reference.py does, trainlab through its store API), and one run
whose metric ``signal`` has 1,000,000 points (a slow wave with one spike). Debian's chromium,
driven by Playwright, then measures with the page's own clock (``performance.now()``, whose
zero is the navigation start), each measure ``--repeat`` times in a fresh browser context (an
empty cache), reporting the median:

- runs table, first paint: from navigation to the first rAF with at least 10 rows of runs in
  the table, with its metric columns on trainlab's side (trainlab ``/experiments/ID``;
  reference ``/#/experiments/ID/runs``, whose default columns hold no metrics);
- filter round trip: from pressing Enter in the filter box with
  ``metrics.m0 > 0.5 and params.p1 = 'x' and tags.t = 'y'`` to the first rAF where the table
  shows at least 10 runs and every one matches (the matching names come from the server's API);
- run page with the 1,000,000-point metric: from navigation to the first rAF with its chart
  drawn from data (trainlab: the uPlot chart of ``signal`` holds its points; reference: the
  plotly line of the chart has a path) on the run's metrics view
  (trainlab ``/runs/ID?tab=metrics``; reference ``/#/experiments/E/runs/ID/model-metrics``).

Usage: ``.venv/bin/python bench/ui_bench.py [--runs N] [--points N] [--repeat N] [--no-write]``
(needs ``bash bench/setup_reference.sh`` once, and /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from benchlib.measures import REFERENCE_PYTHON, SEED_REFERENCE  # noqa: E402
from benchlib.seed_data import (  # noqa: E402
    METRIC_TIMESTAMP_BASE,
    SEARCH_FILTER,
    history_value,
    seed_run,
)
from benchlib.servers import REFERENCE, TRAINLAB, RunningServer, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
N_PARAMS = N_METRICS = 20
MIN_ROWS = 10
TIMEOUT_MS = 120_000
TARGETS = {"table": 1000.0, "filter": 300.0, "chart": 1000.0}


def seed_reference(server: RunningServer, runs: int, points: int) -> tuple[str, str]:
    from mlflow import MlflowClient

    client = MlflowClient(server.uri)
    exp = client.create_experiment("ui-bench")
    common = ["--db-uri", server.db_uri, "--experiment-id", exp]
    common += ["--artifact-root", str(server.workdir / server.spec.artifacts_name)]
    corpus = ["--runs", str(runs), "--params", str(N_PARAMS), "--metrics", str(N_METRICS)]
    subprocess.run([str(REFERENCE_PYTHON), str(SEED_REFERENCE), *common, *corpus], check=True)
    run = client.create_run(exp, run_name="million").info.run_id
    history = ["--runs", "0", "--history-run", run, "--history-points", str(points)]
    subprocess.run([str(REFERENCE_PYTHON), str(SEED_REFERENCE), *common, *history], check=True)
    client.set_terminated(run)
    return exp, run


def seed_trainlab(server: RunningServer, runs: int, points: int) -> tuple[str, str]:
    from trainlab.entities import Metric, Param, RunStatus
    from trainlab.store.sql.tracking import SqlTrackingStore

    store = SqlTrackingStore(server.db_uri, "mlflow-artifacts:")
    exp = store.create_experiment("ui-bench")
    for i in range(runs):
        data = seed_run(i, N_PARAMS, N_METRICS)
        run = store.create_run(exp, "bench", data.timestamp, data.tags, data.name)
        metrics = [Metric(k, v, data.timestamp, 0) for k, v in data.metrics.items()]
        params = [Param(k, v) for k, v in data.params.items()]
        store.log_batch(run.info.run_id, metrics, params, [])
        store.update_run_info(run.info.run_id, RunStatus.FINISHED, data.timestamp)
    run_id = store.create_run(exp, "bench", METRIC_TIMESTAMP_BASE, {}, "million").info.run_id
    for start in range(0, points, 1000):
        steps = range(start, min(start + 1000, points))
        batch = [Metric("signal", history_value(s), METRIC_TIMESTAMP_BASE + s, s) for s in steps]
        store.log_batch(run_id, batch, [], [])
    store.update_run_info(run_id, RunStatus.FINISHED, METRIC_TIMESTAMP_BASE + points)
    store.engine.dispose()
    return exp, run_id


def matching_names(server: RunningServer, exp: str) -> list[str]:
    from mlflow import MlflowClient

    client, names, token = MlflowClient(server.uri), [], None
    while True:
        page = client.search_runs([exp], SEARCH_FILTER, max_results=1000, page_token=token)
        names += [r.info.run_name for r in page]
        token = page.token
        if not token:
            return names


Measure = Callable[[Any, str], float]  # (page, base URL) -> milliseconds

# Page-side predicates: each returns performance.now() once the view shows what it should.
ROWS = {
    "trainlab": "Array.from(document.querySelectorAll('#runs tbody td.name a'), "
    "a => a.textContent)",
    "reference": "Array.from(document.querySelectorAll('.ag-row'), r => "
    "(r.textContent.match(/seed-\\d{5}/) || [''])[0]).filter(Boolean)",
}
CHART = {
    "trainlab": "(() => { const f = document.querySelector(\"figure.chart[data-metric='signal']\");"
    " return f && f.dataset.points > 0 && f.querySelector('.u-over canvas, canvas'); })()",
    "reference": "(() => { const p = document.querySelector("
    "'.js-plotly-plot .scatterlayer path.js-line');"
    " return p && (p.getAttribute('d') || '').length > 100; })()",
}
FILTER_BOX = {
    "trainlab": "input[name='filter']",
    "reference": "input[data-testid='search-box'], [data-testid='search-box'] input",
}


# trainlab's table counts as painted once its metric columns are there too.
COLUMNS = {"trainlab": "document.querySelector('#runs thead th.col-m')", "reference": "true"}


def table_ready(side: str) -> str:
    return (
        f"() => {{ const r = {ROWS[side]}; return r.length >= {MIN_ROWS} && {COLUMNS[side]}"
        " && performance.now(); }"
    )


def filtered_ready(side: str) -> str:
    return (
        f"names => {{ const r = {ROWS[side]}; const ok = new Set(names);"
        f" return r.length >= {MIN_ROWS} && r.every(n => ok.has(n))"
        " && performance.now() - window.__t0; }"
    )


def measure(browser: Any, base: str, repeat: int, once: Measure) -> list[float]:
    out = []
    for _ in range(repeat):
        # bypass_csp: the harness's predicates are strings, which the UI's CSP forbids to eval
        context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page = context.new_page()
        try:
            out.append(once(page, base))
        finally:
            context.close()
    return out


def views(
    side: str, exp: str, run: str, names: list[str]
) -> dict[str, Callable[[Any, str], float]]:
    table_url = f"/experiments/{exp}" if side == "trainlab" else f"/#/experiments/{exp}/runs"
    run_url = (
        f"/runs/{run}?tab=metrics"
        if side == "trainlab"
        else f"/#/experiments/{exp}/runs/{run}/model-metrics"
    )

    def table(page: Any, base: str) -> float:
        page.goto(base + table_url)
        ready = page.wait_for_function(table_ready(side), polling="raf", timeout=TIMEOUT_MS)
        return float(ready.json_value())

    def filter_(page: Any, base: str) -> float:
        table(page, base)
        box = page.locator(FILTER_BOX[side]).first
        box.fill(SEARCH_FILTER)
        page.evaluate("window.__t0 = performance.now()")
        box.press("Enter")
        done = page.wait_for_function(
            filtered_ready(side), arg=names, polling="raf", timeout=TIMEOUT_MS
        )
        return float(done.json_value())

    def chart(page: Any, base: str) -> float:
        page.goto(base + run_url)
        page.wait_for_function(CHART[side], polling="raf", timeout=TIMEOUT_MS)
        return float(page.evaluate("performance.now()"))

    return {"table": table, "filter": filter_, "chart": chart}


def run_side(spec: Any, work: Path, args: argparse.Namespace, browser: Any) -> dict[str, Any]:
    folder = work / spec.key
    folder.mkdir()
    server = start_server(spec, folder)
    try:
        started = time.perf_counter()
        seed = seed_reference if spec.key == "reference" else seed_trainlab
        exp, run = seed(server, args.runs, args.points)
        print(f"{spec.key}: seeded in {time.perf_counter() - started:.0f} s", flush=True)
        names = matching_names(server, exp)
        results: dict[str, Any] = {"matching": len(names)}
        for name, once in views(spec.key, exp, run, names).items():
            try:
                results[name] = measure(browser, server.uri, args.repeat, once)
            except Exception as exc:  # a view the harness cannot drive: reported as n/a
                results[name] = f"n/a ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
            print(f"{spec.key} {name}: {results[name]}", flush=True)
        return results
    finally:
        server.stop()


def cell(values: Any) -> str:
    if isinstance(values, str):
        return values
    return f"{statistics.median(values):.0f} (min {min(values):.0f})"


def main() -> None:
    from benchlib.results_file import machine_section, write_section
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    (BENCH / "work").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ui-", dir=BENCH / "work"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        sides = {s.key: run_side(s, work, args, browser) for s in (REFERENCE, TRAINLAB)}
        browser.close()
    (work / "results.json").write_text(json.dumps(sides, indent=1))
    labels = {
        "table": "Runs table, first paint",
        "filter": "Filter round trip",
        "chart": f"Run page with a {args.points:,}-point metric, chart drawn",
    }
    rows = []
    for key, label in labels.items():
        ref, ours = sides["reference"][key], sides["trainlab"][key]
        ratio = (
            f"{statistics.median(ref) / statistics.median(ours):.1f}x faster"
            if not isinstance(ref, str) and not isinstance(ours, str)
            else "n/a"
        )
        verdict = (
            "n/a"
            if isinstance(ours, str)
            else ("PASS" if statistics.median(ours) < TARGETS[key] else "FAIL")
        )
        rows.append(
            f"| {label} | ms | {cell(ref)} | {cell(ours)} | {ratio} | < {TARGETS[key]:.0f} ms "
            f"| {verdict} |"
        )
    lines = [
        "## Web UI",
        "",
        f"Generated by `.venv/bin/python bench/ui_bench.py` ({args.runs:,} runs of {N_PARAMS} "
        f"params and {N_METRICS} metrics; {sides['trainlab']['matching']} of them match the "
        f"filter; median of {args.repeat} page loads, each in a fresh browser context).",
        "",
        *machine_section(),
        "- Browser: Debian's chromium (headless) driven by Playwright, viewport 1400x900",
        "",
        "| View | Unit | MLflow UI | trainlab UI | Ratio | Target | Result |",
        "|---|---|---:|---:|---:|---|---|",
        *rows,
        "",
        *[line.strip() for line in (__doc__ or "").split("\n\n")[1:3]],
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("web-ui", lines)


if __name__ == "__main__":
    main()
