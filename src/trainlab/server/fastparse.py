"""A fast path for the hottest request, log-batch: orjson and a tight loop straight to entities
(for trainlab's columnar points, checks over whole columns and no object per point).

It only accepts the plain, well-formed shape the clients send. Anything else (a wrong type, a
missing field, a numeric string) returns None and the request goes through the pydantic message,
which says precisely what is wrong. Both paths accept the same inputs for those shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from trainlab.entities import Metric, MetricColumns, Param, RunTag

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass
class BatchRequest:
    run_id: str
    metrics: list[Metric] | MetricColumns = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)


def _is_int(v: object) -> bool:
    return type(v) is int


def _pairs(items: object, cls: type[Param] | type[RunTag]) -> list[Any] | None:
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        if type(item) is not dict:
            return None
        key = item.get("key")
        value = item.get("value", "")
        if type(key) is not str or type(value) is not str:
            return None
        out.append(cls(key, value))
    return out


def _metrics(items: object) -> list[Metric] | None:
    if not isinstance(items, list):
        return None
    out: list[Metric] = []
    append = out.append
    item: Any
    for item in items:
        if type(item) is not dict:
            return None
        key: Any = item.get("key")
        value: Any = item.get("value")
        timestamp: Any = item.get("timestamp")
        step: Any = item.get("step", 0)
        if type(key) is not str or not _is_int(timestamp) or not _is_int(step):
            return None
        kind = type(value)
        if kind is str:
            if value not in _SPECIAL:
                return None
            value = _SPECIAL[value]
        elif kind is int:
            value = float(value)
        elif kind is not float:
            return None
        if len(item) > 4:  # optional fields: all strings when present
            extra = [item.get(k) for k in ("dataset_name", "dataset_digest", "model_id")]
            if any(v is not None and type(v) is not str for v in extra):
                return None
            append(Metric(key, value, timestamp, step, None, *extra))
        else:
            append(Metric(key, value, timestamp, step))
    return out


def _metric_columns(data: object) -> MetricColumns | None:
    if type(data) is not dict:
        return None
    keys, values, timestamps, steps = (data.get(k) for k in ("key", "value", "timestamp", "step"))
    if type(keys) is not list or type(values) is not list:
        return None
    if type(timestamps) is not list or type(steps) is not list:
        return None
    if not len(keys) == len(values) == len(timestamps) == len(steps):
        return None
    if not keys:
        return MetricColumns(keys, values, timestamps, steps)
    if set(map(type, keys)) != {str}:
        return None
    if set(map(type, timestamps)) != {int} or set(map(type, steps)) != {int}:
        return None
    kinds = set(map(type, values))
    if kinds != {float}:
        if kinds - {float, int, str}:
            return None
        if str in kinds and any(type(v) is str and v not in _SPECIAL for v in values):
            return None
        values = [_SPECIAL[v] if type(v) is str else float(v) for v in values]
    return MetricColumns(keys, values, timestamps, steps)


def parse_log_batch(body: bytes) -> BatchRequest | None:
    """MLflow's log-batch (unknown fields are ignored, as MLflow does, but for trainlab's own
    ``metric_columns``)."""
    return _parse_batch(body, columns=False)


def parse_log_batch_bulk(body: bytes) -> BatchRequest | None:
    """trainlab's bulk log-batch: MLflow's message, or its points as ``metric_columns``."""
    return _parse_batch(body, columns=True)


def _parse_batch(body: bytes, columns: bool) -> BatchRequest | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    run_id = data.get("run_id") or data.get("run_uuid")
    if type(run_id) is not str:
        return None
    metrics: list[Metric] | MetricColumns | None
    if "metric_columns" in data and not columns:
        return None  # not taken here: the message says where
    if columns and "metric_columns" in data:
        if data.get("metrics"):
            return None  # both forms: the message says so
        metrics = _metric_columns(data["metric_columns"])
    else:
        metrics = _metrics(data.get("metrics", []))
    params = _pairs(data.get("params", []), Param)
    tags = _pairs(data.get("tags", []), RunTag)
    if metrics is None or params is None or tags is None:
        return None
    return BatchRequest(run_id, metrics, params, tags)
