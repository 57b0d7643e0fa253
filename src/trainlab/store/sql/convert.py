"""ORM rows -> entities."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainlab.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from trainlab.store.sql.fastpath import RunRow, child_rows
from trainlab.store.sql.models import (
    DatasetModel,
    ExperimentModel,
    RunInputModel,
    RunInputTagModel,
    RunModel,
    RunModelIOModel,
)

_CHUNK = 5000


def metric_value(value: float, is_nan: bool) -> float:
    return math.nan if is_nan else value


def experiment(row: ExperimentModel, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        tags=tags,
    )


def run_info(row: RunModel | RunRow) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        experiment_id=str(row.experiment_id),
        run_name=row.name,
        user_id=row.user_id,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=row.lifecycle_stage,
    )


def load_runs(session: Session, rows: Sequence[RunModel]) -> list[Run]:
    """Full runs for ``rows`` with one query per child table (no N+1)."""
    if len(rows) > _CHUNK:  # stay under the databases' limits on bound parameters
        return [
            run
            for i in range(0, len(rows), _CHUNK)
            for run in load_runs(session, rows[i : i + _CHUNK])
        ]
    ids = [r.run_id for r in rows]
    if not ids:
        return []
    # Plain driver rows: no ORM or result-row bookkeeping for what may be 30,000 child rows.
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in child_rows(session, "params", ids):
        params[run_id][key] = value
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in child_rows(session, "tags", ids):
        tags[run_id][key] = value
    metrics: dict[str, dict[str, Metric]] = defaultdict(dict)
    for run_id, key, value, nan, ts, step, ds_name, ds_digest, model_id in child_rows(
        session, "latest_metrics", ids
    ):
        metrics[run_id][key] = Metric(
            key, metric_value(value, nan), ts, step, run_id, ds_name, ds_digest, model_id
        )
    inputs = _load_inputs(session, ids)
    model_io: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    io = RunModelIOModel
    io_rows = select(io.run_id, io.direction, io.model_id, io.step).where(io.run_id.in_(ids))
    for run_id, direction, model_id, step in session.execute(io_rows):
        model_io[run_id][direction].append((model_id, step))
    return [
        Run(
            info=run_info(r),
            data=RunData(metrics=metrics[r.run_id], params=params[r.run_id], tags=tags[r.run_id]),
            inputs=RunInputs(
                dataset_inputs=inputs[r.run_id],
                model_inputs=[m for m, _ in model_io[r.run_id]["input"]],
            ),
            outputs=RunOutputs(model_outputs=list(model_io[r.run_id]["output"])),
        )
        for r in rows
    ]


def _load_inputs(session: Session, ids: Iterable[str]) -> dict[str, list[DatasetInput]]:
    ids = list(ids)
    input_tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    it = RunInputTagModel
    tag_rows = select(it.run_id, it.dataset_id, it.key, it.value).where(it.run_id.in_(ids))
    for run_id, dataset_id, key, value in session.execute(tag_rows):
        input_tags[(run_id, dataset_id)][key] = value
    result: dict[str, list[DatasetInput]] = defaultdict(list)
    rows = session.execute(
        select(RunInputModel.run_id, DatasetModel)
        .join(DatasetModel, DatasetModel.dataset_id == RunInputModel.dataset_id)
        .where(RunInputModel.run_id.in_(ids))
        .order_by(DatasetModel.dataset_id)
    )
    for run_id, ds in rows:
        result[run_id].append(
            DatasetInput(
                dataset=Dataset(
                    name=ds.name,
                    digest=ds.digest,
                    source_type=ds.source_type,
                    source=ds.source,
                    schema=ds.schema,
                    profile=ds.profile,
                ),
                tags=input_tags[(run_id, ds.dataset_id)],
            )
        )
    return result
