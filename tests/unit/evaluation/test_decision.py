"""The paired bootstrap and the promotion verdict, on predictions built to be better, worse,
marginal or mixed."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from trainlab.evaluation.decision import (
    Scored,
    _fast_diffs,
    _generic_diffs,
    decide,
    paired_bootstrap,
)
from trainlab.evaluation.policy import parse_policy
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.metrics import lookup

Array = np.ndarray[Any, Any]


def noisy(y: Array, correct: float, seed: int, classes: int = 3) -> Array:
    """Predictions equal to ``y`` on about a ``correct`` share of rows, another class elsewhere."""
    rng = np.random.default_rng(seed)
    wrong = (y + rng.integers(1, classes, len(y))) % classes
    return np.where(rng.random(len(y)) < correct, y, wrong)


def labels(n: int, classes: int = 3, seed: int = 0) -> Array:
    return np.random.default_rng(seed).integers(0, classes, n)


def probabilities(y: Array, signal: float, seed: int, classes: int) -> Array:
    """Class probabilities leaning towards the true class by ``signal`` (0: pure noise)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(y), classes)) + signal * np.eye(classes)[y]
    p = np.exp(logits)
    return np.asarray(p / p.sum(axis=1, keepdims=True))


def marginal(n: int = 200) -> tuple[Array, Array, Array]:
    """The champion is right on 160 of 200 rows, the candidate on the same ones and one more."""
    y = np.arange(n) % 2
    champion = y.copy()
    champion[:40] = 1 - y[:40]
    candidate = champion.copy()
    candidate[0] = y[0]
    return y, candidate, champion


def policy(**overrides: Any) -> Any:
    return parse_policy({"primary": {"metric": "f1_macro"}, "bootstrap_samples": 500, **overrides})


# paired_bootstrap


def test_a_clearly_better_candidate_has_a_positive_interval() -> None:
    y = labels(1000)
    iv = paired_bootstrap("f1_macro", y, noisy(y, 0.9, 1), noisy(y, 0.7, 2), seed=0)
    assert 0 < iv.low < iv.point < iv.high
    assert 0.15 < iv.point < 0.25
    assert iv.samples_used == 2000


def test_identical_predictions_give_zero_width_at_zero() -> None:
    y = labels(300)
    pred = noisy(y, 0.8, 1)
    iv = paired_bootstrap("f1_macro", y, pred, pred.copy(), samples=500)
    assert (iv.low, iv.high, iv.point) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro", "balanced_accuracy"])
def test_one_more_correct_of_200_is_not_significant(metric: str) -> None:
    y, candidate, champion = marginal()
    iv = paired_bootstrap(metric, y, candidate, champion, samples=1000)
    assert iv.point > 0
    assert iv.low <= 0 <= iv.high


def test_the_seed_makes_the_interval_reproducible() -> None:
    y = labels(400)
    args = ("f1_macro", y, noisy(y, 0.85, 1), noisy(y, 0.8, 2))
    first = paired_bootstrap(*args, samples=300, seed=7)
    assert paired_bootstrap(*args, samples=300, seed=7) == first
    other = paired_bootstrap(*args, samples=300, seed=8)
    assert (other.low, other.high) != (first.low, first.high)
    assert other.point == first.point


def test_the_interval_narrows_as_the_data_grows() -> None:
    def width(n: int) -> float:
        y = labels(n)
        iv = paired_bootstrap("accuracy", y, noisy(y, 0.85, 1), noisy(y, 0.8, 2), samples=500)
        return iv.high - iv.low

    small, large = width(200), width(5000)
    assert large < small / 3  # ~ sqrt(25) = 5 times narrower


def test_lower_is_better_metrics_are_expressed_as_improvement() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    candidate, champion = y + rng.normal(0, 0.5, 500), y + rng.normal(0, 1.0, 500)
    rmse = lookup("rmse")
    raw = rmse.fn(y, candidate, None) - rmse.fn(y, champion, None)
    assert raw < 0  # the candidate's error is smaller
    iv = paired_bootstrap("rmse", y, candidate, champion, samples=500)
    assert iv.point == pytest.approx(-raw)
    assert 0 < iv.low < iv.point < iv.high
    flipped = paired_bootstrap("rmse", y, candidate, champion, samples=500, greater_is_better=True)
    assert (flipped.low, flipped.high) == pytest.approx((-iv.high, -iv.low))


@pytest.mark.parametrize("classes", [2, 3])
def test_roc_auc_from_probabilities(classes: int) -> None:
    y = labels(400, classes)
    good, weak = probabilities(y, 2.5, 1, classes), probabilities(y, 0.5, 2, classes)
    iv = paired_bootstrap("roc_auc", y, good.argmax(1), weak.argmax(1), good, weak, samples=150)
    assert 0.1 < iv.low < iv.point < iv.high
    same = paired_bootstrap("roc_auc", y, good.argmax(1), good.argmax(1), good, good, samples=150)
    assert (same.low, same.high) == (0.0, 0.0)


def test_binary_roc_auc_takes_the_positive_column_alone() -> None:
    y = labels(400, 2)
    good, weak = probabilities(y, 2.5, 1, 2), probabilities(y, 0.5, 2, 2)
    iv = paired_bootstrap("roc_auc", y, y, y, good[:, 1], weak[:, 1], samples=200)
    assert iv.low > 0


def test_logloss_is_lower_is_better() -> None:
    y = labels(500, 3)
    good, weak = probabilities(y, 2.5, 1, 3), probabilities(y, 0.5, 2, 3)
    iv = paired_bootstrap("logloss", y, good.argmax(1), weak.argmax(1), good, weak, samples=200)
    assert iv.low > 0


def test_undefined_resamples_are_skipped_and_counted() -> None:
    y = np.zeros(60, dtype=int)
    y[:3] = 1  # one in 20 rows positive: a few resamples draw none
    p = probabilities(y, 2.0, 1, 2)[:, 1]
    iv = paired_bootstrap("roc_auc", y, y, y, p, np.full(60, 0.5), samples=400)
    assert 360 <= iv.samples_used < 400  # ~0.95**60 = 5% of resamples draw no positive


def test_too_many_undefined_resamples_mean_too_few_rows() -> None:
    y = np.zeros(20, dtype=int)
    y[0] = 1
    p = np.linspace(0, 1, 20)
    with pytest.raises(InvalidParameterValue, match="held-out set is too small for this metric"):
        paired_bootstrap("roc_auc", y, y, y, p, p[::-1], samples=500)


def test_bad_inputs_are_named() -> None:
    y = labels(50)
    with pytest.raises(InvalidParameterValue, match="roc_auc needs class probabilities; the cand"):
        paired_bootstrap("roc_auc", y, y, y)
    with pytest.raises(InvalidParameterValue, match="the champion's predictions have shape"):
        paired_bootstrap("accuracy", y, y, y[:-1])
    with pytest.raises(InvalidParameterValue, match="y_true must be a non-empty column"):
        paired_bootstrap("accuracy", [], [], [])


@pytest.mark.parametrize(
    "name",
    [
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_macro",
        "f1_weighted",
        "precision_macro",
        "recall_macro",
    ],
)
@pytest.mark.parametrize(("classes", "n"), [(("a", "b", "c", "d"), 25), ((0, 1), 40), ((1, 2), 30)])
def test_the_vectorised_label_metrics_equal_sklearns(
    name: str, classes: tuple[Any, ...], n: int
) -> None:
    rng = np.random.default_rng(3)
    y, candidate = rng.choice(classes, n), rng.choice(classes, n)
    champion = np.where(rng.random(n) < 0.5, y, candidate)
    metric = lookup(name)
    try:
        full = (metric.fn(y, candidate, None), metric.fn(y, champion, None))
    except ValueError:  # binary f1 of more than two labels: sklearn refuses, so does the gate
        return
    a, b = Scored(candidate), Scored(champion)
    fast = _fast_diffs(name, y, a, b, full, 100, 5)
    assert fast is not None
    np.testing.assert_allclose(fast, _generic_diffs(metric, y, a, b, 100, 5), rtol=0, atol=1e-12)


# decide


def checks_of(decision: Any) -> dict[str, bool]:
    return {c.name: c.passed for c in decision.checks}


def test_a_clearly_better_candidate_is_promoted() -> None:
    y = labels(1000)
    p = policy(thresholds={"f1_macro": ">= 0.8"}, guards={"accuracy": {"max_drop": 0.01}})
    d = decide(p, y, Scored(noisy(y, 0.9, 1)), Scored(noisy(y, 0.7, 2)), "classification")
    assert d.passed
    assert d.failed() == []
    assert checks_of(d) == {
        "primary:f1_macro": True,
        "threshold:f1_macro": True,
        "guard:accuracy": True,
    }
    assert d.interval is not None and d.interval.low > 0
    assert d.checks[0].detail.startswith(f"improvement {d.interval.point:.3f}, 95% CI [")
    assert d.checks[0].detail.endswith("] > 0.0")
    assert d.champion_metrics is not None
    assert d.candidate_metrics["f1_macro"] > d.champion_metrics["f1_macro"]


def test_a_worse_candidate_fails_the_primary() -> None:
    y = labels(1000)
    d = decide(policy(), y, Scored(noisy(y, 0.7, 1)), Scored(noisy(y, 0.9, 2)), "classification")
    assert not d.passed
    assert [c.name for c in d.failed()] == ["primary:f1_macro"]
    assert d.interval is not None and d.interval.high < 0
    assert "not > 0.0" in d.checks[0].detail


def test_a_candidate_predicting_as_the_champion_does_says_so() -> None:
    """The same pipeline trained again on the same data: a zero interval, explained."""
    y = labels(1000)
    same = noisy(y, 0.8, 1)
    d = decide(policy(), y, Scored(same), Scored(same.copy()), "classification")
    assert not d.passed
    assert d.checks[0].detail.endswith(
        "; the two models predict the same on every held-out row (the same pipeline trained "
        "again on the same data gives the same model: new data, code or params make a new "
        "candidate)"
    )
    other = decide(policy(), y, Scored(noisy(y, 0.7, 1)), Scored(same), "classification")
    assert "predict the same" not in other.checks[0].detail


def test_a_marginal_candidate_fails_the_primary() -> None:
    y, candidate, champion = marginal()
    d = decide(policy(), y, Scored(candidate), Scored(champion), "classification")
    assert d.interval is not None and d.interval.point > 0
    assert not d.passed


def test_min_improvement_raises_the_bar() -> None:
    y = labels(1000)
    candidate, champion = Scored(noisy(y, 0.9, 1)), Scored(noisy(y, 0.7, 2))
    strict = policy(primary={"metric": "f1_macro", "min_improvement": 0.5})
    d = decide(strict, y, candidate, champion, "classification")
    assert not d.passed
    assert d.checks[0].detail.endswith("not > 0.5")


def test_a_broken_guard_fails_while_the_primary_passes() -> None:
    # 900 of class 0, 50 each of 1 and 2: the champion says 0 always (accuracy 0.90, poor
    # f1_macro); the candidate finds every 1 and 2 but calls 200 zeros something else (0.80).
    y = np.array([0] * 900 + [1] * 50 + [2] * 50)
    champion = np.zeros_like(y)
    candidate = y.copy()
    candidate[:100], candidate[100:200] = 1, 2
    p = policy(guards={"accuracy": {"max_drop": 0.01}})
    d = decide(p, y, Scored(candidate), Scored(champion), "classification")
    assert checks_of(d) == {"primary:f1_macro": True, "guard:accuracy": False}
    assert not d.passed
    guard = d.intervals["accuracy"]
    assert guard.point == pytest.approx(-0.1)
    assert d.checks[1].detail.endswith("not >= -0.01")


def test_without_a_champion_thresholds_alone_decide() -> None:
    y = labels(500)
    p = policy(
        thresholds={"accuracy": ">= 0.8", "f1_macro": ">= 0.8"},
        guards={"accuracy": {"max_drop": 0}},
    )
    good = decide(p, y, Scored(noisy(y, 0.95, 1)), None, "classification")
    assert good.passed
    assert [c.skipped for c in good.checks] == [True, False, False, True]
    assert good.checks[0].detail == "skipped: no champion to compare with"
    assert good.interval is None and good.champion_metrics is None and good.intervals == {}
    bad = decide(p, y, Scored(noisy(y, 0.7, 1)), None, "classification")
    assert not bad.passed
    assert [c.name for c in bad.failed()] == ["threshold:accuracy", "threshold:f1_macro"]
    assert bad.failed()[0].detail.endswith("not >= 0.8")


def test_regression_gate_with_rmse() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=800)
    candidate, champion = y + rng.normal(0, 0.5, 800), y + rng.normal(0, 1.0, 800)
    p = parse_policy(
        {
            "primary": {"metric": "rmse"},
            "bootstrap_samples": 300,
            "thresholds": {"rmse": "<= 0.6"},
            "guards": {"mae": {"max_drop": 0.0}},
        }
    )
    d = decide(p, y, Scored(candidate), Scored(champion), "regression")
    assert d.passed, d.checks
    assert d.interval is not None and d.interval.low > 0
    assert "lower rmse is better: improvement = champion - candidate" in d.checks[0].detail
    backwards = decide(p, y, Scored(champion), Scored(candidate), "regression")
    assert [c.name for c in backwards.failed()] == ["primary:rmse", "threshold:rmse", "guard:mae"]


def test_decide_with_roc_auc_needs_probabilities() -> None:
    y = labels(600, 2)
    good, weak = probabilities(y, 2.5, 1, 2), probabilities(y, 0.5, 2, 2)
    p = policy(primary={"metric": "roc_auc"}, thresholds={"roc_auc": ">= 0.85"})
    d = decide(p, y, Scored(good.argmax(1), good), Scored(weak.argmax(1), weak), "classification")
    assert d.passed, d.checks
    with pytest.raises(InvalidParameterValue, match="roc_auc needs class probabilities; the champ"):
        decide(p, y, Scored(good.argmax(1), good), Scored(weak.argmax(1)), "classification")


def test_decide_refuses_metrics_of_another_task() -> None:
    y = labels(100)
    with pytest.raises(InvalidParameterValue, match="'f1_macro' is not a regression metric"):
        decide(policy(), y, Scored(y), None, "regression")


def test_the_evidence_is_json() -> None:
    y = labels(500)
    p = policy(thresholds={"f1_macro": ">= 0.8"}, guards={"accuracy": {"max_drop": 0.01}})
    d = decide(p, y, Scored(noisy(y, 0.9, 1)), Scored(noisy(y, 0.8, 2)), "classification")
    data = json.loads(json.dumps(d.to_dict()))
    assert data["passed"] is d.passed
    assert data["rows"] == 500
    assert data["interval"] == {
        "low": d.interval.low if d.interval else None,
        "high": d.interval.high if d.interval else None,
        "point": d.interval.point if d.interval else None,
        "samples_used": 500,
    }
    assert set(data["intervals"]) == {"f1_macro", "accuracy"}
    assert [c["name"] for c in data["checks"]] == [c.name for c in d.checks]
    assert data["checks"][1]["detail"] == d.checks[1].detail
    assert data["candidate_metrics"] == d.candidate_metrics
    assert data["policy"]["thresholds"] == {"f1_macro": ">= 0.8"}


def test_text_labels_give_the_intervals_their_codes_give() -> None:
    """Binary f1 scores the greater label in every resample, also one that holds a single
    class: "yes" of no/yes as 1 of 0/1."""
    y = np.array([0] * 37 + [1] * 3)
    champion = np.array([0] * 31 + [1] * 6 + [0] * 3)
    words = np.array(["no", "yes"])
    codes = paired_bootstrap("f1", y, y, champion, samples=500)
    text = paired_bootstrap("f1", words[y], words[y], words[champion], samples=500)
    assert (text.low, text.high, text.point) == (codes.low, codes.high, codes.point)


def test_probabilities_follow_the_models_classes_when_rows_lack_one() -> None:
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    y = rng.choice([1, 2], 60)  # the models also know class 3
    a, b = rng.dirichlet([1, 1, 1], 60), rng.dirichlet([1, 1, 1], 60)
    iv = paired_bootstrap(
        "logloss", y, a.argmax(1) + 1, b.argmax(1) + 1, a, b, samples=50,
        classes_candidate=[1, 2, 3], classes_champion=[1, 2, 3],
    )  # fmt: skip
    expected = log_loss(y, b, labels=[1, 2, 3]) - log_loss(y, a, labels=[1, 2, 3])
    assert iv.point == pytest.approx(expected)
