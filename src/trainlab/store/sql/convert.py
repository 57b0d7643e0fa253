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
from trainlab.store.sql.models import (
    DatasetModel,
    ExperimentModel,
    LatestMetricModel,
    ParamModel,
    RunInputModel,
    RunInputTagModel,
    RunModel,
    RunModelIOModel,
    TagModel,
)


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


def run_info(row: RunModel) -> RunInfo:
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
    ids = [r.run_id for r in rows]
    if not ids:
        return []
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for p in session.execute(select(ParamModel).where(ParamModel.run_id.in_(ids))).scalars():
        params[p.run_id][p.key] = p.value
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for t in session.execute(select(TagModel).where(TagModel.run_id.in_(ids))).scalars():
        tags[t.run_id][t.key] = t.value
    metrics: dict[str, dict[str, Metric]] = defaultdict(dict)
    latest = select(LatestMetricModel).where(LatestMetricModel.run_id.in_(ids))
    for m in session.execute(latest).scalars():
        metrics[m.run_id][m.key] = Metric(
            key=m.key,
            value=metric_value(m.value, m.is_nan),
            timestamp=m.timestamp,
            step=m.step,
            run_id=m.run_id,
            dataset_name=m.dataset_name,
            dataset_digest=m.dataset_digest,
            model_id=m.model_id,
        )
    inputs = _load_inputs(session, ids)
    model_io: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    io_rows = select(RunModelIOModel).where(RunModelIOModel.run_id.in_(ids))
    for io in session.execute(io_rows).scalars():
        model_io[io.run_id][io.direction].append((io.model_id, io.step))
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
    tag_rows = select(RunInputTagModel).where(RunInputTagModel.run_id.in_(ids))
    for t in session.execute(tag_rows).scalars():
        input_tags[(t.run_id, t.dataset_id)][t.key] = t.value
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
