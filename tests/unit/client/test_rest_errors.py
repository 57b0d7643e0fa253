"""What the REST store says when the server at its URI does not answer with the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trainlab.client.rest import RestTrackingStore
from trainlab.exceptions import TrainlabError


class _HtmlPages(BaseHTTPRequestHandler):
    """A web server that is not a tracking server: an HTML page for every address, found
    (200, as a proxy's login page) for searches, not found (404) for the rest."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<!doctype html><html><body><h1>A page</h1></body></html>"
        self.send_response(200 if "search" in self.path else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_that_is_not_the_api_is_named_not_shown(html_server: str) -> None:
    store = RestTrackingStore(html_server)
    try:
        with pytest.raises(TrainlabError) as caught:
            store.get_experiment("0")
    finally:
        store.close()
    message = str(caught.value)
    assert "<" not in message and "doctype" not in message
    assert "answered GET /api/2.0/mlflow/experiments/get with 404 Not Found (text/html)" in message
    assert "is it a trainlab server?" in message


def test_a_page_answered_with_200_is_not_taken_for_data(html_server: str) -> None:
    store = RestTrackingStore(html_server)
    try:
        with pytest.raises(TrainlabError, match=r"answered .*search with 200 OK \(text/html\)"):
            store.search_experiments()
    finally:
        store.close()


class _DatabaseDown(BaseHTTPRequestHandler):
    """A trainlab server whose database is down: a 503 with its reason."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "The database is down."}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_503_says_what_the_server_gave_as_its_reason() -> None:
    from trainlab.exceptions import ServiceUnavailable

    server = ThreadingHTTPServer(("127.0.0.1", 0), _DatabaseDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = RestTrackingStore(f"http://127.0.0.1:{server.server_address[1]}", retry_seconds=0)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            store.get_experiment("0")
    finally:
        store.close()
        server.shutdown()
        server.server_close()
    assert str(caught.value).endswith("answered 503: The database is down.")
