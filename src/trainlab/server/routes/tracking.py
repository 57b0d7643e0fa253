"""MLflow tracking service: experiments, runs, logging, metric history, search."""

from __future__ import annotations

from typing import Any

from trainlab.entities import Dataset, DatasetInput, Metric, MetricColumns, Param, RunTag
from trainlab.exceptions import InvalidParameterValue
from trainlab.server import requests as rq
from trainlab.server import wire
from trainlab.server.context import ServerContext as Ctx
from trainlab.server.fastparse import BatchRequest, parse_log_batch, parse_log_batch_bulk
from trainlab.server.rpc import Route
from trainlab.validation import BULK_METRICS_PER_BATCH, validate_batch_sizes

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


# -- experiments ----------------------------------------------------------------------------
def create_experiment(ctx: Ctx, m: rq.CreateExperiment) -> dict[str, Any]:
    exp_id = ctx.tracking.create_experiment(m.name, m.artifact_location, wire.tag_dict(m.tags))
    return {"experiment_id": exp_id}


def search_experiments(ctx: Ctx, m: rq.SearchExperiments) -> dict[str, Any]:
    page = ctx.tracking.search_experiments(
        m.view_type, m.max_results, m.filter, m.order_by, m.page_token
    )
    return wire.page([wire.experiment(e) for e in page], "experiments", page.next_page_token)


def get_experiment(ctx: Ctx, m: rq.ExperimentRef) -> dict[str, Any]:
    return {"experiment": wire.experiment(ctx.tracking.get_experiment(m.experiment_id))}


def get_experiment_by_name(ctx: Ctx, m: rq.ExperimentByName) -> dict[str, Any]:
    from trainlab.exceptions import ResourceNotFound

    exp = ctx.tracking.find_experiment_by_name(m.experiment_name)
    if exp is None:
        raise ResourceNotFound(f"Could not find experiment with name '{m.experiment_name}'.")
    return {"experiment": wire.experiment(exp)}


def delete_experiment(ctx: Ctx, m: rq.ExperimentRef) -> dict[str, Any]:
    ctx.tracking.delete_experiment(m.experiment_id)
    return {}


def restore_experiment(ctx: Ctx, m: rq.ExperimentRef) -> dict[str, Any]:
    ctx.tracking.restore_experiment(m.experiment_id)
    return {}


def update_experiment(ctx: Ctx, m: rq.UpdateExperiment) -> dict[str, Any]:
    ctx.tracking.rename_experiment(m.experiment_id, m.new_name)
    return {}


def set_experiment_tag(ctx: Ctx, m: rq.SetExperimentTag) -> dict[str, Any]:
    ctx.tracking.set_experiment_tag(m.experiment_id, m.key, m.value)
    return {}


def delete_experiment_tag(ctx: Ctx, m: rq.DeleteExperimentTag) -> dict[str, Any]:
    ctx.tracking.delete_experiment_tag(m.experiment_id, m.key)
    return {}


# -- runs -----------------------------------------------------------------------------------
def create_run(ctx: Ctx, m: rq.CreateRun) -> dict[str, Any]:
    run = ctx.tracking.create_run(
        m.experiment_id, m.user_id, m.start_time, wire.tag_dict(m.tags), m.run_name
    )
    return {"run": wire.run(run)}


def update_run(ctx: Ctx, m: rq.UpdateRun) -> dict[str, Any]:
    info = ctx.tracking.update_run_info(m.run_id, m.status, m.end_time, m.run_name)
    return {"run_info": wire.run_info(info)}


def delete_run(ctx: Ctx, m: rq.RunRef) -> dict[str, Any]:
    ctx.tracking.delete_run(m.run_id)
    return {}


def restore_run(ctx: Ctx, m: rq.RunRef) -> dict[str, Any]:
    ctx.tracking.restore_run(m.run_id)
    return {}


def get_run(ctx: Ctx, m: rq.RunRef) -> dict[str, Any]:
    return {"run": wire.run(ctx.tracking.get_run(m.run_id))}


def _metric(m: rq.MetricIn) -> Metric:
    return Metric(
        m.key, m.value, m.timestamp, m.step, None, m.dataset_name, m.dataset_digest, m.model_id
    )


def log_metric(ctx: Ctx, m: rq.LogMetric) -> dict[str, Any]:
    ctx.tracking.log_batch(m.run_id, metrics=[_metric(m)])
    return {}


def log_param(ctx: Ctx, m: rq.LogParam) -> dict[str, Any]:
    ctx.tracking.log_batch(m.run_id, params=[Param(m.key, m.value)])
    return {}


def set_tag(ctx: Ctx, m: rq.SetTag) -> dict[str, Any]:
    ctx.tracking.log_batch(m.run_id, tags=[RunTag(m.key, m.value)])
    return {}


def delete_tag(ctx: Ctx, m: rq.DeleteTag) -> dict[str, Any]:
    ctx.tracking.delete_tag(m.run_id, m.key)
    return {}


def _batch(m: rq.LogBatch | rq.LogBatchBulk | BatchRequest) -> BatchRequest:
    if isinstance(m, BatchRequest):
        return m
    columns = m.metric_columns if isinstance(m, rq.LogBatchBulk) else None
    return BatchRequest(
        m.run_id,
        metrics=[_metric(x) for x in m.metrics]
        if columns is None
        else MetricColumns(columns.key, columns.value, columns.timestamp, columns.step),
        params=[Param(p.key, p.value) for p in m.params],
        tags=[RunTag(t.key, t.value) for t in m.tags],
    )


def log_batch(ctx: Ctx, m: rq.LogBatch | BatchRequest) -> dict[str, Any]:
    """MLflow's log-batch, with MLflow's limits (1000 metrics, 100 params, 100 tags)."""
    b = _batch(m)
    validate_batch_sizes(len(b.metrics), len(b.params), len(b.tags))
    ctx.tracking.log_batch(b.run_id, b.metrics, b.params, b.tags)
    return {}


def log_batch_bulk(ctx: Ctx, m: rq.LogBatchBulk | BatchRequest) -> dict[str, Any]:
    """trainlab's bulk log-batch: up to 50,000 metrics per call, as MLflow's list of metrics
    or as ``metric_columns``: ``{"key": [..], "value": [..], "timestamp": [..], "step": [..]}``."""
    b = _batch(m)
    validate_batch_sizes(len(b.metrics), len(b.params), len(b.tags), BULK_METRICS_PER_BATCH)
    ctx.tracking.log_batch(b.run_id, b.metrics, b.params, b.tags)
    return {}


_MLMODEL_FIELDS = frozenset({"artifact_path", "flavors", "utc_time_created", "run_id"})


def log_model(ctx: Ctx, m: rq.LogModel) -> dict[str, Any]:
    """Legacy MLmodel history: appended to the run's ``mlflow.log-model.history`` tag."""
    import orjson

    try:
        model = orjson.loads(m.model_json)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterValue(f"Invalid value for parameter 'model_json': {exc}.") from None
    if not isinstance(model, dict):
        raise InvalidParameterValue(
            "Invalid value for parameter 'model_json': expected a JSON object (an MLmodel's "
            f"fields), got {orjson.dumps(model).decode()[:80]}."
        )
    missing = sorted(_MLMODEL_FIELDS - model.keys())
    if missing:
        raise InvalidParameterValue(
            f"Invalid value for parameter 'model_json': it lacks the MLmodel's {missing} "
            f"(required: {sorted(_MLMODEL_FIELDS)})."
        )
    run = ctx.tracking.get_run(m.run_id)
    history = orjson.loads(run.data.tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
    history.append(model)
    ctx.tracking.log_batch(
        m.run_id, tags=[RunTag(LOG_MODEL_HISTORY_TAG, orjson.dumps(history).decode())]
    )
    return {}


def log_inputs(ctx: Ctx, m: rq.LogInputs) -> dict[str, Any]:
    datasets = [
        DatasetInput(
            Dataset(
                name=d.dataset.name,
                digest=d.dataset.digest,
                source_type=d.dataset.source_type,
                source=d.dataset.source,
                schema=d.dataset.schema_,
                profile=d.dataset.profile,
            ),
            wire.tag_dict(d.tags),
        )
        for d in m.datasets
    ]
    ctx.tracking.log_inputs(m.run_id, datasets, [x.model_id for x in m.models])
    return {}


def log_outputs(ctx: Ctx, m: rq.LogOutputs) -> dict[str, Any]:
    ctx.tracking.log_outputs(m.run_id, [(x.model_id, x.step) for x in m.models])
    return {}


def search_runs(ctx: Ctx, m: rq.SearchRuns) -> dict[str, Any]:
    page = ctx.tracking.search_runs(
        m.experiment_ids, m.filter, m.run_view_type, m.max_results, m.order_by, m.page_token
    )
    return wire.page([wire.run(r) for r in page], "runs", page.next_page_token)


def get_metric_history(ctx: Ctx, m: rq.GetMetricHistory) -> dict[str, Any]:
    page = ctx.tracking.get_metric_history(m.run_id, m.metric_key, m.max_results, m.page_token)
    return wire.page(wire.metrics_list(page), "metrics", page.next_page_token)


def get_metric_history_bulk_interval(
    ctx: Ctx, m: rq.GetMetricHistoryBulkInterval
) -> dict[str, Any]:
    points = ctx.tracking.get_metric_history_bulk_interval(
        m.run_ids, m.metric_key, m.max_results, m.start_step, m.end_step
    )
    return wire.page(wire.metrics_list(points, with_run_id=True), "metrics", None)


def get_metric_history_bulk(ctx: Ctx, m: rq.GetMetricHistoryBulk) -> dict[str, Any]:
    """Runs in id order, each one's points in (timestamp, step, value) order, as MLflow."""
    limit = min(m.max_results, rq.HISTORY_BULK_MAX)
    points: list[Metric] = []
    for run_id in sorted(m.run_id):
        page = ctx.tracking.get_metric_history(run_id, m.metric_key, limit)
        points += sorted(page, key=lambda p: (p.timestamp, p.step, p.value))
    return {"metrics": wire.metrics_list(points[:limit], with_run_id=True)}


def search_datasets(ctx: Ctx, m: rq.SearchDatasets) -> dict[str, Any]:
    summaries = ctx.tracking.search_dataset_summaries(m.experiment_ids)
    found = [
        {"experiment_id": d.experiment_id, "name": d.name, "digest": d.digest}
        | ({"context": d.context} if d.context is not None else {})
        for d in summaries
    ]
    return {"dataset_summaries": found} if found else {}


# trainlab's own endpoints, under /api/2.0/trainlab/...
TRAINLAB_ROUTES = [
    Route("/runs/log-batch", ("POST",), log_batch_bulk, rq.LogBatchBulk, fast=parse_log_batch_bulk),
]

ROUTES = [
    Route("/experiments/create", ("POST",), create_experiment, rq.CreateExperiment),
    Route("/experiments/search", ("POST", "GET"), search_experiments, rq.SearchExperiments),
    Route("/experiments/get", ("GET",), get_experiment, rq.ExperimentRef),
    Route("/experiments/get-by-name", ("GET",), get_experiment_by_name, rq.ExperimentByName),
    Route("/experiments/delete", ("POST",), delete_experiment, rq.ExperimentRef),
    Route("/experiments/restore", ("POST",), restore_experiment, rq.ExperimentRef),
    Route("/experiments/update", ("POST",), update_experiment, rq.UpdateExperiment),
    Route("/experiments/set-experiment-tag", ("POST",), set_experiment_tag, rq.SetExperimentTag),
    Route(
        "/experiments/delete-experiment-tag",
        ("POST",),
        delete_experiment_tag,
        rq.DeleteExperimentTag,
    ),
    Route("/runs/create", ("POST",), create_run, rq.CreateRun),
    Route("/runs/update", ("POST",), update_run, rq.UpdateRun),
    Route("/runs/delete", ("POST",), delete_run, rq.RunRef),
    Route("/runs/restore", ("POST",), restore_run, rq.RunRef),
    Route("/runs/get", ("GET",), get_run, rq.RunRef),
    Route("/runs/log-metric", ("POST",), log_metric, rq.LogMetric),
    Route("/runs/log-parameter", ("POST",), log_param, rq.LogParam),
    Route("/runs/set-tag", ("POST",), set_tag, rq.SetTag),
    Route("/runs/delete-tag", ("POST",), delete_tag, rq.DeleteTag),
    Route("/runs/log-batch", ("POST",), log_batch, rq.LogBatch, fast=parse_log_batch),
    Route("/runs/log-model", ("POST",), log_model, rq.LogModel),
    Route("/runs/log-inputs", ("POST",), log_inputs, rq.LogInputs),
    Route("/runs/outputs", ("POST",), log_outputs, rq.LogOutputs),
    Route("/runs/search", ("POST",), search_runs, rq.SearchRuns),
    Route("/metrics/get-history", ("GET",), get_metric_history, rq.GetMetricHistory),
    Route(
        "/metrics/get-history-bulk-interval",
        ("GET",),
        get_metric_history_bulk_interval,
        rq.GetMetricHistoryBulkInterval,
    ),
    Route("/metrics/get-history-bulk", ("GET",), get_metric_history_bulk, rq.GetMetricHistoryBulk),
    Route("/experiments/search-datasets", ("POST",), search_datasets, rq.SearchDatasets),
]
