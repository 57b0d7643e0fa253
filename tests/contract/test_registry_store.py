"""One contract for every model registry backend (SQLite, PostgreSQL, REST)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from trainlab.client.rest_logged_models import logged_models_for
from trainlab.entities import Dataset, DatasetInput, ModelVersionStatus, RunTag
from trainlab.entities.registry import IS_PROMPT_TAG
from trainlab.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from trainlab.store._base import BaseRegistryStore, BaseTrackingStore


def unique(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def run(store: BaseTrackingStore) -> tuple[str, str]:
    """(run_id, artifact_uri) of a fresh run."""
    r = store.create_run("0", user_id="alice", run_name="train")
    return r.info.run_id, r.info.artifact_uri


@pytest.fixture
def model(registry: BaseRegistryStore) -> str:
    return registry.create_registered_model(unique()).name


def _version(registry: BaseRegistryStore, name: str, run: tuple[str, str]) -> int:
    return registry.create_model_version(name, f"runs:/{run[0]}/model", run[0]).version


# -- registered models ----------------------------------------------------------------------
def test_create_and_get_registered_model(registry: BaseRegistryStore) -> None:
    name = unique()
    created = registry.create_registered_model(name, {"team": "risk"}, "fraud model")
    got = registry.get_registered_model(name)
    assert got == created
    assert (got.name, got.description, got.tags) == (name, "fraud model", {"team": "risk"})
    assert got.creation_timestamp > 0
    assert got.last_updated_timestamp >= got.creation_timestamp
    assert (got.aliases, got.latest_versions) == ({}, [])


def test_duplicate_registered_model(registry: BaseRegistryStore, model: str) -> None:
    with pytest.raises(ResourceAlreadyExists, match=model):
        registry.create_registered_model(model)


def test_concurrent_creates_of_one_name_make_one_model(registry: BaseRegistryStore) -> None:
    """Clients racing to register the first version (mlflow's register_model in parallel
    jobs): one creates the model, the others are told it exists, which the stock client
    takes as "add a version" (a conflict error would fail their job)."""
    name = unique()
    start = threading.Barrier(6)

    def create(_: int) -> str:
        start.wait()
        try:
            registry.create_registered_model(name)
        except ResourceAlreadyExists:
            return "exists"
        return "created"

    for _ in range(3):  # the window is narrow: a few rounds, each with a new name
        with ThreadPoolExecutor(6) as pool:
            outcomes = sorted(pool.map(create, range(6)))
        assert outcomes == ["created"] + ["exists"] * 5
        assert registry.get_registered_model(name).name == name
        name = unique()
        start.reset()


def test_a_missing_version_says_what_there_is(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    """A typo in the name and a version that is not there read differently: MLflow's message
    for both, then which of the two it is."""
    with pytest.raises(ResourceNotFound) as err:
        registry.get_model_version(model + "x", 1)
    assert err.value.message == (
        f"Model Version (name={model}x, version=1) not found: there is no registered model "
        f"'{model}x'."
    )
    with pytest.raises(ResourceNotFound, match=f"version=1\\) not found: '{model}' has no vers"):
        registry.get_model_version(model, 1)
    for _ in range(3):
        _version(registry, model, run)
    registry.delete_model_version(model, 2)
    with pytest.raises(ResourceNotFound, match=f"not found: '{model}' has versions 1, 3.$"):
        registry.update_model_version(model, 7, "new description")


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("", "non-empty"),
        ("  ", "non-empty"),
        ("a/b", "'/' or ':'"),
        ("a:b", "'/' or ':'"),
        ("x" * 257, "the limit is 256"),
        (".", "cannot be '.' or start with '..'"),
        ("..", "cannot be '.' or start with '..'"),
        ("..x", "cannot be '.' or start with '..'"),
        ("ok\n", "control characters"),
        ("a\tb", "control characters"),
    ],
)
def test_invalid_model_names(
    registry: BaseRegistryStore, model: str, bad: str, needle: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(needle)):
        registry.create_registered_model(bad)
    with pytest.raises(InvalidParameterValue, match=re.escape(needle)):
        registry.rename_registered_model(model, bad)
    assert registry.get_registered_model(model).name == model


def test_longest_model_name(registry: BaseRegistryStore) -> None:
    name = unique() + "x" * 240
    name = name[:256]
    assert registry.create_registered_model(name).name == name


def test_missing_registered_model(registry: BaseRegistryStore) -> None:
    with pytest.raises(ResourceNotFound):
        registry.get_registered_model(unique())
    with pytest.raises(ResourceNotFound):
        registry.create_model_version(unique(), "s3://bucket/model")


def test_update_registered_model(registry: BaseRegistryStore, model: str) -> None:
    updated = registry.update_registered_model(model, "new words")
    assert updated.description == "new words"
    assert registry.get_registered_model(model).description == "new words"


def test_rename_carries_versions_tags_and_aliases(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    _version(registry, model, run)
    _version(registry, model, run)
    registry.set_registered_model_tag(model, "team", "risk")
    registry.set_model_version_tag(model, 2, "stage", "qa")
    registry.set_registered_model_alias(model, "champion", 2, user="alice", reason="best")
    new = unique("renamed")
    renamed = registry.rename_registered_model(model, new)
    assert renamed.name == new
    assert renamed.aliases == {"champion": 2}
    assert renamed.tags == {"team": "risk"}
    with pytest.raises(ResourceNotFound):
        registry.get_registered_model(model)
    v2 = registry.get_model_version(new, 2)
    assert (v2.name, v2.aliases, v2.tags["stage"]) == (new, ["champion"], "qa")
    assert registry.get_model_version_by_alias(new, "champion").version == 2
    assert [e.to_version for e in registry.get_alias_history(new, "champion")] == [2]
    # As in MLflow, the versions were updated with the model: newest version first again.
    versions = registry.search_model_versions(f"name = '{new}'")
    assert {v.last_updated_timestamp for v in versions} == {renamed.last_updated_timestamp}
    assert [v.version for v in versions] == [2, 1]
    assert _version(registry, new, run) == 3


def test_rename_to_existing_name(registry: BaseRegistryStore, model: str) -> None:
    other = registry.create_registered_model(unique()).name
    with pytest.raises(ResourceAlreadyExists):
        registry.rename_registered_model(model, other)
    with pytest.raises(InvalidParameterValue):
        registry.rename_registered_model(model, "a/b")


def test_delete_registered_model_removes_versions(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    _version(registry, model, run)
    registry.set_registered_model_alias(model, "prod", 1)
    registry.delete_registered_model(model)
    with pytest.raises(ResourceNotFound):
        registry.get_registered_model(model)
    with pytest.raises(ResourceNotFound):
        registry.get_model_version(model, 1)
    assert registry.search_model_versions(f"name = '{model}'").items == []
    registry.create_registered_model(model)
    assert _version(registry, model, run) == 1
    with pytest.raises(ResourceNotFound):
        registry.delete_registered_model(unique())


def test_registered_model_tags(registry: BaseRegistryStore, model: str) -> None:
    created = registry.get_registered_model(model).last_updated_timestamp
    time.sleep(0.002)
    registry.set_registered_model_tag(model, "k", "v1")
    assert registry.get_registered_model(model).last_updated_timestamp > created  # an update
    registry.set_registered_model_tag(model, "k", "v2")
    registry.set_registered_model_tag(model, "big", "x" * 100_000)
    tags = registry.get_registered_model(model).tags
    assert tags["k"] == "v2" and len(tags["big"]) == 100_000
    registry.delete_registered_model_tag(model, "k")
    assert "k" not in registry.get_registered_model(model).tags
    before = registry.get_registered_model(model).last_updated_timestamp
    registry.delete_registered_model_tag(model, "k")  # gone already: a no-op, as in MLflow
    assert registry.get_registered_model(model).last_updated_timestamp == before
    with pytest.raises(ResourceNotFound):
        registry.delete_registered_model_tag(unique(), "k")
    with pytest.raises(InvalidParameterValue, match="100000"):
        registry.set_registered_model_tag(model, "big", "x" * 100_001)
    with pytest.raises(InvalidParameterValue):
        registry.set_registered_model_tag(model, "k" * 251, "v")
    assert len(registry.get_registered_model(model).tags["big"]) == 100_000


# -- search registered models ---------------------------------------------------------------
@pytest.fixture
def family(registry: BaseRegistryStore) -> str:
    prefix = unique("fam")
    for i, team in enumerate(["risk", "risk", "ads"]):
        registry.create_registered_model(f"{prefix}-{i}", {"team": team})
    registry.create_registered_model(f"{prefix.upper()}-X")
    # An MLflow prompt: found only by a filter that asks for prompts.
    registry.create_registered_model(f"{prefix}-P", {"team": "ads", IS_PROMPT_TAG: "true"})
    return prefix


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("name = '{p}-1'", ["-1"]),
        ("name LIKE '{p}-%'", ["-0", "-1", "-2"]),
        ("name ILIKE '{p}-%'", ["-0", "-1", "-2", "-X"]),
        ("name IN ('{p}-0', '{p}-2')", ["-0", "-2"]),
        ("name LIKE '{p}-%' AND name != '{p}-0'", ["-1", "-2"]),
        ("name LIKE '{p}-%' AND tags.team = 'risk'", ["-0", "-1"]),
        ("name ILIKE '{p}-%' AND tags.team IN ('ads')", ["-2"]),
        # As in MLflow, != and NOT IN match only models that have the tag (``tag.`` works too).
        ("name ILIKE '{p}-%' AND tag.team != 'risk'", ["-2"]),
        ("name ILIKE '{p}-%' AND tags.team NOT IN ('ads')", ["-0", "-1"]),
        ("name ILIKE '{p}-%' AND tags.team IS NULL", ["-X"]),
        # ... except MLflow's prompt marker: a model without it is not a prompt ('false').
        (
            "name ILIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` != 'true'",
            ["-0", "-1", "-2", "-X"],
        ),
        (
            "name ILIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` = 'false'",
            ["-0", "-1", "-2", "-X"],
        ),
        ("name ILIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` = 'true'", ["-P"]),
        ("name ILIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` != 'false'", ["-P"]),
        ("tags.team = 'ads' AND name LIKE '{p}-%'", ["-2"]),  # prompts only when asked for
        ("name = '{p}-P'", []),
    ],
)
def test_search_registered_models(
    registry: BaseRegistryStore, family: str, template: str, expected: list[str]
) -> None:
    page = registry.search_registered_models(template.format(p=family))
    assert sorted(m.name[len(family) :] for m in page) == expected
    assert page.next_page_token is None


def test_search_the_registry_with_the_most_comparisons_a_filter_takes(
    store: BaseTrackingStore, registry: BaseRegistryStore, run: tuple[str, str]
) -> None:
    """100 tag clauses: more lists than PostgreSQL plans as joins, so they are intersected."""
    run_id = run[0]
    tags = {f"t{i}": "x" for i in range(98)}
    hit = registry.create_registered_model(unique(), tags=tags).name
    miss = registry.create_registered_model(unique(), tags={"t0": "x"}).name
    clauses = " AND ".join(f"tags.t{i} = 'x'" for i in range(98))
    names = f"name IN ('{hit}', '{miss}')"
    models = registry.search_registered_models(f"{names} AND {clauses} AND tags.other IS NULL")
    assert [m.name for m in models] == [hit]
    registry.create_model_version(hit, f"runs:/{run_id}/m", run_id, tags=tags)
    registry.create_model_version(hit, f"runs:/{run_id}/m", run_id, tags={"t0": "x"})
    versions = registry.search_model_versions(f"{names} AND {clauses} AND tags.other IS NULL")
    assert [(v.name, v.version) for v in versions] == [(hit, 1)]


def test_search_registered_models_order_and_pages(registry: BaseRegistryStore, family: str) -> None:
    flt = f"name LIKE '{family}-%'"
    desc = registry.search_registered_models(flt, order_by=["name DESC"])
    assert [m.name[len(family) :] for m in desc] == ["-2", "-1", "-0"]
    first = registry.search_registered_models(flt, max_results=2)
    assert [m.name[len(family) :] for m in first] == ["-0", "-1"]
    assert first.next_page_token
    second = registry.search_registered_models(flt, max_results=2, page_token=first.next_page_token)
    assert [m.name[len(family) :] for m in second] == ["-2"]
    assert second.next_page_token is None
    by_time = registry.search_registered_models(flt, order_by=["creation_timestamp ASC"])
    assert len(by_time) == 3


@pytest.mark.parametrize(
    "bad", ["name = ", "owner = 'x'", "metrics.acc > 1", "name > 3", "version_number = 1"]
)
def test_search_registered_models_bad_filter(registry: BaseRegistryStore, bad: str) -> None:
    with pytest.raises(InvalidParameterValue):
        registry.search_registered_models(bad)


def test_search_the_registry_past_its_pattern_and_sort_limits(registry: BaseRegistryStore) -> None:
    pattern = "x" * 60_000
    for search in (registry.search_registered_models, registry.search_model_versions):
        with pytest.raises(InvalidParameterValue, match="a pattern is at most 10,000"):
            search(f"name LIKE '{pattern}'")
        with pytest.raises(InvalidParameterValue, match="order_by: 3000 clauses"):
            search(None, order_by=["name"] * 3000)


def test_search_registered_models_limits(registry: BaseRegistryStore) -> None:
    with pytest.raises(InvalidParameterValue, match="1000"):
        registry.search_registered_models(max_results=1001)
    with pytest.raises(InvalidParameterValue, match="page"):
        registry.search_registered_models(page_token="not-a-token")
    with pytest.raises(InvalidParameterValue):
        registry.search_registered_models(order_by=["owner DESC"])


# -- model versions -------------------------------------------------------------------------
def test_create_and_get_model_version(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    run_id = run[0]
    v = registry.create_model_version(
        model,
        f"runs:/{run_id}/model",
        run_id,
        tags={"flavor": "sklearn"},
        run_link="http://ci/1",
        description="first",
    )
    assert (v.name, v.version, v.source, v.run_id) == (model, 1, f"runs:/{run_id}/model", run_id)
    assert (v.status, v.current_stage, v.description) == (ModelVersionStatus.READY, "None", "first")
    assert v.run_link == "http://ci/1" and v.tags["flavor"] == "sklearn"
    assert v.creation_timestamp > 0 and v.aliases == []
    assert registry.get_model_version(model, 1) == v
    latest = registry.get_registered_model(model).latest_versions
    assert [(x.version, x.current_stage) for x in latest] == [(1, "None")]


def test_version_numbers_increase_and_are_never_reused(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    assert [_version(registry, model, run) for _ in range(3)] == [1, 2, 3]
    registry.delete_model_version(model, 3)
    with pytest.raises(ResourceNotFound):
        registry.get_model_version(model, 3)
    assert _version(registry, model, run) == 4
    other = registry.create_registered_model(unique()).name
    assert _version(registry, other, run) == 1


def test_update_model_version(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    _version(registry, model, run)
    assert registry.update_model_version(model, 1, "better").description == "better"
    assert registry.get_model_version(model, 1).description == "better"
    with pytest.raises(ResourceNotFound):
        registry.update_model_version(model, 9, "x")


def test_model_version_tags(registry: BaseRegistryStore, model: str, run: tuple[str, str]) -> None:
    _version(registry, model, run)
    created = registry.get_model_version(model, 1)
    time.sleep(0.002)
    registry.set_model_version_tag(model, 1, "validated", "yes")
    tagged = registry.get_model_version(model, 1)
    assert tagged.tags["validated"] == "yes"
    assert tagged.last_updated_timestamp > created.last_updated_timestamp  # an update
    registry.delete_model_version_tag(model, 1, "validated")
    assert "validated" not in registry.get_model_version(model, 1).tags
    before = registry.get_model_version(model, 1).last_updated_timestamp
    registry.delete_model_version_tag(model, 1, "validated")  # gone already: a no-op
    assert registry.get_model_version(model, 1).last_updated_timestamp == before
    with pytest.raises(ResourceNotFound):
        registry.delete_model_version_tag(model, 7, "validated")
    with pytest.raises(InvalidParameterValue):
        registry.set_model_version_tag(model, 1, "k", "x" * 100_001)
    registry.set_model_version_tag(model, 1, "team", "risk")
    before = registry.get_model_version(model, 1)
    assert before.tags == {"team": "risk"}
    for key in ("trainlab.lineage.run_id", "trainlab.lineage.new"):
        with pytest.raises(InvalidParameterValue, match="reserved"):
            registry.set_model_version_tag(model, 1, key, run[0])
        with pytest.raises(InvalidParameterValue, match="reserved"):
            registry.delete_model_version_tag(model, 1, key)
    # The lineage is apart from the tags: code that copies or clears a version's tags, as
    # with MLflow, meets only the user's.
    assert before.lineage["run_id"] == run[0]
    assert not any(k.startswith("trainlab.lineage.") for k in before.tags)
    for key in before.tags:
        registry.delete_model_version_tag(model, 1, key)
    after = registry.get_model_version(model, 1)
    assert after.tags == {} and after.lineage == before.lineage


def test_lineage_recorded_from_run(
    store: BaseTrackingStore, registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    run_id = run[0]
    store.set_tag(run_id, RunTag("mlflow.source.git.commit", "abc123"))
    data = Dataset(name="wine", digest="d1g357", source_type="local", source="/data/wine.csv")
    store.log_inputs(run_id, [DatasetInput(data, {"mlflow.data.context": "train"})])
    v = registry.create_model_version(model, f"runs:/{run_id}/model", run_id)
    assert v.lineage == {"run_id": run_id, "git_commit": "abc123", "datasets": "wine@d1g357"}
    assert registry.get_model_version(model, 1).lineage == v.lineage
    found = registry.search_model_versions("tags.`trainlab.lineage.git_commit` = 'abc123'")
    assert [(x.name, x.version) for x in found] == [(model, 1)]
    with pytest.raises(InvalidParameterValue, match="reserved"):
        registry.create_model_version(
            model, "s3://b/m", tags={"trainlab.lineage.git_commit": "forged"}
        )


def test_a_version_copied_from_another_keeps_its_lineage(
    store: BaseTrackingStore, registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    """MLflow's copy_model_version: source models:/<name>/<version> (or @alias), and every tag
    of the original; the copy's lineage is the original's."""
    run_id = run[0]
    store.set_tag(run_id, RunTag("mlflow.source.git.commit", "abc123"))
    original = registry.create_model_version(model, f"runs:/{run_id}/model", run_id)
    registry.set_registered_model_alias(model, "champion", 1)
    copy_to = registry.create_registered_model(unique()).name
    registry.transition_model_version_stage(model, 1, "Production")
    sources = [f"models:/{model}/{v}" for v in ("1", "latest", "Production")]
    for number, source in enumerate([*sources, f"models:/{model}@champion"], 1):
        copy = registry.create_model_version(copy_to, source, tags=original.tags)
        assert (copy.version, copy.source, copy.run_id) == (number, f"models:/{model}/1", run_id)
        assert copy.tags == original.tags and copy.lineage == original.lineage
    assert registry.get_model_version(copy_to, 4).tags == original.tags
    other_run = store.create_run("0").info.run_id
    for source, kwargs, error, needle in [
        (f"models:/{model}/1", {"run_id": other_run}, InvalidParameterValue, "must match"),
        (f"models:/{model}/9", {}, ResourceNotFound, "9"),
        (f"models:/{model}@nobody", {}, InvalidParameterValue, "alias nobody not found"),
        (f"models:/{model}/Staging", {}, ResourceNotFound, "no version in stage"),
        (f"models:/{model}/Bogus", {}, InvalidParameterValue, "Bogus"),
        (f"models:/{model}/1/x", {}, InvalidParameterValue, "models:/<name>/<version"),
        (f"models:/{model}/\u00b2", {}, InvalidParameterValue, "stage"),  # a digit, not ASCII
        (
            f"models:/{model}/1",
            {"tags": {"trainlab.lineage.run_id": other_run}},
            InvalidParameterValue,
            "reserved",
        ),
    ]:
        with pytest.raises(error, match=needle):
            registry.create_model_version(copy_to, source, **kwargs)  # type: ignore[arg-type]
    found = registry.search_model_versions(f"name = '{copy_to}'")
    assert sorted(v.version for v in found) == [1, 2, 3, 4]
    # The copy's artifacts are where the original's were when it was copied, whatever becomes
    # of the original: deleted, or a new model of the same name in its place.
    where = registry.get_model_version_download_uri(model, 1)
    assert where.endswith(f"{run_id}/artifacts/model")
    registry.delete_registered_model(model)
    registry.create_registered_model(model)
    registry.create_model_version(model, f"models:/{copy_to}/1")  # a copy of the copy
    for name in (copy_to, model):
        assert registry.get_model_version_download_uri(name, 1) == where


def test_a_model_named_like_a_logged_model_id_can_be_copied(
    registry: BaseRegistryStore, run: tuple[str, str]
) -> None:
    name = f"m-{uuid.uuid4().hex[:8]}"
    registry.create_registered_model(name)
    registry.create_model_version(name, f"runs:/{run[0]}/model", run[0])
    copy_to = registry.create_registered_model(unique()).name
    assert registry.create_model_version(copy_to, f"models:/{name}/1").run_id == run[0]


def test_accepted_sources(registry: BaseRegistryStore, model: str, run: tuple[str, str]) -> None:
    run_id, artifact_uri = run
    for source in [
        f"runs:/{run_id}/model",
        f"{artifact_uri}/model",
        "s3://bucket/path/model",
        "gs://bucket/a%20b/model",
    ]:
        v = registry.create_model_version(model, source, run_id)
        assert v.source == source


def test_a_proxied_source_lies_in_the_folder_of_its_run_or_logged_model(
    store: BaseTrackingStore, registry: BaseRegistryStore, model: str
) -> None:
    exp = store.create_experiment(unique("exp"), artifact_location="mlflow-artifacts:/team")
    mine, other = (store.create_run(exp, user_id="u", start_time=1).info for _ in "ab")
    v = registry.create_model_version(model, f"{mine.artifact_uri}/model", mine.run_id)
    assert v.run_id == mine.run_id
    # Another run's files, or the whole root, are not this run's model.
    for source in (f"{other.artifact_uri}/model", "mlflow-artifacts:/", "mlflow-artifacts:/team"):
        with pytest.raises(InvalidParameterValue, match="inside the artifact folder of its run"):
            registry.create_model_version(model, source, mine.run_id)
    # Without ids, the run or logged model whose folder holds the source is the lineage ...
    v = registry.create_model_version(model, f"{other.artifact_uri}/model")
    assert (v.run_id, v.model_id) == (other.run_id, None)
    logged = logged_models_for(store).create_logged_model(exp, "clf", mine.run_id)
    v = registry.create_model_version(model, f"{logged.artifact_uri}/MLmodel")
    assert (v.run_id, v.model_id) == (mine.run_id, logged.model_id)
    # ... and a source in no run's or logged model's folder is refused.
    for source in ("mlflow-artifacts:/", f"mlflow-artifacts:/team/{mine.run_id}"):
        with pytest.raises(InvalidParameterValue, match="give its run_id"):
            registry.create_model_version(model, source)
    found = registry.search_model_versions(f"name = '{model}'")
    assert sorted(v.version for v in found) == [1, 2, 3]  # the refused ones left nothing


def test_local_source_must_lie_under_the_run(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    run_id, artifact_uri = run
    if artifact_uri.startswith("file://"):
        path = artifact_uri[len("file://") :]
        v = registry.create_model_version(model, f"{path}/model", run_id)
        assert v.source == f"{path}/model"
    for source in [
        "/etc/passwd",
        "file:///etc/passwd",
        "file:///tmp",
        "model",
    ]:
        with pytest.raises(InvalidParameterValue, match="source"):
            registry.create_model_version(model, source, run_id)
    with pytest.raises(InvalidParameterValue, match="run_id"):
        registry.create_model_version(model, "/tmp/model")


BAD_SOURCES = [
    "runs:/{run}/../../../etc/passwd",
    "runs:/{run}/model/%2e%2e/%2e%2e/secret",
    "runs:/{run}/%252e%252e/secret",
    "{art}/../../../etc/passwd",
    "{art}/%2e%2e/%2e%2e/etc",
    "{art}/%252e%252e/etc",
    "{art}/model#/../../etc",
    "{art}/model;/../etc",
    "{art}/a\\..\\..\\etc",
    "{art}/model%00.txt",
    "http:///#/../../../etc/",
    "s3://bucket/../other",
    "mlflow-artifacts:/0/../../etc",
    "runs:/0123456789abcdef0123456789abcdef/model",
    "",
]


@pytest.mark.parametrize("template", BAD_SOURCES)
def test_unsafe_sources_rejected_and_nothing_created(
    registry: BaseRegistryStore, model: str, run: tuple[str, str], template: str
) -> None:
    run_id, artifact_uri = run
    source = template.format(run=run_id, art=artifact_uri)
    with pytest.raises(InvalidParameterValue):
        registry.create_model_version(model, source, run_id)
    assert registry.search_model_versions(f"name = '{model}'").items == []
    assert _version(registry, model, run) == 1


def test_a_refused_models_source_is_named_in_the_message(
    registry: BaseRegistryStore, model: str
) -> None:
    logged = f"models:/m-{uuid.uuid4().hex}/../.."
    with pytest.raises(InvalidParameterValue, match=r"source '.*': '\.\.' segments"):
        registry.create_model_version(model, logged)
    with pytest.raises(InvalidParameterValue, match="'x' is not a version number, a stage"):
        registry.create_model_version(model, "models:/m-deadbeef/x")


def test_runs_source_of_unknown_run(registry: BaseRegistryStore, model: str) -> None:
    with pytest.raises(ResourceNotFound):
        registry.create_model_version(model, f"runs:/{uuid.uuid4().hex}/model")


def test_download_uri(registry: BaseRegistryStore, model: str, run: tuple[str, str]) -> None:
    run_id, artifact_uri = run
    registry.create_model_version(model, f"runs:/{run_id}/model/sub", run_id)
    registry.create_model_version(model, "s3://bucket/m", run_id)
    assert registry.get_model_version_download_uri(model, 1) == f"{artifact_uri}/model/sub"
    assert registry.get_model_version_download_uri(model, 2) == "s3://bucket/m"
    with pytest.raises(ResourceNotFound):
        registry.get_model_version_download_uri(model, 3)


def test_a_runs_source_downloads_the_runs_logged_model_of_that_name(
    store: BaseTrackingStore, registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    """MLflow 3 keeps a logged model's files in the model's folder, not the run's:
    ``runs:/<run>/<name>`` names the run's newest live logged model called ``name``, as the
    mlflow client resolves it, else the run's own files."""
    run_id, artifact_uri = run
    exp = store.get_run(run_id).info.experiment_id
    models = logged_models_for(store)
    older = models.create_logged_model(exp, "clf", run_id)
    newer = models.create_logged_model(exp, "clf", run_id)
    other_run = store.create_run(exp).info.run_id
    models.create_logged_model(exp, "other", other_run)  # another run's: not this run's
    versions = [
        registry.create_model_version(model, f"runs:/{run_id}/{path}", run_id).version
        for path in ("clf", "clf/MLmodel", "other", "plain/model")
    ]
    uris = [registry.get_model_version_download_uri(model, v) for v in versions]
    assert uris == [
        newer.artifact_uri,
        f"{newer.artifact_uri}/MLmodel",
        f"{artifact_uri}/other",
        f"{artifact_uri}/plain/model",
    ]
    models.delete_logged_model(newer.model_id)  # a deleted model is no longer the one named
    assert registry.get_model_version_download_uri(model, versions[0]) == older.artifact_uri


def test_search_model_versions(
    store: BaseTrackingStore, registry: BaseRegistryStore, run: tuple[str, str]
) -> None:
    run_id = run[0]
    other_run = store.create_run("0").info.run_id
    a = registry.create_registered_model(unique()).name
    b = registry.create_registered_model(unique()).name
    registry.create_model_version(a, f"runs:/{run_id}/m", run_id, tags={"t": "x"})
    registry.create_model_version(a, f"runs:/{other_run}/m", other_run)
    registry.create_model_version(b, "s3://bucket/special", run_id, tags={"t": "y"})

    def found(flt: str) -> set[tuple[str, int]]:
        page = registry.search_model_versions(flt)
        assert len(page) == len({(v.name, v.version) for v in page})
        return {(v.name, v.version) for v in page}

    assert found(f"name = '{a}'") == {(a, 1), (a, 2)}
    assert found(f"name IN ('{a}', '{b}') AND version_number = 1") == {(a, 1), (b, 1)}
    assert found(f"run_id = '{other_run}'") == {(a, 2)}
    assert found(f"run_id IN ('{run_id}')") == {(a, 1), (b, 1)}
    assert found("source_path = 's3://bucket/special'") == {(b, 1)}
    assert found(f"name = '{a}' AND tags.t = 'x'") == {(a, 1)}
    assert found(f"name IN ('{a}', '{b}') AND tags.t IN ('x', 'y')") == {(a, 1), (b, 1)}
    assert found(f"name = '{a}' AND version_number > 1") == {(a, 2)}
    assert found(f"name IN ('{a}', '{b}') AND tags.t IS NULL") == {(a, 2)}
    assert found(f"name IN ('{a}', '{b}') AND tags.t != 'x'") == {(b, 1)}
    page = registry.search_model_versions(f"name IN ('{a}', '{b}')", max_results=2)
    assert len(page) == 2 and page.next_page_token
    rest = registry.search_model_versions(
        f"name IN ('{a}', '{b}')", max_results=2, page_token=page.next_page_token
    )
    assert len(rest) == 1 and rest.next_page_token is None
    seen = {(v.name, v.version) for v in [*page, *rest]}
    assert seen == {(a, 1), (a, 2), (b, 1)}
    ordered = registry.search_model_versions(f"name = '{a}'", order_by=["version_number ASC"])
    assert [v.version for v in ordered] == [1, 2]
    # Ties of an order_by go by name, then newest version first, as in MLflow.
    ones = [(n, 1) for n in sorted((a, b))]
    for order, expected in (("DESC", [(a, 2), *ones]), ("ASC", [*ones, (a, 2)])):
        both = registry.search_model_versions(
            f"name IN ('{a}', '{b}')", order_by=[f"version_number {order}"]
        )
        assert [(v.name, v.version) for v in both] == expected
    with pytest.raises(InvalidParameterValue):
        registry.search_model_versions("color = 'red'")


# -- stages ---------------------------------------------------------------------------------
def test_stages_and_latest_versions(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    for _ in range(4):
        _version(registry, model, run)
    assert registry.transition_model_version_stage(model, 1, "Production").current_stage == (
        "Production"
    )
    registry.transition_model_version_stage(model, 2, "staging")
    registry.transition_model_version_stage(model, 3, "Staging")
    latest = registry.get_latest_versions(model, ["Production", "Staging"])
    assert [(v.version, v.current_stage) for v in latest] == [(1, "Production"), (3, "Staging")]
    twice = registry.get_latest_versions(model, ["Staging", "staging", "STAGING"])
    assert [v.version for v in twice] == [3]  # a stage named twice is still one stage
    with pytest.raises(ResourceNotFound):  # the missing model is the news, not the stage
        registry.get_latest_versions(unique(), ["MLmodel"])
    every = registry.get_latest_versions(model)
    assert [(v.version, v.current_stage) for v in every] == [  # in version order, as MLflow
        (1, "Production"),
        (3, "Staging"),
        (4, "None"),
    ]
    moved = registry.transition_model_version_stage(model, 4, "Production", True)
    assert moved.current_stage == "Production"
    assert registry.get_model_version(model, 1).current_stage == "Archived"
    assert registry.get_model_version(model, 3).current_stage == "Staging"
    with pytest.raises(InvalidParameterValue):
        registry.transition_model_version_stage(model, 1, "Shipped")
    with pytest.raises(InvalidParameterValue):
        registry.get_latest_versions(model, ["Shipped"])
    with pytest.raises(InvalidParameterValue):
        registry.transition_model_version_stage(model, 1, "Archived", True)


def test_models_of_a_page_carry_their_own_versions(
    store: BaseTrackingStore, registry: BaseRegistryStore, run: tuple[str, str]
) -> None:
    """Several models read together: each gets its own newest version per stage, with that
    version's tags and aliases; a created version reads back exactly as it was returned."""
    family = unique("page")
    a = registry.create_registered_model(f"{family}-a").name
    b = registry.create_registered_model(f"{family}-b").name
    made = {}
    for name in (a, b, a, b, a):
        v = registry.create_model_version(
            name, f"runs:/{run[0]}/model", run[0], tags={"made": f"{name}-{len(made)}"}
        )
        made[(name, v.version)] = v
        assert registry.get_model_version(name, v.version) == v
    registry.transition_model_version_stage(a, 1, "Production")
    registry.transition_model_version_stage(b, 1, "Staging")
    registry.set_registered_model_alias(a, "champion", 1)
    registry.set_registered_model_alias(b, "champion", 2)
    page = registry.search_registered_models(f"name LIKE '{family}-%'", order_by=["name ASC"])
    assert [m.name for m in page] == [a, b]
    latest = {m.name: [(v.version, v.current_stage, v.aliases) for v in m.latest_versions]
              for m in page}  # fmt: skip
    assert latest == {
        a: [(1, "Production", ["champion"]), (3, "None", [])],
        b: [(1, "Staging", []), (2, "None", ["champion"])],
    }
    for m in page:
        for v in m.latest_versions:
            assert v.tags == made[(m.name, v.version)].tags
    versions = registry.search_model_versions(f"name IN ('{a}', '{b}')")
    assert {(v.name, v.version): v.tags for v in versions} == {k: v.tags for k, v in made.items()}


# -- aliases --------------------------------------------------------------------------------
def test_aliases(registry: BaseRegistryStore, model: str, run: tuple[str, str]) -> None:
    _version(registry, model, run)
    _version(registry, model, run)
    registry.set_registered_model_alias(model, "champion", 1)
    registry.set_registered_model_alias(model, "challenger", 2)
    registry.set_registered_model_alias(model, "staging-candidate_1", 2)
    assert registry.get_model_version_by_alias(model, "champion").version == 1
    got = registry.get_registered_model(model)
    assert got.aliases == {"challenger": 2, "champion": 1, "staging-candidate_1": 2}
    assert registry.get_model_version(model, 2).aliases == ["challenger", "staging-candidate_1"]
    registry.set_registered_model_alias(model, "champion", 2)
    assert registry.get_model_version_by_alias(model, "champion").version == 2
    registry.delete_registered_model_alias(model, "challenger")
    with pytest.raises(  # MLflow's message, then the aliases that are set
        InvalidParameterValue,
        match=r"alias challenger not found \('.*': its aliases: champion, staging-candidate_1\)",
    ):
        registry.get_model_version_by_alias(model, "challenger")
    # As in MLflow, deleting an alias that is not set is a no-op (and moves nothing).
    registry.delete_registered_model_alias(model, "challenger")
    assert [e.to_version for e in registry.get_alias_history(model, "challenger")] == [2, None]
    with pytest.raises(ResourceNotFound):
        registry.set_registered_model_alias(model, "champion", 9)
    for i in range(20):
        registry.set_registered_model_alias(model, f"z{i:02}", 1)
    with pytest.raises(InvalidParameterValue, match=r", z17 and 2 more\)\.$"):
        registry.get_model_version_by_alias(model, "challenger")


def test_alias_latest_names_the_newest_version(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    with pytest.raises(ResourceNotFound, match="no version"):
        registry.get_model_version_by_alias(model, "latest")
    _version(registry, model, run)
    _version(registry, model, run)
    registry.set_registered_model_alias(model, "champion", 1)
    assert registry.get_model_version_by_alias(model, "latest").version == 2
    assert registry.get_model_version_by_alias(model, "LATEST").version == 2  # as in MLflow
    registry.delete_model_version(model, 2)
    assert registry.get_model_version_by_alias(model, "latest").version == 1


def test_prompt_versions(registry: BaseRegistryStore, model: str) -> None:
    """MLflow's prompt registry: versions tagged as prompts carry a placeholder source."""
    prompt = {"mlflow.prompt.is_prompt": "true", "mlflow.prompt.text": "Hello {{name}}"}
    version = registry.create_model_version(model, "dummy-source", tags=prompt)
    assert version.source == "dummy-source" and version.run_id is None
    assert version.tags == prompt  # no lineage: a prompt has no run or artifacts
    for bad in ("file:///etc", "runs:/abc/model", "../x"):
        with pytest.raises(InvalidParameterValue, match="placeholders"):
            registry.create_model_version(model, bad, tags=prompt)
    # Without the prompt tag the placeholder is an ordinary (unsafe) local source.
    with pytest.raises(InvalidParameterValue, match="local source"):
        registry.create_model_version(model, "dummy-source")
    # As MLflow's server: a prompt's versions are found only by a filter that asks for them.
    assert list(registry.search_model_versions(f"name = '{model}'")) == []
    asked = f"name = '{model}' AND tags.`{IS_PROMPT_TAG}` = 'true'"
    assert [v.version for v in registry.search_model_versions(asked)] == [1]


@pytest.mark.parametrize(
    "bad", ["latest", "v3", "V12", "a b", "a.b", "a/b", "x" * 256, "", "champion\n", "v3\n"]
)
def test_invalid_aliases(
    registry: BaseRegistryStore, model: str, run: tuple[str, str], bad: str
) -> None:
    _version(registry, model, run)
    with pytest.raises(InvalidParameterValue):
        registry.set_registered_model_alias(model, bad, 1)
    assert registry.get_registered_model(model).aliases == {}


def test_alias_history_and_rollback(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    for _ in range(3):
        _version(registry, model, run)
    registry.set_registered_model_alias(model, "champion", 1, user="alice", reason="baseline")
    registry.set_registered_model_alias(model, "champion", 1, user="alice", reason="no move")
    registry.set_registered_model_alias(model, "champion", 2, user="bob", reason="beats v1")
    registry.set_registered_model_alias(model, "other", 3, user="bob")
    back = registry.rollback_registered_model_alias(model, "champion", "carol", "v2 regressed")
    assert back.version == 1
    assert registry.get_model_version_by_alias(model, "champion").version == 1
    events = registry.get_alias_history(model, "champion")
    assert [(e.from_version, e.to_version, e.user, e.reason) for e in events] == [
        (None, 1, "alice", "baseline"),
        (1, 2, "bob", "beats v1"),
        (2, 1, "carol", "rollback: v2 regressed"),
    ]
    assert all(e.alias == "champion" and e.name == model and e.timestamp > 0 for e in events)
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    assert [e.alias for e in registry.get_alias_history(model)] == [
        "champion",
        "champion",
        "other",
        "champion",
    ]
    registry.delete_registered_model_alias(model, "other", user="dan", reason="retired")
    last = registry.get_alias_history(model, "other")[-1]
    assert (last.from_version, last.to_version, last.user, last.reason) == (
        3,
        None,
        "dan",
        "retired",
    )
    restored = registry.rollback_registered_model_alias(model, "other", "erin")
    assert restored.version == 3 and restored.aliases == ["other"]
    assert registry.get_alias_history(model, "never-set") == []
    missing = f"{model}-missing"
    with pytest.raises(ResourceNotFound, match=f"Registered Model with name={missing} not found"):
        registry.get_alias_history(missing)
    with pytest.raises(ResourceNotFound, match=f"Registered Model with name={missing} not found"):
        registry.set_registered_model_alias(missing, "champion", 1)


def test_concurrent_alias_moves_each_record_the_version_they_moved_from(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    """Moves of one alias at once (two replicas, two people promoting): each event's 'from' is
    the 'to' of the one before, so the history is one chain and rollback goes to the holder
    before the last move."""
    for _ in range(4):
        _version(registry, model, run)
    registry.set_registered_model_alias(model, "prod", 1)
    start = threading.Barrier(4)

    def mover(version: int) -> None:
        start.wait()
        for _ in range(5):
            registry.set_registered_model_alias(model, "prod", version, user=f"u{version}")
            registry.set_registered_model_alias(model, "prod", 1)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(mover, [2, 3, 4, 1]))
    events = registry.get_alias_history(model, "prod")
    assert [e.from_version for e in events[1:]] == [e.to_version for e in events[:-1]]
    assert events[-1].to_version == registry.get_model_version_by_alias(model, "prod").version


def test_an_alias_moves_only_from_the_version_expected(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    for _ in range(3):
        _version(registry, model, run)
    registry.set_registered_model_alias(model, "prod", 1, expected=None)  # not set: as expected
    for wrong in (None, 2):
        with pytest.raises(InvalidState, match="held by version 1, not"):
            registry.set_registered_model_alias(model, "prod", 3, expected=wrong)
    registry.set_registered_model_alias(model, "prod", 2, expected=1)
    events = registry.get_alias_history(model, "prod")
    assert [(e.from_version, e.to_version) for e in events] == [(None, 1), (1, 2)]


def test_deleting_a_version_records_its_alias_moves(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    _version(registry, model, run)
    _version(registry, model, run)
    registry.set_registered_model_alias(model, "champion", 1)
    registry.set_registered_model_alias(model, "champion", 2)
    registry.delete_model_version(model, 2, user="ops")
    with pytest.raises(InvalidParameterValue, match="alias champion not found .*no aliases"):
        registry.get_model_version_by_alias(model, "champion")
    last = registry.get_alias_history(model, "champion")[-1]
    assert (last.from_version, last.to_version, last.user) == (2, None, "ops")
    assert "deleted" in last.reason
    # Rolling back restores the holder before the delete: version 2 is gone.
    with pytest.raises(ResourceNotFound):
        registry.rollback_registered_model_alias(model, "champion")


def test_rollback_without_previous_version(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    _version(registry, model, run)
    with pytest.raises(ResourceNotFound):
        registry.rollback_registered_model_alias(model, "champion")
    registry.set_registered_model_alias(model, "champion", 1)
    with pytest.raises(InvalidState):
        registry.rollback_registered_model_alias(model, "champion")
    assert len(registry.get_alias_history(model, "champion")) == 1


def test_rollback_ignores_the_moves_of_a_deleted_model_of_the_same_name(
    registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    """Version numbers restart when a model is made again: the old model's moves name other
    versions, so they are history only, never a rollback target."""
    for _ in range(3):
        _version(registry, model, run)
    for version in (1, 2, 3):
        registry.set_registered_model_alias(model, "prod", version)
    registry.set_registered_model_alias(model, "staging", 2)
    registry.delete_registered_model_alias(model, "staging")  # no alias left to remove below
    registry.delete_registered_model(model)
    registry.create_registered_model(model)  # within the same millisecond, maybe
    for _ in range(3):
        _version(registry, model, run)
    for alias in ("prod", "staging"):
        with pytest.raises(ResourceNotFound, match="never set"):
            registry.rollback_registered_model_alias(model, alias)
        with pytest.raises(ResourceNotFound, match="never set"):
            registry.rollback_registered_model_alias(model, alias, dry_run=True)
    registry.set_registered_model_alias(model, "prod", 1)
    registry.set_registered_model_alias(model, "prod", 2)
    assert registry.rollback_registered_model_alias(model, "prod", dry_run=True).version == 1
    assert registry.get_registered_model(model).aliases == {"prod": 2}  # a dry run moves nothing
    assert registry.rollback_registered_model_alias(model, "prod").version == 1
    reasons = [e.reason for e in registry.get_alias_history(model, "prod")]
    assert reasons[3:5] == ["registered model deleted"] * 2 and len(reasons) == 8
    # The deletion is in the history of an alias the model no longer held then, too.
    registry.set_registered_model_alias(model, "staging", 3)
    staging = [(e.alias, e.to_version) for e in registry.get_alias_history(model, "staging")]
    assert staging == [("staging", 2), ("staging", None), ("", None), ("staging", 3)]


# -- concurrency (SQL backends, two stores on one database like two server replicas) ---------
def test_concurrent_creates_get_distinct_consecutive_numbers(db_uri: str, tmp_path: object) -> None:
    import threading

    from trainlab.store.sql.registry import SqlRegistryStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    stores = [
        SqlRegistryStore(SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts")) for _ in range(2)
    ]
    name = stores[0].create_registered_model(unique()).name
    per_thread = 15
    barrier = threading.Barrier(2)
    got: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                got[i].append(stores[i].create_model_version(name, "s3://bucket/m").version)
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got[0] + got[1]) == list(range(1, 2 * per_thread + 1))
    assert got[0] == sorted(got[0]) and got[1] == sorted(got[1])
    versions = stores[0].search_model_versions(f"name = '{name}'")
    assert sorted(v.version for v in versions) == list(range(1, 2 * per_thread + 1))
    for s in stores:
        s.engine.dispose()


def test_concurrent_registrations_of_one_logged_model_are_all_listed_on_it(
    db_uri: str, tmp_path: object
) -> None:
    """Versions of one logged model registered at once under several names, as two server
    replicas would: the model's ``mlflow.modelVersions`` keeps every one."""
    import threading

    from trainlab.store.sql.logged_models import SqlLoggedModelStore
    from trainlab.store.sql.registry import SqlRegistryStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    tracking = [SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts") for _ in range(4)]
    run_id = tracking[0].create_run("0").info.run_id
    model_id = SqlLoggedModelStore(tracking[0]).create_logged_model("0", "m", run_id).model_id
    registries = [SqlRegistryStore(t) for t in tracking]
    names = [registries[0].create_registered_model(unique()).name for _ in registries]
    barrier = threading.Barrier(len(registries))
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            barrier.wait()
            registries[i].create_model_version(names[i], f"models:/{model_id}", model_id=model_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(registries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    tags = SqlLoggedModelStore(tracking[0]).get_logged_model(model_id).tags
    listed = json.loads(tags["mlflow.modelVersions"])
    assert sorted(e["name"] for e in listed) == sorted(names)
    for t in tracking:
        t.engine.dispose()


def _logged_model(store: BaseTrackingStore, run_id: str) -> tuple[str, str]:
    """(model_id, artifact_uri) of a new logged model of ``run_id``."""
    from trainlab.client.rest import RestTrackingStore

    if isinstance(store, RestTrackingStore):
        body = {"experiment_id": "0", "name": "clf", "source_run_id": run_id}
        info = store.call("POST", "/logged-models", body)["model"]["info"]
        return info["model_id"], info["artifact_uri"]
    from trainlab.store.sql.logged_models import SqlLoggedModelStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    assert isinstance(store, SqlTrackingStore)
    lm = SqlLoggedModelStore(store).create_logged_model("0", "clf", run_id)
    return lm.model_id, lm.artifact_uri


def test_logged_model_source_and_lineage(
    store: BaseTrackingStore, registry: BaseRegistryStore, model: str, run: tuple[str, str]
) -> None:
    run_id = run[0]
    model_id, artifact_uri = _logged_model(store, run_id)
    v = registry.create_model_version(model, f"models:/{model_id}", run_id, model_id=model_id)
    assert (v.model_id, v.source) == (model_id, f"models:/{model_id}")
    assert v.lineage == {"run_id": run_id, "model_id": model_id}
    assert registry.get_model_version_download_uri(model, 1) == artifact_uri
    found = registry.search_model_versions(f"name = '{model}' AND model_id = '{model_id}'")
    assert [x.version for x in found] == [1]
    # Only the logged model given (MLflow 3's log_model): the run comes from the model.
    v2 = registry.create_model_version(model, f"models:/{model_id}")
    assert (v2.run_id, v2.model_id) == (run_id, model_id)
    assert v2.lineage == {"run_id": run_id, "model_id": model_id}
    # The logged model lists the versions registered from it, as MLflow's server records them.
    from trainlab.client.rest_logged_models import logged_models_for

    listed = logged_models_for(store).get_logged_model(model_id).tags["mlflow.modelVersions"]
    assert json.loads(listed) == [{"name": model, "version": "1"}, {"name": model, "version": "2"}]
    with pytest.raises(ResourceNotFound):
        registry.create_model_version(model, "models:/m-0123456789abcdef0123456789abcdef")
    with pytest.raises(InvalidParameterValue):
        registry.create_model_version(model, f"models:/{model_id}/../../x", run_id)
    # A deleted logged model makes no new version (as MLflow); those made before still load.
    logged_models_for(store).delete_logged_model(model_id)
    for source, kwargs in ((f"models:/{model_id}", {}), (artifact_uri, {"model_id": model_id})):
        with pytest.raises(ResourceNotFound, match=f"Logged model with ID '{model_id}' not found"):
            registry.create_model_version(model, source, **kwargs)  # type: ignore[arg-type]
    assert [v.version for v in registry.search_model_versions(f"name = '{model}'")] == [2, 1]
    assert registry.get_model_version_download_uri(model, 1) == artifact_uri
