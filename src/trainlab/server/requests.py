"""Request messages of the tracking API, validated with pydantic. A wrong type, a missing field
or malformed JSON becomes a 400 INVALID_PARAMETER_VALUE that names the field."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    model_validator,
)

from trainlab.entities import LoggedModelStatus, RunStatus, ViewType
from trainlab.exceptions import InvalidParameterValue
from trainlab.validation import INT64_MAX, INT64_MIN


def _no_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, got a boolean")
    return v


def _id_string(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v


def _by_number(*members: Any) -> BeforeValidator:
    """An enum also given by its protobuf number, or that number as a string (a query
    parameter), as protobuf's JSON parser takes it: ``members`` in the order of their numbers,
    from 1."""
    numbers = dict(enumerate(members, start=1))

    def convert(v: Any) -> Any:
        if type(v) is str and v.isascii() and v.isdigit():
            v = int(v)
        if type(v) is int:
            if v not in numbers:
                raise ValueError(f"unknown value number {v}; expected one of {sorted(numbers)}")
            return numbers[v]
        return v

    return BeforeValidator(convert)


Int64 = Annotated[int, BeforeValidator(_no_bool), Field(ge=INT64_MIN, le=INT64_MAX)]
Double = Annotated[float, BeforeValidator(_no_bool)]
Id = Annotated[StrictStr, BeforeValidator(_id_string)]
# MLflow's enums, by name or by number as its protobuf messages number them.
View = Annotated[ViewType, _by_number(ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL)]
Status = Annotated[
    RunStatus,
    _by_number(
        RunStatus.RUNNING,
        RunStatus.SCHEDULED,
        RunStatus.FINISHED,
        RunStatus.FAILED,
        RunStatus.KILLED,
    ),
]
ModelStatus = Annotated[
    LoggedModelStatus,
    _by_number(LoggedModelStatus.PENDING, LoggedModelStatus.READY, LoggedModelStatus.UPLOAD_FAILED),
]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RunMessage(Message):
    """Messages addressed to a run accept the legacy ``run_uuid`` for ``run_id``."""

    run_id: StrictStr

    @model_validator(mode="before")
    @classmethod
    def _legacy_run_uuid(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("run_id") and data.get("run_uuid"):
            return {**data, "run_id": data["run_uuid"]}
        return data


class KeyValue(Message):
    key: StrictStr
    value: StrictStr = ""


# -- experiments ----------------------------------------------------------------------------
class CreateExperiment(Message):
    name: StrictStr
    artifact_location: StrictStr | None = None
    tags: list[KeyValue] = []


class SearchExperiments(Message):
    max_results: Int64 = 1000
    page_token: StrictStr | None = None
    filter: StrictStr | None = None
    order_by: list[StrictStr] = []
    view_type: View = ViewType.ACTIVE_ONLY


class ExperimentRef(Message):
    experiment_id: Id


class ExperimentByName(Message):
    experiment_name: StrictStr


class UpdateExperiment(Message):
    experiment_id: Id
    new_name: StrictStr


class SetExperimentTag(Message):
    experiment_id: Id
    key: StrictStr
    value: StrictStr = ""


class DeleteExperimentTag(Message):
    experiment_id: Id
    key: StrictStr


# -- runs -----------------------------------------------------------------------------------
class CreateRun(Message):
    experiment_id: Id = "0"
    user_id: StrictStr = ""
    run_name: StrictStr | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = []


class UpdateRun(RunMessage):
    status: Status | None = None
    end_time: Int64 | None = None
    run_name: StrictStr | None = None


class RunRef(RunMessage):
    pass


class MetricIn(Message):
    key: StrictStr
    value: Double
    timestamp: Int64
    step: Int64 = 0
    model_id: StrictStr | None = None
    dataset_name: StrictStr | None = None
    dataset_digest: StrictStr | None = None


class LogMetric(RunMessage, MetricIn):
    pass


class LogParam(RunMessage):
    key: StrictStr
    value: StrictStr


class SetTag(RunMessage):
    key: StrictStr
    value: StrictStr = ""


class DeleteTag(RunMessage):
    key: StrictStr


class _Batch(RunMessage):
    metrics: list[MetricIn] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class LogBatch(_Batch):
    """MLflow's log-batch. Columnar points sent here would be dropped unseen: refused."""

    @model_validator(mode="before")
    @classmethod
    def _no_columns(cls, data: Any) -> Any:
        if isinstance(data, dict) and "metric_columns" in data:
            raise ValueError(
                "'metric_columns' is taken by trainlab's bulk endpoint, POST "
                "/api/2.0/trainlab/runs/log-batch; here, send the points as 'metrics'"
            )
        return data


class MetricColumnsIn(Message):
    """trainlab's columnar points: point ``i`` is (key[i], value[i], timestamp[i], step[i])."""

    key: list[StrictStr]
    value: list[Double]
    timestamp: list[Int64]
    step: list[Int64]

    @model_validator(mode="after")
    def _same_length(self) -> MetricColumnsIn:
        lengths = [len(self.key), len(self.value), len(self.timestamp), len(self.step)]
        if len(set(lengths)) != 1:
            raise ValueError(
                "key, value, timestamp and step must have the same length; got "
                + ", ".join(map(str, lengths))
            )
        return self


class LogBatchBulk(_Batch):
    """trainlab's bulk log-batch: MLflow's message, or its points as ``metric_columns``."""

    metric_columns: MetricColumnsIn | None = None

    @model_validator(mode="after")
    def _one_form(self) -> LogBatchBulk:
        if self.metrics and self.metric_columns is not None:
            raise ValueError("send the points either as 'metrics' or as 'metric_columns', not both")
        return self


class LogModel(RunMessage):
    model_json: StrictStr


class DatasetIn(Message):
    name: StrictStr
    digest: StrictStr = ""
    source_type: StrictStr = ""
    source: StrictStr = ""
    schema_: StrictStr | None = Field(default=None, alias="schema")
    profile: StrictStr | None = None


class DatasetInputIn(Message):
    dataset: DatasetIn
    tags: list[KeyValue] = []


class ModelInput(Message):
    model_id: StrictStr


class ModelOutput(Message):
    model_id: StrictStr
    step: Int64 = 0


class LogInputs(RunMessage):
    datasets: list[DatasetInputIn] = []
    models: list[ModelInput] = []


class LogOutputs(RunMessage):
    models: list[ModelOutput]


class SearchRuns(Message):
    experiment_ids: list[Id] = []
    filter: StrictStr | None = None
    run_view_type: View = ViewType.ACTIVE_ONLY
    max_results: Int64 = 1000
    order_by: list[StrictStr] = []
    page_token: StrictStr | None = None


class GetMetricHistory(RunMessage):
    metric_key: StrictStr
    max_results: Int64 | None = None
    page_token: StrictStr | None = None


HISTORY_BULK_MAX = 25_000


class GetMetricHistoryBulkInterval(Message):
    run_ids: list[StrictStr] = Field(min_length=1, max_length=100)
    metric_key: StrictStr
    start_step: Int64 | None = None
    end_step: Int64 | None = None
    max_results: Annotated[Int64, Field(ge=1, le=2500)] = 2500

    @model_validator(mode="after")
    def _both_or_neither(self) -> GetMetricHistoryBulkInterval:
        if (self.start_step is None) != (self.end_step is None):
            raise ValueError("start_step and end_step must be given together")
        if (
            self.start_step is not None
            and self.end_step is not None
            and self.start_step > self.end_step
        ):
            raise ValueError("start_step must not be greater than end_step")
        return self


class GetMetricHistoryBulk(Message):
    """The MLflow UI's older bulk read: each run's whole history, up to ``max_results`` points
    in all (more is read as the most, as MLflow does)."""

    run_id: list[StrictStr] = Field(min_length=1, max_length=100)
    metric_key: StrictStr
    max_results: Annotated[Int64, Field(ge=1)] = HISTORY_BULK_MAX


class SearchDatasets(Message):
    experiment_ids: list[Id] = Field(min_length=1, max_length=20)


# -- logged models --------------------------------------------------------------------------
class CreateLoggedModel(Message):
    experiment_id: Id
    name: StrictStr | None = None
    model_type: StrictStr | None = None
    source_run_id: StrictStr | None = None
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class FinalizeLoggedModel(Message):
    status: ModelStatus


class LoggedModelOrder(Message):
    field_name: StrictStr
    ascending: bool = True
    dataset_name: StrictStr | None = None
    dataset_digest: StrictStr | None = None


class LoggedModelDataset(Message):
    dataset_name: Annotated[StrictStr, Field(min_length=1)]
    dataset_digest: StrictStr | None = None


class SearchLoggedModels(Message):
    experiment_ids: list[Id] = []
    filter: StrictStr | None = None
    datasets: list[LoggedModelDataset] = []
    max_results: Annotated[Int64, Field(ge=1)] = 50
    order_by: list[LoggedModelOrder] = []
    page_token: StrictStr | None = None


class SetLoggedModelTags(Message):
    tags: list[KeyValue] = []


class LogLoggedModelParams(Message):
    params: list[KeyValue] = []


M = TypeVar("M", bound=BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += part if not out else f".{part}"
    return out


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _describe(err: Any) -> str:
    field = _location(tuple(err["loc"]))
    kind = err["type"]
    if kind == "json_invalid":
        reason = err["ctx"].get("error", err["msg"])
        if "escape" in reason and _SURROGATE_ESCAPE.search(str(err.get("input", ""))):
            reason += (
                " (an escape \\ud800 to \\udfff is half of a surrogate pair, which text cannot "
                "hold alone)"
            )
        return f"Malformed JSON in the request body: {reason}"
    if kind == "missing":
        return f"Missing value for required parameter '{field}'"
    # a validator's own words, without pydantic's "Value error, " in front
    msg = str(err["ctx"]["error"]) if kind == "value_error" else err["msg"].lower()
    if not field:
        return f"Invalid request body: {msg}"
    given = repr(err.get("input"))
    shown = given if len(given) <= 80 else given[:77] + "..."
    return f"Invalid value {shown} for parameter '{field}' supplied: {msg}"


def explain(exc: ValidationError) -> InvalidParameterValue:
    """Every problem (up to five), in words: which field, what was wrong, what was given."""
    errors = exc.errors(include_url=False)
    parts = [_describe(e) for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return InvalidParameterValue(
        "; ".join(parts) + more + ". See the API docs for the request's parameters."
    )


def parse_json(model: type[M], body: bytes) -> M:
    if body[:1] == b'"':  # a doubly JSON-encoded body, sent by legacy clients
        import orjson

        try:
            inner = orjson.loads(body)
        except orjson.JSONDecodeError:
            inner = None
        if isinstance(inner, str):
            body = inner.encode()
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise explain(exc) from None


def parse_mapping(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise explain(exc) from None
