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
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")
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


def resolve_under(root: Path, relative: str) -> Path:
    """``root / relative`` with symlinks resolved; refuses anything that lands outside root,
    or that cannot be resolved (a symlink loop)."""
    root = root.resolve()
    try:
        target = (root / relative).resolve() if relative else root
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise _invalid(relative, f"it cannot be resolved ({exc})") from None
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


def validate_artifact_location(location: str) -> str:
    """Experiment ``artifact_location``: no fragments, parameters, NULs or '..' segments."""
    if "\x00" in location or "#" in location or ";" in location:
        raise InvalidParameterValue(
            f"Invalid artifact_location {location!r}: '#', ';' and NUL are not allowed."
        )
    decoded = location
    for _ in range(_MAX_UNQUOTE):
        parts = urlsplit(decoded)
        if parts.query or parts.fragment:
            raise InvalidParameterValue(
                f"Invalid artifact_location {location!r}: query strings and fragments are not "
                "allowed."
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
