"""SIGTERM (what `timeout`, SLURM and Kubernetes send) stops an SDK script as Ctrl-C does: the
run ends KILLED with every point it logged, embedded or through a server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from trainlab.client.resolve import store_for

SCRIPT = textwrap.dedent(
    """
    import sys, time, trainlab
    with trainlab.start_run(experiment="sig") as run:
        print(run.run_id, flush=True)
        for i in range(1_000_000):
            trainlab.log_metric("m", i, step=i)
            if i % 100 == 0:
                print(i, flush=True)
                time.sleep(0.001)
    """
)


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_sigterm_ends_the_run_killed_with_what_it_logged(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["TRAINLAB_SPOOL_DIR"] = str(tmp_path / "spool")
    uri = f"sqlite:///{tmp_path}/t.db"
    if where == "server":
        uri = request.getfixturevalue("server").url
    env["TRAINLAB_TRACKING_URI"] = uri
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    last = -1
    while last < 3000:  # well into the loop, with points waiting in memory
        last = int(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    logged = max([last, *map(int, rest.split())])
    assert proc.returncode != 0 and "Interrupted: SIGTERM" in err, err
    store: Any = store_for(uri)
    try:
        run = store.get_run(run_id)
        steps = [m.step for m in store.get_metric_history(run_id, "m")]
    finally:
        store.close()
    assert run.info.status == "KILLED" and run.info.end_time is not None
    assert steps == list(range(len(steps))) and len(steps) > logged  # each once, none lost
