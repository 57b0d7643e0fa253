"""Request messages of MLflow's model registry API (and trainlab's alias history/rollback).
Versions are accepted as strings (the wire format) or integers."""

from __future__ import annotations

from pydantic import StrictBool, StrictStr

from trainlab.server.requests import Id, Int64, KeyValue, Message


class ModelRef(Message):
    name: StrictStr


class CreateRegisteredModel(ModelRef):
    tags: list[KeyValue] = []
    description: StrictStr | None = None


class RenameRegisteredModel(ModelRef):
    new_name: StrictStr


class UpdateRegisteredModel(ModelRef):
    description: StrictStr = ""


class SearchRegisteredModels(Message):
    filter: StrictStr | None = None
    max_results: Int64 = 100
    order_by: list[StrictStr] = []
    page_token: StrictStr | None = None


class GetLatestVersions(ModelRef):
    stages: list[StrictStr] = []


class SetRegisteredModelTag(ModelRef):
    key: StrictStr
    value: StrictStr


class DeleteRegisteredModelTag(ModelRef):
    key: StrictStr


class AliasRef(ModelRef):
    alias: StrictStr


class AliasMove(AliasRef):
    """``user`` and ``reason`` are trainlab's additions for the alias audit trail."""

    user: StrictStr = ""
    reason: StrictStr = ""


class RollbackAlias(AliasMove):
    dry_run: StrictBool = False  # the version it would go back to, nothing moved


class SetAlias(AliasMove):
    version: Id
    # trainlab's: move only if the alias holds this version ("none": is not set)
    expected_version: StrictStr | None = None


class AliasHistory(ModelRef):
    alias: StrictStr | None = None


class CreateModelVersion(ModelRef):
    source: StrictStr
    run_id: StrictStr | None = None
    tags: list[KeyValue] = []
    run_link: StrictStr | None = None
    description: StrictStr | None = None
    model_id: StrictStr | None = None


class VersionRef(ModelRef):
    version: Id


class UpdateModelVersion(VersionRef):
    description: StrictStr = ""


class DeleteModelVersion(VersionRef):
    user: StrictStr = ""


class TransitionStage(VersionRef):
    stage: StrictStr
    archive_existing_versions: StrictBool = False


class SearchModelVersions(Message):
    filter: StrictStr | None = None
    max_results: Int64 = 10_000
    order_by: list[StrictStr] = []
    page_token: StrictStr | None = None


class SetModelVersionTag(VersionRef):
    key: StrictStr
    value: StrictStr


class DeleteModelVersionTag(VersionRef):
    key: StrictStr
