"""How SQLite reads a run search: the plans that keep it fast in a database of many experiments
(checked with EXPLAIN QUERY PLAN, not with timings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from trainlab.entities import Metric, Param, RunTag, ViewType
from trainlab.store.search import (
    experiments_filter,
    model_versions_filter,
    registered_models_filter,
    runs_filter,
    sorted_by_start_time,
)
from trainlab.store.sql.run_search import runs_query
from trainlab.store.sql.tracking import SqlTrackingStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path}/plans.db", f"file://{tmp_path}/artifacts")
    for name in ("a", "b"):
        exp = store.create_experiment(name)
        for i in range(3):
            run = store.create_run(exp, run_name=f"{name}{i}").info.run_id
            store.log_batch(
                run, [Metric("acc", i / 3, 0, 0)], [Param("lr", "0.1")], [RunTag("t", "y")]
            )
    yield store
    store.engine.dispose()


def plan(
    store: SqlTrackingStore, filter_string: str, order_by: list[str], top_level_only: bool = False
) -> str:
    exp = store.find_experiment_by_name("a")
    assert exp is not None
    query, binds = runs_query(
        [int(exp.experiment_id)],
        filter_string,
        ViewType.ACTIVE_ONLY,
        order_by,
        "sqlite",
        top_level_only=top_level_only,
    )
    bound = query.params(binds)
    sql = str(bound.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        return "\n".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_filters_read_the_values_of_the_searched_experiments_only(store: SqlTrackingStore) -> None:
    steps = plan(store, "params.lr = '0.1' AND tags.t = 'y' AND metrics.acc > 0.5", [])
    for table in ("params", "tags"):
        index = f"ix_{table}_experiment_id_key_value_run_id"
        assert f"{table} USING COVERING INDEX {index} (experiment_id=? AND key=? AND value=?)" in (
            steps
        )
    index = "ix_latest_metrics_experiment_id_key_value_is_nan_run_id"
    assert (
        f"latest_metrics USING COVERING INDEX {index} (experiment_id=? AND key=? AND value>?)"
        in (steps)
    )


def test_a_sorted_page_walks_a_filter_list_not_the_experiment(store: SqlTrackingStore) -> None:
    steps = plan(store, "params.lr = '0.1' AND metrics.acc > 0.5", ["metrics.acc DESC"])
    assert "SEARCH runs USING INDEX sqlite_autoindex_runs_1 (run_id=?)" in steps
    assert "ix_runs_experiment_id" not in steps


@pytest.mark.parametrize(
    ("filter_string", "order_by", "top_level_only"),
    [
        # by start time (the default too): the experiment index is in that order
        ("params.lr = '0.1'", [], False),
        ("params.lr = '0.1'", ["attributes.start_time DESC"], False),
        ("params.lr = '0.1'", ["created", "metrics.acc"], False),
        # top-level runs only: SQLite would walk those of every experiment
        ("params.lr = '0.1'", ["metrics.acc DESC"], True),
        # no list holds every match
        ("params.lr IS NULL", ["metrics.acc DESC"], False),
        ("params.lr = '0.1' OR status = 'FINISHED'", ["metrics.acc DESC"], False),
        ("status = 'FINISHED'", ["metrics.acc DESC"], False),
    ],
)
def test_otherwise_the_experiment_index_is_walked(
    store: SqlTrackingStore, filter_string: str, order_by: list[str], top_level_only: bool
) -> None:
    steps = plan(store, filter_string, order_by, top_level_only)
    assert "SEARCH runs USING INDEX ix_runs_experiment_id_lifecycle_stage_start_time" in steps
    assert "SCAN runs" not in steps


def test_a_sorted_page_intersects_the_filter_lists(store: SqlTrackingStore) -> None:
    steps = plan(store, "params.lr = '0.1' AND tags.t = 'y' AND metrics.acc > 0.5", ["metrics.acc"])
    assert "SEARCH runs USING INDEX sqlite_autoindex_runs_1 (run_id=?)" in steps
    # Merged, not a temporary b-tree of each list; the runs of an equality come sorted from
    # the index, those of a range are sorted.
    assert steps.count("MERGE (INTERSECT)") == 2
    assert "INTERSECT USING TEMP B-TREE" not in steps
    lists = steps.split("MERGE (INTERSECT)")[-1].split("CORRELATED")[0]
    assert lists.count("USE TEMP B-TREE FOR ORDER BY") == 1, lists


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        # walking the experiment in start-time order stops at the end of the page
        ("params.lr = '0.1' AND tags.t = 'y'", []),
        # one list: nothing to intersect
        ("params.lr = '0.1' AND status = 'FINISHED'", ["metrics.acc"]),
    ],
)
def test_otherwise_the_lists_are_not_intersected(
    store: SqlTrackingStore, filter_string: str, order_by: list[str]
) -> None:
    assert "INTERSECT" not in plan(store, filter_string, order_by)


@pytest.mark.parametrize(("lists", "intersected"), [(8, False), (9, True)])
def test_more_lists_than_postgresql_plans_as_joins_are_intersected(
    lists: int, intersected: bool
) -> None:
    filter_string = " AND ".join(f"params.p{i} = 'x'" for i in range(lists))
    query, _binds = runs_query([1], filter_string, ViewType.ACTIVE_ONLY, [], "postgresql")
    assert ("INTERSECT" in str(query.compile(dialect=postgresql.dialect()))) is intersected
    tags = " AND ".join(f"tags.t{i} = 'x'" for i in range(lists))
    for compile_filter in (experiments_filter, registered_models_filter, model_versions_filter):
        where = compile_filter(tags)
        assert where is not None
        assert ("INTERSECT" in str(where.compile(dialect=postgresql.dialect()))) is intersected


@pytest.mark.parametrize(
    ("filter_string", "lists"),
    [
        (None, False),
        ("status = 'FINISHED'", False),
        ("params.lr IS NULL", False),
        ("params.lr IS NOT NULL", True),
        ("metrics.acc != 0.5", True),
        ("tags.t NOT IN ('x')", True),
        ("status = 'FINISHED' AND params.lr LIKE '0.%'", True),
        ("status = 'FINISHED' AND (params.lr = '0.1' AND tags.t = 'y')", True),
        ("params.lr = '0.1' OR status = 'FINISHED'", False),
        ("(params.lr = '0.1' AND tags.t = 'y') OR metrics.acc > 1", False),
        ("datasets.name = 'mnist'", False),
    ],
)
def test_a_clause_of_the_top_level_and_lists_every_match(
    filter_string: str | None, lists: bool
) -> None:
    assert any(term.listed is not None for term in runs_filter(filter_string)) is lists


@pytest.mark.parametrize(
    ("order_by", "by_start_time"),
    [
        ([], True),
        ([" "], True),
        (["start_time"], True),
        (["attributes.Created DESC", "metrics.acc"], True),
        (["metrics.acc", "start_time"], False),
        (["end_time DESC"], False),
        (["params.lr"], False),
    ],
)
def test_sorted_by_start_time(order_by: list[str], by_start_time: bool) -> None:
    assert sorted_by_start_time(order_by) is by_start_time


def test_a_search_statement_is_built_once_and_bound_to_each_search(
    store: SqlTrackingStore,
) -> None:
    filter_string, order_by = "params.lr = '0.1' AND tags.t = 'y'", ["metrics.acc DESC"]
    first, first_binds = runs_query([1], filter_string, ViewType.ACTIVE_ONLY, order_by, "sqlite")
    again, again_binds = runs_query([2], filter_string, ViewType.ACTIVE_ONLY, order_by, "sqlite")
    assert again is first
    assert first_binds != again_binds
    for name in ("a", "b"):
        exp = store.find_experiment_by_name(name)
        assert exp is not None
        found = store.search_runs([exp.experiment_id], filter_string, order_by=order_by)
        assert [run.info.run_name for run in found] == [f"{name}2", f"{name}1", f"{name}0"]
