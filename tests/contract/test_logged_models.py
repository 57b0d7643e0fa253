"""Logged-model search: MLflow's filter on attributes, params, tags and metrics (any point of the
model's metric), its ``datasets`` restriction and ordering by a metric's latest value. Runs on
SQLite, PostgreSQL and through a real server."""

from __future__ import annotations

import json
import math
import uuid

import pytest

from trainlab.client.rest_logged_models import logged_models_for
from trainlab.entities import Metric
from trainlab.entities.logged_model import LoggedModelStatus
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound, TrainlabError
from trainlab.store._base import BaseLoggedModelStore, BaseTrackingStore


@pytest.fixture
def models(store: BaseTrackingStore) -> BaseLoggedModelStore:
    return logged_models_for(store)


@pytest.fixture
def corpus(store: BaseTrackingStore, models: BaseLoggedModelStore) -> tuple[str, dict[str, str]]:
    """An experiment with four models: ``a`` (acc 0.9 on eval, 0.6 on train), ``b`` (acc
    0.5, then 0.8 at a later step, on eval), ``c`` (acc NaN) and ``d`` (no metrics)."""
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    run_id = store.create_run(exp).info.run_id
    ids = {
        name: models.create_logged_model(exp, name, run_id, params={"kind": kind}).model_id
        for name, kind in (("a", "rf"), ("b", "rf"), ("c", "lr"), ("d", "lr"))
    }

    def point(model: str, value: float, ts: int, step: int, dataset: str) -> Metric:
        return Metric("acc", value, ts, step, None, dataset, f"{dataset}-digest", ids[model])

    store.log_batch(
        run_id,
        [
            point("a", 0.9, 100, 1, "eval"),
            point("a", 0.6, 50, 1, "train"),
            point("b", 0.5, 100, 1, "eval"),
            point("b", 0.8, 200, 2, "eval"),
            point("c", math.nan, 100, 1, "eval"),
        ],
    )
    return exp, ids


def _names(page: object, ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[m.model_id] for m in page]  # type: ignore[attr-defined]


def test_metric_filter_matches_any_point(
    models: BaseLoggedModelStore, corpus: tuple[str, dict[str, str]]
) -> None:
    exp, ids = corpus
    order = [{"field_name": "name"}]

    def names(filter_string: str, datasets: list[dict[str, object]] | None = None) -> list[str]:
        page = models.search_logged_models([exp], filter_string, 50, order, None, datasets or [])
        return _names(page, ids)

    assert names("metrics.acc > 0.7") == ["a", "b"]  # b's earlier 0.5 does not hide its 0.8
    assert names("metrics.acc < 0.55") == ["b"]
    assert names("metrics.acc = nan") == ["c"]
    assert names("metrics.acc != 0.9") == ["a", "b", "c"]  # a's 0.6 on train differs
    assert names("metrics.acc >= 0 AND params.kind = 'rf'") == ["a", "b"]
    assert names("metrics.acc < 0.7 OR params.kind = 'lr'") == ["a", "b", "c", "d"]
    assert names("metrics.missing > 0") == []
    # On the train dataset only a has points, and 0.6 is not > 0.7.
    assert names("metrics.acc > 0.7", [{"dataset_name": "train"}]) == []
    assert names("metrics.acc < 0.7", [{"dataset_name": "train"}]) == ["a"]
    eval_digest = [{"dataset_name": "eval", "dataset_digest": "eval-digest"}]
    assert names("metrics.acc > 0.7", eval_digest) == ["a", "b"]
    assert names("", [{"dataset_name": "eval", "dataset_digest": "other"}]) == []
    assert names("", [{"dataset_name": "train"}]) == ["a"]  # datasets alone: models with points


def test_order_by_latest_metric_value(
    models: BaseLoggedModelStore, corpus: tuple[str, dict[str, str]]
) -> None:
    exp, ids = corpus

    def names(*order: dict[str, object]) -> list[str]:
        return _names(models.search_logged_models([exp], None, 50, list(order)), ids)

    # Latest points: a 0.9 (ts 100, eval), b 0.8 (ts 200), c NaN; d has none and goes last.
    assert names({"field_name": "metrics.acc", "ascending": False}) == ["a", "b", "c", "d"]
    assert names({"field_name": "metrics.acc", "ascending": True}) == ["b", "a", "c", "d"]
    on_train = {"field_name": "metrics.acc", "ascending": False, "dataset_name": "train"}
    assert names(on_train, {"field_name": "name"}) == ["a", "b", "c", "d"]
    assert names({"field_name": "name", "ascending": False}) == ["d", "c", "b", "a"]


def test_status_filter_takes_mlflows_names(
    models: BaseLoggedModelStore, corpus: tuple[str, dict[str, str]]
) -> None:
    exp, ids = corpus
    models.finalize_logged_model(ids["a"], LoggedModelStatus.READY)
    models.finalize_logged_model(ids["b"], LoggedModelStatus.UPLOAD_FAILED)

    def names(filter_string: str) -> list[str]:
        order = [{"field_name": "name"}]
        return _names(models.search_logged_models([exp], filter_string, 50, order), ids)

    assert names("status = 'READY'") == ["a"]
    assert names("status != 'READY'") == ["b", "c", "d"]
    assert names("status IN ('READY', 'FAILED')") == ["a", "b"]
    assert names("status NOT IN ('PENDING')") == ["a", "b"]
    assert names("status = 'pending'") == ["c", "d"]
    assert names("status = 'LOGGED_MODEL_READY'") == ["a"]  # the wire's name too
    with pytest.raises(InvalidParameterValue, match="Unknown logged model status 'DONE'"):
        models.search_logged_models([exp], "status = 'DONE'")
    with pytest.raises(InvalidParameterValue, match="status"):
        models.search_logged_models([exp], "status LIKE 'R%'")


def test_bad_search_arguments_name_the_problem(
    models: BaseLoggedModelStore, corpus: tuple[str, dict[str, str]]
) -> None:
    exp, _ = corpus
    with pytest.raises(InvalidParameterValue, match="params.kind"):
        models.search_logged_models([exp], None, 50, [{"field_name": "params.kind"}])
    with pytest.raises(TrainlabError, match="dataset_name"):
        models.search_logged_models([exp], None, 50, (), None, [{"dataset_digest": "x"}])
    with pytest.raises(InvalidParameterValue, match="Expected a numeric value"):
        models.search_logged_models([exp], "metrics.acc > 'high'")
    with pytest.raises(InvalidParameterValue, match="a pattern is at most 10,000"):
        models.search_logged_models([exp], f"name LIKE '{'x' * 60_000}'")
    with pytest.raises(InvalidParameterValue, match="order_by: 5000 clauses"):
        models.search_logged_models([exp], None, 50, [{"field_name": "name"}] * 5000)


def test_params_are_immutable_and_metrics_name_real_models(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    run_id = store.create_run("0").info.run_id
    model_id = models.create_logged_model("0", "clf", run_id).model_id
    models.log_logged_model_params(model_id, {"p": "1", "q": "a"})
    models.log_logged_model_params(model_id, {"p": "1"})  # the same value again is fine
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
        models.log_logged_model_params(model_id, {"r": "new", "p": "2"})
    assert models.get_logged_model(model_id).params == {"p": "1", "q": "a"}  # r not stored either

    ghost = "m-" + "0" * 32
    points = [Metric("acc", 0.5, 1, 0, None, None, None, model_id), Metric("acc", 0.6, 2, 1)]
    with pytest.raises(InvalidParameterValue, match=f"Invalid model_id '{ghost}' of metric 'f1'"):
        store.log_batch(run_id, [*points, Metric("f1", 0.1, 1, 0, None, None, None, ghost)])
    assert store.get_run(run_id).data.metrics == {}
    store.log_batch(run_id, points)
    # The run's points name no model, as in MLflow (the stock client's log_model links to a new
    # model the run's points that name none); the model has its point.
    assert [m.model_id for m in store.get_metric_history(run_id, "acc")] == [None, None]
    assert [(m.value, m.model_id) for m in models.get_logged_model(model_id).metrics] == [
        (0.5, model_id)
    ]
    models.delete_logged_model(model_id)  # still there, as in MLflow: points may name it
    store.log_batch(run_id, [Metric("late", 1.0, 3, 0, None, None, None, model_id)])
    assert store.get_run(run_id).data.metrics["late"].model_id is None


def test_a_point_of_the_run_is_linked_to_each_model_that_names_it(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    # The stock client logs a run's metrics again, with the model's id, when it logs a model.
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    run_id = store.create_run(exp).info.run_id
    store.log_batch(run_id, [Metric("rmse", 0.25, 10, 0)])
    first, second = (models.create_logged_model(exp, n, run_id).model_id for n in ("a", "b"))
    for model_id in (first, second, first):  # the same link again changes nothing
        store.log_batch(run_id, [Metric("rmse", 0.25, 10, 0, None, "eval", "d1", model_id)])
    for model_id in (first, second):
        (point,) = models.get_logged_model(model_id).metrics
        assert (point.key, point.value, point.step, point.run_id) == ("rmse", 0.25, 0, run_id)
        assert (point.dataset_name, point.dataset_digest, point.model_id) == (
            "eval",
            "d1",
            model_id,
        )
    found = models.search_logged_models([exp], "metrics.rmse < 1")
    assert sorted(m.model_id for m in found) == sorted([first, second])
    assert len(store.get_metric_history(run_id, "rmse")) == 1  # the run's history: one point


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "n" * 501}, "logged model name: 501 characters, the limit is 500"),
        ({"model_type": "t" * 501}, "logged model model_type: 501 characters"),
        ({"source_run_id": "a" * 33}, "source_run_id .a run ID.: 33 characters"),
        ({"name": "a\x00b"}, "NUL character"),
        *[
            ({"name": bad}, r"Invalid model name \(.*\) provided. Model name must be a non-empty")
            for bad in ("", "v1.2", "a/b", "x:y", "50%", "it's")
        ],  # MLflow's rule
    ],
)
def test_create_refuses_what_the_fields_cannot_hold(
    store: BaseTrackingStore, models: BaseLoggedModelStore, kwargs: dict[str, str], message: str
) -> None:
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    with pytest.raises(InvalidParameterValue, match=message):
        models.create_logged_model(exp, **kwargs)  # type: ignore[arg-type]
    assert models.search_logged_models([exp]).items == []


def test_create_takes_a_source_run_from_elsewhere(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    """As MLflow does: a model copied from another server keeps its source run's id, which
    this store does not hold (mlflow.initialize_logged_model(source_run_id=...))."""
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    elsewhere = "0123456789abcdef0123456789abcdef"
    assert models.create_logged_model(exp, "lm", source_run_id=elsewhere).source_run_id == elsewhere


def test_model_versions_tag_is_kept_distinct_whatever_it_holds(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    model_id = models.create_logged_model(exp, "m").model_id
    twice = '[{"name": "a", "version": "1"}, {"name": "a", "version": 1}, "x", "x"]'
    got = models.set_logged_model_tags(model_id, {"mlflow.modelVersions": twice})
    assert json.loads(got.tags["mlflow.modelVersions"]) == [{"name": "a", "version": "1"}, "x", "x"]
    odd = '[{"name": ["a"], "version": {"n": 1}}, {"name": ["a"], "version": {"n": 1}}]'
    got = models.set_logged_model_tags(model_id, {"mlflow.modelVersions": odd})
    assert json.loads(got.tags["mlflow.modelVersions"]) == [{"name": ["a"], "version": {"n": 1}}]
    got = models.set_logged_model_tags(model_id, {"mlflow.modelVersions": "not json"})
    assert got.tags["mlflow.modelVersions"] == "not json"


def test_delete_is_idempotent(store: BaseTrackingStore, models: BaseLoggedModelStore) -> None:
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    model_id = models.create_logged_model(exp, "m").model_id
    models.delete_logged_model(model_id)
    models.delete_logged_model(model_id)  # again: a no-op, as in MLflow
    with pytest.raises(ResourceNotFound):
        models.get_logged_model(model_id)
    with pytest.raises(ResourceNotFound):
        models.delete_logged_model("m-" + "0" * 32)


def test_a_run_names_only_logged_models_that_exist_as_inputs_and_outputs(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    run_id = store.create_run("0").info.run_id
    model_id = models.create_logged_model("0", "clf", run_id).model_id
    for ghost, shown in (("m-" + "0" * 32, "m-" + "0" * 32), ("z" * 5000, "z" * 77 + "...")):
        with pytest.raises(InvalidParameterValue, match=f"Invalid model_id '{shown}' in the run's"):
            store.log_outputs(run_id, [(model_id, 1), (ghost, 0)])
        with pytest.raises(InvalidParameterValue, match="no logged model with that ID"):
            store.log_inputs(run_id, model_ids=[ghost])
    assert store.get_run(run_id).outputs.model_outputs == []
    store.log_outputs(run_id, [(model_id, 1)])
    store.log_inputs(run_id, model_ids=[model_id])
    run = store.get_run(run_id)
    assert run.outputs.model_outputs == [(model_id, 1)]
    assert run.inputs.model_inputs == [model_id]


def test_no_logged_model_is_made_in_a_deleted_experiment(
    store: BaseTrackingStore, models: BaseLoggedModelStore
) -> None:
    exp = store.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")
    store.delete_experiment(exp)
    with pytest.raises(InvalidParameterValue, match=f"Experiment {exp} is deleted; logged models"):
        models.create_logged_model(exp, "clf")
    store.restore_experiment(exp)
    assert models.create_logged_model(exp, "clf").experiment_id == exp


def test_a_page_token_continues_only_the_search_that_returned_it(
    models: BaseLoggedModelStore, corpus: tuple[str, dict[str, str]]
) -> None:
    exp, ids = corpus
    order = [{"field_name": "name"}]
    first = models.search_logged_models([exp], None, 2, order)
    token = first.next_page_token
    assert token is not None
    rest = models.search_logged_models([exp], None, 2, order, token)
    assert _names(first, ids) + _names(rest, ids) == ["a", "b", "c", "d"]
    for other in (
        {"experiment_ids": ["0"]},
        {"filter_string": "name != 'a'"},
        {"order_by": [{"field_name": "name", "ascending": False}]},
    ):
        args = {"experiment_ids": [exp], "filter_string": None, "order_by": order, **other}
        with pytest.raises(InvalidParameterValue, match="it continues another search"):
            models.search_logged_models(max_results=2, page_token=token, **args)
