"""The statement of a run search, shaped for the database that runs it.

A filter's metric, param and tag clauses compile to lists of runs (``runs.run_id IN (SELECT
run_id FROM params WHERE experiment_id IN (...) AND key = ... AND value = ...)``). SQLite keeps
no statistics and reads such a statement as it is written:

- it walks the experiment index (in start-time order) and probes each run against every list,
  unless ``experiment_id + 0`` keeps that index out of the plan;
- then it walks the first list of the WHERE clause, looks up each of its runs in the runs table
  and probes it against the other lists, unless the lists are intersected first;
- it intersects lists in temporary b-trees, unless the intersection is sorted: then it merges
  the sorted lists (an equality's come sorted from its index).

PostgreSQL plans from its statistics and gets the statement as written (with more than
``search.MAX_JOINED_LISTS`` lists intersected, as for every search).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import aliased

from trainlab.entities import ViewType
from trainlab.store import search
from trainlab.store.sql.models import RunModel


def runs_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    view_type: ViewType,
    order_by: Sequence[str],
    dialect: str,
    *,
    top_level_only: bool = False,
) -> tuple[Select[tuple[RunModel]], dict[str, Any]]:
    """The runs of ``experiment_ids`` in ``view_type`` that match ``filter_string`` (with
    ``top_level_only``, those whose parent run is not among them: none, deleted, gone or in
    another experiment), sorted by ``order_by`` (then newest
    first); and the values to execute it with (the experiment ids, ``SEARCHED_EXPERIMENTS``:
    given at execution, as binding them into the statement walks and copies all of it, 0.6 ms a
    search)."""
    query = _statement(filter_string, ViewType(view_type), tuple(order_by), dialect, top_level_only)
    return query, {search.SEARCHED_EXPERIMENTS: list(experiment_ids)}


# The statement of a search, by everything but the experiment ids. Statements are immutable and
# may be shared between threads. Building the bench's search (three clauses, order_by a
# metric) took 1.5 ms of a 15 ms request; a UI or script repeats the same few searches.
@functools.lru_cache(maxsize=128)
def _statement(
    filter_string: str | None,
    view_type: ViewType,
    order_by: tuple[str, ...],
    dialect: str,
    top_level_only: bool,
) -> Select[tuple[RunModel]]:
    terms = search.runs_filter(filter_string)
    experiment: ColumnElement[int] = RunModel.experiment_id.expression
    if (
        dialect == "sqlite"
        and not top_level_only  # SQLite would walk the top-level runs of every experiment
        and not search.sorted_by_start_time(order_by)  # the experiment index is in that order
        and any(term.listed is not None for term in terms)
    ):
        # A list holds every match and the page must be sorted: walking the list is less work
        # than walking the experiment (the list holds the runs of the searched experiments
        # only). Search of 10,000 runs (three clauses, order_by a metric): 21.8 -> 18.5 ms.
        # Not when sorted by start time: walking the experiment stops at the page's end.
        # Intersected, SQLite looks up only the runs in every list in the runs table (2-3 us
        # each), not every run in the first: search of the bench's corpus (three clauses
        # listing 5,085, 2,503 and 4,857 of 10,000 runs) among 10 such experiments: 24.2 ->
        # 22.0 ms. Merged: the bench's search of one such experiment took 5.0 ms of SQL, not
        # 9.1; two ranges of 8,000 runs each 19.8, not 24.8; four equalities 6.0, not 9.9.
        experiment = RunModel.experiment_id + 0
        terms = search.intersect_lists(terms, merged=True)
    query = select(RunModel).where(
        experiment.in_(search.searched_experiments()),
        RunModel.lifecycle_stage.in_(view_type.stages()),
        *(term.clause for term in terms),
    )
    if top_level_only:
        # A run whose parent is not listed (deleted, gone, in another experiment) is a row of
        # its own: folded under no row, it would be in none.
        # (A probe of the parent by its id: 5 ms for the 9,000 child runs of 10,000; a list of
        # the listed runs, built once, took more.)
        parent = aliased(RunModel)
        listed_parent = (
            select(parent.run_id)
            .where(
                parent.run_id == RunModel.parent_run_id,
                parent.experiment_id.in_(search.searched_experiments()),
                parent.lifecycle_stage.in_(view_type.stages()),
            )
            .exists()
        )
        query = query.where(or_(RunModel.parent_run_id.is_(None), ~listed_parent))
    return query.order_by(*search.runs_order_by(order_by))
