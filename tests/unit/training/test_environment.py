"""Installed packages as a run records them: read from folder names where they hold the name
and version, from the metadata otherwise, and the same either way."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from trainlab.training.environment import installed_packages


def _from_metadata() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-").replace(".", "-")
        if name:
            out.setdefault(name, dist.version)
    return out


def test_packages_match_their_metadata() -> None:
    packages = installed_packages()
    assert packages == _from_metadata()
    assert packages["pytest"] == pytest.__version__
    assert list(packages) == sorted(packages)


def test_layouts_without_a_version_in_the_folder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = tmp_path / "Foo_Bar-1.2.3+cpu.dist-info"
    wheel.mkdir()
    (wheel / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2.3+cpu\n")
    egg = tmp_path / "weird.egg-info"  # an old-style install: no version in the folder name
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Weird.Pkg\nVersion: 3.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    packages = installed_packages()
    assert packages["foo-bar"] == "1.2.3+cpu"
    assert packages["weird-pkg"] == "3.0"
    assert packages == _from_metadata()
