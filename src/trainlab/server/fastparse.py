"""A fast path for the hottest request, log-batch: orjson and a tight loop straight to entities.

It only accepts the plain, well-formed shape the clients send. Anything else (a wrong type, a
missing field, a numeric string) returns None and the request goes through the pydantic message,
which says precisely what is wrong. Both paths accept the same inputs for those shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from trainlab.entities import Metric, Param, RunTag

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass
class BatchRequest:
    run_id: str
    metrics: list[Metric] = field(default_factory=list)
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


def parse_log_batch(body: bytes) -> BatchRequest | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    run_id = data.get("run_id") or data.get("run_uuid")
    if type(run_id) is not str:
        return None
    metrics = _metrics(data.get("metrics", []))
    params = _pairs(data.get("params", []), Param)
    tags = _pairs(data.get("tags", []), RunTag)
    if metrics is None or params is None or tags is None:
        return None
    return BatchRequest(run_id, metrics, params, tags)
