"""Input rules shared by the store, the server and the SDK. Each failure names the field and
says what was wrong; nothing is truncated silently."""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterable

from trainlab.exceptions import InvalidParameterValue

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
NOTE_TAG = "mlflow.note.content"  # the description of a run (or experiment), in Markdown
MAX_RUN_NAME_LENGTH = 250
MAX_USER_ID_LENGTH = 256
MAX_METRICS_PER_BATCH = 1000  # MLflow's log-batch limit, kept on its endpoint
MAX_PARAMS_TAGS_PER_BATCH = 100
BULK_METRICS_PER_BATCH = 50_000  # trainlab's own bulk endpoint and direct database writes
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1  # the largest experiment id (an INTEGER column on every database)

# Matched whole (fullmatch): "$" alone would let a final newline through.
_KEY_RE = re.compile(r"[/\w.\- :]*")
_RUN_ID_RE = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")


def validate_key(key: object, what: str = "key") -> str:
    """Metric, param and tag keys: <= 250 chars of letters, digits, ``_ - . / : space``, and
    a normalised relative path (no ``..``, no leading ``/``)."""
    if not isinstance(key, str):
        raise InvalidParameterValue(f"Invalid {what} {key!r}: expected a string.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameterValue(
            f"Invalid {what} '{key[:40]}...': {len(key)} characters, the limit is {MAX_KEY_LENGTH}."
        )
    if not key or not _KEY_RE.fullmatch(key):
        raise InvalidParameterValue(
            f"Invalid {what} {key!r}: names may only contain letters, digits, underscores, "
            "dashes, periods, slashes, colons and spaces, and must not be empty."
        )
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith(("..", "/")):
        raise InvalidParameterValue(
            f"Invalid {what} {key!r}: it must be a normalised relative path "
            "(no '..', '.', '//' segments or leading '/')."
        )
    return key


def validate_value(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValue(f"Invalid {what} {value!r}: expected a string.")
    if len(value) > limit:
        raise InvalidParameterValue(
            f"Invalid {what}: {len(value)} characters, the limit is {limit}. trainlab does not "
            "truncate values; store long text as an artifact instead."
        )
    check_no_nul(value, what)
    return value


def check_no_nul(value: str, what: str) -> None:
    """Text holds no NUL character: PostgreSQL cannot store one, so no backend takes it."""
    if "\x00" in value:
        raise InvalidParameterValue(
            f"Invalid {what}: it contains the NUL character (\\u0000), which text cannot hold."
        )


def validate_param_value(value: object, key: str) -> str:
    return validate_value(value, MAX_PARAM_VALUE_LENGTH, f"value for param '{key}'")


def validate_tag_value(value: object, key: str) -> str:
    """A run's (or logged model's) tag value; its description has an experiment's room."""
    limit = MAX_EXPERIMENT_TAG_VALUE_LENGTH if key == NOTE_TAG else MAX_TAG_VALUE_LENGTH
    return validate_value(value, limit, f"value for tag '{key}'")


def param_dict(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Checked (key, value) params as a dict; one key given twice must have one value."""
    values: dict[str, str] = {}
    for key, value in params:
        validate_key(key, "param key")
        validate_param_value(value, key)
        if values.get(key, value) != value:
            raise InvalidParameterValue(
                f"Param '{key}' appears twice in the request with different values "
                f"({values[key]!r} and {value!r})."
            )
        values[key] = value
    return values


def validate_int64(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(f"Invalid {what} {value!r}: expected an integer.")
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidParameterValue(f"Invalid {what} {value}: outside the 64-bit integer range.")
    return value


def validate_timestamp(value: object, what: str) -> int:
    """Milliseconds since the epoch: a 64-bit integer, not negative (MLflow's rule)."""
    ms = validate_int64(value, what)
    if ms < 0:
        raise InvalidParameterValue(
            f"Invalid {what} {ms}: timestamps are milliseconds since the epoch and cannot be "
            "negative."
        )
    return ms


def validate_metric_value(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # noqa: UP038 - faster
        raise InvalidParameterValue(
            f"Invalid value {value!r} for metric '{key}': expected a number."
        )
    return float(value)


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise InvalidParameterValue(f"Invalid run ID {run_id!r}: expected a 32-character hex id.")
    return run_id


# MLflow's rule: a logged model's name is a path segment of runs:/<run>/<name> URIs and more.
_LOGGED_MODEL_NAME_BAD = ("/", ":", ".", "%", '"', "'")


def validate_logged_model_name(name: object) -> str:
    """A logged model's name: MLflow's characters refused, at most 500 characters."""
    if not isinstance(name, str) or not name or any(c in name for c in _LOGGED_MODEL_NAME_BAD):
        raise InvalidParameterValue(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_LOGGED_MODEL_NAME_BAD} (e.g. "
            "model, clf_v2 or wine-model)."
        )
    return validate_value(name, 500, "logged model name")


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue(
            f"Invalid experiment name {name!r}: expected a non-empty string."
        )
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid experiment name: {len(name)} characters, the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}."
        )
    check_no_nul(name, "experiment name")
    return name


def validate_batch_sizes(
    n_metrics: int, n_params: int, n_tags: int, max_metrics: int = MAX_METRICS_PER_BATCH
) -> None:
    """At most ``max_metrics`` metrics, 100 params and 100 tags, and ``max_metrics`` items in
    all (MLflow's log-batch limits when ``max_metrics`` is 1000)."""
    if n_metrics > max_metrics:
        raise InvalidParameterValue(
            f"A batch can contain at most {max_metrics} metrics; got {n_metrics}. "
            "Split it into several calls."
        )
    for name, n in (("params", n_params), ("tags", n_tags)):
        if n > MAX_PARAMS_TAGS_PER_BATCH:
            raise InvalidParameterValue(
                f"A batch can contain at most {MAX_PARAMS_TAGS_PER_BATCH} {name}; got {n}. "
                "Split it into several calls."
            )
    total = n_metrics + n_params + n_tags
    if total > max_metrics:
        raise InvalidParameterValue(
            f"A batch can contain at most {max_metrics} metrics, params and tags "
            f"together; got {total}."
        )


def is_nan(value: float) -> bool:
    return math.isnan(value)
