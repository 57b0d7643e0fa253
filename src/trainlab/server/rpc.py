"""Turns a plain function ``(ctx, message) -> dict`` into an HTTP endpoint: parse and validate
the request (JSON body, or query string for GET), run the function in the thread pool (the stores
are synchronous), answer proto-JSON."""

from __future__ import annotations

import base64
import binascii
import functools
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from trainlab.exceptions import InvalidParameterValue
from trainlab.server.requests import parse_json, parse_mapping
from trainlab.server.wire import JSONResponse
from trainlab.validation import MAX_USER_ID_LENGTH, validate_value

Handler = Callable[..., dict[str, Any]]
MAX_JSON_BODY = 32 * 1024 * 1024  # a full bulk log-batch (50,000 points) takes a few MiB
JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    message: type[BaseModel] | None
    path_params: tuple[str, ...] = ()
    # Optional fast parser for hot endpoints: returns the request, or None to let the pydantic
    # message parse it (and explain what is wrong).
    fast: Callable[[bytes], Any] | None = None


@functools.cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    names = set()
    for name, field in model.model_fields.items():
        if typing.get_origin(field.annotation) is list:
            names.add(field.alias or name)
    return frozenset(names)


def _check_content_type(request: Request) -> None:
    """A request that writes says it sends JSON, even with no body. A browser sends no such
    request to another site without asking first (a CORS preflight, which this server does not
    answer), so a web page elsewhere cannot make one (a form post, a no-cors fetch)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise InvalidParameterValue(
            "Bad Request. Content-Type must be one of ['application/json']; "
            f"got {ctype or 'none'!r}."
        )


def _too_large(size: int, exact: bool) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"The request body has {'' if exact else 'more than '}{size} bytes; the limit is "
        f"{MAX_JSON_BODY}. Split the request (log-batch takes at most 1000 metrics, 100 params "
        "and 100 tags)."
    )


async def read_body(request: Request) -> bytes:
    """The JSON body, refused as soon as it passes ``MAX_JSON_BODY``, whether its length is
    declared or not (a chunked body), and refused without a JSON Content-Type."""
    _check_content_type(request)
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise _too_large(int(declared), exact=True)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise _too_large(MAX_JSON_BODY, exact=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _nul_field(data: Any, path: str = "") -> str | None:
    """The first field of ``data`` (e.g. ``tags[0].value``) whose text holds a NUL character,
    or None."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    if isinstance(data, dict):
        items: Any = ((f"{path}.{k}" if path else str(k), k, v) for k, v in data.items())
    elif isinstance(data, list):
        items = ((f"{path}[{i}]", "", v) for i, v in enumerate(data))
    else:
        return None
    for where, key, value in items:
        found = where if "\x00" in key else _nul_field(value, where)
        if found is not None:
            return found
    return None


def _check_no_nul(data: Any) -> None:
    """No text of a request holds a NUL character: PostgreSQL cannot store one, so no
    backend takes it (artifact paths refuse it too)."""
    field = _nul_field(data)
    if field is not None:
        field = field.replace("\x00", "\\u0000")
        raise InvalidParameterValue(
            f"Invalid value for field '{field}': it contains the NUL character "
            "(\\u0000), which text cannot hold."
        )


def query_values(request: Request, lists: Collection[str] = ()) -> dict[str, Any]:
    """The query's parameters: a list for each of ``lists``, one value for any other, which
    given twice is refused (which of the two was meant cannot be known)."""
    q = request.query_params
    data: dict[str, Any] = {}
    for key in q:
        values = q.getlist(key)
        if key in lists:
            data[key] = values
        elif len(values) > 1:
            raise InvalidParameterValue(
                f"Invalid query: parameter '{key}' is given {len(values)} times; it takes one "
                "value."
            )
        else:
            data[key] = values[0]
    return data


async def _parse(request: Request, route: Route) -> Any:
    model = route.message
    if model is None:
        return None
    params = {p: request.path_params[p] for p in route.path_params}
    _check_no_nul(params)
    if request.method in ("GET", "HEAD") and request.query_params:
        data = query_values(request, _list_fields(model))
        _check_no_nul(data)
        return parse_mapping(model, {**data, **params})
    body = await read_body(request)
    if params or b"\\u0000" in body:
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise InvalidParameterValue(f"Malformed JSON in the request body: {exc}.") from None
        if not isinstance(data, dict):
            raise InvalidParameterValue("Invalid request body: expected a JSON object.")
        _check_no_nul(data)
        if params:
            return parse_mapping(model, {**data, **params})
    if route.fast is not None:
        fast = route.fast(body)
        if fast is not None:
            return fast
    return parse_json(model, body)


def _basic_user(request: Request) -> str:
    """The user name of HTTP basic credentials (what MLflow's client sends for
    MLFLOW_TRACKING_USERNAME), or ""."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""


def endpoint(route: Route) -> Callable[[Request], Any]:
    async def call(request: Request) -> Response:
        message = await _parse(request, route)
        # the audit trail's "who", for a client that names no user in the request
        named = getattr(message, "user", None) != ""
        if isinstance(message, BaseModel) and not named and (who := _basic_user(request)):
            who = validate_value(who, MAX_USER_ID_LENGTH, "user of the HTTP basic credentials")
            message = message.model_copy(update={"user": who})
        ctx = request.app.state.ctx
        args = (ctx,) if message is None else (ctx, message)
        result = await run_in_threadpool(route.handler, *args)
        return JSONResponse(result)

    call.__name__ = route.handler.__name__
    return call
