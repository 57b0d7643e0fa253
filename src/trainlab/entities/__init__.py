"""Plain, immutable records shared by the store, the server and the client."""

from trainlab.entities.logged_model import LoggedModel, LoggedModelStatus
from trainlab.entities.paging import PagedList
from trainlab.entities.registry import (
    AliasEvent,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)
from trainlab.entities.run import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    LifecycleStage,
    Metric,
    MetricColumns,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
)

__all__ = [
    "AliasEvent",
    "ModelVersion",
    "ModelVersionStatus",
    "RegisteredModel",
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelStatus",
    "Metric",
    "MetricColumns",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
