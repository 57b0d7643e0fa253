"""The model registry in MLflow's wire format (versions travel as strings)."""

from __future__ import annotations

from typing import Any

from trainlab._json import key_values
from trainlab.entities import AliasEvent, ModelVersion, RegisteredModel


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != []}


def model_version(v: ModelVersion) -> dict[str, Any]:
    return _compact(
        {
            "name": v.name,
            "version": str(v.version),
            "creation_timestamp": v.creation_timestamp,
            "last_updated_timestamp": v.last_updated_timestamp,
            "user_id": v.user_id,
            "current_stage": v.current_stage,
            "description": v.description,
            "source": v.source,
            "run_id": v.run_id or "",  # as MLflow: present, empty when none
            "status": str(v.status),
            "status_message": v.status_message,
            "tags": key_values(v.tags),
            "run_link": v.run_link,
            "aliases": list(v.aliases),
            "model_id": v.model_id,
            # trainlab's own field: MLflow's clients ignore fields they do not know
            "trainlab_lineage": v.lineage or None,
        }
    )


def registered_model(m: RegisteredModel) -> dict[str, Any]:
    return _compact(
        {
            "name": m.name,
            "creation_timestamp": m.creation_timestamp,
            "last_updated_timestamp": m.last_updated_timestamp,
            "user_id": m.user_id,
            "description": m.description,
            "latest_versions": [model_version(v) for v in m.latest_versions],
            "tags": key_values(m.tags),
            "aliases": [{"alias": a, "version": str(v)} for a, v in m.aliases.items()],
        }
    )


def alias_event(e: AliasEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "name": e.name,
        "alias": e.alias,
        "from_version": None if e.from_version is None else str(e.from_version),
        "to_version": None if e.to_version is None else str(e.to_version),
        "user": e.user,
        "reason": e.reason,
        "timestamp": e.timestamp,
    }
