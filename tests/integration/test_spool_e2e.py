"""The spool against real server processes: kill the server mid-run, keep logging, restart it;
every point arrives exactly once, also when the logging process itself has exited."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.support.server import ServerProcess

import trainlab
from trainlab.client import fluent
from trainlab.client.rest import RestTrackingStore


@pytest.fixture(autouse=True)
def isolated_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINLAB_SPOOL_DIR", str(tmp_path / "spool"))


@pytest.fixture
def own_server(tmp_path: Path) -> ServerProcess:
    proc = ServerProcess(f"sqlite:///{tmp_path}/db.sqlite", tmp_path / "artifacts")
    yield proc.start()
    proc.stop()


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


def test_spool_survives_the_logging_process(own_server: ServerProcess, tmp_path: Path) -> None:
    store = RestTrackingStore(own_server.url)
    exp = store.create_experiment("spool-restart")
    run_id = store.create_run(exp).info.run_id
    own_server.kill()
    script = textwrap.dedent(
        f"""
        from trainlab.client.fluent import _client
        logger = _client({own_server.url!r}).logger
        for step in range(300):
            logger.log_metric({run_id!r}, "acc", step / 300, step)
        logger.log_params({run_id!r}, {{"lr": "0.1"}})
        result = logger.close(timeout=20)
        assert result.spooled == 301, result
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert list((tmp_path / "spool").glob("*.db")), "the exited process left its spool"
    own_server.start()
    trainlab_cli = str(Path(sys.executable).with_name("trainlab"))
    out = subprocess.run(
        [trainlab_cli, "spool", "flush", "--tracking-uri", own_server.url],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Delivered 301" in out.stdout
    assert _steps(store, run_id, "acc") == list(range(300))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}
    again = subprocess.run(
        [trainlab_cli, "spool", "flush", "--tracking-uri", own_server.url],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Delivered 0" in again.stdout
    assert _steps(store, run_id, "acc") == list(range(300))
    store.close()
