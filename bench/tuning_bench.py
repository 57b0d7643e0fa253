"""Tuning speed: trials per second for a trivial objective (every trial a tracked child run,
against Optuna alone with the same sampler and storage), and the wall time of a CPU-bound
study on two worker processes against one.

    .venv/bin/python bench/tuning_bench.py [--trials 200] [--cpu-trials 16] [--no-write]

Writes the "Tuning" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCH = Path(__file__).resolve().parent
SPACE = {"x": {"type": "float", "low": -10, "high": 10}, "y": {"type": "int", "low": 0, "high": 3}}


def trivial(params: dict[str, Any], ctx: Any) -> float:
    return float((params["x"] - 2) ** 2 + params["y"])


def cpu_bound(params: dict[str, Any], ctx: Any) -> float:
    """About 0.6 s of one core in pure Python: no thread of any library helps it."""
    total = 0.0
    for i in range(12_000_000):
        total += (i % 7) * params["x"]
    return total % 1.0


def optuna_alone(trials: int, sampler: str, work: Path) -> float:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    make = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}[sampler]
    storage = JournalStorage(JournalFileBackend(str(work / f"optuna-{sampler}.journal")))
    study = optuna.create_study(storage=storage, sampler=make(seed=0))

    def objective(trial: optuna.Trial) -> float:
        return (trial.suggest_float("x", -10, 10) - 2) ** 2 + trial.suggest_int("y", 0, 3)

    started = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return trials / (time.perf_counter() - started)


def trainlab_rate(trials: int, sampler: str, work: Path) -> float:
    import trainlab

    started = time.perf_counter()
    trainlab.tune(
        fn=trivial, space=SPACE, metric="loss", direction="minimize", sampler=sampler,
        pruner="none", seed=0, trials=trials, experiment="bench-tune",
        study=f"trivial-{sampler}", storage=f"journal:{work / f'tl-{sampler}.journal'}",
        tracking_uri=f"sqlite:///{work / 'tune.db'}", progress=False,
    )  # fmt: skip
    return trials / (time.perf_counter() - started)


def workers_wall(trials: int, workers: int, work: Path) -> float:
    import trainlab

    started = time.perf_counter()
    trainlab.tune(
        fn=cpu_bound, space={"x": {"type": "float", "low": 0, "high": 1}}, metric="v",
        pruner="none", sampler="random", seed=0, trials=trials, workers=workers,
        experiment="bench-tune-cpu", study=f"cpu-{workers}",
        storage=f"journal:{work / f'cpu-{workers}.journal'}",
        tracking_uri=f"sqlite:///{work / 'tune.db'}", progress=False,
    )  # fmt: skip
    return time.perf_counter() - started


def _spread(values: list[float], digits: int = 0) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}"


def main() -> None:
    from benchlib.results_file import machine_section, write_section

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--cpu-trials", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each trivial row")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    (BENCH / "work").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tuning-", dir=BENCH / "work"))
    import trainlab  # noqa: F401 - imports are not part of any timing

    warm = work / "warm"
    for folder in (warm, *(work / str(i) for i in range(args.repeat))):
        folder.mkdir()
    trainlab_rate(5, "random", warm)  # first use: the store, the journal, Optuna's modules
    optuna_alone(5, "random", warm)
    rows = []
    for sampler in ("random", "tpe"):
        refs, ours_all = [], []
        for i in range(args.repeat):  # interleaved: both see the same phases of a noisy VM
            refs.append(optuna_alone(args.trials, sampler, work / str(i)))
            ours_all.append(trainlab_rate(args.trials, sampler, work / str(i)))
        ref, ours = statistics.median(refs), statistics.median(ours_all)
        verdict = "PASS" if ours >= 100 else "FAIL"
        rows.append(
            f"| trivial objective, {sampler} sampler, {args.trials} trials | trials/s | "
            f"{ref:.0f} ({_spread(refs)}) | {ours:.0f} ({_spread(ours_all)}) | "
            f"{ours / ref:.2f}x | >= 100/s | {verdict} |"
        )
        print(rows[-1], flush=True)
    ones, twos = [], []
    for i in range(args.repeat):  # in pairs, the order switching: the VM's speed drifts
        for workers in (1, 2) if i % 2 == 0 else (2, 1):
            wall = workers_wall(args.cpu_trials, workers, work / str(i))
            (ones if workers == 1 else twos).append(wall)
    ratio = statistics.median(t / o for o, t in zip(ones, twos, strict=True))
    verdict = "PASS" if ratio <= 0.6 else "FAIL"
    rows.append(
        f"| CPU-bound study ({args.cpu_trials} trials of ~0.6 s), wall time | s | "
        f"1 worker: {statistics.median(ones):.1f} ({_spread(ones, 1)}) | "
        f"2 workers: {statistics.median(twos):.1f} ({_spread(twos, 1)}) | "
        f"{ratio:.2f} of 1 worker | <= 0.6 | {verdict} |"
    )
    print(rows[-1], flush=True)
    lines = [
        "## Tuning",
        "",
        "Generated by `.venv/bin/python bench/tuning_bench.py`.",
        "",
        *machine_section(),
        "",
        "| Measure | Unit | Optuna alone | trainlab | Ratio | Target | Result |",
        "|---|---|---:|---:|---:|---|---|",
        *rows,
        "",
        "Trivial objective: `trainlab.tune(fn=...)` in one process, each trial a child run in the "
        "embedded store (SQLite) with its params, value, state and duration, the study a "
        "parent run with its summary; against `optuna.create_study(...).optimize(...)` with the "
        "same sampler (seed 0) on a journal file, as trainlab's studies are stored. Both after "
        "a 5-trial warm-up in the same process; the rate covers the whole call (study, runs, "
        f"summary); the median of {args.repeat} runs of each, interleaved (range in "
        "brackets). CPU-bound study: a pure-Python objective (about 0.6 s of one core), "
        "`workers=1` in this process against `workers=2` worker processes, wall time of the "
        f"whole call including the workers' start-up; {args.repeat} pairs, the order "
        "switching each pair, and the median of the pairs' ratios.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("tuning", lines)


if __name__ == "__main__":
    main()
