"""The SDK's synchronous calls while the tracking server is briefly away: what is tried again,
for how long, what is never repeated, and what the user is told."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from trainlab.client import retry
from trainlab.client.artifact_repo import ProxiedRepo
from trainlab.client.rest import RestTrackingStore
from trainlab.client.retry import ENV_RETRY_SECONDS, Retrier, retry_seconds_from_env
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound, ServiceUnavailable

EXPERIMENT = b'{"experiment": {"experiment_id": "1", "name": "e", "lifecycle_stage": "active"}}'
RUN_INFO = (
    b'{"run": {"info": {"run_id": "r1", "experiment_id": "1", "status": "RUNNING", '
    b'"lifecycle_stage": "active", "start_time": 1}, "data": {}}}'
)
DOWN = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "The database is down."}'

Answer = Callable[[httpx.Request], httpx.Response]


class Server:
    """Answers requests with a script: each entry answers one request (a status with a body,
    or an exception raised as the transport would), the last one all that follow."""

    def __init__(self, *script: tuple[int, bytes] | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        status, body = step
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Pauses are recorded, not slept; the clock moves by them."""
    pauses: list[float] = []
    now = [1000.0]

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(retry.time, "sleep", sleep)
    monkeypatch.setattr(retry.time, "monotonic", lambda: now[0])
    yield pauses


def _store(server: Server, seconds: float = 60) -> RestTrackingStore:
    store = RestTrackingStore("http://tracking.test", retry_seconds=seconds)
    store._client = httpx.Client(
        base_url=store.uri, transport=httpx.MockTransport(server), timeout=5
    )
    return store


def test_a_restarting_server_is_waited_for(
    no_waiting: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    server = Server(refused, refused, (503, DOWN), (200, RUN_INFO))
    with caplog.at_level(logging.WARNING, logger="trainlab"):
        run = _store(server).create_run("1")
    assert run.info.run_id == "r1"
    assert len(server.requests) == 4
    assert no_waiting == [0.5, 1.0, 2.0]  # growing pauses
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings  # once per call, not once per try
    assert "cannot reach the tracking server at http://tracking.test" in warnings[0]
    assert "trying again for up to 60 s" in warnings[0] and ENV_RETRY_SECONDS in warnings[0]


def test_a_server_that_stays_away_is_reported_after_the_window(no_waiting: list[float]) -> None:
    server = Server(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ServiceUnavailable) as caught:
        _store(server, seconds=20).get_experiment("1")
    assert no_waiting == [0.5, 1, 2, 4, 8, 4.5]  # the last try at the end of the window
    message = str(caught.value)
    assert message.startswith("Cannot reach the tracking server at http://tracking.test: ")
    assert "Connection refused (tried for 20 s)" in message
    assert message.endswith("Is `trainlab server` running there?")


def test_a_503_that_stays_is_reported_with_the_servers_reason(no_waiting: list[float]) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        _store(Server((503, DOWN)), seconds=3).get_experiment("1")
    assert str(caught.value) == (
        "The tracking server at http://tracking.test answered 503: The database is down "
        "(tried for 3 s)."
    )


def test_a_write_is_not_repeated_when_it_may_have_been_done(no_waiting: list[float]) -> None:
    """The connection broke after the request went out, or a proxy lost the server mid-way:
    the run may exist already, so a second create would make two."""
    for broken in (httpx.ReadError("connection reset"), (502, b"<html>bad gateway</html>")):
        server = Server(broken, (200, RUN_INFO))
        with pytest.raises(ServiceUnavailable):
            _store(server).create_run("1")
        assert len(server.requests) == 1
    assert no_waiting == []


def test_a_read_is_repeated_whatever_broke(no_waiting: list[float]) -> None:
    for broken in (httpx.ReadError("connection reset"), (504, b""), (502, b"<html></html>")):
        server = Server(broken, (200, EXPERIMENT))
        assert _store(server).get_experiment("1").name == "e"
        assert len(server.requests) == 2


def test_errors_that_are_answers_are_not_retried(no_waiting: list[float]) -> None:
    missing = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No experiment 9."}'
    server = Server((404, missing))
    with pytest.raises(ResourceNotFound, match="No experiment 9"):
        _store(server).get_experiment("9")
    assert len(server.requests) == 1 and no_waiting == []


def test_retry_after_is_honoured_up_to_the_longest_pause(no_waiting: list[float]) -> None:
    def busy(seconds: str) -> Answer:
        return lambda _: httpx.Response(429, headers={"Retry-After": seconds})

    answers = iter([busy("3"), busy("600"), lambda _: httpx.Response(200, content=EXPERIMENT)])
    store = _store(Server())
    store._client = httpx.Client(
        base_url=store.uri, transport=httpx.MockTransport(lambda r: next(answers)(r))
    )
    assert store.get_experiment("1").name == "e"
    assert no_waiting == [3.0, retry.LONGEST_PAUSE_S]


def test_the_background_loggers_store_does_not_wait(no_waiting: list[float]) -> None:
    """It spools what it cannot send and retries the spool on its own."""
    server = Server(httpx.ConnectError("refused"))
    store = _store(server)
    with pytest.raises(ServiceUnavailable):
        store.fail_fast().log_batch("r1", params=[])
    assert [r.url.path for r in server.requests][-1] == "/api/2.0/mlflow/runs/log-batch"
    assert no_waiting == []
    assert store.retrier.seconds == 60  # the store itself still waits


def test_zero_seconds_turns_retries_off(
    no_waiting: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_RETRY_SECONDS, "0")
    assert Retrier("http://x").seconds == 0
    server = Server((503, DOWN))
    store = RestTrackingStore("http://tracking.test")
    store._client = httpx.Client(base_url=store.uri, transport=httpx.MockTransport(server))
    with pytest.raises(ServiceUnavailable, match=r"answered 503: The database is down\.$"):
        store.get_experiment("1")
    assert len(server.requests) == 1


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "1e"])
def test_a_bad_retry_setting_is_named(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(ENV_RETRY_SECONDS, raw)
    with pytest.raises(InvalidParameterValue, match=f"{ENV_RETRY_SECONDS}={raw!r} is not"):
        retry_seconds_from_env()


def _repo(server: Server) -> ProxiedRepo:
    http = httpx.Client(base_url="http://tracking.test", transport=httpx.MockTransport(server))
    return ProxiedRepo("mlflow-artifacts:/1/r1/artifacts", http, Retrier("http://t", 60))


def test_an_upload_is_sent_whole_again(tmp_path: Path, no_waiting: list[float]) -> None:
    local = tmp_path / "model.pkl"
    local.write_bytes(b"0123456789" * 100_000)
    server = Server(httpx.ReadError("reset mid-way"), (503, DOWN), (200, b"{}"))
    _repo(server).upload_file(local, "model/model.pkl")
    assert len(server.requests) == 3
    assert server.bodies[-1] == local.read_bytes()
    assert server.requests[-1].url.path.endswith("/1/r1/artifacts/model/model.pkl")


def test_a_download_cut_off_starts_over(tmp_path: Path, no_waiting: list[float]) -> None:
    content = b"weights" * 50_000

    class CutOff(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield content[:1000]
            raise httpx.ReadError("connection reset")

    answers = iter(
        [
            httpx.Response(200, stream=CutOff()),
            httpx.Response(503, content=DOWN),
            httpx.Response(200, content=content),
        ]
    )
    http = httpx.Client(
        base_url="http://tracking.test", transport=httpx.MockTransport(lambda r: next(answers))
    )
    repo = ProxiedRepo("mlflow-artifacts:/1/r1/artifacts", http, Retrier("http://t", 60))
    dst = tmp_path / "out" / "model.pkl"
    repo.download_file("model.pkl", dst)
    assert dst.read_bytes() == content
    assert list(dst.parent.iterdir()) == [dst]  # no temporary file left beside it


def test_a_delete_is_not_repeated_after_a_broken_connection(no_waiting: list[float]) -> None:
    server = Server(httpx.ReadError("reset"), (200, b"{}"))
    with pytest.raises(ServiceUnavailable, match="deleting 'old.txt'"):
        _repo(server).delete("old.txt")
    assert len(server.requests) == 1
