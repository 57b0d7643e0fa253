"""``RestLoggedModelStore``: MLflow 3 logged models over a trainlab (or MLflow) server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from trainlab.client import wire
from trainlab.client.rest import RestTrackingStore
from trainlab.entities import LoggedModel, LoggedModelStatus, PagedList
from trainlab.store._base import BaseLoggedModelStore


def _kv(d: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in (d or {}).items()]


class RestLoggedModelStore(BaseLoggedModelStore):
    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking

    def _model(self, method: str, path: str, body: dict[str, Any] | None = None) -> LoggedModel:
        return wire.logged_model(self.tracking.call(method, path, body)["model"])

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        body: dict[str, Any] = {"experiment_id": experiment_id, "tags": _kv(tags)}
        body["params"] = _kv(params)
        for key, value in (("name", name), ("source_run_id", source_run_id)):
            if value is not None:
                body[key] = value
        if model_type is not None:
            body["model_type"] = model_type
        return self._model("POST", "/logged-models", body)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._model("GET", f"/logged-models/{quote(model_id, safe='')}")

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        path = f"/logged-models/{quote(model_id, safe='')}"
        # model_id in the body too: MLflow's server reads it there, not from the path
        return self._model("PATCH", path, {"model_id": model_id, "status": str(status)})

    def delete_logged_model(self, model_id: str) -> None:
        self.tracking.call("DELETE", f"/logged-models/{quote(model_id, safe='')}")

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> LoggedModel:
        path = f"/logged-models/{quote(model_id, safe='')}/tags"
        self.tracking.call("PATCH", path, {"tags": _kv(tags)})
        return self.get_logged_model(model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        path = f"/logged-models/{quote(model_id, safe='')}/tags/{quote(key, safe='')}"
        self.tracking.call("DELETE", path)

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        path = f"/logged-models/{quote(model_id, safe='')}/params"
        self.tracking.call("POST", path, {"params": _kv(params)})

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 50,
        order_by: Sequence[Mapping[str, object]] = (),
        page_token: str | None = None,
        datasets: Sequence[Mapping[str, object]] = (),
    ) -> PagedList[LoggedModel]:
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "max_results": max_results,
            "order_by": [dict(o) for o in order_by],
        }
        if datasets:
            body["datasets"] = [dict(d) for d in datasets]
        if filter_string:
            body["filter"] = filter_string
        if page_token:
            body["page_token"] = page_token
        out = self.tracking.call("POST", "/logged-models/search", body)
        models = [wire.logged_model(m) for m in out.get("models", [])]
        return PagedList(models, out.get("next_page_token"))


def logged_models_for(store: object) -> BaseLoggedModelStore:
    """The logged-model store beside a tracking store: same server, or same database."""
    if isinstance(store, RestTrackingStore):
        return RestLoggedModelStore(store)
    from trainlab.store.sql.logged_models import SqlLoggedModelStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    if not isinstance(store, SqlTrackingStore):
        from trainlab.exceptions import InvalidParameterValue

        raise InvalidParameterValue(f"No logged-model store for a {type(store).__name__}.")
    return SqlLoggedModelStore(store)
