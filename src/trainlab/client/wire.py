"""MLflow's wire format -> entities (the client side of ``trainlab.server.wire``)."""

from __future__ import annotations

import math
from typing import Any

from trainlab._json import json_float, to_float
from trainlab._json import key_values as key_values  # re-exported for the REST stores
from trainlab.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    MetricColumns,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)


def tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or []}


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def experiment(d: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=d["experiment_id"],
        name=d["name"],
        artifact_location=d.get("artifact_location", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        creation_time=_int(d.get("creation_time")),
        last_update_time=_int(d.get("last_update_time")),
        tags=tags(d.get("tags")),
    )


def metric(d: dict[str, Any], run_id: str | None = None) -> Metric:
    return Metric(
        key=d["key"],
        value=to_float(d.get("value", 0.0)),
        timestamp=int(d.get("timestamp", 0)),
        step=int(d.get("step", 0)),
        run_id=d.get("run_id", run_id),
        dataset_name=d.get("dataset_name"),
        dataset_digest=d.get("dataset_digest"),
        model_id=d.get("model_id"),
    )


def run_info(d: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=d.get("run_id") or d["run_uuid"],
        experiment_id=d["experiment_id"],
        run_name=d.get("run_name", ""),
        user_id=d.get("user_id", ""),
        status=RunStatus(d.get("status", "RUNNING")),
        start_time=_int(d.get("start_time")),
        end_time=_int(d.get("end_time")),
        artifact_uri=d.get("artifact_uri", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
    )


def run(d: dict[str, Any]) -> Run:
    info = run_info(d["info"])
    data = d.get("data", {})
    inputs = d.get("inputs", {})
    outputs = d.get("outputs", {})
    return Run(
        info=info,
        data=RunData(
            metrics={m["key"]: metric(m, info.run_id) for m in data.get("metrics", [])},
            params=tags(data.get("params")),
            tags=tags(data.get("tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=[
                DatasetInput(
                    Dataset(
                        name=x["dataset"]["name"],
                        digest=x["dataset"].get("digest", ""),
                        source_type=x["dataset"].get("source_type", ""),
                        source=x["dataset"].get("source", ""),
                        schema=x["dataset"].get("schema"),
                        profile=x["dataset"].get("profile"),
                    ),
                    tags(x.get("tags")),
                )
                for x in inputs.get("dataset_inputs", [])
            ],
            model_inputs=[x["model_id"] for x in inputs.get("model_inputs", [])],
        ),
        outputs=RunOutputs(
            model_outputs=[
                (x["model_id"], int(x.get("step", 0))) for x in outputs.get("model_outputs", [])
            ]
        ),
    )


def logged_model(d: dict[str, Any]) -> LoggedModel:
    info, data = d["info"], d.get("data", {})
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=info["experiment_id"],
        name=info.get("name", ""),
        artifact_uri=info.get("artifact_uri", ""),
        status=LoggedModelStatus(info.get("status", LoggedModelStatus.PENDING)),
        creation_timestamp=int(info.get("creation_timestamp_ms", 0)),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms", 0)),
        model_type=info.get("model_type"),
        source_run_id=info.get("source_run_id"),
        status_message=info.get("status_message"),
        tags=tags(info.get("tags")),
        params=tags(data.get("params")),
        metrics=[metric(m) for m in data.get("metrics", [])],
    )


def metric_json(m: Metric) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": m.key,
        "value": json_float(m.value),
        "timestamp": m.timestamp,
        "step": m.step,
    }
    for name in ("dataset_name", "dataset_digest", "model_id"):
        v = getattr(m, name)
        if v:
            d[name] = v
    return d


def metric_columns_json(c: MetricColumns) -> dict[str, Any]:
    """trainlab's columnar points: ``{"key": [...], "value": [...], "timestamp": [...],
    "step": [...]}``, non-finite values written as MLflow writes them ("NaN", "Infinity")."""
    values: Any = c.values
    if set(map(type, values)) != {float} or not all(map(math.isfinite, values)):
        values = [json_float(v) for v in values]
    return {"key": c.keys, "value": values, "timestamp": c.timestamps, "step": c.steps}
