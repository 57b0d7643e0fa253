"""The client's proxied artifact repository: what it says when the server cannot store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from trainlab.client.artifact_repo import ProxiedRepo
from trainlab.client.retry import Retrier
from trainlab.exceptions import ServiceUnavailable


def _answering(status: int, body: bytes, content_type: str) -> ProxiedRepo:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": content_type})

    http = httpx.Client(base_url="http://server", transport=httpx.MockTransport(handler))
    return ProxiedRepo("mlflow-artifacts:/1/run/artifacts", http, Retrier("http://server", 0))


def test_an_unavailable_store_is_reported_with_the_servers_reason(tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_text("x")
    reason = (
        b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "cannot reach the object storage"}'
    )
    repo = _answering(503, reason, "application/json")
    with pytest.raises(
        ServiceUnavailable, match="answered 503 .*: cannot reach the object storage"
    ):
        repo.upload_file(local, "f.txt")
    repo = _answering(502, b"<html>bad gateway</html>", "text/html")
    with pytest.raises(ServiceUnavailable, match="answered 502 .*: <html>bad gateway") as err:
        repo.upload_file(local, "f.txt")
    assert str(err.value).count("502") == 1
