"""The one place where artifact paths and locations sent by clients are validated.

Rejected (each a past MLflow CVE): ``..`` segments, also when URL-encoded once or twice;
backslashes; absolute paths and drive letters; NUL bytes; ``#`` fragments; ``;`` parameters.
After that, ``resolve_under`` makes sure the resolved path, symlinks followed, stays inside the
artifact root. A new file's path (``validate_new_artifact_path``) must also fit what
filesystems and object stores take, and hold no control character (a tab or line break, which
URL parsers drop: the file could not be read back).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from trainlab.exceptions import InvalidParameterValue, ResourceNotFound

_DRIVE = re.compile(r"^[a-zA-Z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_UNQUOTE = 4
MAX_NAME_BYTES = 255  # a file or folder name (Linux, macOS, Windows)
MAX_PATH_BYTES = 1024  # a whole path (S3's key limit)
_MAX_FS_PATH_BYTES = 4096  # Linux's PATH_MAX: no file's absolute path is longer
_SHOWN = 200  # characters of a rejected path the message shows


def _shown(path: str) -> str:
    """``path`` for a message: its start only when it is long."""
    return path if len(path) <= _SHOWN else f"{path[:_SHOWN]}..."


def _invalid(path: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid path {_shown(path)!r}: {why}.")


def _check_once(path: str, original: str) -> None:
    if "\x00" in path:
        raise _invalid(original, "it contains a NUL byte")
    if "\\" in path:
        raise _invalid(original, "backslashes are not allowed")
    if "#" in path or ";" in path:
        raise _invalid(original, "'#' and ';' are not allowed in artifact paths")
    if path.startswith("/") or _DRIVE.match(path):
        raise _invalid(original, "it must be relative to the artifact root")
    if any(part == ".." for part in path.split("/")):
        raise _invalid(original, "'..' segments are not allowed")


def check_url_path(url_path: str) -> None:
    """A request's URL path (decoded) holds no control character: a route's ``{path:path}``
    drops a final line break, so ``x.txt%0A`` would act on ``x.txt``."""
    if control := _CONTROL.search(url_path):
        raise InvalidParameterValue(
            f"Invalid URL path {_shown(url_path)!r}: it contains the control character "
            f"{control.group()!r}."
        )


def validate_artifact_path(path: str) -> str:
    """``path`` as a normalised relative POSIX path ('' for the root). Every URL-decoding of it
    is checked too, so no layer that decodes it later can turn it into a traversal; the path
    itself is kept as given (a file may be named ``a%20b.txt``)."""
    current = path
    for _ in range(_MAX_UNQUOTE):
        _check_once(current, path)
        decoded = unquote(current)
        if decoded == current:
            break
        current = decoded
    else:
        raise _invalid(path, "too many levels of URL encoding")
    parts = [p for p in PurePosixPath(path).parts if p not in (".", "")]
    return "/".join(parts)


def validate_new_artifact_path(path: str) -> str:
    """``validate_artifact_path`` for a file about to be written: also no name over 255 bytes
    and no path over 1,024 (what filesystems and S3 take), so that the write cannot fail on its
    storage's limits."""
    relative = validate_artifact_path(path)
    if relative and path.rsplit("/", 1)[-1] in ("", "."):
        raise _invalid(path, "it ends in '/' or '/.', so it names a folder: give a file name")
    if control := _CONTROL.search(relative):
        raise _invalid(
            path,
            f"it contains the control character {control.group()!r}; clients drop tabs and "
            "line breaks from URLs, so the file could not be read back",
        )
    longest = max((len(p.encode()) for p in relative.split("/")), default=0)
    if longest > MAX_NAME_BYTES:
        raise _invalid(path, f"a name in it is {longest} bytes long; the limit is {MAX_NAME_BYTES}")
    if len(relative.encode()) > MAX_PATH_BYTES:
        raise _invalid(path, f"it is longer than {MAX_PATH_BYTES} bytes")
    return relative


def validate_file_path(path: str, new: bool = False) -> str:
    """``validate_artifact_path`` (``validate_new_artifact_path`` when ``new``) of a path that
    must name a file: not the root."""
    relative = (validate_new_artifact_path if new else validate_artifact_path)(path)
    if not relative:
        raise _invalid(path, "it names the root folder; an artifact needs a file name")
    return relative


def resolve_under(root: Path, relative: str) -> Path:
    """``root / relative`` with symlinks resolved; refuses anything that lands outside root,
    or that cannot be resolved (a symlink loop)."""
    root = root.resolve()
    try:
        target = (root / relative).resolve() if relative else root
    except RuntimeError:  # a symlink loop (Python < 3.13)
        raise _invalid(relative, "it cannot be resolved (a symlink loop)") from None
    except OSError as exc:  # the reason only: the message names no server path
        raise _invalid(relative, f"it cannot be resolved ({exc.strerror})") from None
    if target != root and not target.is_relative_to(root):
        raise _invalid(relative, "it resolves outside the artifact root")
    return possible(target, relative)


def possible(path: Path, relative: str) -> Path:
    """``path``, if a filesystem can hold it; else no such artifact exists (the filesystem's
    own error, ENAMETOOLONG, would be a 500)."""
    too_long = len(os.fsencode(path)) >= _MAX_FS_PATH_BYTES
    if too_long or any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
        raise ResourceNotFound(
            f"Artifact {_shown(relative)!r} not found: no file path is that long."
        )
    return path


PROXY_SCHEME = "mlflow-artifacts:"


def proxied_path(uri: str) -> str | None:
    """The path below the serving root of a ``mlflow-artifacts:`` URI (``mlflow-artifacts:/1/abc``
    and ``mlflow-artifacts://host:port/1/abc`` -> ``1/abc``); None for other URIs."""
    if not uri.startswith(PROXY_SCHEME):
        return None
    rest = uri[len(PROXY_SCHEME) :]
    if rest.startswith("//"):  # a host names the server; the path after it is what counts
        rest = rest[2:].partition("/")[2]
    return rest.lstrip("/")


def join_location(location: str, *names: str) -> str:
    """``names`` below an artifact location, one '/' between: ``mlflow-artifacts:/`` + run ->
    ``mlflow-artifacts:/RUN``, where a plain join would give ``mlflow-artifacts://RUN``, whose RUN
    is a host name that readers drop (every run of the experiment would share one folder)."""
    tail = "/".join(names)
    stripped = location.rstrip("/")
    if stripped and not stripped.endswith(":"):
        return f"{stripped}/{tail}"
    # only a scheme or a root: keep the slashes it has ("file:///", "mlflow-artifacts:/", "/")
    return f"{location}{tail}" if location.endswith("/") else f"{location}/{tail}"


_PLACES = "an absolute folder (/data/artifacts), a file:/// URI or a bucket URI (s3://b/p)"


def validate_artifact_location(location: str) -> str:
    """Experiment ``artifact_location``: an absolute folder or a URI that passes ``check_uri``
    (a relative one would be relative to whichever client or server process reads it)."""
    if location != location.strip():
        what = "is blank" if not location.strip() else "has leading or trailing spaces"
        raise InvalidParameterValue(
            f"Invalid artifact_location {location!r}: it {what}; give {_PLACES}, or none for "
            "the server's default."
        )
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in ("runs", "models"):
        raise InvalidParameterValue(
            f"Invalid artifact_location {location!r}: runs:/ and models:/ URIs name a run's or "
            "a model's files, not a place to store them; give a folder or bucket URI."
        )
    if len(scheme) <= 1:  # a path (a one-letter scheme is a Windows drive: C:\data)
        absolute = location.startswith("/")
    else:
        absolute = scheme != "file" or parts.path.startswith("/")
    if not absolute:
        raise InvalidParameterValue(
            f"Invalid artifact_location {location!r}: not an absolute path; a relative one "
            f"would be relative to whichever process reads it. Give {_PLACES}."
        )
    return check_uri(location)


def check_uri(location: str) -> str:
    """No fragments, parameters, NULs or '..' segments in ``location``, nor in any decoding of
    it (the message calls it an artifact_location; model version sources reword it)."""
    decoded = location
    for _ in range(_MAX_UNQUOTE):
        if "\x00" in decoded or "#" in decoded or ";" in decoded:
            raise InvalidParameterValue(
                f"Invalid artifact_location {location!r}: '#', ';' and NUL are not allowed."
            )
        parts = urlsplit(decoded)
        if parts.query:
            raise InvalidParameterValue(
                f"Invalid artifact_location {location!r}: query strings are not allowed."
            )
        if any(seg == ".." for seg in re.split(r"[/\\]", parts.path)):
            raise InvalidParameterValue(
                f"Invalid artifact_location {location!r}: '..' segments are not allowed."
            )
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        decoded = nxt
    else:
        raise InvalidParameterValue(
            f"Invalid artifact_location {location!r}: too many levels of URL encoding."
        )
    return location
