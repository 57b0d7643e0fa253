"""Artifact path and location validation: MLflow's path-traversal CVEs as the test list."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.support.traversal import TRAVERSAL_PATHS

from trainlab.artifacts.paths import (
    join_location,
    resolve_under,
    validate_artifact_location,
    validate_artifact_path,
    validate_new_artifact_path,
)
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        ("model.pkl", "model.pkl"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("./a//b/", "a/b"),
        ("name with spaces.txt", "name with spaces.txt"),
        ("a%20b.txt", "a%20b.txt"),  # a literal file name; decoding is only used for checks
    ],
)
def test_safe_paths(path: str, expected: str) -> None:
    assert validate_artifact_path(path) == expected


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_traversal_is_rejected(path: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        validate_artifact_path(path)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "run").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "run" / "link.txt")
    os.symlink(tmp_path, root / "run" / "dir-link")
    with pytest.raises(InvalidParameterValue, match="outside"):
        resolve_under(root, "run/link.txt")
    with pytest.raises(InvalidParameterValue, match="outside"):
        resolve_under(root, "run/dir-link/secret.txt")
    assert resolve_under(root, "run") == (root / "run").resolve()


def test_new_names_and_paths_longer_than_storage_takes_are_refused() -> None:
    assert validate_new_artifact_path("x" * 255) == "x" * 255
    with pytest.raises(InvalidParameterValue, match="256 bytes long; the limit is 255"):
        validate_new_artifact_path("x" * 256)
    with pytest.raises(InvalidParameterValue, match="256 bytes long"):
        validate_new_artifact_path("a/" + "\u00e9" * 128)  # 2 bytes each in UTF-8
    with pytest.raises(InvalidParameterValue, match="longer than 1024 bytes") as err:
        validate_new_artifact_path("abc/" * 300 + "f")
    assert len(str(err.value)) < 300  # the message shows the start of the path only
    # Reading is not limited: what an object store or an older release holds stays readable.
    assert validate_artifact_path("abc/" * 300) == "/".join(["abc"] * 300)


def test_a_name_no_filesystem_takes_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFound, match="no file path is that long"):
        resolve_under(tmp_path, "x" * 256)
    with pytest.raises(ResourceNotFound, match="no file path is that long"):
        resolve_under(tmp_path, "/".join(["y" * 200] * 21))  # over 4096 bytes
    assert resolve_under(tmp_path, "/".join(["z" * 250] * 5)) == tmp_path.resolve() / "/".join(
        ["z" * 250] * 5
    )


def test_a_symlink_loop_cannot_be_resolved(tmp_path: Path) -> None:
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    with pytest.raises(InvalidParameterValue, match="cannot be resolved") as refused:
        resolve_under(tmp_path, "loop/x")
    assert str(tmp_path) not in refused.value.message  # no server path in the message


@pytest.mark.parametrize(
    "location",
    [
        "s3://bucket/prefix",
        "mlflow-artifacts:/experiments",
        "file:///srv/artifacts/exp",
        "/srv/artifacts/exp",
    ],
)
def test_safe_locations(location: str) -> None:
    assert validate_artifact_location(location) == location


@pytest.mark.parametrize(
    "location",
    [
        "http:///#/../../../etc/",  # CVE-2024-1483
        "file:///srv/a#frag",
        "s3://bucket/a/../../b",
        "file:///srv/%2e%2e/etc",
        "file:///srv/%252e%252e/etc",
        "mlflow-artifacts:/%2525252e%2525252e",  # too many levels of encoding to check
        "s3://bucket/x;param",
        "s3://bucket/x?query=1",
        "file:///srv/a\x00b",
        "mlflow-artifacts:/x%00y",  # a NUL once decoded: every artifact call would refuse it
        "mlflow-artifacts:/x%2500y",
        "file:///srv\\..\\etc",
        "runs:/0123/model",  # names a run's files, not a place for new ones
        "models:/m-0123",
        "  ",  # runs' files would go to "  /<run>/artifacts", relative to each client
        " /srv/a",
        "rel/path",
        "file:relative",
        "C:\\data",
    ],
)
def test_unsafe_locations(location: str) -> None:
    with pytest.raises(InvalidParameterValue, match="artifact_location"):
        validate_artifact_location(location)


@pytest.mark.parametrize(
    ("location", "joined"),
    [
        ("mlflow-artifacts:/", "mlflow-artifacts:/RUN/artifacts"),  # not mlflow-artifacts://RUN
        ("mlflow-artifacts:", "mlflow-artifacts:/RUN/artifacts"),
        ("mlflow-artifacts:/1", "mlflow-artifacts:/1/RUN/artifacts"),
        ("file:///", "file:///RUN/artifacts"),
        ("file:///srv/exp/", "file:///srv/exp/RUN/artifacts"),
        ("/", "/RUN/artifacts"),
        ("s3://bucket", "s3://bucket/RUN/artifacts"),
        ("s3://bucket//", "s3://bucket/RUN/artifacts"),
    ],
)
def test_join_location_puts_one_slash_between(location: str, joined: str) -> None:
    assert join_location(location, "RUN", "artifacts") == joined


@pytest.mark.parametrize("name", ["tab\tname.txt", "line\nbreak.txt", "cr\r.txt", "del\x7f.txt"])
def test_new_names_with_control_characters_are_refused(name: str) -> None:
    # URL parsers drop tabs and line breaks: such a file could not be read back by name.
    with pytest.raises(InvalidParameterValue, match="contains the control character"):
        validate_new_artifact_path(f"sub/{name}")
    assert validate_artifact_path(f"sub/{name}") == f"sub/{name}"  # an old one stays readable
