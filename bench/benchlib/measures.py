"""The workloads, each driven through the stock `mlflow.MlflowClient` (or the trainlab SDK)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from .seed_data import SEARCH_FILTER, SEARCH_MAX_RESULTS, SEARCH_ORDER_BY, seed_run
from .servers import BENCH_DIR, TRAINLAB_CLI, RunningServer

REFERENCE_PYTHON = BENCH_DIR / ".venv-mlflow" / "bin" / "python"
SEED_REFERENCE = BENCH_DIR / "seed_reference.py"
SDK_LOOP = BENCH_DIR / "sdk_loop.py"
REST_SEED_THREADS = 4
HISTORY_READS = 3
WARMUP_CALLS = 3


@dataclass(frozen=True)
class Sizes:
    budget_s: float
    batch_size: int
    history_points: int
    search_runs: int
    search_calls: int
    search_experiments: int  # the search is timed again with the database grown to this many
    seed_budget_s: float
    sdk_points: int
    artifact_rate_mb: int  # the file whose upload and download rates are measured
    artifact_rss_mb: int  # the file streamed while the server's RSS is watched
    params_per_run: int = 10
    metrics_per_run: int = 10


FULL = Sizes(
    budget_s=5.0,
    batch_size=1000,
    history_points=100_000,
    search_runs=10_000,
    search_calls=30,
    search_experiments=10,
    seed_budget_s=300.0,
    sdk_points=1_000_000,
    artifact_rate_mb=256,
    artifact_rss_mb=1000,
)
QUICK = Sizes(
    budget_s=1.5,
    batch_size=1000,
    history_points=10_000,
    search_runs=1_000,
    search_calls=10,
    search_experiments=3,
    seed_budget_s=60.0,
    sdk_points=100_000,
    artifact_rate_mb=32,
    artifact_rss_mb=128,
)


@dataclass
class Context:
    server: RunningServer
    client: MlflowClient
    sizes: Sizes
    notes: list[str] = field(default_factory=list)
    _experiments: dict[str, str] = field(default_factory=dict)

    def experiment(self, name: str) -> str:
        if name not in self._experiments:
            self._experiments[name] = self.client.create_experiment(name)
        return self._experiments[name]

    def new_run(self, experiment: str = "bench-client", name: str | None = None) -> str:
        return self.client.create_run(self.experiment(experiment), run_name=name).info.run_id


def budgeted_rate(ctx: Context, label: str, call: Callable[[int], object], warmup: int) -> float:
    """Calls/s of `call(i)` over the wall-clock budget, after `warmup` uncounted calls."""
    for i in range(warmup):
        call(-1 - i)
    count = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    while True:
        call(count)
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= ctx.sizes.budget_s:
            ctx.notes.append(
                f"{label}: {count:,} calls in {elapsed:.1f} s; {client_cpu(cpu_started, elapsed)}"
            )
            return count / elapsed


def client_cpu(cpu_started: float, wall_s: float) -> str:
    """How busy the benchmark's own process (the stock client) was: near 100% = client-bound."""
    return f"client CPU {(time.process_time() - cpu_started) / wall_s:.0%} of wall time"


def measure_log_metric(ctx: Context) -> dict[str, Any]:
    run_id = ctx.new_run(name="log-metric")
    now_ms = int(time.time() * 1000)

    def call(i: int) -> None:
        ctx.client.log_metric(run_id, "m", 0.5, timestamp=now_ms, step=i + WARMUP_CALLS)

    return {"value": budgeted_rate(ctx, "log_metric", call, WARMUP_CALLS)}


def metric_batch(
    first_step: int, size: int, keys: int = 10, key: str | None = None
) -> list[Metric]:
    """`size` points: `keys` metric keys (or the single `key`), consecutive steps per key."""
    now_ms = int(time.time() * 1000)
    if key is not None:
        return [Metric(key, 1.0 / (s + 1), now_ms, s) for s in range(first_step, first_step + size)]
    per_key = size // keys
    return [
        Metric(f"m{k}", 0.001 * s, now_ms, s)
        for k in range(keys)
        for s in range(first_step, first_step + per_key)
    ]


def measure_log_batch(ctx: Context) -> dict[str, Any]:
    run_id = ctx.new_run(name="log-batch")
    size = ctx.sizes.batch_size
    per_key = size // 10

    def call(i: int) -> None:
        ctx.client.log_batch(run_id, metrics=metric_batch((i + 1) * per_key, size))

    calls_per_s = budgeted_rate(ctx, "log_batch", call, warmup=1)
    return {"value": calls_per_s * size}


def log_history(ctx: Context, run_id: str, points: int) -> tuple[int, float]:
    """Log `points` of "loss" in batch_size chunks within seed_budget_s; (logged, seconds)."""
    size = ctx.sizes.batch_size
    started = time.perf_counter()
    logged = 0
    while logged < points and time.perf_counter() - started < ctx.sizes.seed_budget_s:
        chunk = min(size, points - logged)
        ctx.client.log_batch(run_id, metrics=metric_batch(logged, chunk, key="loss"))
        logged += chunk
    return logged, time.perf_counter() - started


def measure_history(ctx: Context) -> dict[str, Any]:
    run_id = ctx.new_run(name="history")
    logged, seed_s = log_history(ctx, run_id, ctx.sizes.history_points)
    ctx.notes.append(
        f"history: logged {logged:,} points via log_batch in {seed_s:.1f} s "
        f"({logged / seed_s:,.0f} points/s)"
    )
    timings = []
    cpu_started = time.process_time()
    for _ in range(HISTORY_READS):
        started = time.perf_counter()
        history = ctx.client.get_metric_history(run_id, "loss")
        timings.append(time.perf_counter() - started)
        if len(history) != logged:
            raise AssertionError(f"history returned {len(history)} points, logged {logged}")
    cpu_note = client_cpu(cpu_started, sum(timings))
    raw_s, raw_count = raw_history_read(ctx.server.uri, run_id, "loss")
    ctx.notes.append(
        f"history: stock-client reads {', '.join(f'{t:.2f}' for t in timings)} s "
        f"({cpu_note}); one raw HTTP read (httpx GET + json decode, no entity conversion) "
        f"{raw_s:.2f} s for {raw_count:,} points"
    )
    result: dict[str, Any] = {"value": statistics.median(timings), "reads_s": timings}
    if logged < ctx.sizes.history_points:
        result["incomplete"] = f"only {logged:,} of {ctx.sizes.history_points:,} points logged"
    return result


def raw_history_read(uri: str, run_id: str, key: str) -> tuple[float, int]:
    """(seconds, points) to fetch a metric history over plain HTTP, following page tokens."""
    params = {"run_id": run_id, "metric_key": key}
    count = 0
    with httpx.Client(base_url=uri, timeout=600) as http:
        started = time.perf_counter()
        while True:
            response = http.get("/api/2.0/mlflow/metrics/get-history", params=params)
            response.raise_for_status()
            body = response.json()
            count += len(body.get("metrics", []))
            if not body.get("next_page_token"):
                return time.perf_counter() - started, count
            params["page_token"] = body["next_page_token"]


def measure_runs(ctx: Context) -> dict[str, Any]:
    experiment_id = ctx.experiment("bench-runs")
    sizes = ctx.sizes
    params = [Param(f"p{k}", "v") for k in range(sizes.params_per_run)]

    def call(i: int) -> None:
        run_id = ctx.client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
        metrics = [
            Metric(f"m{k}", 0.1 * k, int(time.time() * 1000), 0)
            for k in range(sizes.metrics_per_run)
        ]
        ctx.client.log_batch(run_id, metrics=metrics, params=params)
        ctx.client.set_terminated(run_id)

    return {"value": budgeted_rate(ctx, "runs", call, warmup=1)}


def seed_via_reference_db(ctx: Context, experiment_id: str) -> tuple[int, str]:
    """Bulk-insert the corpus into the reference server's SQLite file (see seed_reference.py)."""
    cmd = [
        str(REFERENCE_PYTHON),
        str(SEED_REFERENCE),
        "--db-uri",
        ctx.server.db_uri,
        "--experiment-id",
        experiment_id,
        "--runs",
        str(ctx.sizes.search_runs),
        "--params",
        str(ctx.sizes.params_per_run),
        "--metrics",
        str(ctx.sizes.metrics_per_run),
        "--artifact-root",
        str(ctx.server.workdir / ctx.server.spec.artifacts_name),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.sizes.seed_budget_s)
    if out.returncode != 0:
        raise RuntimeError(f"seed_reference.py failed: {out.stderr.strip()[-2000:]}")
    seeded = json.loads(out.stdout.strip().splitlines()[-1])["runs"]
    return int(seeded), "bulk SQL insert into the reference DB (bench/seed_reference.py)"


def seed_via_rest(ctx: Context, experiment_id: str) -> tuple[int, str]:
    """create_run + log_batch + set_terminated per run, REST_SEED_THREADS client threads."""
    sizes = ctx.sizes
    deadline = time.perf_counter() + sizes.seed_budget_s
    local = threading.local()

    def seed_one(index: int) -> bool:
        if time.perf_counter() > deadline:
            return False
        if not hasattr(local, "client"):
            local.client = MlflowClient(ctx.server.uri)
        client: MlflowClient = local.client
        data = seed_run(index, sizes.params_per_run, sizes.metrics_per_run)
        run_id = client.create_run(experiment_id, tags=data.tags, run_name=data.name).info.run_id
        metrics = [Metric(k, v, data.timestamp, 0) for k, v in data.metrics.items()]
        params = [Param(k, v) for k, v in data.params.items()]
        client.log_batch(run_id, metrics=metrics, params=params)
        client.set_terminated(run_id)
        return True

    with ThreadPoolExecutor(REST_SEED_THREADS) as pool:
        seeded = sum(pool.map(seed_one, range(sizes.search_runs)))
    return seeded, f"stock client over REST, {REST_SEED_THREADS} threads"


def seed_nothing(_ctx: Context, _experiment_id: str) -> tuple[int, str]:
    return 0, "nothing (canned replies: every search answers the same 100 runs of the corpus)"


def seed_via_store(ctx: Context, experiment_id: str) -> tuple[int, str]:
    """trainlab's own store on the server's database file (what the embedded SDK does): the
    same rows as the REST seeding, written by the same code, without the HTTP round trips."""
    from trainlab.entities import Metric as TlMetric
    from trainlab.entities import Param as TlParam
    from trainlab.entities import RunStatus
    from trainlab.store.sql.tracking import SqlTrackingStore

    sizes = ctx.sizes
    store = SqlTrackingStore(ctx.server.db_uri, str(ctx.server.workdir / "seeded-artifacts"))
    try:
        for index in range(sizes.search_runs):
            data = seed_run(index, sizes.params_per_run, sizes.metrics_per_run)
            run_id = store.create_run(experiment_id, tags=data.tags, run_name=data.name).info.run_id
            metrics = [TlMetric(k, v, data.timestamp, 0) for k, v in data.metrics.items()]
            params = [TlParam(k, v) for k, v in data.params.items()]
            store.log_batch(run_id, metrics, params)
            store.update_run_info(run_id, RunStatus.FINISHED, int(time.time() * 1000))
    finally:
        store.engine.dispose()
    return sizes.search_runs, "trainlab's SQL store in the benchmark's process"


def searched_names(ctx: Context, experiment_id: str) -> list[str]:
    """The names of the runs the benchmark's search returns in one experiment."""
    runs = ctx.client.search_runs(
        [experiment_id],
        filter_string=SEARCH_FILTER,
        order_by=SEARCH_ORDER_BY,
        max_results=SEARCH_MAX_RESULTS,
    )
    return [run.info.run_name for run in runs]


def timed_searches(
    ctx: Context, experiment_id: str, calls: int
) -> tuple[list[str], list[float], str]:
    """The names the search returns (the first call, a warm-up), the times of `calls` more, and
    how busy the client was over those (`client_cpu`)."""
    names = searched_names(ctx, experiment_id)
    timings_ms = []
    cpu_started = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        searched_names(ctx, experiment_id)
        timings_ms.append((time.perf_counter() - started) * 1000)
    return names, timings_ms, client_cpu(cpu_started, sum(timings_ms) / 1000)


def measure_search(ctx: Context) -> dict[str, Any]:
    experiment_id = ctx.experiment("bench-search")
    # The reference side is bulk-seeded (its API is too slow for 10k runs); the trainlab side,
    # including a --standin reference, is seeded through its REST API; the canned-reply
    # server holds nothing.
    seeders = {"reference": seed_via_reference_db, "ceiling": seed_nothing}
    seeder = seeders.get(ctx.server.spec.key, seed_via_rest)
    started = time.perf_counter()
    seeded, method = seeder(ctx, experiment_id)
    ctx.notes.append(
        f"search: seeded {seeded:,} runs in {time.perf_counter() - started:.1f} s via {method}"
    )
    top_names, timings_ms, cpu_note = timed_searches(ctx, experiment_id, ctx.sizes.search_calls)
    ctx.notes.append(f"search: {cpu_note}")
    result: dict[str, Any] = {
        "p50": percentile(timings_ms, 50),
        "p95": percentile(timings_ms, 95),
        "top_names": top_names,
    }
    if seeder is not seed_nothing and seeded < ctx.sizes.search_runs:
        result["incomplete"] = f"only {seeded:,} of {ctx.sizes.search_runs:,} runs seeded"
        return result
    result.update(search_among_experiments(ctx, experiment_id, seeder, top_names))
    return result


def search_among_experiments(
    ctx: Context, experiment_id: str, seeder: Callable[..., tuple[int, str]], names: list[str]
) -> dict[str, Any]:
    """The same search of the same experiment, with copies of the corpus in other experiments
    (one database of `search_experiments` experiments): does search cost follow the experiment
    searched or the whole database? The last copy is searched too, as a check of the seeding."""
    if seeder is seed_nothing:
        grow = seed_nothing
    elif ctx.server.spec.executable == TRAINLAB_CLI:
        grow = seed_via_store  # REST seeding would take minutes per copy
    else:
        grow = seed_via_reference_db  # the reference, and a --standin reference
    started = time.perf_counter()
    copy_id, method = experiment_id, ""
    for index in range(1, ctx.sizes.search_experiments):
        copy_id = ctx.client.create_experiment(f"bench-search-copy-{index}")
        method = grow(ctx, copy_id)[1]
    ctx.notes.append(
        f"search: added {ctx.sizes.search_experiments - 1} copies of the corpus in other "
        f"experiments in {time.perf_counter() - started:.1f} s via {method}"
    )
    _, timings_ms, _ = timed_searches(ctx, experiment_id, ctx.sizes.search_calls)
    if grow is not seed_nothing and searched_names(ctx, copy_id) != names:
        raise RuntimeError("a copy of the search corpus does not search like the corpus")
    return {"p50_many": percentile(timings_ms, 50), "p95_many": percentile(timings_ms, 95)}


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default method)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure_sdk(ctx: Context) -> dict[str, Any]:
    points = ctx.sizes.sdk_points
    cmd = [sys.executable, str(SDK_LOOP), "--uri", ctx.server.uri, "--points", str(points)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"sdk_loop.py printed nothing: {out.stderr.strip()[-2000:]}")
    report = json.loads(lines[-1])
    if "error" in report:
        return {"unavailable": report["error"]}
    result: dict[str, Any] = {
        "points_per_s": report["points"] / report["seconds"],
        "median_us": report["median_call_ns"] / 1000,
        "p99_us": report["p99_call_ns"] / 1000,
    }
    delivered = delivered_points(ctx.client, ctx.server.uri)
    ctx.notes.append(
        f"sdk: {points:,} points in {report['seconds']:.2f} s; server holds {delivered:,} "
        f"points of 'loss'; per-call p99 {result['p99_us']:.1f} us"
    )
    if delivered != points:
        result["incomplete"] = f"server holds {delivered:,} of {points:,} points"
    return result


def delivered_points(client: MlflowClient, uri: str) -> int:
    experiment = client.get_experiment_by_name("bench")
    if experiment is None:
        return 0
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        return 0
    return raw_history_read(uri, runs[0].info.run_id, "loss")[1]


from .artifact_measures import measure_artifacts, measure_registry  # noqa: E402

MEASURES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "log_metric": measure_log_metric,
    "log_batch": measure_log_batch,
    "runs": measure_runs,
    "history": measure_history,
    "search": measure_search,
    "sdk": measure_sdk,
    "artifacts": measure_artifacts,
    "registry": measure_registry,
}
TRAINLAB_ONLY = {"sdk"}
# The client workloads that the canned-reply server answers (bench/canned_server.py).
CEILING_MEASURES = {"log_metric", "log_batch", "runs", "history", "search", "registry"}
