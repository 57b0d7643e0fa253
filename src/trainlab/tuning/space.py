"""The ``tune:`` section of a pipeline: what to optimise, how (Optuna's samplers and pruners),
and the search space. Validated by pydantic before any trial runs::

    tune:
      metric: valid_f1_macro              # or a list, with a list of directions
      direction: maximize
      sampler: tpe                        # tpe | random | grid | gp | cmaes | nsga2
      pruner: median                      # median | hyperband | none
      prune_on: valid_logloss             # a per-iteration curve; default: the metric
      space:
        n_estimators: {type: int, low: 50, high: 500, log: true}
        max_depth: {type: int, low: 2, high: 16}
        criterion: {type: categorical, choices: [gini, entropy]}

A key without a dot is a parameter of the model (``model.params.<key>``); a dotted key sets
that setting of the pipeline (``train.lr`` of a PyTorch model, say).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    import optuna

Direction = Literal["maximize", "minimize"]
SAMPLERS = ("tpe", "random", "grid", "gp", "cmaes", "nsga2")
PRUNERS = ("median", "hyperband", "none")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamSpace(_Strict):
    """One dimension: ``int`` or ``float`` between ``low`` and ``high`` (``log`` scale, or a
    ``step``), or ``categorical`` ``choices``."""

    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = Field(None, gt=0)
    log: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _check(self) -> ParamSpace:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty list of choices")
            extra = [k for k in ("low", "high", "step") if getattr(self, k) is not None]
            if extra or self.log:
                raise ValueError(
                    f"a categorical parameter takes choices only, not {extra or ['log']}"
                )
            if len({repr(c) for c in self.choices}) != len(self.choices):
                raise ValueError(f"choices {self.choices} list a value twice")
            return self
        if self.choices is not None:
            raise ValueError(f"an {self.type} parameter takes low and high, not choices")
        if self.low is None or self.high is None:
            raise ValueError(f"an {self.type} parameter needs both low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is greater than high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log scale needs low > 0, got {self.low:g}")
        if self.log and self.step is not None:
            raise ValueError("log and step cannot be combined")
        if self.type == "int":
            bad = [k for k in ("low", "high", "step") if _fraction(getattr(self, k))]
            if bad:
                raise ValueError(f"an int parameter needs whole numbers for {', '.join(bad)}")
        return self

    def encoded_choices(self) -> list[Any]:
        """The choices as Optuna takes them: a list or mapping (``hidden: [64, 32]``) as its
        JSON text, which Optuna can store, compare and rank (as a list it crashed the study's
        parameter importances); ``decode`` gives the value back."""
        return [c if _plain(c) else json.dumps(c) for c in self.choices or []]

    def decode(self, suggested: Any) -> Any:
        """The choice Optuna's ``suggested`` (from ``encoded_choices``) stands for."""
        for choice, encoded in zip(self.choices or [], self.encoded_choices(), strict=True):
            if encoded == suggested and type(encoded) is type(suggested):
                return choice
        return suggested

    def distribution(self) -> optuna.distributions.BaseDistribution:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.type == "categorical":
            return CategoricalDistribution(self.encoded_choices())
        assert self.low is not None and self.high is not None
        if self.type == "int":
            step = int(self.step or 1)
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=step)
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid(self, name: str) -> list[Any]:
        """Every value, for the grid sampler: choices, or the ints (or float steps) in range."""
        if self.type == "categorical":
            return self.encoded_choices()
        assert self.low is not None and self.high is not None
        if self.type == "float" and self.step is None:
            raise ValueError(
                f"tune.space.{name}: the grid sampler needs a step for a float parameter"
            )
        step = self.step or 1
        count = int(round((self.high - self.low) / step)) + 1
        # 12 significant digits: 0.1 + 2 * 0.1 is 0.30000000000000004, which no filter on
        # params.learning_rate = '0.3' would find
        values = [float(f"{self.low + i * step:.12g}") for i in range(count)]
        return [int(v) for v in values] if self.type == "int" else values


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _fraction(value: float | None) -> bool:
    return value is not None and not float(value).is_integer()


class TuneSpec(_Strict):
    metric: str | list[str]
    direction: Direction | list[Direction] = "maximize"
    sampler: Literal["tpe", "random", "grid", "gp", "cmaes", "nsga2"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
    prune_on: str | None = None
    trials: int = Field(20, ge=1)  # the default for --trials
    seed: int | None = None  # the sampler's seed
    space: dict[str, ParamSpace] = Field(min_length=1)

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, v: Any) -> Any:
        for item in v if isinstance(v, list) else [v]:
            if item not in ("maximize", "minimize"):
                guess = {"max": "maximize", "min": "minimize"}.get(str(item).lower()[:3])
                raise ValueError(
                    f"{item!r} is not a direction: write maximize or minimize"
                    + (f" ({guess}?)" if guess else "")
                    + ", or a list of them, one per metric"
                )
        return v

    @field_validator("metric")
    @classmethod
    def _sealed(cls, v: str | list[str]) -> str | list[str]:
        for name in [v] if isinstance(v, str) else v:
            if name.startswith("test_"):
                raise ValueError(
                    f"{name!r}: the test split is sealed, it is never tuned on; tune on a "
                    "valid_* score or a cross-validation mean (cv_<metric>_mean)"
                )
        return v

    @model_validator(mode="after")
    def _check(self) -> TuneSpec:
        metrics, directions = self.metrics, self.directions
        if len(metrics) != len(directions):
            raise ValueError(
                f"{len(metrics)} metric(s) need as many directions, got {len(directions)}"
            )
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"metric {metrics} lists a metric twice")
        if len(metrics) > 1 and self.pruner != "none":
            raise ValueError(
                "pruning needs a single objective: set pruner: none for several metrics"
            )
        if len(metrics) > 1 and self.sampler in ("gp", "cmaes"):
            raise ValueError(f"the {self.sampler} sampler takes a single metric")
        if self.sampler == "grid":
            for name, space in self.space.items():
                space.grid(name)
        if self.sampler == "cmaes" and any(s.type == "categorical" for s in self.space.values()):
            raise ValueError(
                "the cmaes sampler searches numbers only: drop the categorical parameters "
                "or use tpe"
            )
        return self

    @property
    def metrics(self) -> list[str]:
        return [self.metric] if isinstance(self.metric, str) else list(self.metric)

    @property
    def directions(self) -> list[str]:
        return [self.direction] if isinstance(self.direction, str) else list(self.direction)

    @property
    def prune_metric(self) -> str:
        return self.prune_on or self.metrics[0]
