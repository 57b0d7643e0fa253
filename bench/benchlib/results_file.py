"""Write bench/RESULTS.md: machine, versions, commands, table and method notes."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

from .artifact_measures import REGISTRY_READS, REGISTRY_VERSIONS, TRANSFERS
from .measures import REST_SEED_THREADS, Sizes
from .servers import IDLE_SETTLE_S, REFERENCE_MLFLOW, REPO_DIR, ServerSpec, tool_version


@dataclass(frozen=True)
class RunInfo:
    argv: list[str]
    quick: bool
    standin: bool
    specs: list[ServerSpec]
    elapsed_s: float


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_DIR
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=REPO_DIR,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{rev}{' (with uncommitted changes)' if dirty else ''}"


PACE_ITERATIONS = 2_000_000


def cpu_pace_ms() -> float:
    """Milliseconds of a fixed pure-Python loop on one core (median of 5): how fast this
    machine ran when the section was written. A shared virtual machine's pace drifts by 2x
    over hours; compare sections by it."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(PACE_ITERATIONS):
            total += i % 7
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def machine_section() -> list[str]:
    memory_gb = psutil.virtual_memory().total / 2**30
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- Machine: `nproc` = {nproc()}, CPU: {cpu_model()}, memory {memory_gb:.0f} GiB, "
        f"{platform.system()} {platform.release()}; CPU pace: a fixed Python loop "
        f"({PACE_ITERATIONS:,} iterations) took {cpu_pace_ms():.0f} ms (median of 5)",
        f"- Python {platform.python_version()}; reference server: "
        f"{tool_version(REFERENCE_MLFLOW)} (bench/.venv-mlflow); client: mlflow-skinny "
        f"{package_version('mlflow-skinny')} (project venv); trainlab "
        f"{package_version('trainlab')} at git {git_revision()}",
    ]


def commands_section(info: RunInfo) -> list[str]:
    lines = [
        "```",
        "bash bench/setup_reference.sh",
        " ".join([".venv/bin/python", "bench/run.py", *info.argv]),
        "```",
        "",
        "Servers (WORK is a fresh directory under bench/work/, PORT a free port; the last is "
        "the canned-reply server of the ceiling column):",
        "",
        "```",
    ]
    lines += [spec.display_command() for spec in info.specs]
    lines.append("```")
    return lines


def method_section(sizes: Sizes) -> list[str]:
    return [
        "- The servers run one after the other (never at the same time), each in a fresh "
        "directory with a fresh SQLite DB, with their default settings (the reference "
        "`mlflow server` runs uvicorn with 4 workers). All client traffic comes from "
        "one thread of the stock `mlflow.MlflowClient` over HTTP on 127.0.0.1, except the "
        "search corpus seeding described below.",
        "- Start-up: seconds from spawning the server command to the first 200 from "
        "`GET /health` (polled every 20 ms), after `os.sync()` has written out what the "
        "side before wrote. Includes DB creation and migrations. Then the "
        "harness waits until the server's process tree is quiet (under 10% of one core over "
        "1 s; the reference keeps starting its job consumers well after its first 200) "
        "before any other measure.",
        f"- RSS: sum of `rss` over the server process and all its children (psutil), "
        f"{IDLE_SETTLE_S:g} s after start-up and again after all workloads. Shared pages "
        "count once per process, so multi-process servers are over-stated compared with PSS.",
        f"- Throughput rows (log_metric, log_batch, runs): sequential calls in a "
        f"{sizes.budget_s:g} s wall-clock budget after a short uncounted warm-up; rate = "
        "completed calls / elapsed. log_batch sends "
        f"{sizes.batch_size:,} points per call (10 keys x {sizes.batch_size // 10} steps). "
        "Runs: create_run + log_batch (params and metrics) + set_terminated per run.",
        f"- History: {sizes.history_points:,} points of one key logged with log_batch "
        f"({sizes.batch_size:,} per call, not timed), then `get_metric_history` timed; "
        "median of 3 reads, each checked to return every point.",
        f"- search_runs: {sizes.search_runs:,} runs with {sizes.params_per_run} params, "
        f"{sizes.metrics_per_run} metrics and tag `t`, identical on both servers "
        "(bench/benchlib/seed_data.py). Query: filter `metrics.m0 > 0.5 and params.p1 = 'x' "
        "and tags.t = 'y'`, order_by `metrics.m1 DESC`, max_results 100 (about 1/16 of runs "
        f"match); one warm-up call, then {sizes.search_calls} timed calls. Seeding (not "
        "timed): the reference is seeded by bulk SQL inserts into its SQLite file of exactly "
        "the rows its own store writes for create_run + log_batch + set_terminated "
        "(bench/seed_reference.py; the reference manages only ~70 runs/s even in-process, so "
        f"seeding it through its API would take minutes); trainlab is seeded through its REST "
        f"API with the stock client ({REST_SEED_THREADS} threads). The top-100 run names of "
        "both servers are compared to check that they hold and return the same data. Then "
        f"{sizes.search_experiments - 1} copies of the corpus go into other experiments (the "
        "reference's by the same bulk insert, trainlab's through its SQL store in the "
        "benchmark's process: its REST API would take minutes per copy) and the same search "
        "of the first experiment is timed again; the last copy must return the same names.",
        f"- SDK (trainlab only): bench/sdk_loop.py in a subprocess logs {sizes.sdk_points:,} "
        "points with `trainlab.log_metric` inside `trainlab.start_run(experiment='bench', "
        "tracking_uri=...)`; points/s covers the whole `with` block including the final "
        "flush; per-call latency is `time.perf_counter_ns()` around each call. Afterwards the "
        "run is found with the stock client and its points on the server are counted with a "
        "plain HTTP get-history read.",
        f"- Artifacts: the stock client's `log_artifact` and `download_artifacts` of one "
        f"{sizes.artifact_rate_mb} MB file of random bytes, {TRANSFERS} times each (median) "
        "after one uncounted pair, each after `os.sync()` (no dirty pages left from earlier "
        "work), through the server's proxied artifact API to its local --artifacts-destination. "
        f"RSS growth: the server tree's RSS sampled every 50 ms while a {sizes.artifact_rss_mb:,} "
        "MB file is uploaded, then downloaded; peak minus the value before. A plain "
        "`shutil.copyfile` of the rate file on the same disk is timed too (in the notes).",
        f"- Registry: {REGISTRY_VERSIONS} `create_model_version` calls (source runs:/RUN/model) "
        "each followed by `set_registered_model_alias(name, 'champion', version)`; versions "
        "per second, the final holder of the alias checked. Then `get_registered_model` of "
        f"that model is timed {REGISTRY_READS} times (median in the notes).",
        "- Stock-client ceiling: the client workloads (log_metric, log_batch, runs, history, "
        "search, registry) also run against bench/canned_server.py, a server that stores "
        "nothing and answers every call with bytes prepared ahead (trainlab's own encoding of "
        "the same data: the history of as many points as were logged, 100 runs of the search "
        "corpus). Its rate is what the stock client itself allows on this machine: no server "
        "can be faster for this client, so its ratio (in brackets, against the reference) is "
        "the most any server could reach here.",
        '- "client CPU" in the notes is the benchmark process\'s CPU time over wall time '
        "during a timed loop: near 100% means the stock client, not the server, sets the pace.",
        "- Ratio: trainlab / reference for rates; reference / trainlab for times and memory "
        '("x faster", "x smaller"). Absolute targets are checked on the trainlab value.',
    ]


def notes_section(notes: dict[str, list[str]]) -> list[str]:
    lines = []
    for side, side_notes in notes.items():
        lines += [f"- {side}: {note}" for note in side_notes]
    return lines or ["- (none)"]


def write_results(
    path: Path, info: RunInfo, table: str, notes: dict[str, list[str]], sizes: Sizes
) -> None:
    mode = "quick smoke run (reduced sizes)" if info.quick else "full run"
    if info.standin:
        mode += "; trainlab side is a STAND-IN (second reference server)"
    lines = [
        "# trainlab server vs reference MLflow server",
        "",
        f"Generated by `bench/run.py` ({mode}, {info.elapsed_s / 60:.1f} min). "
        "Regenerate with the commands below; see bench/README.md.",
        "",
        "## Machine and versions",
        "",
        *machine_section(),
        "",
        "## Commands",
        "",
        *commands_section(info),
        "",
        "## Results",
        "",
        table,
        "",
        "## Run notes",
        "",
        *notes_section(notes),
        "",
        "## Method",
        "",
        *method_section(sizes),
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + kept_sections(path))


# Sections other benchmarks write into the same file, kept when this one rewrites it.
KEPT = ("training-overhead", "tuning", "web-ui")


def kept_sections(path: Path) -> str:
    text = path.read_text() if path.exists() else ""
    out = ""
    for name in KEPT:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text and end in text:
            out += "\n" + start + text.split(start, 1)[1].split(end, 1)[0] + end + "\n"
    return out


def write_section(name: str, lines: list[str], path: Path | None = None) -> None:
    """Replace the section ``name`` of RESULTS.md (between its markers), or append it."""
    results = path or Path(__file__).resolve().parent.parent / "RESULTS.md"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = "\n".join([start, *lines, end])
    text = results.read_text() if results.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results.write_text(text)
