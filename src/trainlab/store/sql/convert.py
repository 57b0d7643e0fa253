"""ORM rows -> entities."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

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
    ExperimentModel,
    RunModel,
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


def load_runs(session: Session, rows: Sequence[RunModel | RunRow]) -> list[Run]:
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
    for run_id, key, value, nan, ts, step, ds_name, ds_digest in child_rows(
        session, "latest_metrics", ids
    ):
        metrics[run_id][key] = Metric(
            key, metric_value(value, nan), ts, step, run_id, ds_name, ds_digest
        )
    inputs = _load_inputs(session, ids)
    model_io: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for run_id, direction, model_id, step in sorted(child_rows(session, "run_model_io", ids)):
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


def _load_inputs(session: Session, ids: list[str]) -> dict[str, list[DatasetInput]]:
    result: dict[str, list[DatasetInput]] = defaultdict(list)
    rows = sorted(child_rows(session, "run_inputs", ids), key=lambda r: r[1])  # by dataset id
    if not rows:  # no inputs, so no input tags either
        return result
    input_tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for run_id, dataset_id, key, value in child_rows(session, "run_input_tags", ids):
        input_tags[(run_id, dataset_id)][key] = value
    for run_id, dataset_id, name, digest, source_type, source, schema, profile in rows:
        dataset = Dataset(name, digest, source_type, source, schema, profile)
        result[run_id].append(DatasetInput(dataset, input_tags[(run_id, dataset_id)]))
    return result
