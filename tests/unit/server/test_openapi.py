"""The OpenAPI document behind /docs: every RPC route with the parameters of its request."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from trainlab.server.app import API_PREFIXES, TRAINLAB_PREFIXES, create_app
from trainlab.server.routes import logged_models, registry, tracking, ui


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app().openapi()


def test_the_document_is_valid_openapi(doc: dict[str, Any]) -> None:
    validate(doc)  # path parameters included: FastAPI's artifact routes do not declare theirs


def test_every_rpc_route_is_documented_under_its_first_prefix(doc: dict[str, Any]) -> None:
    documented = {
        API_PREFIXES[0]: tracking.ROUTES + logged_models.ROUTES + registry.ROUTES,
        TRAINLAB_PREFIXES[0]: tracking.TRAINLAB_ROUTES + registry.TRAINLAB_ROUTES + ui.ROUTES,
    }
    for prefix, routes in documented.items():
        for route in routes:
            for method in route.methods:
                assert method.lower() in doc["paths"][prefix + route.path], route.path
    assert "/ajax-api/2.0/mlflow/runs/log-batch" not in doc["paths"]
    assert "/health" in doc["paths"]


def test_a_post_documents_its_json_body(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/api/2.0/mlflow/runs/log-batch"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/LogBatch"}
    schema = doc["components"]["schemas"]["LogBatch"]
    assert {"run_id", "metrics", "params", "tags"} <= set(schema["properties"])
    metric = doc["components"]["schemas"]["MetricIn"]
    assert {"key", "value", "timestamp"} <= set(metric["required"])


def test_a_get_documents_its_query_string(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/api/2.0/mlflow/registered-models/get"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
        ("name", "query", True)
    ]
    assert "requestBody" not in operation


def test_a_path_parameter_is_not_asked_again_in_the_body(doc: dict[str, Any]) -> None:
    item = doc["paths"]["/api/2.0/mlflow/logged-models/{model_id}"]
    finalize = item["patch"]
    assert finalize["parameters"][0] == {
        "name": "model_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    ref = finalize["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "model_id" not in body["properties"]
    assert "model_id" not in body.get("required", [])
    assert "requestBody" not in item["delete"]  # nothing but the path
