"""The stock `mlflow` client's model registry calls against a real `trainlab server`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

# Stages are deprecated in MLflow (still served); the client warns on every stage call.
pytestmark = pytest.mark.filterwarnings("ignore:.*Model registry stages:FutureWarning")


def unique(prefix: str = "reg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(server: Any) -> MlflowClient:
    return MlflowClient(server.url, registry_uri=server.url)


@pytest.fixture
def run_id(client: MlflowClient) -> str:
    exp_id = client.create_experiment(unique("exp"))
    run = client.create_run(exp_id)
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def _lineage(server: Any, name: str, version: str) -> dict[str, str]:
    """trainlab's own field of a version, which the stock client does not read."""
    query = {"name": name, "version": version}
    r = httpx.get(f"{server.url}/api/2.0/mlflow/model-versions/get", params=query)
    return dict(r.json()["model_version"]["trainlab_lineage"])


def test_registry_round_trip(server: Any, client: MlflowClient, run_id: str) -> None:
    name = unique()
    created = client.create_registered_model(name, tags={"team": "risk"}, description="d0")
    assert created.name == name and created.description == "d0"
    v1 = client.create_model_version(name, f"runs:/{run_id}/model", run_id, tags={"k": "v"})
    v2 = client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.status == "READY" and v1.run_id == run_id and v1.tags == {"k": "v"}  # as MLflow
    assert _lineage(server, name, "1")["run_id"] == run_id
    bare = client.create_registered_model(unique()).name
    assert client.create_model_version(bare, "s3://bucket/model").run_id == ""  # as MLflow
    assert v1.source == f"runs:/{run_id}/model"

    client.set_registered_model_alias(name, "champion", "2")
    by_alias = client.get_model_version_by_alias(name, "champion")
    assert by_alias.version == "2" and by_alias.aliases == ["champion"]
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    client.update_registered_model(name, description="d1")
    assert client.get_registered_model(name).description == "d1"
    client.update_model_version(name, "1", description="first")
    assert client.get_model_version(name, "1").description == "first"

    client.set_registered_model_tag(name, "owner", "alice")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.delete_registered_model_tag(name, "team")
    assert client.get_registered_model(name).tags == {"owner": "alice"}
    assert client.get_model_version(name, "1").tags["validated"] == "yes"
    client.delete_model_version_tag(name, "1", "validated")
    assert "validated" not in client.get_model_version(name, "1").tags
    client.delete_model_version_tag(name, "1", "validated")  # already gone: a no-op, as in MLflow
    client.delete_registered_model_tag(name, "team")

    uri = client.get_model_version_download_uri(name, "1")
    assert uri == f"{client.get_run(run_id).info.artifact_uri}/model"

    moved = client.transition_model_version_stage(name, "1", "Production")
    assert moved.current_stage == "Production"
    client.transition_model_version_stage(name, "2", "Staging")
    latest = client.get_latest_versions(name, stages=["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("1", "Production")]
    latest_all = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest_all == {"Production": "1", "Staging": "2"}
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"

    new_name = unique("renamed")
    client.rename_registered_model(name, new_name)
    assert client.get_registered_model(new_name).name == new_name
    assert client.get_model_version_by_alias(new_name, "champion").version == "2"
    versions = client.search_model_versions(f"name = '{new_name}'")
    assert sorted((v.name, v.version) for v in versions) == [(new_name, "1"), (new_name, "2")]

    client.delete_registered_model_alias(new_name, "champion")
    with pytest.raises(MlflowException) as missing_alias:
        client.get_model_version_by_alias(new_name, "champion")
    assert missing_alias.value.error_code == "INVALID_PARAMETER_VALUE"  # as MLflow answers
    assert missing_alias.value.get_http_status_code() == 400

    client.delete_model_version(new_name, "1")
    with pytest.raises(MlflowException) as gone:
        client.get_model_version(new_name, "1")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.create_model_version(new_name, f"runs:/{run_id}/model", run_id).version == "3"

    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException) as deleted:
        client.get_registered_model(new_name)
    assert deleted.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_registered_models_filter_and_pages(client: MlflowClient) -> None:
    prefix = unique("search")
    for i in range(5):
        client.create_registered_model(f"{prefix}-{i}", tags={"parity": str(i % 2)})
    page1 = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2)
    assert [m.name for m in page1] == [f"{prefix}-0", f"{prefix}-1"]
    assert page1.token
    page2 = client.search_registered_models(
        f"name LIKE '{prefix}-%'", max_results=2, page_token=page1.token
    )
    page3 = client.search_registered_models(
        f"name LIKE '{prefix}-%'", max_results=2, page_token=page2.token
    )
    assert [m.name for m in page2] == [f"{prefix}-2", f"{prefix}-3"]
    assert [m.name for m in page3] == [f"{prefix}-4"] and not page3.token
    odd = client.search_registered_models(
        f"name LIKE '{prefix}-%' AND tags.parity = '1'", order_by=["name DESC"]
    )
    assert [m.name for m in odd] == [f"{prefix}-3", f"{prefix}-1"]


def test_search_model_versions(client: MlflowClient, run_id: str) -> None:
    a, b = unique(), unique()
    for name in (a, b):
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    client.create_model_version(a, "s3://bucket/model-a2", run_id)
    found = client.search_model_versions(f"name IN ('{a}', '{b}') AND version_number = 1")
    assert sorted((v.name, v.version) for v in found) == sorted([(a, "1"), (b, "1")])
    by_run = client.search_model_versions(f"run_id = '{run_id}'")
    assert {(v.name, v.version) for v in by_run} == {(a, "1"), (a, "2"), (b, "1")}
    by_source = client.search_model_versions("source_path = 's3://bucket/model-a2'")
    assert [(v.name, v.version) for v in by_source] == [(a, "2")]


def test_invalid_alias_is_rejected(client: MlflowClient, run_id: str) -> None:
    name = unique()
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    for alias in ("latest", "v1"):
        with pytest.raises(MlflowException) as err:
            client.set_registered_model_alias(name, alias, "1")
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"


CVE_SOURCES = [
    "file:///etc/passwd",  # CVE-2023-1176/1177: local file outside any run
    "/etc/passwd",
    "runs:/{run}/../../../../etc/passwd",  # CVE-2023-2356
    "{art}/%2e%2e/%2e%2e/%2e%2e/etc",  # encoded traversal
    "{art}/%252e%252e/%252e%252e/etc",  # double-encoded (CVE-2024-1560 class)
    "{art}/x\\..\\..\\etc",  # CVE-2023-2780: backslashes
    "http:///#/../../../etc/",  # CVE-2024-1483: fragment
    "{art}/model#/../../etc",  # CVE-2023-6909 / CVE-2024-3848
    "{art}/model;/../../etc",  # CVE-2024-1593: ';' parameters
    "{art}/model%00/etc",  # NUL
    "file:///tmp/../etc/passwd",
    "runs:/0123456789abcdef0123456789abcdef/model",  # names another run than run_id
]


@pytest.mark.parametrize("template", CVE_SOURCES)
def test_model_version_source_traversal_rejected(
    server: Any, client: MlflowClient, run_id: str, template: str
) -> None:
    name = unique()
    client.create_registered_model(name)
    art = client.get_run(run_id).info.artifact_uri
    source = template.format(run=run_id, art=art)
    response = httpx.post(
        f"{server.url}/api/2.0/mlflow/model-versions/create",
        json={"name": name, "source": source, "run_id": run_id},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert client.search_model_versions(f"name = '{name}'") == []
    assert client.get_registered_model(name).latest_versions == []


def test_alias_history_and_rollback_endpoints(
    server: Any, client: MlflowClient, run_id: str
) -> None:
    name = unique()
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "champion", "2")
    api = f"{server.url}/api/2.0/trainlab/registered-models"
    rolled = httpx.post(
        f"{api}/alias-rollback",
        json={"name": name, "alias": "champion", "reason": "v2 regressed", "user": "ops"},
    )
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["model_version"]["version"] == "1"
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    history = httpx.get(f"{api}/alias-history", params={"name": name, "alias": "champion"})
    events = history.json()["events"]
    assert [(e["from_version"], e["to_version"]) for e in events] == [
        (None, "1"),
        ("1", "2"),
        ("2", "1"),
    ]
    assert (events[-1]["user"], events[-1]["reason"]) == ("ops", "rollback: v2 regressed")


def test_the_alias_log_names_the_stock_clients_user(
    server: Any, client: MlflowClient, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLFLOW_TRACKING_USERNAME (sent as HTTP basic credentials) is who moved the alias; a
    user named in the request wins."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "secret")
    name = unique()
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias(name, "champion", "1")
    client.delete_registered_model_alias(name, "champion")
    response = httpx.post(
        f"{server.url}/api/2.0/mlflow/registered-models/alias",
        json={"name": name, "alias": "champion", "version": "1", "user": "ops"},
        auth=("alice", "secret"),
    )
    assert response.status_code == 200, response.text
    api = f"{server.url}/api/2.0/trainlab/registered-models"
    events = httpx.get(f"{api}/alias-history", params={"name": name}).json()["events"]
    assert [e["user"] for e in events] == ["alice", "alice", "ops"]


def test_wire_format_and_errors(server: Any, client: MlflowClient, run_id: str) -> None:
    name = unique()
    api = f"{server.url}/api/2.0/mlflow"
    ajax = f"{server.url}/ajax-api/2.0/mlflow"
    assert httpx.post(f"{ajax}/registered-models/create", json={"name": name}).status_code == 200
    created = httpx.post(
        f"{api}/model-versions/create",
        json={"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
    ).json()["model_version"]
    assert created["version"] == "1" and created["status"] == "READY"
    assert created["current_stage"] == "None"
    got = httpx.get(f"{api}/model-versions/get", params={"name": name, "version": "1"})
    assert got.json()["model_version"]["source"] == f"runs:/{run_id}/model"
    bad = httpx.get(f"{api}/model-versions/get", params={"name": name, "version": "one"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    missing = httpx.get(f"{api}/model-versions/get", params={"name": name, "version": "7"})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    dup = httpx.post(f"{api}/registered-models/create", json={"name": name})
    assert (dup.status_code, dup.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    slash = httpx.post(f"{api}/registered-models/create", json={"name": "a/b"})
    assert (slash.status_code, slash.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert httpx.post(f"{api}/registered-models/search", json={}).status_code == 405
    no_name = httpx.post(f"{api}/model-versions/create", json={"source": "s3://b/m"})
    assert no_name.status_code == 400 and "name" in no_name.json()["message"]
    alias = httpx.request(
        "POST",
        f"{api}/registered-models/alias",
        json={"name": name, "alias": "prod", "version": 1},
    )
    assert alias.status_code == 200
    by_alias = httpx.get(f"{api}/registered-models/alias", params={"name": name, "alias": "prod"})
    assert by_alias.json()["model_version"]["aliases"] == ["prod"]
    model = httpx.get(f"{api}/registered-models/get", params={"name": name}).json()
    assert model["registered_model"]["aliases"] == [{"alias": "prod", "version": "1"}]
    deleted = httpx.request(
        "DELETE", f"{api}/registered-models/alias", json={"name": name, "alias": "prod"}
    )
    assert deleted.status_code == 200 and deleted.json() == {}


class _Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: list[int], params: Any = None) -> list[int]:
        return [x * 2 for x in model_input]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_log_register_and_load_by_alias(server: Any, client: MlflowClient) -> None:
    """The whole MLflow 3 flow: log a pyfunc model with registered_model_name, point an alias
    at it, load it back through models:/name@alias and models:/name/version."""
    name = unique("doubler")
    mlflow.set_tracking_uri(server.url)
    mlflow.set_experiment(unique("exp"))
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_Doubler(), registered_model_name=name
        )
    assert str(info.registered_model_version) == "1"
    version = client.get_model_version(name, "1")
    assert version.run_id == run.info.run_id
    assert version.tags == {}
    lineage = _lineage(server, name, "1")
    assert (lineage["run_id"], lineage["model_id"]) == (run.info.run_id, info.model_id)
    # The logged model lists the version once (the client appends what the server listed).
    listed = client.get_logged_model(info.model_id).tags["mlflow.modelVersions"]
    assert json.loads(listed) == [{"name": name, "version": "1"}]
    client.set_registered_model_alias(name, "champion", "1")
    assert mlflow.pyfunc.load_model(f"models:/{name}@champion").predict([1, 2]) == [2, 4]
    assert mlflow.pyfunc.load_model(f"models:/{name}/1").predict([5]) == [10]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_version_from_a_runs_source_holds_the_logged_models_files(
    server: Any, client: MlflowClient, tmp_path: Any
) -> None:
    """MLflow 2 style registration (``runs:/<run>/model``) of a model that MLflow 3 logged in
    its own folder: downloading the version gives the model's files, not an empty folder."""
    name = unique("runs-source")
    mlflow.set_tracking_uri(server.url)
    mlflow.set_experiment(unique("exp"))
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="model", python_model=_Doubler())
    source = f"runs:/{run.info.run_id}/model"
    client.create_registered_model(name)
    client.create_model_version(name, source, run_id=run.info.run_id)
    got = mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path))
    assert "MLmodel" in {p.name for p in Path(got).iterdir()}
    raw = httpx.get(
        f"{server.url}/model-versions/get-artifact",
        params={"name": name, "version": "1", "path": "MLmodel"},
    )
    assert raw.status_code == 200 and b"python_function" in raw.content, raw.text


def test_copy_model_version_and_register_from_a_version(
    server: Any, client: MlflowClient, run_id: str
) -> None:
    source = unique()
    client.create_registered_model(source)
    client.create_model_version(source, f"runs:/{run_id}/model", run_id, tags={"k": "v"})
    client.set_registered_model_alias(source, "champion", "1")
    copy_to = unique()
    copied = client.copy_model_version(f"models:/{source}@champion", copy_to)
    assert (copied.version, copied.source) == ("1", f"models:/{source}/1")
    got = client.get_model_version(copy_to, "1")
    assert got.run_id == run_id and got.tags == {"k": "v"}
    assert _lineage(server, copy_to, "1") == _lineage(server, source, "1")
    mlflow.set_tracking_uri(server.url)
    mlflow.set_registry_uri(server.url)
    registered = mlflow.register_model(f"models:/{source}/1", copy_to)
    assert (registered.version, registered.run_id) == ("2", run_id)
    other = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    with pytest.raises(MlflowException, match="must match") as err:
        client.create_model_version(copy_to, f"models:/{source}/1", run_id=other)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_version_made_from_a_logged_model_is_listed_on_it(
    client: MlflowClient, run_id: str
) -> None:
    """``create_model_version(..., model_id=...)``: the server tags the logged model with the
    version (``mlflow.modelVersions``), as MLflow's does."""
    exp_id = client.get_run(run_id).info.experiment_id
    model = client.create_logged_model(exp_id, name="clf", source_run_id=run_id)
    client.finalize_logged_model(model.model_id, "READY")
    name = unique()
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(
            name, f"models:/{model.model_id}", run_id=run_id, model_id=model.model_id
        )
    listed = client.get_logged_model(model.model_id).tags["mlflow.modelVersions"]
    assert json.loads(listed) == [{"name": name, "version": "1"}, {"name": name, "version": "2"}]


def test_prompt_registry(client: MlflowClient) -> None:
    """MLflow's prompt registry (prompts are registered models tagged as prompts)."""
    name = unique("prompt")
    first = client.register_prompt(name, "Hello {{name}}")
    second = client.register_prompt(name, "Hi {{name}}!", commit_message="shorter")
    assert (first.version, second.version) == (1, 2)
    assert client.load_prompt(f"prompts:/{name}/1").format(name="Ann") == "Hello Ann"
    client.set_prompt_alias(name, "prod", 1)
    assert client.load_prompt(f"prompts:/{name}@prod").template == "Hello {{name}}"
    assert client.load_prompt(f"prompts:/{name}@latest").template == "Hi {{name}}!"
    assert name in [p.name for p in client.search_prompts()]
    model = unique()
    client.create_registered_model(model)
    names = [m.name for m in client.search_registered_models(f"name LIKE '{name[:6]}%'")]
    assert names == []
    assert [m.name for m in client.search_registered_models(f"name = '{model}'")] == [model]
    # Version searches leave prompts out too (the client adds no prompt clause to them), as do
    # the REST searches of any other client.
    assert client.search_model_versions(f"name = '{name}'") == []
    for path in ("registered-models/search", "model-versions/search"):
        url = f"{client.tracking_uri}/api/2.0/mlflow/{path}"
        got = httpx.get(url, params={"max_results": 1000})
        assert got.status_code == 200 and name not in got.text, path
