"""Bad input over HTTP: the right status and code, a message naming the problem, nothing
half-written."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"


@pytest.fixture
def http(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def run_id(http: httpx.Client) -> str:
    exp = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex}"}).json()
    run = http.post(f"{API}/runs/create", json={"experiment_id": exp["experiment_id"]}).json()
    return str(run["run"]["info"]["run_id"])


def _run(http: httpx.Client, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    return data.get("data", {})


def assert_error(response: httpx.Response, status: int, code: str, *needles: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code
    for needle in needles:
        assert needle in body["message"], body["message"]


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"])
def test_both_prefixes_serve_the_api(http: httpx.Client, prefix: str) -> None:
    r = http.get(f"{prefix}/experiments/get", params={"experiment_id": "0"})
    assert r.status_code == 200 and r.json()["experiment"]["name"] == "Default"


def test_meta_endpoints(http: httpx.Client) -> None:
    assert http.get("/health").text == "OK"
    assert http.get("/version").status_code == 200
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["store_type"] == "SqlStore" and info["multipart_uploads_enabled"] is False
    assert info["trainlab_log_batch"] == {"max_metrics": 50_000, "metric_columns": True}


def test_malformed_json(http: httpx.Client) -> None:
    r = http.post(
        f"{API}/experiments/create",
        content=b'{"name": "x",',
        headers={"Content-Type": "application/json"},
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Malformed JSON")


def test_a_lone_surrogate_escape_is_named(http: httpx.Client) -> None:
    name = f"e-{uuid.uuid4().hex}"
    r = http.post(
        f"{API}/experiments/create",
        content=b'{"name": "%s\\ud800"}' % name.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Malformed JSON", "half of a surrogate pair")
    assert (
        http.get(f"{API}/experiments/get-by-name", params={"experiment_name": name}).status_code
        == 404
    )


def test_wrong_content_type(http: httpx.Client) -> None:
    r = http.post(f"{API}/experiments/create", content=b'{"name": "x"}')
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Content-Type")


def _run_count(http: httpx.Client) -> int:
    body = {"experiment_ids": ["0"], "max_results": 50_000, "run_view_type": "ALL"}
    return len(http.post(f"{API}/runs/search", json=body).json().get("runs", []))


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_post_without_a_body_must_say_it_is_json(
    http: httpx.Client, content_type: str | None
) -> None:
    """What a web page of another site can send without asking the server first (a form post,
    a no-cors fetch) writes nothing: runs/create takes an empty body."""
    before = _run_count(http)
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(f"{API}/runs/create", headers=headers)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Content-Type must be one of")
    assert _run_count(http) == before
    made = http.post(f"{API}/runs/create", headers={"Content-Type": "application/json"})
    assert made.status_code == 200 and _run_count(http) == before + 1


def test_a_host_name_not_this_servers_is_refused(http: httpx.Client) -> None:
    """DNS rebinding: a page of another site reaches the server under the site's own name."""
    for path in ("/", "/experiments/0", f"{API}/experiments/search?max_results=1", "/compare/"):
        r = http.get(path, headers={"Host": "rebind.attacker.example"})
        assert_error(r, 403, "PERMISSION_DENIED", "'rebind.attacker.example'", "--allowed-hosts")
    r = http.post(
        f"{API}/experiments/create",
        json={"name": "rebound"},
        headers={"Host": "rebind.attacker.example:5000"},
    )
    assert r.status_code == 403
    assert http.get(f"{API}/experiments/get-by-name?experiment_name=rebound").status_code == 404
    assert http.get("/health", headers={"Host": "probe.example"}).text == "OK"
    port = http.base_url.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"{socket.gethostname()}:{port}"):
        assert http.get("/", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize(
    ("path", "body", "needles"),
    [
        ("/experiments/create", {"name": 123}, ["'name'", "123"]),
        ("/experiments/create", {}, ["Missing value", "'name'"]),
        ("/runs/log-metric", {"key": "m", "value": 1.0}, ["'run_id'"]),
        ("/runs/search", {"experiment_ids": ["0"], "max_results": "many"}, ["'max_results'"]),
        ("/runs/search", {"experiment_ids": "0", "filter": 5}, ["'experiment_ids'"]),
    ],
)
def test_wrong_types_and_missing_fields(
    http: httpx.Client, path: str, body: dict[str, Any], needles: list[str]
) -> None:
    assert_error(http.post(API + path, json=body), 400, "INVALID_PARAMETER_VALUE", *needles)


def test_metric_fields_are_named(http: httpx.Client, run_id: str) -> None:
    r = http.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "ok", "value": 1.0, "timestamp": 1, "step": 0},
                {"key": "bad", "value": "abc", "timestamp": 1, "step": 0},
            ],
        },
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "metrics[1].value", "abc")
    r = http.post(
        f"{API}/runs/log-metric", json={"run_id": run_id, "key": "m", "value": 1.0, "step": 0}
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'timestamp'")
    assert _run(http, run_id).get("metrics") is None


def test_unknown_ids(http: httpx.Client) -> None:
    missing = uuid.uuid4().hex
    assert_error(
        http.get(f"{API}/runs/get", params={"run_id": missing}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        missing,
    )
    assert_error(
        http.get(f"{API}/experiments/get", params={"experiment_id": "424242"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "424242",
    )
    assert_error(
        http.get(f"{API}/experiments/get", params={"experiment_id": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "integer",
    )
    r = http.post(
        f"{API}/runs/log-metric",
        json={"run_id": missing, "key": "m", "value": 1, "timestamp": 1},
    )
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("key", "needle"),
    [("../x", "normalised"), ("k" * 251, "251"), ("a;b", "letters"), ("lr\n", "letters")],
)
def test_invalid_keys(http: httpx.Client, run_id: str, key: str, needle: str) -> None:
    r = http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": key, "value": "1"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", needle)
    assert _run(http, run_id).get("params") is None


def test_over_long_values_are_rejected_not_truncated(http: httpx.Client, run_id: str) -> None:
    r = http.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "v" * 7000}
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "7000", "6000")
    r = http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v" * 9000})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "9000")
    r = http.post(f"{API}/experiments/create", json={"name": "n" * 501})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "501")
    data = _run(http, run_id)
    assert data.get("params") is None
    assert all(t["key"] != "t" for t in data.get("tags", []))


def test_oversized_and_mixed_batches_change_nothing(http: httpx.Client, run_id: str) -> None:
    metrics = [{"key": "m", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]
    r = http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "1000 metrics", "1001")
    r = http.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": metrics[:10],
            "params": [{"key": "good", "value": "1"}, {"key": "../bad", "value": "1"}],
        },
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "../bad")
    data = _run(http, run_id)
    assert data.get("metrics") is None and data.get("params") is None


@pytest.mark.parametrize(
    ("flt", "needle"),
    [("metrics.acc >", ""), ("params.x > 'a'", ""), ("foo.bar = 1", "foo"), ("(a = 1", "")],
)
def test_broken_filters(http: httpx.Client, flt: str, needle: str) -> None:
    r = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": flt})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", needle)


def test_bad_page_token(http: httpx.Client) -> None:
    r = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "page_token": "!!!"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "page_token")


def test_routing_errors_are_json(http: httpx.Client) -> None:
    """And say which request found nothing, and the likely reason: the stock client prints
    only the message (a tracking URI with a path, http://host:5000/api, is the usual one)."""
    assert_error(
        http.get(f"{API}/runs/search"), 405, "BAD_REQUEST", f"no GET {API}/runs/search here"
    )
    r = http.get(f"/api{API}/experiments/search")
    assert_error(r, 404, "ENDPOINT_NOT_FOUND", f"no GET /api{API}/experiments/search here",
                 "root URL (http://host:port, with no path)")  # fmt: skip


def test_head_is_a_get_without_the_body(http: httpx.Client) -> None:
    r = http.head(f"{API}/experiments/get", params={"experiment_id": "0"})
    assert r.status_code == 200 and r.content == b""
    assert http.head(f"{API}/experiments/get").status_code == 400
    assert (
        http.head(f"{API}/experiments/get", params={"experiment_id": "999999"}).status_code == 404
    )
    assert http.head(f"{API}/runs/search").status_code == 405


def test_a_broken_filter_is_refused_with_no_experiments_to_search(http: httpx.Client) -> None:
    for body in ({"filter": "name = 'x' AND"}, {"experiment_ids": [], "order_by": ["x y z"]}):
        r = http.post(f"{API}/runs/search", json=body)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid")


def test_an_upload_refused_before_it_is_read_closes_its_connection(http: httpx.Client) -> None:
    """The unread body would make the server reset the connection: a client sending its next
    request on it would find the server unreachable."""
    base = "/api/2.0/mlflow-artifacts/artifacts/0/closing"
    body = b"x" * (4 * 1024 * 1024)
    refused = http.put(f"{base}/a;b.bin", content=body)
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "';'")
    assert refused.headers["connection"] == "close"
    for _ in range(3):  # the next requests of this client find the server
        assert http.get("/health").text == "OK"
    stored = http.put(f"{base}/ok.bin", content=body)
    assert stored.status_code == 200 and "connection" not in stored.headers
    made = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex}"})
    assert made.status_code == 200 and "connection" not in made.headers


def test_too_many_comparisons_in_a_filter(http: httpx.Client) -> None:
    flt = " AND ".join(["params.x = 'a'"] * 101)
    r = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": flt})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "101 comparisons", "limit is 100")


def test_special_floats_on_the_wire(http: httpx.Client, run_id: str) -> None:
    metrics = [
        {"key": "m", "value": v, "timestamp": 1, "step": i}
        for i, v in enumerate(["NaN", "Infinity", "-Infinity", 1.5])
    ]
    assert (
        http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).status_code
        == 200
    )
    hist = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert [m["value"] for m in hist.json()["metrics"]] == ["NaN", "Infinity", "-Infinity", 1.5]


@pytest.mark.parametrize(
    "path", ["../escape.txt", "%2e%2e/escape.txt", "%252e%252e/escape.txt", "a/..%5c..%5cx"]
)
def test_artifact_path_traversal_is_rejected(http: httpx.Client, path: str, server: Any) -> None:
    r = http.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}", content=b"x")
    assert r.status_code in (400, 404), r.text
    assert not (server.artifacts.parent / "escape.txt").exists()
    # the path is refused before the local destination says it has no presigned downloads
    # or multipart uploads
    r = http.get(f"/api/2.0/mlflow-artifacts/presigned/{path}")
    assert r.status_code in (400, 404), r.text
    r = http.post(
        f"/api/2.0/mlflow-artifacts/mpu/create/{path}", json={"path": "f", "num_parts": 1}
    )
    assert r.status_code in (400, 404), r.text


def test_an_upload_needs_a_file_name(http: httpx.Client, server: Any) -> None:
    """A path ending in '/' names a folder: a 400, with nothing stored in the folder's place
    (it would block every later upload under it)."""
    base = "/api/2.0/mlflow-artifacts/artifacts"
    for path in ("up/newdir/", "up/"):
        r = http.put(f"{base}/{path}", content=b"x")
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", "names a folder: give a file name")
    assert http.get(base, params={"path": "up"}).json() == {}
    assert http.put(f"{base}/up/newdir/f.txt", content=b"f").status_code == 200
    assert http.get(f"{base}/up/newdir/f.txt").content == b"f"


def test_artifact_names_longer_than_the_filesystem_takes(http: httpx.Client) -> None:
    """A 400 naming the limit for a new file, a 404 for reading one: not the filesystem's
    error as a 500 (which clients retry)."""
    name = "x" * 256
    put = http.put(f"/api/2.0/mlflow-artifacts/artifacts/{name}", content=b"x")
    assert_error(put, 400, "INVALID_PARAMETER_VALUE", "the limit is 255")
    for response in (
        http.get(f"/api/2.0/mlflow-artifacts/artifacts/{name}"),
        http.delete(f"/api/2.0/mlflow-artifacts/artifacts/{name}"),
    ):
        assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "no file path is that long")
    listed = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": name})
    assert listed.status_code == 200 and listed.json() == {}


@pytest.mark.parametrize("version", ["\u00b2", "\u2460", "\u0661", "-1", "x"])
def test_model_version_artifact_takes_only_ascii_version_numbers(
    http: httpx.Client, version: str
) -> None:
    r = http.get(
        "/model-versions/get-artifact", params={"name": "m", "version": version, "path": "x"}
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "version")


def test_oversized_body_is_refused_before_reading(http: httpx.Client) -> None:
    r = http.post(
        f"{API}/runs/log-batch",
        content=b"{" + b" " * (33 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "limit")


def test_chunked_body_over_the_limit_is_refused(http: httpx.Client, run_id: str) -> None:
    """A body without Content-Length is counted as it arrives, not read whole first."""

    def chunks() -> Iterator[bytes]:
        yield f'{{"run_id": "{run_id}", "params": [{{"key": "p", "value": "1"}}]'.encode()
        for _ in range(33):
            yield b" " * (1024 * 1024)
        yield b"}"

    r = http.post(
        f"{API}/runs/log-batch", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "more than 33554432 bytes")
    assert _run(http, run_id).get("params") is None


@pytest.mark.parametrize(
    ("method", "path", "request_", "field"),
    [
        ("POST", "/experiments/create", {"name": "a\x00b"}, "'name'"),
        (
            "POST",
            "/runs/search",
            {"experiment_ids": ["0"], "filter": "params.p = 'a\x00'"},
            "'filter'",
        ),
        ("POST", "/registered-models/create", {"name": "m\x00"}, "'name'"),
        ("GET", "/registered-models/get", {"name": "m\x00"}, "'name'"),
        ("POST", "/runs/log-batch", {"tags": [{"key": "t", "value": "\x00"}]}, "'tags[0].value'"),
    ],
)
def test_no_text_of_a_request_holds_a_nul_character(
    http: httpx.Client, run_id: str, method: str, path: str, request_: dict[str, Any], field: str
) -> None:
    """PostgreSQL cannot store NUL, so no backend takes it; the message names the field."""
    body = {"run_id": run_id, **request_} if path == "/runs/log-batch" else request_
    if method == "GET":
        r = http.get(f"{API}{path}", params=body)
    else:
        r = http.post(f"{API}{path}", json=body)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", field, "NUL character")
    if path == "/runs/log-batch":  # refused whole
        assert "t" not in {t["key"] for t in _run(http, run_id).get("tags", [])}


def test_an_escaped_backslash_before_u0000_is_text(http: httpx.Client, run_id: str) -> None:
    """The body holds the bytes ``\\u0000``: a backslash, then the text "u0000", not NUL."""
    r = http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "\\u0000"})
    assert r.status_code == 200, r.text
    tags = {t["key"]: t["value"] for t in _run(http, run_id)["tags"]}
    assert tags["k"] == "\\u0000"


@pytest.mark.parametrize(
    "token", ["eyJvZmZzZXQiOiAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMH0=", "eyJvZmZzZXQiOiAtMX0="]
)
def test_page_token_offsets_out_of_range(http: httpx.Client, token: str) -> None:
    """A hand-made token's offset (1e25, -1) is a 400, not an overflow."""
    for path in ("/runs/search", "/experiments/search"):
        r = http.post(f"{API}{path}", json={"experiment_ids": ["0"], "page_token": token})
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", "page_token")


BULK = "/api/2.0/trainlab/runs/log-batch"


def test_bulk_log_batch_takes_the_points_column_by_column(http: httpx.Client, run_id: str) -> None:
    columns = {
        "key": ["m", "m", "m", "m", "n"],
        "value": ["NaN", "Infinity", "-Infinity", 1.5, 2],
        "timestamp": [1, 2, 3, 4, 5],
        "step": [0, 1, 2, 3, 0],
    }
    r = http.post(BULK, json={"run_id": run_id, "metric_columns": columns})
    assert r.status_code == 200, r.text
    hist = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert [m["value"] for m in hist.json()["metrics"]] == ["NaN", "Infinity", "-Infinity", 1.5]
    latest = {m["key"]: (m["value"], m["step"]) for m in _run(http, run_id)["metrics"]}
    assert latest == {"m": (1.5, 3), "n": (2.0, 0)}


@pytest.mark.parametrize(
    ("columns", "needles"),
    [
        ({"step": [0, 1]}, ["metric_columns", "same length"]),
        ({"step": [0, 1, "x"]}, ["metric_columns.step[2]"]),
        ({"value": [1.0, None, 2.0]}, ["metric_columns.value[1]"]),
        ({"key": ["m", "../up", "m"]}, ["../up"]),
        ({"timestamp": [1, 2, 2**63]}, ["timestamp of metric 'm'", "64-bit"]),
    ],
)
def test_bad_columns_name_the_problem_and_change_nothing(
    http: httpx.Client, run_id: str, columns: dict[str, Any], needles: list[str]
) -> None:
    body = {
        "run_id": run_id,
        "metric_columns": {
            "key": ["m"] * 3,
            "value": [1.0] * 3,
            "timestamp": [1, 2, 3],
            "step": [0, 1, 2],
            **columns,
        },
        "params": [{"key": "p", "value": "1"}],
    }
    assert_error(http.post(BULK, json=body), 400, "INVALID_PARAMETER_VALUE", *needles)
    data = _run(http, run_id)
    assert data.get("metrics") is None and data.get("params") is None


def test_columns_sent_to_mlflows_log_batch_are_refused_with_where_to_send_them(
    http: httpx.Client, run_id: str
) -> None:
    columns = {"key": ["a"], "value": [1.0], "timestamp": [1], "step": [0]}
    body = {"run_id": run_id, "metric_columns": columns, "params": [{"key": "p", "value": "1"}]}
    r = http.post(f"{API}/runs/log-batch", json=body)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'metric_columns' is taken by trainlab's bulk")
    assert "Value error" not in r.json()["message"]
    data = _run(http, run_id)
    assert data.get("metrics") is None and data.get("params") is None


@pytest.mark.parametrize(
    ("model_json", "needle"),
    [
        ("{", "Invalid value for parameter 'model_json'"),
        ("[1]", "expected a JSON object (an MLmodel's fields), got [1]"),
        ('{"artifact_path": "m"}', "it lacks the MLmodel's ['flavors', 'run_id', 'utc_time"),
    ],
)
def test_log_model_takes_an_mlmodels_fields(
    http: httpx.Client, run_id: str, model_json: str, needle: str
) -> None:
    r = http.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": model_json})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", needle)
    assert all(t["key"] != "mlflow.log-model.history" for t in _run(http, run_id)["tags"])
    model = {"artifact_path": "m", "flavors": {}, "utc_time_created": "t", "run_id": run_id}
    body = {"run_id": run_id, "model_json": json.dumps(model)}
    assert http.post(f"{API}/runs/log-model", json=body).status_code == 200
    tags = {t["key"]: t["value"] for t in _run(http, run_id)["tags"]}
    assert json.loads(tags["mlflow.log-model.history"]) == [model]


def test_a_query_parameter_that_takes_one_value_is_refused_twice(
    http: httpx.Client, run_id: str
) -> None:
    for path, query in [
        ("/experiments/get", [("experiment_id", "0"), ("experiment_id", "0")]),
        ("/metrics/get-history", [("run_id", run_id), ("metric_key", "a"), ("metric_key", "b")]),
        ("/artifacts/list", [("run_id", run_id), ("path", "a"), ("path", "b")]),
    ]:
        key = query[-1][0]
        r = http.get(f"{API}{path}", params=query)
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", f"parameter '{key}' is given 2 times")
    # a list takes each value
    query = [("run_ids", run_id), ("run_ids", run_id), ("metric_key", "m")]
    assert http.get(f"{API}/metrics/get-history-bulk-interval", params=query).status_code == 200


def test_a_run_time_before_the_epoch_is_refused(http: httpx.Client, run_id: str) -> None:
    r = http.post(f"{API}/runs/create", json={"experiment_id": "0", "start_time": -5})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid start_time -5", "cannot be negative")
    r = http.post(f"{API}/runs/update", json={"run_id": run_id, "end_time": -1})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid end_time -1")
    info = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"]
    assert "end_time" not in info and info["status"] == "RUNNING"


def test_bulk_limit(http: httpx.Client, run_id: str) -> None:
    n = 50_001
    columns = {"key": ["m"] * n, "value": [1.0] * n, "timestamp": [1] * n, "step": list(range(n))}
    r = http.post(BULK, json={"run_id": run_id, "metric_columns": columns})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "at most 50000 metrics", "50001")
    assert _run(http, run_id).get("metrics") is None
    columns = {k: v[:-1] for k, v in columns.items()}
    assert http.post(BULK, json={"run_id": run_id, "metric_columns": columns}).status_code == 200
    assert _run(http, run_id)["metrics"][0]["step"] == 49_999


def test_enums_are_taken_by_their_protobuf_numbers_too(http: httpx.Client, run_id: str) -> None:
    """Protobuf's JSON allows an enum as its number; MLflow's server takes that too."""
    assert http.post(f"{API}/runs/update", json={"run_id": run_id, "status": 3}).status_code == 200
    got = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"]
    assert got["status"] == "FINISHED"
    # 2 is DELETED_ONLY, 3 is ALL: a deleted run and a deleted experiment show which was read
    exp_id = got["experiment_id"]
    deleted = http.post(f"{API}/runs/create", json={"experiment_id": exp_id}).json()
    deleted_id = deleted["run"]["info"]["run_id"]
    assert http.post(f"{API}/runs/delete", json={"run_id": deleted_id}).status_code == 200

    def run_ids(view: object) -> set[str]:
        body = {"experiment_ids": [exp_id], "run_view_type": view}
        found = http.post(f"{API}/runs/search", json=body)
        assert found.status_code == 200, found.text
        return {r["info"]["run_id"] for r in found.json().get("runs", [])}

    assert run_ids(2) == {deleted_id} and run_ids(3) == {deleted_id, run_id}
    gone = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex}"}).json()
    http.post(f"{API}/experiments/delete", json={"experiment_id": gone["experiment_id"]})
    by_query = http.get(f"{API}/experiments/search", params={"view_type": "2", "max_results": 1000})
    stages = {e["lifecycle_stage"] for e in by_query.json()["experiments"]}
    assert stages == {"deleted"} and gone["experiment_id"] in {
        e["experiment_id"] for e in by_query.json()["experiments"]
    }
    bad = http.post(f"{API}/runs/update", json={"run_id": run_id, "status": 9})
    assert_error(bad, 400, "INVALID_PARAMETER_VALUE", "status", "unknown value number 9")
    boolean = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "run_view_type": True})
    assert_error(boolean, 400, "INVALID_PARAMETER_VALUE", "run_view_type")


def test_the_mlflow_uis_bulk_history_and_dataset_summaries(http: httpx.Client, run_id: str) -> None:
    ajax = "/ajax-api/2.0/mlflow"
    other = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
    for rid, points in ((run_id, [(5, 0, 1.0), (3, 1, 2.0)]), (other["run_id"], [(1, 0, 9.0)])):
        metrics = [{"key": "m", "value": v, "timestamp": t, "step": s} for t, s, v in points]
        r = http.post(f"{API}/runs/log-batch", json={"run_id": rid, "metrics": metrics})
        assert r.status_code == 200, r.text
    query = [("run_id", run_id), ("run_id", other["run_id"]), ("metric_key", "m")]
    got = http.get(f"{ajax}/metrics/get-history-bulk", params=query).json()["metrics"]
    by_run = sorted([(run_id, [3, 5]), (other["run_id"], [1])])  # runs by id, points by time
    assert [(m["run_id"], m["timestamp"]) for m in got] == [
        (rid, t) for rid, times in by_run for t in times
    ]
    assert set(got[0]) == {"key", "value", "timestamp", "step", "run_id"}
    few = http.get(f"{ajax}/metrics/get-history-bulk", params=[*query, ("max_results", "2")])
    assert len(few.json()["metrics"]) == 2
    r = http.get(f"{ajax}/metrics/get-history-bulk", params={"metric_key": "m"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'")
    r = http.get(f"{ajax}/metrics/get-history-bulk", params=[*query, ("max_results", "0")])
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'max_results'")

    exp = other["experiment_id"]
    body = {"run_id": other["run_id"], "datasets": [{"dataset": {"name": "d", "digest": "x"}}]}
    assert http.post(f"{API}/runs/log-inputs", json=body).status_code == 200
    r = http.post(f"{ajax}/experiments/search-datasets", json={"experiment_ids": [exp]})
    assert {"experiment_id": exp, "name": "d", "digest": "x"} in r.json()["dataset_summaries"]
    r = http.post(f"{ajax}/experiments/search-datasets", json={"experiment_ids": ["0"] * 21})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'experiment_ids'", "at most 20")


def test_allowed_hosts_add_names_and_patterns(tmp_path: Any) -> None:
    from tests.support.server import ServerProcess

    args = ["--allowed-hosts", "team.example.com,*.corp.example"]
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", tmp_path / "a", extra_args=args) as proc:
        for host, status in [
            ("team.example.com", 200),
            ("trainlab.ml.corp.example:443", 200),
            ("corp.example", 403),
            ("other.example", 403),
        ]:
            r = httpx.get(f"{proc.url}/version", headers={"Host": host})
            assert r.status_code == 200  # probes are answered under any name
            r = httpx.get(
                f"{proc.url}/api/2.0/mlflow/experiments/get?experiment_id=0", headers={"Host": host}
            )
            assert r.status_code == status, (host, r.text)
    env = {"TRAINLAB_ALLOWED_HOSTS": "*"}
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", tmp_path / "a", env=env) as proc:
        r = httpx.get(
            f"{proc.url}/api/2.0/mlflow/experiments/get?experiment_id=0",
            headers={"Host": "anything.example"},
        )
        assert r.status_code == 200
