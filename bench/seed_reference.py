"""Seed the reference MLflow server's SQLite DB with the search_runs corpus.

Run with bench/.venv-mlflow/bin/python (needs the full `mlflow` package). It writes, in bulk,
exactly the rows that the reference server itself writes for
`create_run(tags={"t": ...}, run_name=...)` + `log_batch(metrics, params)` + `set_terminated()`
(see mlflow.store.tracking.sqlalchemy_store: create_run, log_batch, update_run_info): one `runs`
row, tags `t` and `mlflow.runName`, one `params` row per param, one `metrics` and one
`latest_metrics` row per metric. Going through the store API instead manages ~70 runs/s on this
machine, i.e. minutes for 10,000 runs; bulk inserts take seconds. The experiment must exist
(created through the server's REST API) and the server may be running.

With --history-run RUN_ID it instead writes one long metric history into that run (created
through the REST API): --history-points rows of --history-key at steps 0..N-1, as log_batch
would, and the latest_metrics row.

Prints one JSON line: {"runs": N, "seconds": S} (or {"points": N, "seconds": S}).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from mlflow.entities import LifecycleStage, RunStatus, SourceType
from mlflow.store.tracking.dbmodels.models import (
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from mlflow.utils.uri import append_to_uri_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib.seed_data import METRIC_TIMESTAMP_BASE, history_value, seed_run  # noqa: E402

CHUNK_RUNS = 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-uri", required=True)
    parser.add_argument("--experiment-id", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--artifact-root", default=str(Path.cwd() / "mlartifacts"))
    parser.add_argument("--history-run", help="write a long history into this run instead")
    parser.add_argument("--history-key", default="signal")
    parser.add_argument("--history-points", type=int, default=1_000_000)
    return parser.parse_args()


def insert_history(store: SqlAlchemyStore, args: argparse.Namespace) -> None:
    """Steps 0..N-1 of a slow wave with one spike, the same series bench/ui_bench.py gives the
    trainlab side (benchlib.seed_data.history_value)."""
    rows = []
    for step in range(args.history_points):
        rows.append(
            {
                "key": args.history_key,
                "value": history_value(step),
                "timestamp": METRIC_TIMESTAMP_BASE + step,
                "step": step,
                "is_nan": False,
                "run_uuid": args.history_run,
            }
        )
        if len(rows) == 50_000 or step == args.history_points - 1:
            with store.engine.begin() as conn:
                conn.execute(SqlMetric.__table__.insert(), rows)
            latest = rows[-1]
            rows = []
    with store.engine.begin() as conn:
        conn.execute(SqlLatestMetric.__table__.insert(), [latest])


def rows_for_run(index: int, args: argparse.Namespace, artifact_location: str) -> dict[str, list]:
    data = seed_run(index, args.params, args.metrics)
    run_id = uuid.uuid4().hex
    now_ms = int(time.time() * 1000)
    run = {
        "run_uuid": run_id,
        "name": data.name,
        "source_type": SourceType.to_string(SourceType.UNKNOWN),
        "source_name": "",
        "entry_point_name": "",
        "user_id": "unknown",
        "status": RunStatus.to_string(RunStatus.FINISHED),
        "start_time": now_ms,
        "end_time": now_ms,
        "deleted_time": None,
        "source_version": "",
        "lifecycle_stage": LifecycleStage.ACTIVE,
        "artifact_uri": append_to_uri_path(artifact_location, run_id, "artifacts"),
        "experiment_id": int(args.experiment_id),
    }
    tags = [{"key": k, "value": v, "run_uuid": run_id} for k, v in data.tags.items()]
    tags.append({"key": MLFLOW_RUN_NAME, "value": data.name, "run_uuid": run_id})
    params = [{"key": k, "value": v, "run_uuid": run_id} for k, v in data.params.items()]
    metrics = [
        {
            "key": k,
            "value": v,
            "timestamp": data.timestamp,
            "step": 0,
            "is_nan": False,
            "run_uuid": run_id,
        }
        for k, v in data.metrics.items()
    ]
    return {"runs": [run], "tags": tags, "params": params, "metrics": metrics}


def insert_chunk(store: SqlAlchemyStore, rows: dict[str, list]) -> None:
    with store.engine.begin() as conn:
        conn.execute(SqlRun.__table__.insert(), rows["runs"])
        conn.execute(SqlTag.__table__.insert(), rows["tags"])
        conn.execute(SqlParam.__table__.insert(), rows["params"])
        conn.execute(SqlMetric.__table__.insert(), rows["metrics"])
        conn.execute(SqlLatestMetric.__table__.insert(), rows["metrics"])


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    store = SqlAlchemyStore(args.db_uri, args.artifact_root)
    if args.history_run:
        insert_history(store, args)
        print(json.dumps({"points": args.history_points, "seconds": time.perf_counter() - started}))
        return
    artifact_location = store.get_experiment(args.experiment_id).artifact_location
    for chunk_start in range(0, args.runs, CHUNK_RUNS):
        chunk: dict[str, list] = {"runs": [], "tags": [], "params": [], "metrics": []}
        for index in range(chunk_start, min(chunk_start + CHUNK_RUNS, args.runs)):
            for table, rows in rows_for_run(index, args, artifact_location).items():
                chunk[table].extend(rows)
        insert_chunk(store, chunk)
    print(json.dumps({"runs": args.runs, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
