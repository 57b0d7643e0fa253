"""Deterministic run data for the search_runs corpus.

Stdlib only: imported both by bench/run.py (project venv) and by bench/seed_reference.py
(bench/.venv-mlflow), so that every server is seeded with exactly the same runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

SEARCH_FILTER = "metrics.m0 > 0.5 and params.p1 = 'x' and tags.t = 'y'"
SEARCH_ORDER_BY = ["metrics.m1 DESC"]
SEARCH_MAX_RESULTS = 100
METRIC_TIMESTAMP_BASE = 1_700_000_000_000
PARAM_CHOICES = ("x", "y", "z", "w")
TAG_CHOICES = ("y", "n")


@dataclass(frozen=True)
class SeedRun:
    name: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    timestamp: int


def seed_run(index: int, n_params: int = 10, n_metrics: int = 10) -> SeedRun:
    """Run `index` of the corpus: ~1/16 of runs match SEARCH_FILTER."""
    rng = random.Random(index)
    params = {f"p{k}": rng.choice(PARAM_CHOICES) for k in range(n_params)}
    metrics = {f"m{k}": rng.random() for k in range(n_metrics)}
    tags = {"t": rng.choice(TAG_CHOICES)}
    return SeedRun(
        name=f"seed-{index:05d}",
        params=params,
        metrics=metrics,
        tags=tags,
        timestamp=METRIC_TIMESTAMP_BASE + index,
    )


SPIKE_STEP = 777_777


def history_value(step: int) -> float:
    """The long metric history of the UI benchmark: a slow wave with one spike."""
    return 5.0 if step == SPIKE_STEP else 1.0 + math.sin(step / 5000) / 10
