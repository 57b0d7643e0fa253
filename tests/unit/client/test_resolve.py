"""Which tracking URI the SDK and CLI use when none is given."""

from __future__ import annotations

import logging

import pytest

from trainlab.client import resolve
from trainlab.client.resolve import DEFAULT_TRACKING_URI, ENV_TRACKING_URI, resolve_tracking_uri


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TRACKING_URI, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(resolve, "_warned_mlflow_uri", set())


def test_mlflows_variable_naming_a_server_is_pointed_out_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A team's scripts set MLFLOW_TRACKING_URI: trainlab does not read it, and says so."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://alice:pw@tracking:5000")
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        assert resolve_tracking_uri() == DEFAULT_TRACKING_URI
        assert resolve_tracking_uri() == DEFAULT_TRACKING_URI
        assert resolve_tracking_uri("sqlite:///other.db") == "sqlite:///other.db"
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "MLFLOW_TRACKING_URI is http://alice:***@tracking:5000" in warning
    assert f"Set {ENV_TRACKING_URI}=http://alice:***@tracking:5000" in warning
    assert "pw" not in warning


@pytest.mark.parametrize("theirs", ["", "file:./mlruns", "databricks"])
def test_no_word_when_mlflows_variable_names_no_server(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, theirs: str
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", theirs)
    monkeypatch.setenv(ENV_TRACKING_URI, "")
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        assert resolve_tracking_uri() == DEFAULT_TRACKING_URI
    assert caplog.records == []
