"""The API's OpenAPI document (served at /openapi.json, shown at /docs): FastAPI's for the routes
it serves itself, plus one operation per RPC route, with the parameters of its request message
(a JSON body, or the query string of a GET)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from trainlab.server.rpc import Route

_REF = "#/components/schemas/{model}"
_RESPONSES = {
    "200": {"description": "The reply, in MLflow's proto-JSON."},
    "400": {
        "description": "`error_code` INVALID_PARAMETER_VALUE (or another) and a `message` naming "
        "the field and what was wrong with it."
    },
    "404": {"description": "`error_code` RESOURCE_DOES_NOT_EXIST and a `message` naming what."},
}


def openapi(app: FastAPI, routes: Sequence[tuple[str, Route]]) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: the document, built on first use, with ``routes`` (each under its full
    path) added to FastAPI's own."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for path, route in routes:
                item = doc.setdefault("paths", {}).setdefault(path, {})
                for method in route.methods:
                    item[method.lower()] = _operation(path, route, method, schemas)
            for path, item in doc["paths"].items():
                _declare_path_parameters(path, item)
            app.openapi_schema = doc
        return app.openapi_schema

    return build


def _operation(path: str, route: Route, method: str, schemas: dict[str, Any]) -> dict[str, Any]:
    doc = (route.handler.__doc__ or "").strip()
    operation: dict[str, Any] = {
        "summary": route.handler.__name__.replace("_", " ").capitalize(),
        "operationId": re.sub(r"\W+", "_", f"{method.lower()}{path}").strip("_"),
        "responses": {code: dict(response) for code, response in _RESPONSES.items()},
    }
    if doc:
        operation["description"] = doc
    parameters: list[dict[str, Any]] = []
    if route.message is not None:
        schema = _schema(route.message, route.path_params, schemas)
        if method == "GET":
            parameters += _query_parameters(schema)
        elif schema.get("properties"):
            ref = _REF.format(model=route.message.__name__)
            content = {"application/json": {"schema": {"$ref": ref}}}
            operation["requestBody"] = {"required": True, "content": content}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _schema(
    model: type[BaseModel], path_params: Sequence[str], schemas: dict[str, Any]
) -> dict[str, Any]:
    """The message's JSON schema less the fields its path carries, registered under its name
    with the models it refers to."""
    schema = model.model_json_schema(ref_template=_REF)
    for name, nested in schema.pop("$defs", {}).items():
        _register(schemas, name, nested)
    for name in path_params:
        schema.get("properties", {}).pop(name, None)
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in path_params]
    _register(schemas, model.__name__, schema)
    return schema


def _register(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if schemas.setdefault(name, schema) != schema:
        raise RuntimeError(f"Two request models are named {name!r}; rename one.")


def _declare_path_parameters(path: str, item: dict[str, Any]) -> None:
    """Each ``{name}`` of the path as a parameter of each operation that does not declare it
    (the RPC routes, and FastAPI's for handlers that read the path themselves)."""
    for operation in item.values():
        parameters = operation.setdefault("parameters", [])
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        missing = [name for name in re.findall(r"{(\w+)}", path) if name not in declared]
        parameters[:0] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in missing
        ]
        if not parameters:
            del operation["parameters"]


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema.get("properties", {}).items()
    ]
