"""MLflow 3 logged models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trainlab.server import requests as rq
from trainlab.server import wire
from trainlab.server.context import ServerContext as Ctx
from trainlab.server.rpc import Route
from trainlab.validation import param_dict


class _ModelPath(BaseModel):
    model_id: str


class _TagPath(BaseModel):
    model_id: str
    tag_key: str


class _Finalize(rq.FinalizeLoggedModel):
    model_id: str


class _SetTags(rq.SetLoggedModelTags):
    model_id: str


class _LogParams(rq.LogLoggedModelParams):
    model_id: str


def create(ctx: Ctx, m: rq.CreateLoggedModel) -> dict[str, Any]:
    model = ctx.logged_models.create_logged_model(
        m.experiment_id,
        m.name,
        m.source_run_id,
        wire.tag_dict(m.tags),
        param_dict((p.key, p.value) for p in m.params),
        m.model_type,
    )
    return {"model": wire.logged_model(model)}


def get(ctx: Ctx, m: _ModelPath) -> dict[str, Any]:
    return {"model": wire.logged_model(ctx.logged_models.get_logged_model(m.model_id))}


def finalize(ctx: Ctx, m: _Finalize) -> dict[str, Any]:
    return {
        "model": wire.logged_model(ctx.logged_models.finalize_logged_model(m.model_id, m.status))
    }


def delete(ctx: Ctx, m: _ModelPath) -> dict[str, Any]:
    ctx.logged_models.delete_logged_model(m.model_id)
    return {}


def set_tags(ctx: Ctx, m: _SetTags) -> dict[str, Any]:
    tags = wire.tag_dict(m.tags)
    return {"model": wire.logged_model(ctx.logged_models.set_logged_model_tags(m.model_id, tags))}


def delete_tag(ctx: Ctx, m: _TagPath) -> dict[str, Any]:
    ctx.logged_models.delete_logged_model_tag(m.model_id, m.tag_key)
    return {}


def log_params(ctx: Ctx, m: _LogParams) -> dict[str, Any]:
    params = param_dict((p.key, p.value) for p in m.params)
    ctx.logged_models.log_logged_model_params(m.model_id, params)
    return {}


# MLflow's server sets no limit on a page of logged models, and its client passes a caller's
# max_results on as it is: a larger one gets pages of this size (and a next_page_token).
PAGE_LIMIT = 50_000


def search(ctx: Ctx, m: rq.SearchLoggedModels) -> dict[str, Any]:
    page = ctx.logged_models.search_logged_models(
        m.experiment_ids,
        m.filter,
        min(m.max_results, PAGE_LIMIT),
        [o.model_dump() for o in m.order_by],
        m.page_token,
        [d.model_dump() for d in m.datasets],
    )
    out: dict[str, Any] = {"models": [wire.logged_model(x) for x in page]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


_ID = ("model_id",)
ROUTES = [
    Route("/logged-models", ("POST",), create, rq.CreateLoggedModel),
    Route("/logged-models/search", ("POST",), search, rq.SearchLoggedModels),
    Route("/logged-models/{model_id}", ("GET",), get, _ModelPath, _ID),
    Route("/logged-models/{model_id}", ("PATCH",), finalize, _Finalize, _ID),
    Route("/logged-models/{model_id}", ("DELETE",), delete, _ModelPath, _ID),
    Route("/logged-models/{model_id}/tags", ("PATCH",), set_tags, _SetTags, _ID),
    Route(
        "/logged-models/{model_id}/tags/{tag_key}",
        ("DELETE",),
        delete_tag,
        _TagPath,
        ("model_id", "tag_key"),
    ),
    Route("/logged-models/{model_id}/params", ("POST",), log_params, _LogParams, _ID),
]
