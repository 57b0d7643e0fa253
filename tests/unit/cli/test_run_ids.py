"""A run named by the start of its id, as tables show it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import typer

from trainlab.cli.common import full_run_id
from trainlab.entities import PagedList


class _Store:
    def __init__(self, run_ids: list[str]) -> None:
        self.run_ids = run_ids
        self.filters: list[str] = []

    def search_experiments(self, *_: Any, **__: Any) -> PagedList[Any]:
        return PagedList([SimpleNamespace(experiment_id="0", name="Default")], None)

    def search_runs(self, _ids: list[str], filter_string: str, **_: Any) -> PagedList[Any]:
        self.filters.append(filter_string)
        start = filter_string.split("'")[1].rstrip("%")
        runs = [SimpleNamespace(info=SimpleNamespace(run_id=r)) for r in self.run_ids]
        return PagedList([r for r in runs if r.info.run_id.startswith(start)], None)


def test_a_unique_start_names_its_run() -> None:
    store = _Store(["abcdef01" + "0" * 24, "abcdef02" + "0" * 24])
    assert full_run_id(store, "abcdef01") == "abcdef01" + "0" * 24
    assert store.filters == ["attributes.run_id LIKE 'abcdef01%'"]


def test_a_start_of_several_runs_is_refused() -> None:
    store = _Store(["abcdef01" + "0" * 24, "abcdef02" + "0" * 24])
    with pytest.raises(typer.Exit):
        full_run_id(store, "abcdef")


def test_a_start_shorter_than_6_is_refused() -> None:
    store = _Store(["abcdef01" + "0" * 24])
    with pytest.raises(typer.Exit):
        full_run_id(store, "abc")
    assert store.filters == []


@pytest.mark.parametrize("given", ["0" * 32, "not-hex-at-all", "ABCDEF01", "x' OR '1"])
def test_anything_else_is_taken_as_given(given: str) -> None:
    store = _Store(["abcdef01" + "0" * 24])
    assert full_run_id(store, given) == given
    assert store.filters == []
