"""The REST client of logged models, as a server other than trainlab's reads its requests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from trainlab.client.rest import RestTrackingStore
from trainlab.client.rest_logged_models import RestLoggedModelStore
from trainlab.entities import LoggedModelStatus

MODEL = {
    "info": {
        "model_id": "m-1", "experiment_id": "1", "name": "m", "artifact_uri": "x",
        "status": "LOGGED_MODEL_READY", "creation_timestamp_ms": 1, "last_updated_timestamp_ms": 1,
    },
    "data": {},
}  # fmt: skip


def test_finalize_names_the_model_in_the_body_too() -> None:
    """MLflow's server reads model_id from the body of the PATCH, not from its path (400
    "Missing value for required parameter 'model_id'" without it)."""
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"model": MODEL})

    tracking = RestTrackingStore("http://server")
    tracking._client = httpx.Client(
        base_url="http://server", transport=httpx.MockTransport(handler)
    )
    RestLoggedModelStore(tracking).finalize_logged_model("m-1", LoggedModelStatus.READY)
    assert sent == [{"model_id": "m-1", "status": "LOGGED_MODEL_READY"}]
