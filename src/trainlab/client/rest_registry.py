"""``RestRegistryStore``: the registry store contract over a trainlab (or MLflow) server, on
the transport of a ``RestTrackingStore``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from trainlab.client.rest import TRAINLAB_API, RestTrackingStore
from trainlab.client.wire import tags as tag_dict
from trainlab.entities import (
    AliasEvent,
    ModelVersion,
    ModelVersionStatus,
    PagedList,
    RegisteredModel,
)
from trainlab.store._base import (
    REGISTRY_SEARCH_MAX_RESULTS,
    VERSIONS_SEARCH_MAX_RESULTS,
    BaseRegistryStore,
)


def _opt_int(v: Any) -> int | None:
    return None if v is None or v == "" else int(v)


def model_version(d: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=d["name"],
        version=int(d["version"]),
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        source=d.get("source", ""),
        user_id=d.get("user_id", ""),
        current_stage=d.get("current_stage", "None"),
        description=d.get("description", ""),
        run_id=d.get("run_id") or None,
        status=ModelVersionStatus(d.get("status", "READY")),
        status_message=d.get("status_message"),
        tags=tag_dict(d.get("tags")),
        run_link=d.get("run_link") or None,
        aliases=list(d.get("aliases", [])),
        model_id=d.get("model_id") or None,
        lineage=dict(d.get("trainlab_lineage") or {}),
    )


def registered_model(d: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        user_id=d.get("user_id", ""),
        description=d.get("description", ""),
        tags=tag_dict(d.get("tags")),
        aliases={a["alias"]: int(a["version"]) for a in d.get("aliases", [])},
        latest_versions=[model_version(v) for v in d.get("latest_versions", [])],
    )


def alias_event(d: dict[str, Any]) -> AliasEvent:
    return AliasEvent(
        name=d["name"],
        alias=d["alias"],
        from_version=_opt_int(d.get("from_version")),
        to_version=_opt_int(d.get("to_version")),
        user=d.get("user", ""),
        reason=d.get("reason", ""),
        timestamp=int(d.get("timestamp", 0)),
        event_id=int(d.get("event_id", 0)),
    )


def _kv(items: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in (items or {}).items()]


class RestRegistryStore(BaseRegistryStore):
    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking
        self.call = tracking.call

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user_id: str = "",
    ) -> RegisteredModel:
        body: dict[str, Any] = {"name": name, "tags": _kv(tags)}
        if description is not None:
            body["description"] = description
        return registered_model(
            self.call("POST", "/registered-models/create", body)["registered_model"]
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        out = self.call("GET", "/registered-models/get", params={"name": name})
        return registered_model(out["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = {"name": name, "new_name": new_name}
        return registered_model(
            self.call("POST", "/registered-models/rename", body)["registered_model"]
        )

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        body = {"name": name, "description": description}
        return registered_model(
            self.call("PATCH", "/registered-models/update", body)["registered_model"]
        )

    def delete_registered_model(self, name: str) -> None:
        self.call("DELETE", "/registered-models/delete", {"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = REGISTRY_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        params: dict[str, Any] = {"max_results": max_results, "order_by": list(order_by)}
        if filter_string:
            params["filter"] = filter_string
        if page_token:
            params["page_token"] = page_token
        out = self.call("GET", "/registered-models/search", params=params)
        items = [registered_model(m) for m in out.get("registered_models", [])]
        return PagedList(items, out.get("next_page_token") or None)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        body = {"name": name, "key": key, "value": value}
        self.call("POST", "/registered-models/set-tag", body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.call("DELETE", "/registered-models/delete-tag", {"name": name, "key": key})

    # -- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str = "",
    ) -> ModelVersion:
        body: dict[str, Any] = {"name": name, "source": source, "tags": _kv(tags)}
        for key, value in (
            ("run_id", run_id),
            ("run_link", run_link),
            ("description", description),
            ("model_id", model_id),
        ):
            if value is not None:
                body[key] = value
        return model_version(self.call("POST", "/model-versions/create", body)["model_version"])

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        params = {"name": name, "version": str(version)}
        return model_version(
            self.call("GET", "/model-versions/get", params=params)["model_version"]
        )

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return model_version(self.call("PATCH", "/model-versions/update", body)["model_version"])

    def delete_model_version(self, name: str, version: int, user: str = "") -> None:
        body = {"name": name, "version": str(version), "user": user}
        self.call("DELETE", "/model-versions/delete", body)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSIONS_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        params: dict[str, Any] = {"max_results": max_results, "order_by": list(order_by)}
        if filter_string:
            params["filter"] = filter_string
        if page_token:
            params["page_token"] = page_token
        out = self.call("GET", "/model-versions/search", params=params)
        items = [model_version(v) for v in out.get("model_versions", [])]
        return PagedList(items, out.get("next_page_token") or None)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self.call("POST", "/model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self.call("DELETE", "/model-versions/delete-tag", body)

    def get_model_version_download_uri(self, name: str, version: int) -> str:
        params = {"name": name, "version": str(version)}
        out = self.call("GET", "/model-versions/get-download-uri", params=params)
        return str(out["artifact_uri"])

    # -- stages ------------------------------------------------------------------------------
    def get_latest_versions(self, name: str, stages: Sequence[str] = ()) -> list[ModelVersion]:
        body = {"name": name, "stages": list(stages)}
        out = self.call("POST", "/registered-models/get-latest-versions", body)
        return [model_version(v) for v in out.get("model_versions", [])]

    def transition_model_version_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        out = self.call("POST", "/model-versions/transition-stage", body)
        return model_version(out["model_version"])

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str = "",
        reason: str = "",
        expected: int | None | Literal["any"] = "any",
    ) -> None:
        body = {"name": name, "alias": alias, "version": str(version), "user": user}
        if expected != "any":
            body["expected_version"] = "none" if expected is None else str(expected)
        self.call("POST", "/registered-models/alias", {**body, "reason": reason})

    def delete_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = ""
    ) -> None:
        body = {"name": name, "alias": alias, "user": user, "reason": reason}
        self.call("DELETE", "/registered-models/alias", body)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        params = {"name": name, "alias": alias}
        out = self.call("GET", "/registered-models/alias", params=params)
        return model_version(out["model_version"])

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"name": name, **({"alias": alias} if alias is not None else {})}
        out = self.call("GET", "/registered-models/alias-history", params=params, api=TRAINLAB_API)
        return [alias_event(e) for e in out.get("events", [])]

    def rollback_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = "", *, dry_run: bool = False
    ) -> ModelVersion:
        body = {"name": name, "alias": alias, "user": user, "reason": reason, "dry_run": dry_run}
        out = self.call("POST", "/registered-models/alias-rollback", body, api=TRAINLAB_API)
        return model_version(out["model_version"])
