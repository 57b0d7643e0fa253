"""The metric columns `trainlab runs list` shows when none are asked for."""

from __future__ import annotations

from trainlab.cli.runs import default_metrics, sorted_metrics

KEYS = {
    "data_overlap_train_test", "system/cpu_utilization_percentage", "fit_time_s",
    "train_f1", "valid_f1", "valid_logloss", "test_f1", "test_accuracy", "cv_f1_mean",
}  # fmt: skip


def test_scores_come_first_and_counts_are_left_out() -> None:
    assert default_metrics(KEYS, []) == [
        "test_accuracy", "test_f1", "valid_f1", "valid_logloss", "cv_f1_mean", "train_f1",
        "fit_time_s",
    ]  # fmt: skip


def test_the_order_by_metric_leads() -> None:
    assert default_metrics(KEYS, ["metrics.cv_f1_mean DESC"])[:2] == ["cv_f1_mean", "test_accuracy"]
    assert default_metrics(KEYS, ["metric.`fit_time_s`", "params.x"])[0] == "fit_time_s"
    assert default_metrics(KEYS, ["metrics.missing DESC"])[0] == "test_accuracy"
    assert default_metrics({"loss"}, []) == ["loss"]


def test_the_sorted_by_metrics_are_shown_with_chosen_columns_too() -> None:
    order = ["metrics.valid_f1 DESC", "params.x", "metrics.`test_f1`", "metrics.valid_f1"]
    assert sorted_metrics(KEYS, order) == ["valid_f1", "test_f1"]
    assert sorted_metrics(KEYS, ["metrics.missing"]) == []
    # read by the search grammar's parser: a backquoted key may hold spaces
    assert sorted_metrics({"val loss", "acc"}, ["metrics.`val loss` DESC", "acc"]) == ["val loss"]


def test_within_a_group_the_metric_more_runs_have_comes_first() -> None:
    held = {"acc": 1, "loss": 3, "a_very_long_metric_name": 1}
    assert default_metrics(held, []) == ["loss", "a_very_long_metric_name", "acc"]
    assert default_metrics({"test_f1": 1, "test_acc": 2, "loss": 3}, [])[:2] == [
        "test_acc",
        "test_f1",
    ]  # scores first, however few runs have them
