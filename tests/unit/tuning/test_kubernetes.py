"""The tuning Indexed Job: rendering, schema validation against the client's models, submission
errors. No cluster is contacted: the Kubernetes API calls are replaced where a test needs one."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
import yaml

from trainlab.exceptions import InvalidParameterValue, ServiceUnavailable
from trainlab.tuning.kubernetes import (
    JobSettings,
    manifest_yaml,
    render_job,
    submit,
    validate_manifest,
)

BASE_LABELS = {"app.kubernetes.io/name": "trainlab", "app.kubernetes.io/component": "tune-worker"}
_DELETE = object()


def _settings(**overrides: Any) -> JobSettings:
    base = JobSettings(
        name="tune-xgb-1",
        image="ghcr.io/org/worker:1.0",
        command=["trainlab", "tune-worker", "tune.yaml"],
        completions=40,
        parallelism=8,
        namespace="ml",
        cpu="2",
        memory="4Gi",
        gpu=1,
        secret="tracking",
        env={"OPTUNA_STORAGE": "postgresql://db/optuna", "LOG_LEVEL": "info"},
        max_failed_indexes=5,
        service_account="tuner",
        labels={"team": "ml-platform"},
    )
    return dataclasses.replace(base, **overrides)


def test_full_render_gives_the_indexed_job() -> None:
    manifest = render_job(_settings())

    assert manifest["apiVersion"] == "batch/v1"
    assert manifest["kind"] == "Job"
    labels = {**BASE_LABELS, "team": "ml-platform"}
    assert manifest["metadata"] == {"name": "tune-xgb-1", "namespace": "ml", "labels": labels}
    spec = manifest["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == 40
    assert spec["parallelism"] == 8
    assert spec["backoffLimitPerIndex"] == 2
    assert spec["maxFailedIndexes"] == 5
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert spec["template"]["metadata"] == {"labels": labels}
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "tuner"
    assert pod["containers"] == [
        {
            "name": "worker",
            "image": "ghcr.io/org/worker:1.0",
            "command": ["trainlab", "tune-worker", "tune.yaml"],
            "env": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "OPTUNA_STORAGE", "value": "postgresql://db/optuna"},
            ],
            "envFrom": [{"secretRef": {"name": "tracking"}}],
            "resources": {
                "requests": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1},
                "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1},
            },
        }
    ]
    validate_manifest(manifest)
    assert yaml.safe_load(manifest_yaml(manifest)) == manifest


def test_minimal_render_leaves_out_what_is_not_set() -> None:
    manifest = render_job(
        JobSettings(name="t", image="img", command=["w"], completions=1, parallelism=1)
    )

    assert manifest["metadata"] == {"name": "t", "namespace": "default", "labels": BASE_LABELS}
    assert "maxFailedIndexes" not in manifest["spec"]
    pod = manifest["spec"]["template"]["spec"]
    assert pod == {
        "restartPolicy": "Never",
        "containers": [{"name": "worker", "image": "img", "command": ["w"]}],
    }
    no_ttl = JobSettings("t", "img", ["w"], 1, 1, ttl_seconds_after_finished=None)
    assert "ttlSecondsAfterFinished" not in render_job(no_ttl)["spec"]


def test_rendered_manifest_deserializes_into_the_client_model() -> None:
    from kubernetes import client

    manifest = render_job(_settings())

    class Response:
        data = json.dumps(manifest)

    with client.ApiClient() as api:
        job = api.deserialize(Response(), "V1Job")

    assert isinstance(job, client.V1Job)
    assert job.spec.completion_mode == "Indexed"
    assert job.spec.backoff_limit_per_index == 2
    container = job.spec.template.spec.containers[0]
    assert container.image == "ghcr.io/org/worker:1.0"
    assert container.env_from[0].secret_ref.name == "tracking"
    assert container.resources.limits["nvidia.com/gpu"] == "1"


def test_yaml_has_no_aliases_for_shared_objects() -> None:
    manifest = render_job(_settings())
    manifest["spec"]["template"]["metadata"]["labels"] = manifest["metadata"]["labels"]

    text = manifest_yaml(manifest)

    assert "&" not in text and "*id" not in text
    assert yaml.safe_load(text) == manifest


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"name": "Tune_1"}, "name 'Tune_1': a Job name must be a DNS-1123 label"),
        ({"name": "tune_1"}, "name 'tune_1'"),
        ({"name": "t" * 64}, "at most 63 characters"),
        ({"name": "-tune"}, "name '-tune'"),
        ({"image": ""}, "image '': must be a non-empty image reference"),
        ({"command": []}, "command []: must be a non-empty list"),
        ({"completions": 0}, "completions 0: must be >= 1"),
        ({"parallelism": 0}, "parallelism 0: must be >= 1"),
        ({"gpu": -1}, "gpu -1: must be >= 0"),
        ({"namespace": "ML"}, "namespace 'ML': a namespace must be a DNS-1123 label"),
        ({"cpu": "2 cores"}, "cpu '2 cores': not a Kubernetes quantity"),
        ({"memory": "4GB"}, "memory '4GB': not a Kubernetes quantity"),
        ({"secret": "Tracking"}, "secret 'Tracking': a Secret name must be a DNS-1123 subdomain"),
        ({"max_failed_indexes": 41}, "max_failed_indexes 41: must not exceed completions (40)"),
        ({"backoff_limit_per_index": -1}, "backoff_limit_per_index -1: must be >= 0"),
        ({"env": {"JOB_COMPLETION_INDEX": "3"}}, "env['JOB_COMPLETION_INDEX']: reserved"),
        ({"env": {"1X": "a"}}, "env['1X']: not a valid variable name"),
        ({"labels": {"app.kubernetes.io/name": "x"}}, "labels['app.kubernetes.io/name']: reserved"),
        ({"labels": {"team": "a b"}}, "labels['team']: value 'a b'"),
    ],
)
def test_bad_settings_are_rejected_naming_the_setting(
    overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        render_job(_settings(**overrides))

    assert fragment in info.value.message


def _changed(path: list[str | int], value: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(render_job(_settings()))
    target: Any = manifest
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return manifest


CONTAINER: list[str | int] = ["spec", "template", "spec", "containers", 0]


@pytest.mark.parametrize(
    ("path", "value", "fragments"),
    [
        (
            [*CONTAINER, "imagePullPolicyy"],
            "Always",
            [
                "spec.template.spec.containers[0].imagePullPolicyy: not a field of V1Container",
                "did you mean 'imagePullPolicy'?",
            ],
        ),
        (["spec", "completion"], 3, ["spec.completion: not a field of V1JobSpec", "'completions'"]),
        (["spec", "completions"], "five", ["spec.completions: expected int, got str 'five'"]),
        (["spec", "parallelism"], True, ["spec.parallelism: expected int, got bool"]),
        (
            ["spec", "template", "spec", "containers"],
            {"name": "worker"},
            ["spec.template.spec.containers: expected list[V1Container], got dict"],
        ),
        (
            [*CONTAINER, "env", 0, "value"],
            5,
            ["spec.template.spec.containers[0].env[0].value: expected str, got int 5"],
        ),
        (
            [*CONTAINER, "resources", "limits", "cpu"],
            "2 cores",
            ["containers[0].resources.limits[cpu]: expected a Kubernetes quantity"],
        ),
        (
            ["metadata", "labels", "team"],
            7,
            ["metadata.labels[team]: expected str, got int 7"],
        ),
        (
            [*CONTAINER, "name"],
            _DELETE,
            ["spec.template.spec.containers[0].name: missing; a required field of V1Container"],
        ),
        (
            ["spec", "template", "spec", "containers"],
            _DELETE,
            ["spec.template.spec.containers: missing; a required field of V1PodSpec"],
        ),
        (["spec", "template"], _DELETE, ["spec.template: missing; a required field of V1JobSpec"]),
        (["kind"], "Deployment", ["kind: expected 'Job', got 'Deployment'"]),
        (["apiVersion"], "batch/v1beta1", ["apiVersion: expected 'batch/v1'"]),
    ],
)
def test_bad_manifests_are_rejected_naming_the_path(
    path: list[str | int], value: Any, fragments: list[str]
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        validate_manifest(_changed(path, value))

    for fragment in fragments:
        assert fragment in info.value.message


def test_validate_accepts_int_or_string_and_numeric_quantities() -> None:
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    manifest = _changed([*CONTAINER, "livenessProbe"], probe)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 0.5

    validate_manifest(manifest)


def test_submit_without_kube_config_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))

    with pytest.raises(InvalidParameterValue, match="no Kubernetes configuration found"):
        submit(render_job(_settings()), "ml")


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Kube config loading is a no-op; create_namespaced_job records the call and echoes."""
    from kubernetes import client, config

    calls: list[dict[str, Any]] = []

    def create(self: Any, namespace: str, body: dict[str, Any], **kwargs: Any) -> Any:
        calls.append({"namespace": namespace, "body": body})
        return client.V1Job(metadata=client.V1ObjectMeta(name=body["metadata"]["name"]))

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(config, "load_kube_config", lambda **kwargs: None)
    monkeypatch.setattr(client.BatchV1Api, "create_namespaced_job", create)
    return calls


def test_submit_creates_the_job_and_returns_its_name(fake_cluster: list[dict[str, Any]]) -> None:
    manifest = render_job(_settings())

    assert submit(manifest, "ml") == "tune-xgb-1"
    assert fake_cluster == [{"namespace": "ml", "body": manifest}]


def test_submit_refuses_a_namespace_other_than_the_manifests(
    fake_cluster: list[dict[str, Any]],
) -> None:
    with pytest.raises(InvalidParameterValue, match=r"metadata.namespace 'ml': differs"):
        submit(render_job(_settings()), "default")
    assert fake_cluster == []


@pytest.mark.parametrize(
    ("status", "reason", "expected", "fragment"),
    [
        (403, "Forbidden", InvalidParameterValue, "may create jobs.batch in ml (RBAC)"),
        (404, "Not Found", InvalidParameterValue, "check that the namespace ml exists"),
        (409, "Conflict", InvalidParameterValue, "already exists in ml"),
        (503, "Service Unavailable", ServiceUnavailable, "retry later"),
    ],
)
def test_submit_translates_api_errors(
    monkeypatch: pytest.MonkeyPatch,
    fake_cluster: list[dict[str, Any]],
    status: int,
    reason: str,
    expected: type[Exception],
    fragment: str,
) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    def create(self: Any, namespace: str, body: dict[str, Any], **kwargs: Any) -> Any:
        error = ApiException(status=status, reason=reason)
        error.body = json.dumps({"kind": "Status", "message": "jobs.batch said no"})
        raise error

    monkeypatch.setattr(client.BatchV1Api, "create_namespaced_job", create)

    with pytest.raises(expected) as info:
        submit(render_job(_settings()), "ml")

    message = str(info.value)
    assert f"Kubernetes answered {status} {reason}: jobs.batch said no" in message
    assert fragment in message


def test_submit_reports_an_unreachable_api_server(
    monkeypatch: pytest.MonkeyPatch, fake_cluster: list[dict[str, Any]]
) -> None:
    import urllib3
    from kubernetes import client

    def create(self: Any, namespace: str, body: dict[str, Any], **kwargs: Any) -> Any:
        raise urllib3.exceptions.MaxRetryError(None, "/apis/batch/v1", "connection refused")

    monkeypatch.setattr(client.BatchV1Api, "create_namespaced_job", create)

    with pytest.raises(ServiceUnavailable, match="cannot be reached"):
        submit(render_job(_settings()), "ml")
