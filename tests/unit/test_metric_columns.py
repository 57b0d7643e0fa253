"""``MetricColumns``: many points of one run, column by column, usable as a list of Metric."""

from __future__ import annotations

import math

import pytest

from trainlab.entities import Metric, MetricColumns

POINTS = [("loss", 0.5, 100, 0), ("acc", math.nan, 101, 0), ("loss", 0.25, 102, 1)]


def test_it_is_a_sequence_of_metrics() -> None:
    columns = MetricColumns.from_points(POINTS)
    assert len(columns) == 3
    assert columns[0] == Metric("loss", 0.5, 100, 0)
    assert columns[-1] == Metric("loss", 0.25, 102, 1)
    assert [m.key for m in columns] == ["loss", "acc", "loss"]
    assert list(columns.points()) == POINTS  # the same NaN object: equal by identity
    assert math.isnan(columns[1].value)


def test_slices_and_concatenation_keep_the_order() -> None:
    columns = MetricColumns.from_points(POINTS)
    head, tail = columns[:1], columns[1:]
    assert isinstance(head, MetricColumns) and len(head) == 1 and len(tail) == 2
    assert head + tail == columns
    assert list(head + tail) == list(columns)


def test_empty_and_mismatched_columns() -> None:
    empty = MetricColumns.from_points([])
    assert len(empty) == 0 and list(empty) == []
    with pytest.raises(ValueError, match="same length; got 2, 1, 2 and 2"):
        MetricColumns(["a", "b"], [1.0], [1, 2], [0, 1])
