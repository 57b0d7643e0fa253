"""The UI's download routes: /get-artifact, /model-versions/get-artifact and a logged model's
files serve files of a run, of a registered version's source or of a logged model, and nothing
outside them (CVE-2023-30172, CVE-2023-1177)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.traversal import TRAVERSAL_PATHS

API = "/api/2.0/mlflow"


@pytest.fixture
def http(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def run(http: httpx.Client) -> dict[str, Any]:
    exp = http.post(f"{API}/experiments/create", json={"name": f"ga-{uuid.uuid4().hex}"}).json()
    info: dict[str, Any] = http.post(
        f"{API}/runs/create", json={"experiment_id": exp["experiment_id"]}
    ).json()["run"]["info"]
    base = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    for path, body in (("model/MLmodel", b"flavors: {}\n"), ("notes/a.txt", b"hello")):
        r = http.put(f"/api/2.0/mlflow-artifacts/artifacts/{base}/{path}", content=body)
        assert r.status_code == 200, r.text
    return info


@pytest.mark.parametrize("prefix", ["", "/ajax-api/2.0/mlflow"])
def test_get_artifact_of_a_run(http: httpx.Client, run: dict[str, Any], prefix: str) -> None:
    r = http.get(f"{prefix}/get-artifact", params={"run_id": run["run_id"], "path": "notes/a.txt"})
    assert r.status_code == 200 and r.content == b"hello"
    r = http.get(f"{prefix}/get-artifact", params={"run_uuid": run["run_id"], "path": "nope.txt"})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_get_artifact_refuses_traversal(http: httpx.Client, run: dict[str, Any], path: str) -> None:
    r = http.get("/get-artifact", params={"run_id": run["run_id"], "path": path})
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_model_version_artifact(http: httpx.Client, run: dict[str, Any]) -> None:
    name = f"m-{uuid.uuid4().hex[:8]}"
    assert http.post(f"{API}/registered-models/create", json={"name": name}).status_code == 200
    created = http.post(
        f"{API}/model-versions/create",
        json={"name": name, "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]},
    )
    assert created.status_code == 200, created.text
    version = created.json()["model_version"]["version"]
    params = {"name": name, "version": version, "path": "MLmodel"}
    r = http.get("/model-versions/get-artifact", params=params)
    assert r.status_code == 200 and r.content == b"flavors: {}\n"
    for bad in ("../notes/a.txt", "%2e%2e/notes/a.txt", "/etc/passwd"):
        r = http.get("/model-versions/get-artifact", params={**params, "path": bad})
        assert r.status_code == 400, (bad, r.text)
    r = http.get("/model-versions/get-artifact", params={**params, "version": "x"})
    assert r.status_code == 400 and "version" in r.json()["message"]


@pytest.fixture
def logged_model(http: httpx.Client, run: dict[str, Any]) -> str:
    """A logged model of ``run`` with ``MLmodel`` and ``data/model.pkl``, as the mlflow client
    writes them: to the model's own location, apart from the run's artifacts."""
    created = http.post(
        f"{API}/logged-models",
        json={"experiment_id": run["experiment_id"], "name": "clf", "source_run_id": run["run_id"]},
    ).json()["model"]["info"]
    base = created["artifact_uri"].removeprefix("mlflow-artifacts:/")
    for path, body in (("MLmodel", b"flavors: {}\n"), ("data/model.pkl", b"pickle")):
        r = http.put(f"/api/2.0/mlflow-artifacts/artifacts/{base}/{path}", content=body)
        assert r.status_code == 200, r.text
    return str(created["model_id"])


@pytest.mark.parametrize("api", ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"])
def test_a_logged_models_files_are_listed_and_served(
    http: httpx.Client, logged_model: str, api: str
) -> None:
    listing = f"{api}/logged-models/{logged_model}/artifacts/directories"
    top = http.get(listing).json()
    assert top["root_uri"].endswith(f"/models/{logged_model}/artifacts")
    assert top["files"] == [
        {"path": "MLmodel", "is_dir": False, "file_size": 12},
        {"path": "data", "is_dir": True},
    ]
    inner = http.get(listing, params={"artifact_directory_path": "data"}).json()
    assert inner["files"] == [{"path": "data/model.pkl", "is_dir": False, "file_size": 6}]
    files = f"/ajax-api/2.0/mlflow/logged-models/{logged_model}/artifacts/files"
    got = http.get(files, params={"artifact_file_path": "data/model.pkl"})
    assert got.status_code == 200 and got.content == b"pickle"
    missing = http.get(files)
    assert missing.status_code == 400 and "artifact_file_path" in missing.json()["message"]
    gone = http.get(f"{api}/logged-models/m-{'0' * 32}/artifacts/directories")
    assert gone.status_code == 404 and gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_a_logged_models_files_refuse_traversal(
    http: httpx.Client, logged_model: str, path: str
) -> None:
    base = f"/ajax-api/2.0/mlflow/logged-models/{logged_model}/artifacts"
    for r in (
        http.get(f"{base}/files", params={"artifact_file_path": path}),
        http.get(f"{base}/directories", params={"artifact_directory_path": path}),
    ):
        assert r.status_code == 400, r.text
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
