"""A tracking server restarted while a training script runs: the script's synchronous calls
(a run's start, its artifacts and model, a registry call) wait for it instead of failing the
run; what cannot wait fails with a clear message."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from tests.support.server import ServerProcess

import trainlab
from trainlab.entities import RunStatus
from trainlab.exceptions import ServiceUnavailable


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    monkeypatch.setenv("TRAINLAB_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TRAINLAB_HTTP_RETRY_SECONDS", "45")
    proc = ServerProcess(f"sqlite:///{tmp_path}/db.sqlite", tmp_path / "artifacts")
    yield proc.start()
    proc.stop()


def _restart_soon(server: ServerProcess, after_s: float = 2.0) -> threading.Thread:
    """Kill the server now; start it again on the same port ``after_s`` seconds later."""
    server.kill()
    restarter = threading.Timer(after_s, server.start)
    restarter.start()
    return restarter


def test_a_run_outlives_a_server_restart(
    server: ServerProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x = np.random.default_rng(0).normal(size=(60, 3))
    y = (x[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(np.random.default_rng(1).bytes(3_000_000))
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        back = _restart_soon(server)
        with trainlab.start_run(experiment="restart", tracking_uri=server.url) as run:
            back.join()
            run.log_metric("loss", 0.5)
            back = _restart_soon(server)
            trainlab.log_artifact(weights, "checkpoints")
            back.join()
            back = _restart_soon(server)
            info = trainlab.log_model(model, "model", registered_model_name="restarted")
            back.join()
    assert any("trying again for up to 45 s" in r.getMessage() for r in caplog.records)
    stored = trainlab.get_run(run.run_id, tracking_uri=server.url)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.metrics["loss"].value == 0.5
    copy = trainlab.download_artifacts(
        run.run_id, "checkpoints/weights.bin", tmp_path / "back", tracking_uri=server.url
    )
    assert Path(copy).read_bytes() == weights.read_bytes()
    loaded = trainlab.load_model("models:/restarted/1", tracking_uri=server.url)
    assert (loaded.predict(x) == model.predict(x)).all()
    assert info.registered_model_version == 1


def test_a_server_that_does_not_come_back_fails_the_call_clearly(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINLAB_HTTP_RETRY_SECONDS", "2")
    server.kill()
    with pytest.raises(ServiceUnavailable) as caught:
        trainlab.start_run(experiment="gone", tracking_uri=server.url)
    message = str(caught.value)
    assert f"Cannot reach the tracking server at {server.url}" in message
    assert "(tried for 2 s)" in message and "Is `trainlab server` running there?" in message
    assert trainlab.active_run() is None
