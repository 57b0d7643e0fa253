"""The fluent SDK against a real ``trainlab server`` process (``tracking_uri=server.url``).

The behaviour tests are the ones of ``tests/unit/client/test_fluent.py`` (SQLite and PostgreSQL
there), collected here a second time with ``tracking_uri`` overridden to the server's URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import free_port
from tests.unit.client.test_fluent import (  # noqa: F401 - collected and used by pytest here
    experiment_fixture,
    isolated_sdk,
    reset_sdk,
    test_end_run_ends_the_active_run,
    test_ending_the_run_flushes_everything,
    test_error_in_block_ends_run_and_propagates,
    test_log_params_metrics_and_tags,
    test_nested_run_records_parent,
    test_rejected_point_is_reported_and_the_rest_lands,
    test_run_finishes_with_params_tags_and_end_time,
    test_search_runs_or_and_parentheses,
    test_search_runs_pages_and_caps,
    test_search_runs_returns_a_frame,
    test_search_runs_without_matches,
    test_second_top_level_run_is_refused,
)

import trainlab
from trainlab.entities import RunStatus
from trainlab.exceptions import ServiceUnavailable

# The SDK talks to a server over HTTP: none of the server stack may be loaded for that.
SERVER_STACK = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic")


@pytest.fixture
def tracking_uri(server: Any) -> Iterator[str]:
    yield str(server.url)
    reset_sdk()


def test_remote_run_does_not_load_the_server_stack(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> None:
    script = f"""
import json, sys
import trainlab
run = trainlab.start_run(experiment={experiment!r}, tracking_uri={tracking_uri!r})
trainlab.log_metric("m", 2.5, step=3)
trainlab.end_run()
print(json.dumps({{"run_id": run.run_id, "modules": sorted(sys.modules)}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TRAINLAB_SPOOL_DIR": str(tmp_path / "child-spool")},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    loaded = sorted(m for m in out["modules"] if m.split(".")[0] in SERVER_STACK)
    assert loaded == []
    assert "trainlab.client.rest" in out["modules"]
    assert not (tmp_path / "trainlab.db").exists()
    stored = trainlab.get_run(out["run_id"], tracking_uri=tracking_uri)
    assert stored.info.status == RunStatus.FINISHED
    assert (stored.data.metrics["m"].value, stored.data.metrics["m"].step) == (2.5, 3)


def test_unreachable_server_fails_start_run_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINLAB_HTTP_RETRY_SECONDS", "1")
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ServiceUnavailable) as info:
        trainlab.start_run(experiment="never", tracking_uri=uri)
    assert "127.0.0.1" in info.value.message
    assert trainlab.active_run() is None
