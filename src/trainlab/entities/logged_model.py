from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from trainlab.entities.run import Metric

LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")  # a whole id: use fullmatch


class LoggedModelStatus(enum.StrEnum):
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"


@dataclass(frozen=True)
class LoggedModel:
    """A model produced by a run (MLflow 3's LoggedModel), id ``m-<32 hex>``."""

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: LoggedModelStatus
    creation_timestamp: int
    last_updated_timestamp: int
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
