"""``RestTrackingStore``: the tracking store contract over a trainlab (or MLflow) server."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from trainlab.client import wire
from trainlab.client.resolve import redacted
from trainlab.client.retry import Retrier, check_available
from trainlab.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    Metric,
    MetricColumns,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from trainlab.exceptions import (
    RemoteError,
    ResourceNotFound,
    TrainlabError,
    from_json,
)
from trainlab.store._base import SEARCH_MAX_RESULTS_DEFAULT, BaseTrackingStore
from trainlab.validation import MAX_METRICS_PER_BATCH

API = "/api/2.0/mlflow"
TRAINLAB_API = "/api/2.0/trainlab"


def _auth() -> httpx.Auth | None:
    token = os.environ.get("TRAINLAB_TRACKING_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return _Bearer(token)
    user = os.environ.get("TRAINLAB_TRACKING_USERNAME") or os.environ.get(
        "MLFLOW_TRACKING_USERNAME"
    )
    password = os.environ.get("TRAINLAB_TRACKING_PASSWORD") or os.environ.get(
        "MLFLOW_TRACKING_PASSWORD"
    )
    if user and password:
        return httpx.BasicAuth(user, password)
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass(frozen=True)
class BulkLogBatch:
    """What a server's ``/api/2.0/trainlab/runs/log-batch`` takes, as its server-info says."""

    max_metrics: int
    metric_columns: bool

    @classmethod
    def of(cls, info: dict[str, Any]) -> BulkLogBatch:
        if info.get("server") != "trainlab":
            return NO_BULK
        # trainlab servers before "trainlab_log_batch" took 10,000 points, as MLflow's list.
        bulk = info.get("trainlab_log_batch") or {"max_metrics": 10_000}
        return cls(int(bulk["max_metrics"]), bool(bulk.get("metric_columns")))


NO_BULK = BulkLogBatch(MAX_METRICS_PER_BATCH, metric_columns=False)  # not a trainlab server


class RestTrackingStore(BaseTrackingStore):
    def __init__(
        self, uri: str, *, timeout: float = 30.0, retry_seconds: float | None = None
    ) -> None:
        self.uri = uri.rstrip("/")
        self._timeout = timeout
        self.retrier = Retrier(redacted(self.uri), retry_seconds)
        self._client, self._pid = self._new_client(), os.getpid()
        self._bulk: BulkLogBatch | None = None  # learnt from server-info on first need

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.uri,
            timeout=self._timeout,
            auth=_auth(),
            transport=httpx.HTTPTransport(retries=1),
            headers={"User-Agent": "trainlab-python-client"},
        )

    @property
    def _http(self) -> httpx.Client:
        """The HTTP client of this process: a forked child opens its own connections (on the
        parent's, the two would read each other's responses)."""
        if self._pid != os.getpid():
            self._client, self._pid = self._new_client(), os.getpid()
        return self._client

    def close(self) -> None:
        self._client.close()

    def fail_fast(self) -> RestTrackingStore:
        """This store, on the same connections, with no retries (see ``trainlab.client.retry``)."""
        twin = copy.copy(self)
        twin.retrier = Retrier(self.retrier.server, 0)
        return twin

    @property
    def max_batch_metrics(self) -> int:
        """What the server's bulk log-batch takes (50,000 on this release), MLflow's 1000 on
        another server."""
        return self._bulk_log_batch().max_metrics

    def _bulk_log_batch(self) -> BulkLogBatch:
        """What this server's bulk log-batch takes, from its server-info."""
        if self._bulk is None:
            try:
                response = self._http.get("/api/3.0/mlflow/server-info")
            except httpx.TransportError:
                return NO_BULK  # unknown while unreachable: assume the stricter limit
            try:
                info = response.json() if response.is_success else {}
            except ValueError:  # not JSON: not a trainlab server
                info = {}
            self._bulk = BulkLogBatch.of(info)
        return self._bulk

    # -- transport ----------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        *,
        api: str = API,
    ) -> dict[str, Any]:
        content = None if body is None else orjson.dumps(body)
        headers = None if body is None else {"Content-Type": "application/json"}

        def attempt() -> httpx.Response:
            response = self._http.request(
                method, api + path, content=content, headers=headers, params=params
            )
            check_available(response)
            return response

        response = self.retrier.run(attempt, what="", safe=method == "GET")
        payload: Any
        try:
            payload = response.json() if response.content else {}
        except ValueError:  # not an API answer (a proxy's login page?): what answered, not HTML
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise TrainlabError(
                f"The server at {redacted(self.uri)} answered {method} {api}{path} with "
                f"{response.status_code} {response.reason_phrase} ({kind}), not with "
                "trainlab's or MLflow's API: is it a trainlab server?"
            ) from None
        if response.is_error:
            error = payload if isinstance(payload, dict) else {}
            if error.get("error_code") == "ENDPOINT_NOT_FOUND":
                raise RemoteError(
                    "ENDPOINT_NOT_FOUND",
                    f"The server at {redacted(self.uri)} has no {method} {api}{path}: is that "
                    "a trainlab server's root URL (http://host:port, with no path), and a "
                    "release that has this call?",
                    response.status_code,
                )
            raise from_json(error, response.status_code)
        result: dict[str, Any] = payload
        return result

    # -- experiments --------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": wire.key_values(tags or {})}
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self.call("POST", "/experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        d = self.call("GET", "/experiments/get", params={"experiment_id": experiment_id})
        return wire.experiment(d["experiment"])

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            d = self.call("GET", "/experiments/get-by-name", params={"experiment_name": name})
        except ResourceNotFound:
            return None
        return wire.experiment(d["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body = {
            "view_type": str(view_type),
            "max_results": max_results,
            "filter": filter_string,
            "order_by": list(order_by),
            "page_token": page_token,
        }
        d = self.call("POST", "/experiments/search", body)
        items = [wire.experiment(e) for e in d.get("experiments", [])]
        return PagedList(items, d.get("next_page_token") or None)

    def delete_experiment(self, experiment_id: str) -> None:
        self.call("POST", "/experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self.call("POST", "/experiments/restore", {"experiment_id": experiment_id})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        body = {"experiment_id": experiment_id, "new_name": new_name}
        self.call("POST", "/experiments/update", body)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        body = {"experiment_id": experiment_id, "key": key, "value": value}
        self.call("POST", "/experiments/set-experiment-tag", body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        body = {"experiment_id": experiment_id, "key": key}
        self.call("POST", "/experiments/delete-experiment-tag", body)

    # -- runs -----------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: dict[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "tags": wire.key_values(tags or {}),
        }
        if start_time is not None:
            body["start_time"] = start_time
        if run_name:
            body["run_name"] = run_name
        return wire.run(self.call("POST", "/runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        return wire.run(self.call("GET", "/runs/get", params={"run_id": run_id})["run"])

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id}
        if status is not None:
            body["status"] = str(status)
        if end_time is not None:
            body["end_time"] = end_time
        if run_name:
            body["run_name"] = run_name
        return wire.run_info(self.call("POST", "/runs/update", body)["run_info"])

    def delete_run(self, run_id: str) -> None:
        self.call("POST", "/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self.call("POST", "/runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        body: dict[str, Any] = {
            "run_id": run_id,
            "params": [{"key": p.key, "value": p.value} for p in params],
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        bulk = self._bulk_log_batch()
        if isinstance(metrics, MetricColumns) and bulk.metric_columns:
            # trainlab's bulk log-batch takes the points column by column: a fraction of the
            # bytes, and neither side makes an object per point.
            body["metric_columns"] = wire.metric_columns_json(metrics)
            self.call("POST", "/runs/log-batch", body, api=TRAINLAB_API)
            return
        body["metrics"] = [wire.metric_json(m) for m in metrics]
        big = len(metrics) + len(params) + len(tags) > MAX_METRICS_PER_BATCH
        self.call("POST", "/runs/log-batch", body, api=TRAINLAB_API if big else API)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.call("POST", "/runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        params: dict[str, Any] = {"run_id": run_id, "metric_key": metric_key}
        if max_results is not None:
            params["max_results"] = max_results
        if page_token:
            params["page_token"] = page_token
        d = self.call("GET", "/metrics/get-history", params=params)
        items = [wire.metric(m, run_id) for m in d.get("metrics", [])]
        return PagedList(items, d.get("next_page_token") or None)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        params: dict[str, Any] = {
            "run_ids": list(run_ids),
            "metric_key": metric_key,
            "max_results": max_results,
        }
        if start_step is not None:
            params["start_step"] = start_step
        if end_step is not None:
            params["end_step"] = end_step
        d = self.call("GET", "/metrics/get-history-bulk-interval", params=params)
        return [wire.metric(m) for m in d.get("metrics", [])]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "run_view_type": str(run_view_type),
            "max_results": max_results,
            "order_by": list(order_by),
            "page_token": page_token,
        }
        d = self.call("POST", "/runs/search", {k: v for k, v in body.items() if v is not None})
        return PagedList([wire.run(r) for r in d.get("runs", [])], d.get("next_page_token"))

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        model_ids: Sequence[str] = (),
    ) -> None:
        body = {
            "run_id": run_id,
            "datasets": [
                {
                    "dataset": {k: v for k, v in vars(d.dataset).items() if v is not None},
                    "tags": wire.key_values(d.tags),
                }
                for d in datasets
            ],
            "models": [{"model_id": m} for m in model_ids],
        }
        self.call("POST", "/runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        body = {"run_id": run_id, "models": [{"model_id": m, "step": s} for m, s in models]}
        self.call("POST", "/runs/outputs", body)

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        body = {"experiment_ids": list(experiment_ids)}
        d = self.call("POST", "/experiments/search-datasets", body)
        return [
            DatasetSummary(x["experiment_id"], x["name"], x["digest"], x.get("context"))
            for x in d.get("dataset_summaries", [])
        ]


__all__ = ["RestTrackingStore", "TrainlabError"]
