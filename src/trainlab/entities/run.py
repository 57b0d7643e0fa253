from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, overload


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    def stages(self) -> tuple[str, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


class Metric(NamedTuple):
    """One point of a metric. A named tuple: millions are made on the logging hot path."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None

    def same_point(self, other: Metric) -> bool:
        """Equal as stored points (NaN equals NaN, as in the store's unique key)."""
        both_nan = math.isnan(self.value) and math.isnan(other.value)
        return (
            self.key == other.key
            and self.step == other.step
            and self.timestamp == other.timestamp
            and (both_nan or self.value == other.value)
        )


class MetricColumns(Sequence[Metric]):
    """Many points of one run, column by column: point ``i`` is
    ``Metric(keys[i], values[i], timestamps[i], steps[i])``. It is a sequence of ``Metric`` and
    goes wherever a list of points goes; the stores and the wire format read the columns
    directly, without a ``Metric`` per point (the logging hot path moves millions)."""

    __slots__ = ("keys", "steps", "timestamps", "values")

    def __init__(
        self,
        keys: Sequence[str],
        values: Sequence[float],
        timestamps: Sequence[int],
        steps: Sequence[int],
    ) -> None:
        lengths = {len(keys), len(values), len(timestamps), len(steps)}
        if len(lengths) != 1:
            raise ValueError(
                "keys, values, timestamps and steps must have the same length; got "
                f"{len(keys)}, {len(values)}, {len(timestamps)} and {len(steps)}"
            )
        self.keys = keys
        self.values = values
        self.timestamps = timestamps
        self.steps = steps

    @classmethod
    def from_points(cls, points: Sequence[tuple[str, float, int, int]]) -> MetricColumns:
        """From ``(key, value, timestamp, step)`` tuples."""
        if not points:
            return cls((), (), (), ())
        keys, values, timestamps, steps = zip(*points, strict=True)
        return cls(keys, values, timestamps, steps)

    def __len__(self) -> int:
        return len(self.keys)

    def __add__(self, other: MetricColumns) -> MetricColumns:
        """The points of ``self``, then those of ``other``."""
        return MetricColumns(
            [*self.keys, *other.keys],
            [*self.values, *other.values],
            [*self.timestamps, *other.timestamps],
            [*self.steps, *other.steps],
        )

    def points(self) -> Iterator[tuple[str, float, int, int]]:
        """``(key, value, timestamp, step)`` tuples."""
        return zip(self.keys, self.values, self.timestamps, self.steps, strict=True)

    def __iter__(self) -> Iterator[Metric]:
        return map(Metric, self.keys, self.values, self.timestamps, self.steps)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> MetricColumns: ...

    def __getitem__(self, index: int | slice) -> Metric | MetricColumns:
        if isinstance(index, slice):
            return MetricColumns(
                self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
            )
        return Metric(
            self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetricColumns):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable columns

    def __repr__(self) -> str:
        return f"MetricColumns({len(self)} points of {sorted(set(self.keys))})"


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, Metric] = field(default_factory=dict)  # latest value per key
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset some run of an experiment took, and in which role (its ``mlflow.data.context``
    tag: train, eval, ...; None without one)."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)  # logged model ids


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: list[tuple[str, int]] = field(default_factory=list)  # (model_id, step)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

    @property
    def run_id(self) -> str:
        return self.info.run_id
