"""MLflow's model registry service, plus trainlab's alias history and rollback."""

from __future__ import annotations

from typing import Any, Literal

from trainlab.server import requests_registry as rq
from trainlab.server import wire_registry as wire
from trainlab.server.context import ServerContext as Ctx
from trainlab.server.rpc import Route
from trainlab.server.wire import page, tag_dict
from trainlab.store.sql.registry_rules import parse_version


# -- registered models ----------------------------------------------------------------------
def create_registered_model(ctx: Ctx, m: rq.CreateRegisteredModel) -> dict[str, Any]:
    model = ctx.registry.create_registered_model(m.name, tag_dict(m.tags), m.description)
    return {"registered_model": wire.registered_model(model)}


def rename_registered_model(ctx: Ctx, m: rq.RenameRegisteredModel) -> dict[str, Any]:
    model = ctx.registry.rename_registered_model(m.name, m.new_name)
    return {"registered_model": wire.registered_model(model)}


def update_registered_model(ctx: Ctx, m: rq.UpdateRegisteredModel) -> dict[str, Any]:
    model = ctx.registry.update_registered_model(m.name, m.description)
    return {"registered_model": wire.registered_model(model)}


def delete_registered_model(ctx: Ctx, m: rq.ModelRef) -> dict[str, Any]:
    ctx.registry.delete_registered_model(m.name)
    return {}


def get_registered_model(ctx: Ctx, m: rq.ModelRef) -> dict[str, Any]:
    return {"registered_model": wire.registered_model(ctx.registry.get_registered_model(m.name))}


def search_registered_models(ctx: Ctx, m: rq.SearchRegisteredModels) -> dict[str, Any]:
    found = ctx.registry.search_registered_models(m.filter, m.max_results, m.order_by, m.page_token)
    items = [wire.registered_model(x) for x in found]
    return page(items, "registered_models", found.next_page_token)


def get_latest_versions(ctx: Ctx, m: rq.GetLatestVersions) -> dict[str, Any]:
    versions = ctx.registry.get_latest_versions(m.name, m.stages)
    return page([wire.model_version(v) for v in versions], "model_versions", None)


def set_registered_model_tag(ctx: Ctx, m: rq.SetRegisteredModelTag) -> dict[str, Any]:
    ctx.registry.set_registered_model_tag(m.name, m.key, m.value)
    return {}


def delete_registered_model_tag(ctx: Ctx, m: rq.DeleteRegisteredModelTag) -> dict[str, Any]:
    ctx.registry.delete_registered_model_tag(m.name, m.key)
    return {}


# -- aliases --------------------------------------------------------------------------------
def set_alias(ctx: Ctx, m: rq.SetAlias) -> dict[str, Any]:
    version = parse_version(m.version)
    expected: int | None | Literal["any"] = "any"
    if m.expected_version is not None:
        none = m.expected_version.lower() == "none"
        expected = None if none else parse_version(m.expected_version)
    ctx.registry.set_registered_model_alias(m.name, m.alias, version, m.user, m.reason, expected)
    return {}


def delete_alias(ctx: Ctx, m: rq.AliasMove) -> dict[str, Any]:
    ctx.registry.delete_registered_model_alias(m.name, m.alias, m.user, m.reason)
    return {}


def get_by_alias(ctx: Ctx, m: rq.AliasRef) -> dict[str, Any]:
    return {
        "model_version": wire.model_version(
            ctx.registry.get_model_version_by_alias(m.name, m.alias)
        )
    }


def alias_history(ctx: Ctx, m: rq.AliasHistory) -> dict[str, Any]:
    events = ctx.registry.get_alias_history(m.name, m.alias or None)
    return {"events": [wire.alias_event(e) for e in events]}


def alias_rollback(ctx: Ctx, m: rq.RollbackAlias) -> dict[str, Any]:
    version = ctx.registry.rollback_registered_model_alias(
        m.name, m.alias, m.user, m.reason, dry_run=m.dry_run
    )
    return {"model_version": wire.model_version(version)}


# -- model versions -------------------------------------------------------------------------
def create_model_version(ctx: Ctx, m: rq.CreateModelVersion) -> dict[str, Any]:
    version = ctx.registry.create_model_version(
        m.name, m.source, m.run_id, tag_dict(m.tags), m.run_link, m.description, m.model_id
    )
    return {"model_version": wire.model_version(version)}


def update_model_version(ctx: Ctx, m: rq.UpdateModelVersion) -> dict[str, Any]:
    version = ctx.registry.update_model_version(m.name, parse_version(m.version), m.description)
    return {"model_version": wire.model_version(version)}


def transition_stage(ctx: Ctx, m: rq.TransitionStage) -> dict[str, Any]:
    version = ctx.registry.transition_model_version_stage(
        m.name, parse_version(m.version), m.stage, m.archive_existing_versions
    )
    return {"model_version": wire.model_version(version)}


def delete_model_version(ctx: Ctx, m: rq.DeleteModelVersion) -> dict[str, Any]:
    ctx.registry.delete_model_version(m.name, parse_version(m.version), m.user)
    return {}


def get_model_version(ctx: Ctx, m: rq.VersionRef) -> dict[str, Any]:
    version = ctx.registry.get_model_version(m.name, parse_version(m.version))
    return {"model_version": wire.model_version(version)}


def search_model_versions(ctx: Ctx, m: rq.SearchModelVersions) -> dict[str, Any]:
    found = ctx.registry.search_model_versions(m.filter, m.max_results, m.order_by, m.page_token)
    items = [wire.model_version(v) for v in found]
    return page(items, "model_versions", found.next_page_token)


def get_download_uri(ctx: Ctx, m: rq.VersionRef) -> dict[str, Any]:
    uri = ctx.registry.get_model_version_download_uri(m.name, parse_version(m.version))
    return {"artifact_uri": uri}


def set_model_version_tag(ctx: Ctx, m: rq.SetModelVersionTag) -> dict[str, Any]:
    ctx.registry.set_model_version_tag(m.name, parse_version(m.version), m.key, m.value)
    return {}


def delete_model_version_tag(ctx: Ctx, m: rq.DeleteModelVersionTag) -> dict[str, Any]:
    ctx.registry.delete_model_version_tag(m.name, parse_version(m.version), m.key)
    return {}


_RM = "/registered-models"
_MV = "/model-versions"
ROUTES = [
    Route(f"{_RM}/create", ("POST",), create_registered_model, rq.CreateRegisteredModel),
    Route(f"{_RM}/rename", ("POST",), rename_registered_model, rq.RenameRegisteredModel),
    Route(f"{_RM}/update", ("PATCH",), update_registered_model, rq.UpdateRegisteredModel),
    Route(f"{_RM}/delete", ("DELETE",), delete_registered_model, rq.ModelRef),
    Route(f"{_RM}/get", ("GET",), get_registered_model, rq.ModelRef),
    Route(f"{_RM}/search", ("GET",), search_registered_models, rq.SearchRegisteredModels),
    Route(f"{_RM}/get-latest-versions", ("POST", "GET"), get_latest_versions, rq.GetLatestVersions),
    Route(f"{_RM}/set-tag", ("POST",), set_registered_model_tag, rq.SetRegisteredModelTag),
    Route(
        f"{_RM}/delete-tag", ("DELETE",), delete_registered_model_tag, rq.DeleteRegisteredModelTag
    ),
    Route(f"{_RM}/alias", ("POST",), set_alias, rq.SetAlias),
    Route(f"{_RM}/alias", ("DELETE",), delete_alias, rq.AliasMove),
    Route(f"{_RM}/alias", ("GET",), get_by_alias, rq.AliasRef),
    Route(f"{_MV}/create", ("POST",), create_model_version, rq.CreateModelVersion),
    Route(f"{_MV}/update", ("PATCH",), update_model_version, rq.UpdateModelVersion),
    Route(f"{_MV}/transition-stage", ("POST",), transition_stage, rq.TransitionStage),
    Route(f"{_MV}/delete", ("DELETE",), delete_model_version, rq.DeleteModelVersion),
    Route(f"{_MV}/get", ("GET",), get_model_version, rq.VersionRef),
    Route(f"{_MV}/search", ("GET",), search_model_versions, rq.SearchModelVersions),
    Route(f"{_MV}/get-download-uri", ("GET",), get_download_uri, rq.VersionRef),
    Route(f"{_MV}/set-tag", ("POST",), set_model_version_tag, rq.SetModelVersionTag),
    Route(f"{_MV}/delete-tag", ("DELETE",), delete_model_version_tag, rq.DeleteModelVersionTag),
]
TRAINLAB_ROUTES = [
    Route(f"{_RM}/alias-history", ("GET",), alias_history, rq.AliasHistory),
    Route(f"{_RM}/alias-rollback", ("POST",), alias_rollback, rq.RollbackAlias),
]
