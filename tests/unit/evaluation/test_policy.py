"""The promotion policy: threshold texts, validation messages naming the key, loading a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainlab.evaluation.policy import Policy, Threshold, load_policy, parse_policy
from trainlab.exceptions import InvalidParameterValue

GOOD: dict[str, Any] = {
    "primary": {"metric": "f1_macro", "greater_is_better": True, "min_improvement": 0.0},
    "confidence": 0.95,
    "bootstrap_samples": 2000,
    "seed": 0,
    "thresholds": {"f1_macro": ">= 0.80", "roc_auc": ">= 0.90"},
    "guards": {"accuracy": {"max_drop": 0.01}},
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("text", "op", "value", "shown"),
    [
        (">= 0.80", ">=", 0.8, ">= 0.8"),
        (">=0.8", ">=", 0.8, ">= 0.8"),
        ("  <  1e-3 ", "<", 0.001, "< 0.001"),
        ("> -1", ">", -1.0, "> -1.0"),
        ("<= .5", "<=", 0.5, "<= 0.5"),
        (">+2.", ">", 2.0, "> 2.0"),
    ],
)
def test_threshold_parses_op_and_number(text: str, op: str, value: float, shown: str) -> None:
    t = Threshold.parse(text)
    assert (t.op, t.value) == (op, value)
    assert str(t) == shown
    assert Threshold.parse(str(t)) == t


@pytest.mark.parametrize("text", ["high", "=> 0.8", "== 1", "0.8", "> ", ">= 0.8 x", ">= nan", 0.9])
def test_threshold_rejects_other_texts(text: object) -> None:
    with pytest.raises(ValueError, match=r"write OP NUMBER, e.g. '>= 0.90', got "):
        Threshold.parse(text)


@pytest.mark.parametrize(
    ("text", "x", "holds"),
    [
        (">= 0.8", 0.8, True),
        ("> 0.8", 0.8, False),
        ("<= 3", 3.0, True),
        ("< 3", 2.9, True),
        ("< 3", 3.1, False),
        (">= 0", float("nan"), False),
    ],
)
def test_threshold_holds(text: str, x: float, holds: bool) -> None:
    assert Threshold.parse(text).holds(x) is holds


def test_a_good_policy_and_its_defaults() -> None:
    policy = parse_policy(GOOD)
    assert policy.thresholds["roc_auc"] == Threshold(">=", 0.9)
    assert policy.guards["accuracy"].max_drop == 0.01
    minimal = parse_policy({"primary": {"metric": "accuracy"}})
    assert (minimal.confidence, minimal.bootstrap_samples, minimal.seed) == (0.95, 2000, 0)
    assert (minimal.thresholds, minimal.guards) == ({}, {})
    assert minimal.primary.min_improvement == 0.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (with_(primary={"metric": "f2"}), "primary.metric: unknown metric 'f2'; known: accuracy,"),
        (with_(thresholds={"auc": ">= 0.9"}), "thresholds.auc: unknown metric 'auc'"),
        (with_(guards={"acc": {"max_drop": 0.1}}), "guards.acc: unknown metric 'acc'"),
        (with_(confidence=0.5), "confidence: Input should be greater than 0.5"),
        (with_(confidence=1.0), "confidence: Input should be less than 1"),
        (with_(bootstrap_samples=50), "bootstrap_samples: Input should be greater than or equal"),
        (with_(seed=-1), "seed: Input should be greater than or equal to 0"),
        (with_(extra=1), "extra: unknown key"),
        (with_(primary={"metric": "accuracy", "min": 0}), "primary.min: unknown key"),
        (
            with_(thresholds={"roc_auc": "high"}),
            "thresholds.roc_auc: write OP NUMBER, e.g. '>= 0.90', got 'high'",
        ),
        (with_(thresholds={"roc_auc": 0.9}), "thresholds.roc_auc: write OP NUMBER"),
        (with_(primary={"metric": "accuracy", "min_improvement": -0.1}), "primary.min_improvement"),
        (with_(guards={"accuracy": {}}), "guards.accuracy.max_drop: Field required"),
        (with_(guards={"accuracy": {"max_drop": -1}}), "guards.accuracy.max_drop: Input should"),
        ({"confidence": 0.9}, "primary: Field required"),
    ],
)
def test_validation_errors_name_the_key(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        parse_policy(config, "gate.yaml")
    assert err.value.message.startswith("Invalid policy in gate.yaml:\n")
    assert f"\n  {message}" in err.value.message


def test_every_error_is_reported_at_once() -> None:
    with pytest.raises(InvalidParameterValue) as err:
        parse_policy(with_(confidence=2, thresholds={"roc_auc": "high"}))
    assert "  confidence:" in err.value.message
    assert "  thresholds.roc_auc:" in err.value.message


@pytest.mark.parametrize(
    ("primary", "maximize"),
    [
        ({"metric": "f1_macro"}, True),
        ({"metric": "rmse"}, False),
        ({"metric": "logloss"}, False),
        ({"metric": "r2"}, True),
        ({"metric": "mae", "greater_is_better": True}, True),
    ],
)
def test_direction_defaults_to_the_metrics_own(primary: dict[str, Any], maximize: bool) -> None:
    policy = parse_policy({"primary": primary})
    assert policy.primary.maximize is maximize
    assert policy.greater_is_better(primary["metric"]) is maximize
    assert policy.to_dict()["primary"]["greater_is_better"] is maximize


def test_metric_names_primary_first_without_duplicates() -> None:
    policy = parse_policy(
        with_(
            thresholds={"roc_auc": ">= 0.9", "f1_macro": ">= 0.8"},
            guards={"accuracy": {"max_drop": 0}},
        )
    )
    assert policy.metric_names() == ["f1_macro", "roc_auc", "accuracy"]


def test_to_dict_is_plain_data_that_parses_back() -> None:
    policy = parse_policy(with_(thresholds={"roc_auc": ">=0.90"}))
    data = policy.to_dict()
    assert data["thresholds"] == {"roc_auc": ">= 0.9"}
    assert data["guards"] == {"accuracy": {"max_drop": 0.01}}
    assert data["primary"] == {
        "metric": "f1_macro",
        "greater_is_better": True,
        "min_improvement": 0.0,
    }
    assert parse_policy(data) == policy


def test_check_task_names_each_misfit_metric() -> None:
    policy = parse_policy(with_(guards={"rmse": {"max_drop": 0.1}}))
    with pytest.raises(InvalidParameterValue) as err:
        policy.check_task("classification")
    assert "  guards.rmse: 'rmse' is not a classification metric" in err.value.message
    with pytest.raises(InvalidParameterValue) as err:
        policy.check_task("regression")
    message = err.value.message
    assert "  primary.metric: 'f1_macro' is not a regression metric" in message
    assert "  thresholds.roc_auc: 'roc_auc' is not a regression metric" in message
    assert "(metrics that apply: mae, mape, median_ae, r2, rmse)" in message
    parse_policy({"primary": {"metric": "rmse"}}).check_task("regression")
    binary = parse_policy({"primary": {"metric": "f1"}})
    binary.check_task("classification", 2)
    with pytest.raises(InvalidParameterValue) as err:
        binary.check_task("classification", 3)
    assert "  primary.metric: 'f1' is for a target of two classes; this one has 3" in (
        err.value.message
    )
    assert "f1_macro" in err.value.message
    parse_policy(GOOD).check_task("classification")
    with pytest.raises(InvalidParameterValue, match="task must be one of classification, regr"):
        policy.check_task("ranking")


def test_load_policy_reads_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(
        "primary: {metric: f1_macro, greater_is_better: true, min_improvement: 0.0}\n"
        "confidence: 0.9\n"
        'thresholds: {f1_macro: ">= 0.80", roc_auc: ">= 0.90"}\n'
        "guards: {accuracy: {max_drop: 0.01}}\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert isinstance(policy, Policy)
    assert policy.confidence == 0.9
    assert str(policy.thresholds["f1_macro"]) == ">= 0.8"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "does not exist"),
        ("primary: [unclosed\n", "is not valid YAML"),
        ("- a\n- b\n", "must hold a mapping (primary:, thresholds:, guards:, ...)"),
        ("", "must hold a mapping"),
        ("primary: {metric: f1_macro}\nseeed: 1\n", ":\n  seeed: unknown key"),
        (  # a duplicate key on a line with an indicator: no hint about quoting
            "primary: {metric: f1_macro}\ndescription: |\n  a\ndescription: |\n  b\n",
            "found the key 'description' twice in one mapping",
        ),
        (
            "primary: {metric: f1_macro}\nguards: {accuracy: 0.1}\nguards: {f1: 0.2}\n",
            "found the key 'guards' twice in one mapping (first on line 2); keep one",
        ),
        (  # in a nested mapping too
            "primary: {metric: f1_macro, metric: accuracy}\n",
            "found the key 'metric' twice in one mapping (first on line 1)",
        ),
        (  # a threshold left unquoted, in a flow mapping and in a block one
            "primary: {metric: f1_macro}\nthresholds: {f1_macro: >= 0.80}\n",
            "YAML reads '>' at the start of a value as its own syntax: quote the value, "
            "'>= 0.80' (line 2).",
        ),
        (
            "primary: {metric: f1_macro}\nthresholds:\n  accuracy: > 0.9  # at least\n",
            "quote the value, '> 0.9' (line 3).",
        ),
    ],
)
def test_load_policy_errors_name_the_file(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "gate.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidParameterValue) as err:
        load_policy(path)
    assert repr(str(path)) in err.value.message
    assert message in err.value.message
    if "quote the value" not in message:  # the hint only where a value starts with an indicator
        assert "YAML reads" not in err.value.message


def test_parse_policy_rejects_a_non_mapping() -> None:
    with pytest.raises(InvalidParameterValue, match="gate.yaml must be a mapping"):
        parse_policy(["primary"], "gate.yaml")  # type: ignore[arg-type]


def test_a_merged_mapping_may_be_overridden(tmp_path: Path) -> None:
    """YAML's merge key brings in keys that the mapping may then set again."""
    path = tmp_path / "gate.yaml"
    path.write_text(
        "base: &base {metric: accuracy, confidence: 0.9}\nprimary: {<<: *base, metric: f1_macro}\n",
        encoding="utf-8",
    )
    from trainlab import _yaml

    assert _yaml.load(path.read_text(encoding="utf-8"), str(path))["primary"] == {
        "metric": "f1_macro",
        "confidence": 0.9,
    }
