"""The promotion policy: when a candidate model may replace the champion. Both are scored on the
same sealed held-out rows; the file is validated by pydantic before any work starts::

    primary: {metric: f1_macro, greater_is_better: true, min_improvement: 0.0}
    confidence: 0.95                  # paired bootstrap CI on (candidate - champion)
    bootstrap_samples: 2000
    seed: 0                           # the bootstrap is reproducible
    thresholds: {f1_macro: ">= 0.80", roc_auc: ">= 0.90"}
    guards: {accuracy: {max_drop: 0.01}}     # non-inferiority on secondary metrics

Quote the thresholds: an unquoted ``>`` starts a folded block in YAML.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
)

from trainlab._config_errors import describe
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.metrics import CLASSIFICATION, REGRESSION, Metric, for_target, lookup

TASKS: dict[str, dict[str, Metric]] = {"classification": CLASSIFICATION, "regression": REGRESSION}
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_THRESHOLD = re.compile(r"\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*")


@dataclass(frozen=True)
class Threshold:
    """A bound the candidate's metric must meet on its own, whatever the champion scores:
    ``op`` is one of ``>=``, ``>``, ``<=``, ``<``."""

    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"the operator must be one of {', '.join(_OPS)}, got {self.op!r}")

    @classmethod
    def parse(cls, text: object) -> Threshold:
        """Read ``"OP NUMBER"`` (spaces optional: ``">=0.8"``); a ValueError otherwise."""
        if isinstance(text, Threshold):
            return text
        match = _THRESHOLD.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"write OP NUMBER, e.g. '>= 0.90', got {text!r}")
        return cls(match.group(1), float(match.group(2)))

    def holds(self, x: float) -> bool:
        """Whether the value ``x`` meets the bound (never for NaN)."""
        return bool(_OPS[self.op](x, self.value))

    def __str__(self) -> str:
        return f"{self.op} {self.value!r}"


def _known_metric(name: str) -> str:
    known = {**CLASSIFICATION, **REGRESSION}
    if name not in known:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(known))}")
    return name


MetricName = Annotated[str, AfterValidator(_known_metric)]
ThresholdText = Annotated[
    Threshold, PlainValidator(Threshold.parse), PlainSerializer(str, return_type=str)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Primary(_Strict):
    """The metric the candidate must beat the champion on: the lower end of the confidence
    interval of its improvement must exceed ``min_improvement``. ``greater_is_better`` defaults
    to the metric's own direction (false for rmse, logloss, ...)."""

    metric: MetricName
    greater_is_better: bool | None = None
    min_improvement: float = Field(0.0, ge=0, allow_inf_nan=False)

    @property
    def maximize(self) -> bool:
        """Whether a greater value of the metric is better, as this policy applies it."""
        if self.greater_is_better is not None:
            return self.greater_is_better
        return lookup(self.metric).greater_is_better


class Guard(_Strict):
    """Non-inferiority on a secondary metric: the candidate may be worse than the champion by at
    most ``max_drop`` (the lower end of the interval of its improvement is >= -max_drop)."""

    max_drop: float = Field(ge=0, allow_inf_nan=False)


class Policy(_Strict):
    """When a candidate is promoted: it beats the champion on ``primary``, meets every threshold
    and is not clearly worse on any guarded metric. Without a champion only thresholds count."""

    primary: Primary
    confidence: float = Field(0.95, gt=0.5, lt=1)
    bootstrap_samples: int = Field(2000, ge=100, le=100_000)
    seed: int = Field(0, ge=0)
    thresholds: dict[MetricName, ThresholdText] = Field(default_factory=dict)
    guards: dict[MetricName, Guard] = Field(default_factory=dict)

    def metric_names(self) -> list[str]:
        """Every metric the policy needs, primary first, then thresholds and guards (sorted)."""
        names = [self.primary.metric, *sorted(self.thresholds), *sorted(self.guards)]
        return list(dict.fromkeys(names))

    def greater_is_better(self, name: str) -> bool:
        """The direction the policy applies to ``name``: the primary's setting for the primary
        metric, the metric's own direction for the others."""
        if name == self.primary.metric:
            return self.primary.maximize
        return lookup(name).greater_is_better

    def check_task(self, task: str, classes: int = 2) -> None:
        """Raise InvalidParameterValue unless every metric applies to ``task``
        (``classification`` or ``regression``) with a target of ``classes`` classes."""
        if task not in TASKS:
            raise InvalidParameterValue(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        allowed = for_target(task, classes)

        def why(name: str) -> str:
            if name in TASKS[task]:  # binary only
                return f"is for a target of two classes; this one has {classes}"
            return f"is not a {task} metric"

        wrong = [
            f"  {where}: {name!r} {why(name)}"
            for where, name in self._metric_keys()
            if name not in allowed
        ]
        if wrong:
            known = ", ".join(sorted(allowed))
            raise InvalidParameterValue(
                f"The policy does not fit a {task} model:\n"
                + "\n".join(wrong)
                + f"\n  (metrics that apply: {known})"
            )

    def to_dict(self) -> dict[str, Any]:
        """The policy as applied, as plain data (thresholds as text, the primary's direction
        resolved), for recording as evidence next to the verdict."""
        out = self.model_dump(mode="json")
        out["primary"]["greater_is_better"] = self.primary.maximize
        return out

    def _metric_keys(self) -> list[tuple[str, str]]:
        keys = [("primary.metric", self.primary.metric)]
        keys += [(f"thresholds.{n}", n) for n in sorted(self.thresholds)]
        keys += [(f"guards.{n}", n) for n in sorted(self.guards)]
        return keys


def parse_policy(config: dict[str, Any], source: str = "the policy") -> Policy:
    """Validate a policy given as data; ``source`` names it in the error message."""
    if not isinstance(config, dict):
        raise InvalidParameterValue(
            f"{source} must be a mapping (primary:, thresholds:, ...), got {type(config).__name__}"
        )
    try:
        return Policy.model_validate(config)
    except ValidationError as exc:
        raise InvalidParameterValue(
            f"Invalid policy in {source}:\n{describe(exc, Policy)}"
        ) from None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy YAML file."""
    from trainlab.training.spec import read_mapping

    p = Path(path)
    config = read_mapping(p, "Policy", "primary:, thresholds:, guards:, ...")
    return parse_policy(config, repr(str(p)))
