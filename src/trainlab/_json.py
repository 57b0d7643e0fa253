"""Pieces of MLflow's JSON wire format shared by the server and the client: doubles as
protobuf's JSON mapping writes them (NaN and +-inf as strings) and key-value lists."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_float(value: float) -> float | str:
    """NaN and +-inf as strings; anything else as it is (a value of a wrong type reaches the
    server as it was given, and its answer says what is wrong)."""
    if not isinstance(value, float) or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def to_float(value: Any) -> float:
    if isinstance(value, str):
        return _SPECIAL[value] if value in _SPECIAL else float(value)
    return float(value)


def key_values(items: Mapping[str, str]) -> list[dict[str, str]]:
    """``{key: value}`` -> MLflow's ``[{"key": ..., "value": ...}]``."""
    return [{"key": k, "value": v} for k, v in items.items()]
