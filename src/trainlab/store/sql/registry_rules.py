"""Input rules of the model registry: model and alias names, tags, and model version sources.

Source validation closes the model-version LFI/traversal CVEs of MLflow (CVE-2023-1176/1177/
2356/2780, CVE-2024-1483/1558/2928/3573, CVE-2025-11201, CVE-2026-2614): traversal in any
URL-decoding, fragments, ``;`` parameters, NULs and backslashes are refused; a ``runs:/`` source
must name the version's run; a local or ``file:`` source must lie under the artifact folder of
the version's run (or logged model)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from trainlab.artifacts.paths import check_uri, validate_artifact_path
from trainlab.entities.logged_model import LOGGED_MODEL_ID
from trainlab.entities.registry import LINEAGE_TAG_PREFIX, PROMPT_SOURCES, STAGES
from trainlab.exceptions import InvalidParameterValue
from trainlab.validation import validate_key, validate_value

MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_DESCRIPTION_LENGTH = 100_000
_ALIAS_RE = re.compile(r"[\w\-]*")  # matched whole: "$" would let a final newline through
_RESERVED_ALIAS_RE = re.compile(r"v\d+", re.IGNORECASE)
_MAX_UNQUOTE = 4


def validate_model_name(name: object, what: str = "registered model name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue(f"Invalid {what} {name!r}: expected a non-empty string.")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid {what}: {len(name)} characters, the limit is {MAX_MODEL_NAME_LENGTH}."
        )
    if "/" in name or ":" in name:
        raise InvalidParameterValue(
            f"Invalid {what} {name!r}: names cannot contain '/' or ':' (they are separators in "
            "models:/ URIs)."
        )
    return name


def validate_new_model_name(name: object, what: str = "registered model name") -> str:
    """A name a model is given (created or renamed); lookups take what older releases allowed,
    so that such a model can still be renamed."""
    name = validate_model_name(name, what)
    if name == "." or name.startswith(".."):
        raise InvalidParameterValue(
            f"Invalid {what} {name!r}: a name cannot be '.' or start with '..' (a name is also "
            "a folder's)."
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidParameterValue(
            f"Invalid {what} {name!r}: names cannot contain control characters (line breaks, tabs)."
        )
    return name


def validate_alias(alias: object) -> str:
    if not isinstance(alias, str) or not alias:
        raise InvalidParameterValue(f"Invalid alias {alias!r}: expected a non-empty string.")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameterValue(
            f"Invalid alias: {len(alias)} characters, the limit is {MAX_ALIAS_LENGTH}."
        )
    if not _ALIAS_RE.fullmatch(alias):
        raise InvalidParameterValue(
            f"Invalid alias {alias!r}: aliases may only contain letters, digits, underscores "
            "and dashes."
        )
    if alias.lower() == "latest" or _RESERVED_ALIAS_RE.fullmatch(alias):
        raise InvalidParameterValue(
            f"Invalid alias {alias!r}: 'latest' and 'v<number>' are reserved version aliases."
        )
    return alias


def validate_registry_tag(key: object, value: object) -> None:
    validate_key(key, "tag key")
    validate_value(value, MAX_REGISTRY_TAG_VALUE_LENGTH, f"value for tag {key!r}")


def validate_description(description: object) -> str:
    return validate_value(description, MAX_DESCRIPTION_LENGTH, "description")


def canonical_stage(stage: object) -> str:
    """MLflow's stage names, matched case-insensitively."""
    for s in STAGES:
        if isinstance(stage, str) and stage.lower() == s.lower():
            return s
    raise InvalidParameterValue(
        f"Invalid model version stage {stage!r}: use one of {', '.join(STAGES)}."
    )


def parse_version(version: object) -> int:
    """A version number, also given as a string (the wire format)."""
    if isinstance(version, bool):
        version = None
    if isinstance(version, str) and version.strip().isascii() and version.strip().isdigit():
        version = int(version)
    if not isinstance(version, int) or version < 1 or version > 2**31 - 1:
        raise InvalidParameterValue(
            f"Invalid model version {version!r}: expected a positive integer."
        )
    return version


def invalid_source(source: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid model version source {source!r}: {why}.")


def check_source_safe(source: object) -> str:
    """No traversal, fragment, parameter, NUL or backslash in ``source`` or any decoding of it."""
    if not isinstance(source, str) or not source:
        raise InvalidParameterValue(f"Invalid model version source {source!r}: it is empty.")
    current = source
    for _ in range(_MAX_UNQUOTE):
        if "\x00" in current:
            raise invalid_source(source, "it contains a NUL byte")
        if "\\" in current:
            raise invalid_source(source, "backslashes are not allowed")
        decoded = unquote(current)
        if decoded == current:
            break
        current = decoded
    else:
        raise invalid_source(source, "too many levels of URL encoding")
    try:
        check_uri(source)
    except InvalidParameterValue as exc:
        raise invalid_source(source, exc.message.partition(": ")[2].rstrip(".")) from None
    return source


def check_prompt_source(source: object) -> None:
    if source not in PROMPT_SOURCES:
        raise InvalidParameterValue(
            f"Invalid prompt source {source!r}: a prompt version's source must be one of "
            f"MLflow's placeholders {', '.join(map(repr, PROMPT_SOURCES))} (its template is kept "
            "in the version's tag 'mlflow.prompt.text')."
        )


def is_local_source(source: str) -> bool:
    scheme = urlsplit(source).scheme
    return scheme in ("", "file") or len(scheme) == 1  # a drive letter is a local path too


def local_path(uri: str) -> str | None:
    """The filesystem path of a local or ``file:`` URI; None for other schemes."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return unquote(parts.path)
    if parts.scheme == "":
        return unquote(uri)
    return None


def is_under(path: str, root: str) -> bool:
    if not path.startswith("/") or not root.startswith("/"):
        return False
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def runs_source(source: str) -> tuple[str, str] | None:
    """``(run_id, relative path)`` of a ``runs:/<run_id>/<path>`` source; None otherwise."""
    if not source.startswith("runs:"):
        return None
    rest = source[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise invalid_source(source, "expected runs:/<run_id>/<path>")
    try:
        return run_id, validate_artifact_path(path)
    except InvalidParameterValue as exc:
        raise invalid_source(source, exc.message.partition(": ")[2].rstrip(".")) from None


def logged_model_source(source: str) -> tuple[str, str] | None:
    """``(model_id, relative path)`` of a ``models:/m-<32 hex digits>[/path]`` source; None
    otherwise (a registered model may be named ``m-...`` too)."""
    if not source.startswith("models:/m-"):
        return None
    rest = source[len("models:/") :]
    model_id, _, path = rest.partition("/")
    if not LOGGED_MODEL_ID.fullmatch(model_id):
        return None
    try:
        return model_id, validate_artifact_path(path)
    except InvalidParameterValue as exc:
        raise invalid_source(source, exc.message.partition(": ")[2].rstrip(".")) from None


def registered_version_source(source: str) -> tuple[str, str] | None:
    """``(model name, version)`` of a ``models:/<name>/<version>`` source (the version may be a
    stage or ``latest``), or ``(name, "@alias")`` of ``models:/<name>@<alias>``; None for other
    sources (``models:/m-<id>`` is a logged model)."""
    if not source.startswith("models:/") or logged_model_source(source) is not None:
        return None
    rest = source[len("models:/") :]
    if "/" not in rest and "@" in rest:
        name, _, alias = rest.rpartition("@")
        return name, "@" + alias
    name, _, version = rest.partition("/")
    if not name or not version or "/" in version:
        raise invalid_source(
            source,
            "expected models:/<name>/<version, stage or 'latest'>, models:/<name>@<alias> or "
            "models:/m-<id>",
        )
    return name, version


def check_local_source(source: str, roots: list[str]) -> None:
    """A local source must lie under one of ``roots`` (the run's or logged model's artifact
    location, when those are local)."""
    path = local_path(source)
    if path is None:
        raise invalid_source(source, "unsupported local source")
    for root in roots:
        root_path = local_path(root)
        if root_path is not None and is_under(path, root_path):
            return
    if not roots:
        raise invalid_source(
            source,
            "a local source needs the run_id (or model_id) whose artifacts it lies in",
        )
    raise invalid_source(
        source, "a local source must lie inside the artifact folder of its run or logged model"
    )


def check_max_results(max_results: int, limit: int) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results!r} for parameter 'max_results': expected a positive "
            "integer."
        )
    if max_results > limit:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results': the limit is {limit}."
        )


def check_tag_key_writable(key: str) -> None:
    if key.startswith(LINEAGE_TAG_PREFIX):
        raise InvalidParameterValue(
            f"Tag {key!r} is reserved: '{LINEAGE_TAG_PREFIX}*' tags record a version's lineage "
            "and are set by trainlab."
        )
