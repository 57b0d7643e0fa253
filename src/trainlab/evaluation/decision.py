"""The evidence and the verdict of the promotion gate.

Differences between the candidate and the champion are always expressed as an *improvement*:
``candidate - champion`` for metrics where greater is better (accuracy, f1_macro, roc_auc, r2),
``champion - candidate`` where lower is better (rmse, mae, logloss). Positive always means the
candidate is better, so every interval compares against ``min_improvement`` (or ``-max_drop``)
the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from trainlab.evaluation.policy import Policy, Threshold
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.metrics import CLASSIFICATION, Metric, lookup

MAX_SKIPPED = 0.10  # share of resamples allowed to leave the metric undefined
_CHUNK_CELLS = 1 << 22  # indices drawn at once (resamples x rows, or x classes²): bounds memory
_CONFUSION = {"accuracy", "balanced_accuracy", "f1", "f1_macro", "f1_weighted"}
_CONFUSION |= {"precision_macro", "recall_macro"}
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Scored:
    """One model's output on the held-out rows: ``pred`` (a label or value per row) and, for
    classifiers, ``proba`` (rows x classes, or the positive class's column) if it gives them,
    and ``classes``, the label each column of ``proba`` stands for (a model's ``classes_``)."""

    pred: Any
    proba: Any = None
    classes: Any = None

    def take(self, idx: Ints) -> Scored:
        proba = None if self.proba is None else self.proba[idx]
        return Scored(self.pred[idx], proba, self.classes)


@dataclass(frozen=True)
class Interval:
    """Paired bootstrap evidence for one metric, as an improvement (see the module docstring):
    ``point`` on all held-out rows, ``low``..``high`` the percentile confidence interval, over
    ``samples_used`` resamples (those where the metric was defined)."""

    low: float
    high: float
    point: float
    samples_used: int


@dataclass(frozen=True)
class Check:
    """One condition of the policy: ``primary:<metric>``, ``threshold:<metric>`` or
    ``guard:<metric>``. A ``skipped`` check (no champion to compare with) passes."""

    name: str
    passed: bool
    detail: str
    skipped: bool = False


@dataclass(frozen=True)
class Decision:
    """The verdict: promote the candidate when ``passed``, with the evidence behind it."""

    passed: bool
    checks: list[Check]
    candidate_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    interval: Interval | None  # the primary metric's
    intervals: dict[str, Interval]  # every compared metric: primary and guards
    policy: dict[str, Any]  # Policy.to_dict(), as applied
    rows: int

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """Every number, the checks and the verdict as plain JSON-able data."""
        return asdict(self)


def _value(metric: Metric, y: Any, s: Scored, who: str | None = None) -> float:
    """The metric on these rows. Where it is undefined (e.g. roc_auc with one class): NaN for a
    resample (``who`` None), an InvalidParameterValue naming the model ``who`` otherwise."""
    if metric.needs_proba and s.proba is None:
        raise InvalidParameterValue(f"{metric.name} needs class probabilities; the {who} has none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's UndefinedMetricWarning & co.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = float(metric.fn(y, s.pred, s.proba, s.classes))
        except ValueError as exc:
            if who is not None:
                raise InvalidParameterValue(f"{metric.name} fails for the {who}: {exc}") from None
            value = float("nan")
    if who is not None and not np.isfinite(value):
        raise InvalidParameterValue(f"{metric.name} is undefined for the {who} on these rows")
    return value


def _column(y_true: Any) -> Any:
    y = np.asarray(y_true)
    if y.ndim != 1 or len(y) == 0:
        raise InvalidParameterValue(f"y_true must be a non-empty column, got shape {y.shape}")
    return y


def _scored(s: Scored, rows: int, who: str, labels: Any = None) -> Scored:
    """``s`` as arrays, checked to hold ``rows`` rows; a model that names no classes gets
    ``labels`` (every label of the rows and the predictions), the same in every resample."""
    classes = s.classes if s.classes is not None else labels
    out = Scored(np.asarray(s.pred), None if s.proba is None else np.asarray(s.proba), classes)
    for what, arr in (("predictions", out.pred), ("probabilities", out.proba)):
        if arr is not None and (arr.ndim == 0 or len(arr) != rows):
            raise InvalidParameterValue(
                f"the {who}'s {what} have shape {arr.shape}, not {rows} rows"
            )
    return out


def _labels_of(y: Any, *preds: Any) -> Any:
    """Every label of the held-out rows and the predictions, sorted (None for labels that do
    not sort)."""
    arrays = [np.asarray(a).reshape(-1) for a in (y, *preds)]
    try:
        return np.unique(np.concatenate(arrays))
    except TypeError:
        return None


def _indices(n: int, samples: int, seed: int, per_chunk: int) -> Iterator[Ints]:
    # Generator.integers draws element by element: the chunking never changes the index sets.
    rng = np.random.default_rng(seed)
    step = max(1, _CHUNK_CELLS // per_chunk)
    for start in range(0, samples, step):
        yield rng.integers(0, n, size=(min(step, samples - start), n))


def _generic_diffs(
    metric: Metric, y: Any, cand: Scored, champ: Scored, samples: int, seed: int
) -> Floats:
    """metric(candidate) - metric(champion) per resample with the metric's own function."""
    diff = [
        _value(metric, y[i], cand.take(i)) - _value(metric, y[i], champ.take(i))
        for chunk in _indices(len(y), samples, seed, len(y))
        for i in chunk
    ]
    return np.asarray(diff, dtype=np.float64)


def _ratio(a: Floats, b: Floats) -> Floats:
    return np.divide(a, b, out=np.zeros(a.shape), where=b > 0)


def _share(part: Floats, whole: Floats) -> Floats:
    """Per resample (row): the sum of ``part`` over classes divided by that of ``whole``."""
    return np.asarray(part.sum(axis=1) / whole.sum(axis=1), dtype=np.float64)


def _from_confusion(name: str, cm: Ints, pos: int) -> Floats:
    """The label metric ``name`` (sklearn's definition, zero_division=0, averaged over the
    labels present in each resample) from stacked confusion matrices (resamples x true x pred)."""
    tp = np.einsum("bkk->bk", cm).astype(float)
    true, pred = cm.sum(axis=2).astype(float), cm.sum(axis=1).astype(float)
    if name == "accuracy":
        return _share(tp, true)
    if name == "balanced_accuracy":
        return _share(_ratio(tp, true) * (true > 0), (true > 0).astype(float))
    f1 = _ratio(2 * tp, true + pred)
    if name == "f1":
        return f1[:, pos]
    if name == "f1_weighted":
        return _share(f1 * true, true)
    per_class = f1 if name == "f1_macro" else _ratio(tp, pred if name[0] == "p" else true)
    present = (true + pred > 0).astype(float)  # sklearn averages over the labels present
    return _share(per_class * present, present)


def _confusions(pairs: Ints, idx: Ints, k: int) -> Ints:
    offsets = (np.arange(len(idx)) * k * k)[:, None]
    counts = np.bincount((pairs[idx] + offsets).ravel(), minlength=len(idx) * k * k)
    return counts.reshape(len(idx), k, k)


def _fast_diffs(
    name: str,
    y: Any,
    cand: Scored,
    champ: Scored,
    full: tuple[float, float],
    samples: int,
    seed: int,
) -> Floats | None:
    """The resampled differences of a label metric from confusion matrices counted for all
    resamples at once (same indices as the generic path); None where this path does not apply or
    does not reproduce the metric's own values ``full`` on all rows."""
    arrays = (y, cand.pred, champ.pred)
    kinds, numeric = {a.dtype.kind for a in arrays}, set("biuf")
    if name not in _CONFUSION or any(a.ndim != 1 for a in arrays) or not kinds <= numeric | {"U"}:
        return None
    labels, codes = np.unique(np.concatenate(arrays), return_inverse=True)
    k, n = len(labels), len(y)
    if k * k > _CHUNK_CELLS // 16:
        return None
    pos = k - 1  # binary f1 scores the greater label, as the metric does
    pairs = [codes[:n] * k + codes[n * i : n * (i + 1)] for i in (1, 2)]
    whole = np.arange(n)[None, :]
    got = [_from_confusion(name, _confusions(p, whole, k), pos)[0] for p in pairs]
    if not np.allclose(got, full, rtol=0, atol=1e-9):
        return None
    out = []
    for idx in _indices(n, samples, seed, max(n, k * k)):
        cand_v, champ_v = (_from_confusion(name, _confusions(p, idx, k), pos) for p in pairs)
        out.append(cand_v - champ_v)
    return np.concatenate(out)


def paired_bootstrap(
    metric_name: str,
    y_true: Any,
    pred_candidate: Any,
    pred_champion: Any,
    proba_candidate: Any = None,
    proba_champion: Any = None,
    samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    *,
    greater_is_better: bool | None = None,
    classes_candidate: Any = None,
    classes_champion: Any = None,
) -> Interval:
    """The confidence interval of the candidate's improvement over the champion on
    ``metric_name``: both models are scored on the same resampled rows (paired), and the
    percentile interval at ``confidence`` is taken over ``samples`` resamples. The improvement is
    ``candidate - champion``, or ``champion - candidate`` when lower is better
    (``greater_is_better``, by default the metric's own), so positive means the candidate is
    better. Resamples where the metric is undefined are skipped; more than 10% is an error."""
    metric = lookup(metric_name)
    if samples < 1 or not 0 < confidence < 1:
        raise InvalidParameterValue(
            f"need samples >= 1, 0 < confidence < 1: {samples}, {confidence}"
        )
    y = _column(y_true)
    labels = _labels_of(y, pred_candidate, pred_champion) if metric.name in CLASSIFICATION else None
    cand = Scored(pred_candidate, proba_candidate, classes_candidate)
    cand = _scored(cand, len(y), "candidate", labels)
    champ = _scored(Scored(pred_champion, proba_champion, classes_champion), len(y), "champion",
                    labels)  # fmt: skip
    full = (_value(metric, y, cand, "candidate"), _value(metric, y, champ, "champion"))
    diffs = _fast_diffs(metric.name, y, cand, champ, full, samples, seed)
    if diffs is None:
        diffs = _generic_diffs(metric, y, cand, champ, samples, seed)
    defined = diffs[np.isfinite(diffs)]
    skipped = samples - len(defined)
    if skipped > MAX_SKIPPED * samples:
        raise InvalidParameterValue(
            f"{metric.name} is undefined on {skipped} of {samples} bootstrap resamples of the "
            f"{len(y)} held-out rows (e.g. a single class drawn): the held-out set is too small "
            "for this metric"
        )
    maximize = metric.greater_is_better if greater_is_better is None else greater_is_better
    sign = 1.0 if maximize else -1.0
    alpha = (1 - confidence) / 2
    low, high = np.quantile(sign * defined, [alpha, 1 - alpha]) + 0.0  # + 0.0: no -0.0
    return Interval(float(low), float(high), sign * (full[0] - full[1]) + 0.0, len(defined))


def _num(x: float) -> str:
    return f"{x:.3f}" if x == 0 or abs(x) >= 0.001 else f"{x:.2e}"


def _compare(iv: Interval, confidence: float, op: str, bound: float, ok: bool) -> str:
    return (
        f"improvement {_num(iv.point)}, {confidence * 100:g}% CI [{_num(iv.low)}, "
        f"{_num(iv.high)}] {op if ok else 'not ' + op} {bound}"
    )


def _skipped(name: str) -> Check:
    return Check(name, True, "skipped: no champion to compare with", skipped=True)


def _primary_check(policy: Policy, iv: Interval | None, same: bool) -> Check:
    """``same``: the two models predict the same on every row, so neither can be better."""
    name, minimum = f"primary:{policy.primary.metric}", policy.primary.min_improvement
    if iv is None:
        return _skipped(name)
    ok = iv.low > minimum
    detail = _compare(iv, policy.confidence, ">", minimum, ok)
    if not policy.primary.maximize:
        detail += f" (lower {policy.primary.metric} is better: improvement = champion - candidate)"
    if same:
        detail += (
            "; the two models predict the same on every held-out row (the same pipeline "
            "trained again on the same data gives the same model: new data, code or params "
            "make a new candidate)"
        )
    return Check(name, ok, detail)


def _same_predictions(a: Scored, b: Scored) -> bool:
    """Predictions and probabilities of two scored models (arrays) equal row for row."""
    if not np.array_equal(a.pred, b.pred):
        return False
    if a.proba is None or b.proba is None:
        return a.proba is None and b.proba is None
    return a.proba.shape == b.proba.shape and bool(np.array_equal(a.proba, b.proba))


def _threshold_check(name: str, threshold: Threshold, value: float) -> Check:
    ok = threshold.holds(value)
    return Check(f"threshold:{name}", ok, f"{name} {_num(value)} {'' if ok else 'not '}{threshold}")


def _guard_check(name: str, max_drop: float, iv: Interval | None, confidence: float) -> Check:
    if iv is None:
        return _skipped(f"guard:{name}")
    ok = iv.low >= -max_drop
    return Check(f"guard:{name}", ok, _compare(iv, confidence, ">=", -max_drop + 0.0, ok))


def decide(
    policy: Policy, y_true: Any, candidate: Scored, champion: Scored | None, task: str
) -> Decision:
    """Whether ``candidate`` may replace ``champion`` (None: there is none yet) under ``policy``,
    both scored on the same held-out rows ``y_true`` of a ``classification`` or ``regression``
    task. Checks, in order: the primary improvement (CI low > min_improvement), each threshold
    on the candidate's value, each guard (CI low of the improvement >= -max_drop)."""
    y = _column(y_true)
    policy.check_task(task, len(np.unique(y)) if task == "classification" else 0)
    names = policy.metric_names()
    classified = task == "classification"
    preds = [candidate.pred] + ([champion.pred] if champion is not None else [])
    labels = _labels_of(y, *preds) if classified else None
    cand = _scored(candidate, len(y), "candidate", labels)
    cand_metrics = {m: _value(lookup(m), y, cand, "candidate") for m in names}
    champ_metrics: dict[str, float] | None = None
    intervals: dict[str, Interval] = {}
    same = False
    if champion is not None:
        champ = _scored(champion, len(y), "champion", labels)
        same = _same_predictions(cand, champ)
        champ_metrics = {m: _value(lookup(m), y, champ, "champion") for m in names}
        for m in dict.fromkeys([policy.primary.metric, *sorted(policy.guards)]):
            intervals[m] = paired_bootstrap(
                m, y, cand.pred, champ.pred, cand.proba, champ.proba,
                policy.bootstrap_samples, policy.confidence, policy.seed,
                greater_is_better=policy.greater_is_better(m),
                classes_candidate=cand.classes, classes_champion=champ.classes,
            )  # fmt: skip
    primary = intervals.get(policy.primary.metric)
    checks = [_primary_check(policy, primary, same)]
    checks += [
        _threshold_check(m, t, cand_metrics[m]) for m, t in sorted(policy.thresholds.items())
    ]
    checks += [
        _guard_check(m, g.max_drop, intervals.get(m), policy.confidence)
        for m, g in sorted(policy.guards.items())
    ]
    return Decision(
        passed=all(c.passed for c in checks),
        checks=checks,
        candidate_metrics=cand_metrics,
        champion_metrics=champ_metrics,
        interval=primary,
        intervals=intervals,
        policy=policy.to_dict(),
        rows=len(y),
    )
