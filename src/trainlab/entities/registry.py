"""Model registry records: registered models, their versions, and the alias audit trail."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ModelVersionStatus(enum.StrEnum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


STAGES = ("None", "Staging", "Production", "Archived")
"""MLflow's deprecated stages, still answered by transition-stage and get-latest-versions."""

LINEAGE_TAG_PREFIX = "trainlab.lineage."
"""Version tags recording where a version came from (run, logged model, datasets, commit)."""

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
"""MLflow's prompt registry keeps prompts as registered models and versions with this tag set
to 'true'; an entity without it counts as 'false' (a model)."""

PROMPT_SOURCES = ("dummy-source", "prompt-template")
"""The placeholder sources MLflow's clients send for a prompt version (its template lies in
the version's tags); a prompt version takes no other source."""


def is_prompt(tags: dict[str, str]) -> bool:
    return tags.get(IS_PROMPT_TAG, "false").lower() == "true"


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    source: str
    user_id: str = ""
    current_stage: str = "None"
    description: str = ""
    run_id: str | None = None
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None
    storage_location: str | None = None  # a copy's artifacts: the original's, when copied
    # trainlab's record of what made the version: run_id, model_id, git_commit, datasets
    # (comma-separated ``name@digest``). Stored as ``trainlab.lineage.*`` tags, so that searches
    # can filter on them, but kept out of ``tags``: those are the user's, as in MLflow, and
    # code that copies or clears a version's tags must not meet trainlab's.
    lineage: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    latest_versions: list[ModelVersion] = field(default_factory=list)  # newest per stage


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias: set (from None or another version), delete (to None), rollback."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    reason: str
    timestamp: int
    event_id: int = 0
