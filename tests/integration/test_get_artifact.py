"""The UI's download routes: /get-artifact and /model-versions/get-artifact serve files of a run
or of a registered version's source, and nothing outside them (CVE-2023-30172, CVE-2023-1177)."""

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
