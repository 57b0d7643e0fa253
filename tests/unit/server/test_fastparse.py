"""The log-batch fast path accepts exactly what the pydantic message accepts, with the same
result, or steps aside (None) so the message can explain the problem."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.server.fastparse import BatchRequest, parse_log_batch
from trainlab.server.requests import LogBatch, parse_json
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
