"""Tuning workers as a Kubernetes *Indexed Job*: each pod runs one trial slot of an Optuna study
and reads its slot from ``JOB_COMPLETION_INDEX``, which Kubernetes sets in Indexed mode. The
tracking URI and credentials come from a Secret (``envFrom``). ``render_job`` builds and checks
the manifest, ``manifest_yaml`` prints it for ``kubectl apply -f -``, ``submit`` creates it.
``backoffLimitPerIndex`` (a retry budget per slot) needs Kubernetes 1.29 or newer.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from trainlab.exceptions import InvalidParameterValue, ServiceUnavailable, TrainlabError

_BASE_LABELS = {"app.kubernetes.io/name": "trainlab", "app.kubernetes.io/component": "tune-worker"}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_QUANTITY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[eE][+-]?\d+|[numkMGTPE])?")
_INDEX_VAR = "JOB_COMPLETION_INDEX"
# Kubernetes Quantities, which the generated client types as plain strings: YAML may give numbers.
_QUANTITY_FIELDS = {
    "V1ResourceRequirements": ("limits", "requests"),
    "V1VolumeResourceRequirements": ("limits", "requests"),
    "V1PodSpec": ("overhead",),
    "V1EmptyDirVolumeSource": ("size_limit",),
    "V1ResourceFieldSelector": ("divisor",),
}


@dataclass(frozen=True)
class JobSettings:
    """What the tuning Job runs and with which resources. ``name`` and ``namespace`` are DNS-1123
    labels; ``cpu``/``memory`` (quantities such as ``"500m"``, ``"4Gi"``) and ``gpu``
    (``nvidia.com/gpu``) are both request and limit; every key of the Secret ``secret`` becomes an
    environment variable; ``completions`` is the number of trial slots, ``parallelism`` the pods
    at once, ``backoff_limit_per_index`` the retries of one slot; ``labels`` go on the Job and
    its pods next to trainlab's own."""

    name: str
    image: str
    command: list[str]
    completions: int
    parallelism: int
    namespace: str = "default"
    cpu: str | None = None
    memory: str | None = None
    gpu: int = 0
    secret: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    backoff_limit_per_index: int = 2
    max_failed_indexes: int | None = None
    service_account: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ttl_seconds_after_finished: int | None = 86400


# ---- rendering -------------------------------------------------------------------------------


def render_job(settings: JobSettings) -> dict[str, Any]:
    """The batch/v1 Indexed Job manifest (plain dicts, camelCase keys) for ``settings``.

    Raises ``InvalidParameterValue`` naming the first setting Kubernetes would reject."""
    _check_settings(settings)
    spec: dict[str, Any] = {
        "completionMode": "Indexed",
        "completions": settings.completions,
        "parallelism": settings.parallelism,
        "backoffLimitPerIndex": settings.backoff_limit_per_index,
    }
    if settings.max_failed_indexes is not None:
        spec["maxFailedIndexes"] = settings.max_failed_indexes
    if settings.ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = settings.ttl_seconds_after_finished
    pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [_container(settings)]}
    if settings.service_account is not None:
        pod_spec["serviceAccountName"] = settings.service_account
    labels = {**_BASE_LABELS, **settings.labels}
    spec["template"] = {"metadata": {"labels": dict(labels)}, "spec": pod_spec}
    metadata = {"name": settings.name, "namespace": settings.namespace, "labels": labels}
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}
    validate_manifest(manifest)
    return manifest


def _container(settings: JobSettings) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "worker",
        "image": settings.image,
        "command": list(settings.command),
    }
    if settings.env:
        container["env"] = [{"name": k, "value": settings.env[k]} for k in sorted(settings.env)]
    if settings.secret is not None:
        container["envFrom"] = [{"secretRef": {"name": settings.secret}}]
    quantities = (("cpu", settings.cpu), ("memory", settings.memory))
    amounts: dict[str, str | int] = {k: v for k, v in quantities if v is not None}
    if settings.gpu > 0:
        amounts["nvidia.com/gpu"] = settings.gpu
    if amounts:
        container["resources"] = {"requests": dict(amounts), "limits": dict(amounts)}
    return container


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as YAML text in its own key order, without YAML anchors/aliases."""
    import yaml

    return str(yaml.safe_dump(_unshare(manifest), sort_keys=False))


def _unshare(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unshare(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshare(v) for v in value]
    return value


# ---- settings checks -------------------------------------------------------------------------


def _check_settings(s: JobSettings) -> None:
    _check_name("name", s.name, "a Job name", _DNS_LABEL, 63)
    _check_name("namespace", s.namespace, "a namespace", _DNS_LABEL, 63)
    if not s.image or any(ch.isspace() for ch in s.image):
        raise InvalidParameterValue(
            f"image {s.image!r}: must be a non-empty image reference without spaces"
        )
    if not s.command or not all(isinstance(a, str) for a in s.command) or not s.command[0]:
        raise InvalidParameterValue(
            f"command {s.command!r}: must be a non-empty list of strings, the program first"
        )
    for name, value, low in (
        ("completions", s.completions, 1),
        ("parallelism", s.parallelism, 1),
        ("gpu", s.gpu, 0),
        ("backoff_limit_per_index", s.backoff_limit_per_index, 0),
        ("max_failed_indexes", s.max_failed_indexes, 0),
        ("ttl_seconds_after_finished", s.ttl_seconds_after_finished, 0),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidParameterValue(f"{name} {value!r}: must be an integer")
        if value is not None and value < low:
            raise InvalidParameterValue(f"{name} {value!r}: must be >= {low}")
    if s.max_failed_indexes is not None and s.max_failed_indexes > s.completions:
        raise InvalidParameterValue(
            f"max_failed_indexes {s.max_failed_indexes}: must not exceed completions "
            f"({s.completions})"
        )
    for name, quantity in (("cpu", s.cpu), ("memory", s.memory)):
        if quantity is not None and not _QUANTITY.fullmatch(quantity):
            raise InvalidParameterValue(
                f"{name} {quantity!r}: not a Kubernetes quantity (e.g. '500m', '2', '4Gi')"
            )
    if s.secret is not None:
        _check_name("secret", s.secret, "a Secret name", _DNS_SUBDOMAIN, 253)
    if s.service_account is not None:
        _check_name("service_account", s.service_account, "a service account", _DNS_SUBDOMAIN, 253)
    _check_env(s.env)
    _check_labels(s.labels)


def _check_name(setting: str, value: str, what: str, pattern: re.Pattern[str], limit: int) -> None:
    if len(value) <= limit and pattern.fullmatch(value):
        return
    kind = "label" if pattern is _DNS_LABEL else "subdomain"
    raise InvalidParameterValue(
        f"{setting} {value!r}: {what} must be a DNS-1123 {kind} (lowercase letters, digits and "
        f"'-'{', dots between parts' if kind == 'subdomain' else ''}, starting and ending with a "
        f"letter or digit, at most {limit} characters)"
    )


def _check_env(env: dict[str, str]) -> None:
    for name, value in env.items():
        if not _ENV_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"env[{name!r}]: not a valid variable name (letters, digits, '_', '-', '.')"
            )
        if name == _INDEX_VAR:
            raise InvalidParameterValue(f"env[{name!r}]: reserved; Kubernetes sets it per pod")
        if not isinstance(value, str):
            raise InvalidParameterValue(f"env[{name!r}]: the value must be a string, got {value!r}")


def _check_labels(labels: dict[str, str]) -> None:
    for key, value in labels.items():
        if key in _BASE_LABELS:
            raise InvalidParameterValue(
                f"labels[{key!r}]: reserved; trainlab sets it to {_BASE_LABELS[key]!r}"
            )
        prefix, slash, name = key.rpartition("/")
        bad_prefix = bool(slash) and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix))
        if bad_prefix or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"labels[{key!r}]: not a label key (an optional DNS subdomain and '/', then up "
                "to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric)"
            )
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_NAME.fullmatch(value or "a"):
            raise InvalidParameterValue(
                f"labels[{key!r}]: value {value!r} must be a string of up to 63 letters, digits, "
                "'-', '_' or '.', starting and ending alphanumeric"
            )


# ---- schema validation -----------------------------------------------------------------------


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Check a Job manifest against the Kubernetes API schema (the official client's models):
    unknown fields, wrong types and missing required fields raise ``InvalidParameterValue``
    naming the path, e.g. ``spec.template.spec.containers[0].image``."""
    if not isinstance(manifest, dict):
        raise InvalidParameterValue(f"manifest: expected a mapping, got {type(manifest).__name__}")
    for key, expected in (("apiVersion", "batch/v1"), ("kind", "Job")):
        if manifest.get(key) != expected:
            raise InvalidParameterValue(f"{key}: expected {expected!r}, got {manifest.get(key)!r}")
    _check_model(manifest, "V1Job", "")


def _check_model(value: Any, model: str, path: str) -> None:
    from kubernetes import client

    if not isinstance(value, dict):
        raise _wrong_type(path, model, value)
    cls = getattr(client.models, model)
    attr_by_key = {key: attr for attr, key in cls.attribute_map.items()}
    for key, item in value.items():
        attr = attr_by_key.get(key)
        if attr is None:
            close = difflib.get_close_matches(str(key), list(attr_by_key), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterValue(f"{_join(path, key)}: not a field of {model}{hint}")
        if item is not None:
            _check_value(item, _field_type(model, attr, cls.openapi_types[attr]), _join(path, key))
    for attr in _required_attrs(model):
        if value.get(cls.attribute_map[attr]) is None:
            raise InvalidParameterValue(
                f"{_join(path, cls.attribute_map[attr])}: missing; a required field of {model}"
            )


def _check_value(value: Any, type_: str, path: str) -> None:
    if type_.startswith(("list[", "dict[")):
        inner = type_[5:-1] if type_.startswith("list[") else type_.split(", ", 1)[1][:-1]
        if not isinstance(value, list if type_.startswith("list[") else dict):
            raise _wrong_type(path, type_, value)
        items = enumerate(value) if isinstance(value, list) else value.items()
        for index, item in items:
            _check_value(item, inner, f"{path}[{index}]")
    elif type_ in _PRIMITIVES:
        if not _PRIMITIVES[type_](value):
            raise _wrong_type(path, type_, value)
    else:
        _check_model(value, type_, path)


def _field_type(model: str, attr: str, type_: str) -> str:
    if attr not in _QUANTITY_FIELDS.get(model, ()):
        return type_
    return type_.replace(", str]", ", quantity]") if type_.startswith("dict[") else "quantity"


def _is_time(value: Any) -> bool:
    try:
        return isinstance(value, date) or bool(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, str | int | float | bool | dict | list),
    "datetime": _is_time,
    "date": _is_time,
    "quantity": lambda v: _is_number(v) or (isinstance(v, str) and bool(_QUANTITY.fullmatch(v))),
}


def _wrong_type(path: str, type_: str, value: Any) -> InvalidParameterValue:
    expected = (
        "a Kubernetes quantity (e.g. '500m', '4Gi' or a number)" if type_ == "quantity" else type_
    )
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return InvalidParameterValue(
        f"{path or 'manifest'}: expected {expected}, got {type(value).__name__} {shown}"
    )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


@functools.cache
def _required_attrs(model: str) -> tuple[str, ...]:
    """The attributes whose generated setter rejects None under client-side validation: exactly
    the fields the client's model constructor requires."""
    from kubernetes import client

    cls = getattr(client.models, model)
    probe = cls.__new__(cls)
    probe.local_vars_configuration = client.Configuration()
    probe.local_vars_configuration.client_side_validation = True
    required: list[str] = []
    for attr in cls.openapi_types:
        try:
            setattr(probe, attr, None)
        except ValueError:
            required.append(attr)
    return tuple(required)


# ---- submission ------------------------------------------------------------------------------


def submit(manifest: dict[str, Any], namespace: str) -> str:
    """Create the Job in ``namespace`` (in-cluster service account inside a pod, else the kube
    config in ``KUBECONFIG`` or ``~/.kube/config``) and return the created Job's name."""
    import urllib3
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    validate_manifest(manifest)
    _check_name("namespace", namespace, "a namespace", _DNS_LABEL, 63)
    own = (manifest.get("metadata") or {}).get("namespace")
    if own not in (None, namespace):
        raise InvalidParameterValue(
            f"metadata.namespace {own!r}: differs from the namespace {namespace!r} submitted to"
        )
    _load_config()
    try:
        with client.ApiClient() as api:
            created = client.BatchV1Api(api).create_namespaced_job(namespace, manifest)
    except ApiException as exc:
        raise _api_error(exc, namespace) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise ServiceUnavailable(f"the Kubernetes API server cannot be reached: {exc}") from exc
    return str(created.metadata.name)


def _load_config() -> None:
    from kubernetes import config

    try:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
        else:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG", "~/.kube/config"))
    except config.ConfigException as exc:
        raise InvalidParameterValue(
            f"no Kubernetes configuration found: {exc} (set KUBECONFIG to a kube config file, "
            "or run inside a cluster with a service account)"
        ) from exc


_HINTS = {
    401: "check the credentials of the current kube context",
    403: "check that your user or service account may create jobs.batch in {ns} (RBAC)",
    404: "check that the namespace {ns} exists",
    409: "a Job of that name already exists in {ns}; delete it or pick another name",
    422: "the API server rejected a field of the manifest; fix the field it names",
}


def _api_error(exc: Any, namespace: str) -> TrainlabError:
    status = int(exc.status or 0)
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {"message": str(exc.body)}
    detail = body.get("message", "") if isinstance(body, dict) else str(body)
    text = f"Kubernetes answered {status} {exc.reason}: {detail}"
    if status == 0 or status == 429 or status >= 500:
        return ServiceUnavailable(f"{text}; the API server is unavailable, retry later")
    hint = _HINTS.get(status, "check the manifest and the namespace {ns}").format(ns=namespace)
    return InvalidParameterValue(f"{text}; {hint}")
