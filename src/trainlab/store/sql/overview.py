"""What the web UI asks for beyond MLflow's API, each in one query: experiments with their run
counts and last activity, the param/metric/tag keys of an experiment (the runs table's column
chooser), and a page of runs with the total that matches and, for each run, how many children it
has (so a tuning study folds into one row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainlab.entities import Experiment, LifecycleStage, Run, ViewType
from trainlab.store.sql import convert
from trainlab.store.sql.models import (
    LatestMetricModel,
    ParamModel,
    RunModel,
    TagModel,
)
from trainlab.store.sql.run_search import runs_query
from trainlab.store.sql.tracking import SqlTrackingStore, _check_max_results, _experiment_pk
from trainlab.store.sql.uow import unit_of_work

KeyedModel = type[ParamModel | LatestMetricModel | TagModel]


@dataclass(frozen=True)
class ExperimentOverview:
    experiment: Experiment
    runs: int  # active runs
    last_activity: int  # ms: the newest run start or end, else the experiment's last update


@dataclass(frozen=True)
class RunKeys:
    """Each kind's keys in name order, with how many runs have each."""

    params: dict[str, int]
    metrics: dict[str, int]
    tags: dict[str, int]


@dataclass(frozen=True)
class RunTable:
    runs: list[Run]
    total: int  # runs matching the filter (top-level ones only, when grouped)
    children: dict[str, int]  # run id -> its child runs in the table, for the runs on this page


class SqlOverviewStore:
    def __init__(self, tracking: SqlTrackingStore) -> None:
        self.tracking = tracking

    def experiments(self, view_type: ViewType = ViewType.ACTIVE_ONLY) -> list[ExperimentOverview]:
        found = self.tracking.search_experiments(view_type, max_results=50_000)
        ids = [_experiment_pk(e.experiment_id) for e in found]
        last = func.max(func.coalesce(RunModel.end_time, RunModel.start_time))
        query = (
            select(RunModel.experiment_id, func.count(), last)
            .where(RunModel.experiment_id.in_(ids), RunModel.lifecycle_stage == "active")
            .group_by(RunModel.experiment_id)
        )
        with unit_of_work(self.tracking.engine, write=False) as s:
            stats = {e: (n, t) for e, n, t in s.execute(query)}
        out = []
        for exp in found:
            n, t = stats.get(int(exp.experiment_id), (0, None))
            out.append(ExperimentOverview(exp, n, max(t or 0, exp.last_update_time or 0)))
        return out

    def run_keys(self, experiment_ids: Sequence[str]) -> RunKeys:
        ids = [_experiment_pk(e) for e in experiment_ids]
        deleted = select(RunModel.run_id).where(
            RunModel.experiment_id.in_(ids), RunModel.lifecycle_stage == LifecycleStage.DELETED
        )
        active = select(RunModel.run_id).where(
            RunModel.experiment_id.in_(ids), RunModel.lifecycle_stage == LifecycleStage.ACTIVE
        )

        def keys(s: Session, model: KeyedModel, any_deleted: bool) -> dict[str, int]:
            # The experiments' rows, in key order from the (experiment, key) index; those of
            # active runs only, when there are deleted ones (a probe per row: 5x the time).
            query = select(model.key, func.count()).where(model.experiment_id.in_(ids))
            if any_deleted:
                query = query.where(model.run_id.in_(active))
            return dict(s.execute(query.group_by(model.key).order_by(model.key)).tuples().all())

        with unit_of_work(self.tracking.engine, write=False) as s:
            any_deleted = s.scalar(deleted.limit(1)) is not None
            return RunKeys(
                *(keys(s, m, any_deleted) for m in (ParamModel, LatestMetricModel, TagModel))
            )

    def run_table(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int = 100,
        offset: int = 0,
        top_level_only: bool = False,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> RunTable:
        """The page of ``max_results`` runs from ``offset`` (a page a link names, as the UI's
        page numbers do), and how many match in all."""
        _check_max_results(max_results, limit=1000)
        query, binds = runs_query(
            [_experiment_pk(e) for e in experiment_ids],
            filter_string,
            view_type,
            order_by,
            self.tracking.engine.dialect.name,
            top_level_only=top_level_only,
        )
        page = query.offset(offset).limit(max_results)
        with unit_of_work(self.tracking.engine, write=False) as s:
            matching = query.order_by(None).subquery()
            total = s.scalar(select(func.count()).select_from(matching), binds) or 0
            rows = list(s.execute(page, binds).scalars())
            ids = [r.run_id for r in rows]
            counted = s.execute(
                select(RunModel.parent_run_id, func.count())
                .where(
                    RunModel.parent_run_id.in_(ids),
                    RunModel.experiment_id.in_([_experiment_pk(e) for e in experiment_ids]),
                    RunModel.lifecycle_stage.in_(ViewType(view_type).stages()),
                )
                .group_by(RunModel.parent_run_id)
            )
            children: dict[str, int] = {str(p): n for p, n in counted}
            runs = convert.load_runs(s, rows)
        return RunTable(runs, total, children)
