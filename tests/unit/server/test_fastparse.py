"""The log-batch fast path accepts exactly what the pydantic message accepts, with the same
result, or steps aside (None) so the message can explain the problem."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from trainlab.entities import MetricColumns
from trainlab.exceptions import InvalidParameterValue
from trainlab.server.fastparse import BatchRequest, parse_log_batch, parse_log_batch_bulk
from trainlab.server.requests import LogBatch, LogBatchBulk, parse_json
from trainlab.server.routes.tracking import _batch

RUN = "0123456789abcdef0123456789abcdef"


def _metric(**over: Any) -> dict[str, Any]:
    return {"key": "loss", "value": 0.5, "timestamp": 17, "step": 3, **over}


WELL_FORMED = [
    {"run_id": RUN},
    {"run_uuid": RUN, "metrics": [_metric()]},
    {
        "run_id": RUN,
        "metrics": [_metric(value=2), _metric(step=0), {"key": "k", "value": 1.0, "timestamp": 1}],
    },
    {"run_id": RUN, "metrics": [_metric(value=v) for v in ("NaN", "Infinity", "-Infinity")]},
    {"run_id": RUN, "metrics": [_metric(dataset_name="d", dataset_digest="x", model_id="m-1")]},
    {"run_id": RUN, "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t"}]},
    {"run_id": RUN, "metrics": [_metric()], "unknown_field": 1},
]

# (body, whether the pydantic message accepts it: lax forms it converts, like a numeric string)
NOT_FAST = [
    (b"not json", False),
    (b"[]", False),
    (orjson.dumps({"metrics": []}), False),
    (orjson.dumps({"run_id": 5}), False),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(value="abc")]}), False),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(value=True)]}), False),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(timestamp="17")]}), True),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(value="1.5")]}), True),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(step=1.5)]}), False),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(key=7)]}), False),
    (orjson.dumps({"run_id": RUN, "metrics": [_metric(model_id=3)]}), False),
    (orjson.dumps({"run_id": RUN, "metrics": {"key": "x"}}), False),
    (orjson.dumps({"run_id": RUN, "params": [{"key": "a", "value": 1}]}), False),
    (orjson.dumps({"run_id": RUN, "tags": ["x"]}), False),
]


def _same(a: BatchRequest, b: BatchRequest) -> bool:
    if (a.run_id, a.params, a.tags) != (b.run_id, b.params, b.tags):
        return False
    return len(a.metrics) == len(b.metrics) and all(
        x.same_point(y) and (x.dataset_name, x.model_id) == (y.dataset_name, y.model_id)
        for x, y in zip(a.metrics, b.metrics, strict=True)
    )


@pytest.mark.parametrize("payload", WELL_FORMED)
def test_fast_path_equals_the_message(payload: dict[str, Any]) -> None:
    body = orjson.dumps(payload)
    fast = parse_log_batch(body)
    assert fast is not None
    assert _same(fast, _batch(parse_json(LogBatch, body)))


def test_special_values() -> None:
    body = orjson.dumps(
        {"run_id": RUN, "metrics": [_metric(value="NaN"), _metric(value="-Infinity")]}
    )
    fast = parse_log_batch(body)
    assert fast is not None
    assert math.isnan(fast.metrics[0].value) and fast.metrics[1].value == -math.inf


@pytest.mark.parametrize(("body", "accepted"), NOT_FAST)
def test_anything_else_is_left_to_the_message(body: bytes, accepted: bool) -> None:
    assert parse_log_batch(body) is None
    if accepted:
        assert parse_json(LogBatch, body).run_id == RUN
    else:
        with pytest.raises(InvalidParameterValue, match="Invalid|Missing|Malformed"):
            parse_json(LogBatch, body)


# -- trainlab's bulk log-batch: the points column by column ----------------------------------
def _columns(**over: Any) -> dict[str, Any]:
    return {
        "run_id": RUN,
        "metric_columns": {
            "key": ["loss", "acc", "loss"],
            "value": [0.5, 1, "NaN"],
            "timestamp": [17, 17, 18],
            "step": [0, 0, 1],
            **over,
        },
    }


COLUMNS_WELL_FORMED = [
    _columns(),
    _columns(key=[], value=[], timestamp=[], step=[]),
    _columns(value=["Infinity", "-Infinity", 2.5]),
    {**_columns(), "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t"}]},
]

# (body, the words the message must hold)
COLUMNS_NOT_FAST = [
    (_columns(value=[0.5, True, 1.0]), ["metric_columns.value[1]", "boolean"]),
    (_columns(value=[0.5, "abc", 1.0]), ["metric_columns.value[1]", "abc"]),
    (_columns(step=[0, 1.5, 2]), ["metric_columns.step[1]", "1.5"]),
    (_columns(timestamp=[17, "x", 18]), ["metric_columns.timestamp[1]"]),
    (_columns(key=["loss", 3, "acc"]), ["metric_columns.key[1]"]),
    (_columns(step=[0, 1]), ["same length", "3, 3, 3, 2"]),
    (_columns(step=None), ["metric_columns.step"]),
    ({"run_id": RUN, "metric_columns": [1, 2]}, ["metric_columns"]),
    ({**_columns(), "metrics": [_metric()]}, ["either as 'metrics' or as 'metric_columns'"]),
]


@pytest.mark.parametrize("payload", COLUMNS_WELL_FORMED)
def test_columns_fast_path_equals_the_message(payload: dict[str, Any]) -> None:
    body = orjson.dumps(payload)
    fast = parse_log_batch_bulk(body)
    assert fast is not None and isinstance(fast.metrics, MetricColumns)
    assert all(type(v) is float for v in fast.metrics.values)
    assert _same(fast, _batch(parse_json(LogBatchBulk, body)))


def test_columns_special_values_and_integers() -> None:
    fast = parse_log_batch_bulk(orjson.dumps(_columns()))
    assert fast is not None
    assert [m.key for m in fast.metrics] == ["loss", "acc", "loss"]
    assert fast.metrics[1].value == 1.0 and math.isnan(fast.metrics[2].value)


@pytest.mark.parametrize(("payload", "needles"), COLUMNS_NOT_FAST)
def test_bad_columns_are_left_to_the_message_that_names_them(
    payload: dict[str, Any], needles: list[str]
) -> None:
    body = orjson.dumps(payload)
    assert parse_log_batch_bulk(body) is None
    with pytest.raises(InvalidParameterValue) as info:
        parse_json(LogBatchBulk, body)
    for needle in needles:
        assert needle in str(info.value)


def test_mlflows_log_batch_refuses_columns_it_would_otherwise_drop_unseen() -> None:
    body = orjson.dumps(_columns())
    assert parse_log_batch(body) is None
    with pytest.raises(InvalidParameterValue, match="POST /api/2.0/trainlab/runs/log-batch"):
        parse_json(LogBatch, body)
