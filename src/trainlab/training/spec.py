"""The pipeline spec: what ``trainlab train PIPELINE.yaml`` reads, validated by pydantic before
any work starts, so a bad config fails with the key and the problem and logs nothing.

    experiment: wine-quality
    data:
      source: sklearn:wine            # a CSV / Parquet path, or file:///abs/path.csv
      target: target
      split: {test: 0.2, valid: 0.2, seed: 7, stratify: true}
    model:
      flavor: sklearn
      class: sklearn.ensemble.RandomForestClassifier
      params: {n_estimators: 200, max_depth: 8}
    train: {cv: 5, seed: 7, early_stopping: {metric: valid_logloss, patience: 10},
            checkpoint_every: 10}
    metrics: [accuracy, f1_macro, roc_auc]
    register: {name: wine-rf}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trainlab._config_errors import describe
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.metrics import CLASSIFICATION, REGRESSION
from trainlab.tuning.space import TuneSpec

Flavor = Literal["sklearn", "xgboost", "lightgbm", "pytorch", "python"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitSpec(_Strict):
    """Held-out fractions of all rows. ``group``: rows sharing the column's value stay in one
    split; ``time``: ordered by the column, the latest rows are test, those before valid."""

    test: float = Field(0.2, gt=0, lt=1)
    valid: float = Field(0.0, ge=0, lt=1)
    seed: int = 0
    stratify: bool = False
    group: str | None = None
    time: str | None = None

    @model_validator(mode="after")
    def _check(self) -> SplitSpec:
        if self.test + self.valid >= 1:
            raise ValueError(
                f"test ({self.test}) + valid ({self.valid}) must leave rows to train on (< 1)"
            )
        chosen = [k for k in ("group", "time") if getattr(self, k)]
        if self.stratify:
            chosen.append("stratify")
        if len(chosen) > 1:
            raise ValueError(f"choose one of stratify, group and time, not {' and '.join(chosen)}")
        return self


class DataSpec(_Strict):
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    features: list[str] | None = None
    split: SplitSpec = SplitSpec()

    @field_validator("features")
    @classmethod
    def _features(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("must name at least one column (or be left out: all columns)")
            dup = sorted({c for c in v if v.count(c) > 1})
            if dup:
                raise ValueError(f"lists {dup} more than once")
        return v


class ModelSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    flavor: Flavor
    # module.Name; a training function defined inside another has <locals> in its path
    class_: str = Field(alias="class", pattern=r"^[A-Za-z_]\w*(\.(<locals>|[A-Za-z_]\w*))+$")
    params: dict[str, Any] = Field(default_factory=dict)


class EarlyStopping(_Strict):
    """Stop when ``metric`` (a curve the adapter reports, e.g. ``valid_logloss``) has not
    improved by ``min_delta`` for ``patience`` iterations/epochs. ``mode``: ``min`` or ``max``;
    by default ``min`` for names with loss, error, rmse, mae, l1 or l2, else ``max``."""

    metric: str = Field(min_length=1)
    patience: int = Field(ge=1)
    min_delta: float = Field(0.0, ge=0)
    mode: Literal["min", "max"] | None = None

    @property
    def minimize(self) -> bool:
        if self.mode is not None:
            return self.mode == "min"
        name = self.metric.lower()
        return any(w in name for w in ("loss", "error", "rmse", "mae", "l1", "l2", "mse"))


# The training loop's settings: read by the pytorch flavor and by training functions (ctx.lr),
# not by the sklearn, xgboost and lightgbm flavors.
LOOP_SETTINGS = ("train.epochs", "train.batch_size", "train.lr")
LOOP_FLAVORS = ("pytorch", "python")


class TrainSpec(_Strict):
    cv: int | None = Field(None, ge=2, le=100)
    early_stopping: EarlyStopping | None = None
    seed: int = 0
    epochs: int = Field(20, ge=1)  # pytorch: training epochs
    batch_size: int = Field(64, ge=1)  # pytorch
    lr: float = Field(1e-3, gt=0)  # pytorch: Adam's learning rate
    checkpoint_every: int | None = Field(None, ge=1)  # iterations/epochs between checkpoints
    keep_checkpoints: int = Field(2, ge=1)  # the newest N are kept, older ones deleted
    system_metrics_interval_s: float = Field(10.0, gt=0)


class RegisterSpec(_Strict):
    name: str = Field(min_length=1, max_length=256)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # the registry's rule, checked before anything is trained
        from trainlab.store.sql.registry_rules import validate_new_model_name

        try:
            return validate_new_model_name(v)
        except InvalidParameterValue as exc:
            raise ValueError(exc.message) from None


class PipelineSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    experiment: str = Field("Default", min_length=1, max_length=500)
    data: DataSpec
    model: ModelSpec
    train: TrainSpec = TrainSpec()
    metrics: list[str] | None = None
    register_: RegisterSpec | None = Field(None, alias="register")
    tune: TuneSpec | None = None  # read by `trainlab tune`; `trainlab train` ignores it

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("must name at least one metric (or be left out: the defaults)")
        known = {**CLASSIFICATION, **REGRESSION}
        unknown = [m for m in v if m not in known]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(known)}")
        return v

    def to_config(self) -> dict[str, Any]:
        """The resolved config, as it would be written in YAML (``class``, not ``class_``)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# How a section that takes keys is written, for a value given in its place (register: wine).
_SECTION_EXAMPLES = {
    "data": "{source: data.csv, target: label}",
    "model": "{flavor: sklearn, class: sklearn.ensemble.RandomForestClassifier}",
    "train": "{seed: 7}",
    "register": "{name: wine}",
    "split": "{test: 0.2, valid: 0.2}",
    "early_stopping": "{metric: valid_logloss, patience: 10}",
}


def parse_override(text: str) -> tuple[list[str], Any]:
    """``key.path=value`` (``--set``); the value is read as YAML (``8``, ``0.1``, ``[a, b]``)."""
    import yaml

    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise InvalidParameterValue(
            f"--set {text!r}: write key.path=value, e.g. --set model.params.max_depth=8"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise InvalidParameterValue(
            f"--set {text!r}: the value is not valid YAML ({exc})"
        ) from None
    return path, value


def set_path(config: dict[str, Any], path: list[str], value: Any, what: str) -> dict[str, Any]:
    """A copy of ``config`` with ``value`` at ``path`` (mappings on the way are created or
    copied); ``what`` names the setting in the error for a path through a non-mapping."""
    out: dict[str, Any] = dict(config)
    node = out
    for i, key in enumerate(path[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict):
            where = ".".join(path[: i + 1])
            raise InvalidParameterValue(f"{what}: {where} is not a mapping")
        else:
            child = node[key] = dict(child)
        node = child
    node[path[-1]] = value
    return out


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for text in overrides:
        path, value = parse_override(text)
        config = set_path(config, path, value, f"--set {text!r}")
    return config


def parse_spec(config: dict[str, Any], source: str = "the pipeline") -> PipelineSpec:
    try:
        return PipelineSpec.model_validate(config)
    except ValidationError as exc:
        raise InvalidParameterValue(
            f"Invalid pipeline in {source}:\n{describe(exc, PipelineSpec, _SECTION_EXAMPLES)}"
        ) from None


def read_mapping(path: Path, what: str, keys: str) -> dict[str, Any]:
    """The mapping a YAML file holds; a missing file, bad YAML or another value is refused
    with a message naming the file (``what``: "Pipeline", "Policy"; ``keys``: a hint)."""
    import yaml

    from trainlab import _yaml

    if path.is_dir():
        raise InvalidParameterValue(f"{what} file {str(path)!r} is a folder: name the file.")
    if not path.is_file():
        raise InvalidParameterValue(f"{what} file {str(path)!r} does not exist.")
    text = path.read_text(encoding="utf-8")
    try:
        config = _yaml.load(text, str(path))
    except yaml.YAMLError as exc:
        hint = _quote_hint(exc, text)
        raise InvalidParameterValue(f"{str(path)!r} is not valid YAML: {exc}{hint}") from None
    if not isinstance(config, dict):
        raise InvalidParameterValue(f"{str(path)!r} must hold a mapping ({keys}).")
    return config


_YAML_INDICATORS = ">|%@`"  # a plain value cannot start with these: YAML reads its own syntax


def _quote_hint(exc: Exception, text: str) -> str:
    """For a value YAML took for its own syntax (``f1_macro: >= 0.80``: a syntax error whose
    mark points at the indicator), how to write it."""
    import yaml

    if not isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
        return ""
    lines = text.splitlines()
    for mark in (getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)):
        if mark is None or mark.line >= len(lines):
            continue
        line = lines[mark.line]
        if mark.column < len(line) and line[mark.column] in _YAML_INDICATORS:
            value = re.split(r"[,}]|\s+#", line[mark.column :])[0].strip()
            return (
                f"\nYAML reads {value[0]!r} at the start of a value as its own syntax: quote "
                f"the value, {value!r} (line {mark.line + 1})."
            )
    return ""


def load_spec(
    path: str | Path, overrides: list[str] | None = None, experiment: str | None = None
) -> PipelineSpec:
    """Read and validate a pipeline file; ``overrides`` are ``key.path=value`` texts."""
    p = Path(path)
    config = read_mapping(p, "Pipeline", "experiment:, data:, ...")
    config = apply_overrides(config, overrides or [])
    if experiment:
        config["experiment"] = experiment
    return parse_spec(config, repr(str(p)))
