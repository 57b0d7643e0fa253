"""Tuning functions that tests name by import path (workers import them)."""

from __future__ import annotations

import time
from typing import Any


def quadratic(params: dict[str, Any], ctx: Any) -> float:
    """Minimum 0 at x = 2 (and y = 0)."""
    return float((params["x"] - 2) ** 2 + params.get("y", 0))


def slow_curve(params: dict[str, Any], ctx: Any) -> float:
    """Ten steps of 0.1 s, each reported to the pruner: a curve that settles at (x - 2)^2."""
    value = 0.0
    for step in range(10):
        time.sleep(0.1)
        value = (params["x"] - 2) ** 2 + 1.0 / (step + 1)
        ctx.report(step, value)
    return value


def quadratic_or_wait(params: dict[str, Any], ctx: Any) -> float:
    """``quadratic``, after waiting while the file named by $TUNE_FNS_WAIT exists (a trial a
    test stops mid-way)."""
    import os
    from pathlib import Path

    hold = os.environ.get("TUNE_FNS_WAIT")
    while hold and Path(hold).exists():
        time.sleep(0.05)
    return quadratic(params, ctx)


def two_objectives(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    x = params["x"]
    return {"cost": x**2, "error": (x - 2) ** 2}


def failing(params: dict[str, Any], ctx: Any) -> float:
    if params["x"] > 0:
        raise RuntimeError(f"diverged at x={params['x']:.3f}")
    return float(params["x"] ** 2)


def exits(params: dict[str, Any], ctx: Any) -> float:
    """Ends the worker process (a bug in the objective, say): the study must stop, loudly."""
    import sys

    sys.exit(3)


def layers(params: dict[str, Any], ctx: Any) -> float:
    """A list-valued choice (``hidden: [64, 32]``) arrives as the list: loss = its length."""
    assert isinstance(params["hidden"], list), params
    return float(len(params["hidden"]))
