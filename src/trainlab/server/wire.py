"""MLflow's wire format: entities -> proto-JSON dicts (snake_case, unset fields omitted, enums
as names, NaN/inf as the strings protobuf's JSON mapping uses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.responses import Response

from trainlab._json import json_float, key_values
from trainlab.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    Run,
    RunInfo,
)


def tag_dict(items: Iterable[Any]) -> dict[str, str]:
    """Request ``[{key, value}]`` messages -> ``{key: value}``."""
    return {t.key: t.value for t in items}


def page(items: list[dict[str, Any]], name: str, token: str | None) -> dict[str, Any]:
    """A search response: the items under ``name`` and the next page's token, each only if
    present (MLflow omits empty fields)."""
    out: dict[str, Any] = {name: items} if items else {}
    if token:
        out["next_page_token"] = token
    return out


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def experiment(e: Experiment) -> dict[str, Any]:
    return _compact(
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "artifact_location": e.artifact_location,
            "lifecycle_stage": e.lifecycle_stage,
            "last_update_time": e.last_update_time,
            "creation_time": e.creation_time,
            "tags": key_values(e.tags),
        }
    )


def run_info(i: RunInfo) -> dict[str, Any]:
    return _compact(
        {
            "run_uuid": i.run_id,
            "run_id": i.run_id,
            "run_name": i.run_name,
            "experiment_id": i.experiment_id,
            "user_id": i.user_id,
            "status": str(i.status),
            "start_time": i.start_time,
            "end_time": i.end_time,
            "artifact_uri": i.artifact_uri,
            "lifecycle_stage": i.lifecycle_stage,
        }
    )


def metric(m: Metric, with_run_id: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": m.key,
        "value": json_float(m.value),
        "timestamp": m.timestamp,
        "step": m.step,
    }
    if with_run_id and m.run_id:
        d["run_id"] = m.run_id
    if m.dataset_name:
        d["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        d["dataset_digest"] = m.dataset_digest
    if m.model_id:
        d["model_id"] = m.model_id
    return d


def dataset_input(di: DatasetInput) -> dict[str, Any]:
    ds = di.dataset
    return _compact(
        {
            "tags": key_values(di.tags),
            "dataset": _compact(
                {
                    "name": ds.name,
                    "digest": ds.digest,
                    "source_type": ds.source_type,
                    "source": ds.source,
                    "schema": ds.schema,
                    "profile": ds.profile,
                }
            ),
        }
    )


def run(r: Run) -> dict[str, Any]:
    return _compact(
        {
            "info": run_info(r.info),
            "data": _compact(
                {
                    "metrics": [metric(m) for m in r.data.metrics.values()],
                    "params": key_values(r.data.params),
                    "tags": key_values(r.data.tags),
                }
            ),
            "inputs": _compact(
                {
                    "dataset_inputs": [dataset_input(d) for d in r.inputs.dataset_inputs],
                    "model_inputs": [{"model_id": m} for m in r.inputs.model_inputs],
                }
            ),
            "outputs": _compact(
                {
                    "model_outputs": [
                        {"model_id": m, "step": step} for m, step in r.outputs.model_outputs
                    ]
                }
            ),
        }
    )


def logged_model(m: LoggedModel) -> dict[str, Any]:
    return {
        "info": _compact(
            {
                "model_id": m.model_id,
                "experiment_id": m.experiment_id,
                "name": m.name,
                "creation_timestamp_ms": m.creation_timestamp,
                "last_updated_timestamp_ms": m.last_updated_timestamp,
                "artifact_uri": m.artifact_uri,
                "status": str(m.status),
                "model_type": m.model_type,
                "source_run_id": m.source_run_id,
                "status_message": m.status_message,
                "tags": key_values(m.tags),
            }
        ),
        "data": _compact(
            {
                "params": key_values(m.params),
                "metrics": [metric(x, with_run_id=True) for x in m.metrics],
            }
        ),
    }


def metrics_list(items: Iterable[Metric], with_run_id: bool = False) -> list[dict[str, Any]]:
    return [metric(m, with_run_id) for m in items]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
