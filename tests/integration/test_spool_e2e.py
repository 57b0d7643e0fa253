"""The spool against real server processes: kill the server mid-run, keep logging, restart it;
every point arrives exactly once, also when the logging process itself has exited, and a run
ended during the outage ends on the server once the spool is delivered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.support.server import ServerProcess

import trainlab
from trainlab.client import fluent
from trainlab.client.rest import RestTrackingStore
from trainlab.entities import RunStatus


@pytest.fixture(autouse=True)
def isolated_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINLAB_SPOOL_DIR", str(tmp_path / "spool"))


@pytest.fixture
def own_server(tmp_path: Path) -> ServerProcess:
    proc = ServerProcess(f"sqlite:///{tmp_path}/db.sqlite", tmp_path / "artifacts")
    yield proc.start()
    proc.stop()


def _cli(*args: str) -> str:
    """A trainlab command as a user runs it (wide, so that lines do not wrap); its output."""
    cli = str(Path(sys.executable).with_name("trainlab"))
    done = subprocess.run(
        [cli, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    return done.stdout


def _spool_flush(url: str) -> str:
    """`trainlab spool flush` as a user runs it; its output."""
    return _cli("spool", "flush", "--tracking-uri", url)


def _steps(store: RestTrackingStore, run_id: str, key: str) -> list[int]:
    return [m.step for m in store.get_metric_history(run_id, key)]


def test_server_killed_mid_run(own_server: ServerProcess) -> None:
    url = own_server.url
    with trainlab.start_run(experiment="spool", tracking_uri=url) as run:
        for step in range(500):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        trainlab.flush()
        own_server.kill()
        for step in range(500, 1500):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_param("phase", "outage")
        result = fluent._client(url).logger.flush(timeout=30)
        assert result.spooled > 0, "the outage should have been spooled"
        own_server.start()
        for step in range(1500, 2000):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
    store = RestTrackingStore(url)
    assert _steps(store, run.run_id, "loss") == list(range(2000))
    got = store.get_run(run.run_id)
    assert got.data.params == {"phase": "outage"}
    assert got.info.status == "FINISHED"
    store.close()


def _spool_in_a_process(
    url: str, run_id: str, steps: int, params: dict[str, str] | None = None
) -> None:
    """A process that logs ``acc`` at ``steps`` steps (and ``params``) to ``url``, which is
    down: it spools everything and exits."""
    script = textwrap.dedent(
        f"""
        from trainlab.client.fluent import _client
        logger = _client({url!r}).logger
        for step in range({steps}):
            logger.log_metric({run_id!r}, "acc", step / {steps}, step)
        if {params!r}:
            logger.log_params({run_id!r}, {params!r})
        result = logger.close(timeout=20)
        assert result.spooled == {steps + len(params or {})}, result
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_spool_survives_the_logging_process(own_server: ServerProcess, tmp_path: Path) -> None:
    store = RestTrackingStore(own_server.url)
    exp = store.create_experiment("spool-restart")
    run_id = store.create_run(exp).info.run_id
    own_server.kill()
    _spool_in_a_process(own_server.url, run_id, steps=300, params={"lr": "0.1"})
    assert list((tmp_path / "spool").glob("*.db")), "the exited process left its spool"
    own_server.start()
    out = _spool_flush(own_server.url)
    assert "Delivered 301" in out
    assert _steps(store, run_id, "acc") == list(range(300))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}
    again = _spool_flush(own_server.url)
    assert "Delivered 0" in again
    assert _steps(store, run_id, "acc") == list(range(300))
    store.close()


def test_a_spool_is_delivered_to_its_server_at_a_new_address(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    """Logged for http://127.0.0.1:PORT, the server now reached as http://localhost:PORT."""
    store = RestTrackingStore(own_server.url)
    run_id = store.create_run(store.create_experiment("moved")).info.run_id
    own_server.kill()
    _spool_in_a_process(own_server.url, run_id, steps=50)
    own_server.start()
    moved = own_server.url.replace("127.0.0.1", "localhost")
    nothing = _cli("spool", "flush", "--tracking-uri", moved)
    assert "Delivered 0" in nothing and f"--tracking-uri {own_server.url}" in nothing
    unknown = subprocess.run(
        [str(Path(sys.executable).with_name("trainlab")), "spool", "flush", "--tracking-uri",
         moved, "--from", "http://old-name:5000"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unknown.returncode == 2 and "nothing was spooled for that URI" in unknown.stderr
    assert own_server.url in unknown.stderr  # what was spooled for
    out = _cli("spool", "flush", "--tracking-uri", moved, "--from", own_server.url)
    assert f"Delivered 50 spooled item(s) to {moved} (spooled for {own_server.url})" in out
    assert _steps(store, run_id, "acc") == list(range(50))
    store.close()


ENDING_PROCESS = """
import sys, time
import trainlab

url = sys.argv[1]
run = trainlab.start_run(experiment="spool-end", tracking_uri=url)
run.log_param("lr", "0.1")
for step in range(200):
    run.log_metric("acc", step / 400, step=step)
trainlab.flush()
print(run.run_id, flush=True)
sys.stdin.readline()  # the server is down from here on
for step in range(200, 400):
    run.log_metric("acc", step / 400, step=step)
before = time.time_ns() // 1_000_000
run.end()
print(before, time.time_ns() // 1_000_000, flush=True)
"""


def test_run_ended_while_the_server_is_down_is_finished_by_spool_flush(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", ENDING_PROCESS, own_server.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    run_id = child.stdout.readline().strip()
    own_server.kill()
    out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0, err
    before, after = map(int, out.split())
    # One error when the run ended (200 points and the end), then the exit's spool warning.
    [ended] = [line for line in err.splitlines() if "the end of the run included" in line]
    assert (
        run_id in ended
        and "201 item(s)" in ended
        and "`trainlab spool flush --tracking-uri " in ended
    )
    [spool_file] = (tmp_path / "spool").glob("*.db")
    assert str(spool_file) in ended
    status = _cli("spool", "status")
    assert own_server.url in status and " 201 " in status and spool_file.name in status
    listed = json.loads(_cli("spool", "status", "--json"))
    assert listed == [{"target": own_server.url, "items": 201, "file": str(spool_file)}]
    # flushing another URI delivers nothing, and says what waits for which URI
    elsewhere = _cli("spool", "flush", "--tracking-uri", f"sqlite:///{tmp_path}/other.db")
    assert "Delivered 0" in elsewhere and not (tmp_path / "other.db").exists()
    assert f"trainlab spool flush --tracking-uri {own_server.url}" in elsewhere

    own_server.start()
    store = RestTrackingStore(own_server.url)
    assert store.get_run(run_id).info.status == RunStatus.RUNNING  # not ended yet
    flushed = _spool_flush(own_server.url)
    assert "Delivered 201" in flushed
    got = store.get_run(run_id)
    assert got.info.status == RunStatus.FINISHED
    assert got.info.end_time is not None and before <= got.info.end_time <= after
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["acc"].step == 399
    points = store.get_metric_history(run_id, "acc")
    assert [(m.step, m.value) for m in points] == [(s, s / 400) for s in range(400)]
    assert list((tmp_path / "spool").glob("*.db")) == []
    store.close()
