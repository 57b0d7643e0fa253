"""Forked children (multiprocessing's workers) log as processes of their own: their own
logger and HTTP connections, also for the parent's open run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).parents[1] / "support" / "fork_workers.py"


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_forked_workers_log_and_read_their_own_runs(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp_path / "spool")
    if where == "server":
        env["TRAINLAB_TRACKING_URI"] = request.getfixturevalue("server").url
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["wrong"] == 0  # no worker read another process's response
    assert result["parent_metrics"] == ["before", "child_0", "child_1", "child_2"]
    assert result["children"] == [["FINISHED", {"i": str(i)}, ["loss"]] for i in range(3)]
