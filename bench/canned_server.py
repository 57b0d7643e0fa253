"""The stock client's ceiling: a server that does (almost) no work.

    .venv/bin/python bench/canned_server.py server --host H --port P [--backend-store-uri U]
        [--artifacts-destination D]

It speaks just enough of MLflow's REST API for bench/run.py's client workloads (log_metric,
log_batch, runs, history, search, registry) and answers each call with bytes prepared ahead of
time, encoded by trainlab's own wire format, so the bytes are those trainlab sends for the same
data. It stores nothing. Driving it with the stock `mlflow.MlflowClient` measures what the client
itself costs on this machine: no real server can be faster for that client than this one, so a
rate measured here bounds the ratio any server can reach against the reference.

The store and artifact options are accepted (and ignored) so that the harness launches it like
the real servers. Plain asyncio: an HTTP/1.1 keep-alive loop with Content-Length bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.seed_data import (  # noqa: E402
    METRIC_TIMESTAMP_BASE,
    SEARCH_MAX_RESULTS,
    seed_run,
)

from trainlab.entities import Metric, Run, RunData, RunInfo, RunStatus  # noqa: E402
from trainlab.server import wire  # noqa: E402

RUN_ID = "0" * 31 + "1"
EXPERIMENT_ID = "1"
HISTORY_KEY = b'"loss"'  # bench/benchlib/measures.py logs the long history under this key


def run_info(run_id: str = RUN_ID, name: str = "canned") -> RunInfo:
    return RunInfo(
        run_id=run_id,
        experiment_id=EXPERIMENT_ID,
        run_name=name,
        user_id="bench",
        status=RunStatus.RUNNING,
        start_time=METRIC_TIMESTAMP_BASE,
        end_time=None,
        artifact_uri=f"mlflow-artifacts:/{EXPERIMENT_ID}/{run_id}/artifacts",
    )


def search_reply() -> bytes:
    """A page of SEARCH_MAX_RESULTS runs of the search corpus (10 params, 10 metrics, 1 tag)."""
    runs = []
    for index in range(SEARCH_MAX_RESULTS):
        seed = seed_run(index)
        run_id = f"{index:032x}"
        metrics = {k: Metric(k, v, seed.timestamp, 0) for k, v in seed.metrics.items()}
        tags = {**seed.tags, "mlflow.runName": seed.name, "mlflow.user": "bench"}
        data = RunData(metrics=metrics, params=seed.params, tags=tags)
        runs.append(wire.run(Run(run_info(run_id, seed.name), data)))
    return orjson.dumps(wire.page(runs, "runs", "canned-next-page"))


def history_reply(points: int) -> bytes:
    """`points` points of "loss", as bench/benchlib/measures.metric_batch logs them."""
    items = [Metric("loss", 1.0 / (s + 1), METRIC_TIMESTAMP_BASE, s) for s in range(points)]
    return orjson.dumps(wire.page(wire.metrics_list(items), "metrics", None))


class Canned:
    """Prepared replies; the few that depend on the request (names, version numbers, how many
    history points were logged) are cheap lookups."""

    def __init__(self) -> None:
        run = wire.run(Run(run_info()))
        self.run = orjson.dumps({"run": run})
        self.run_info = orjson.dumps({"run_info": run["info"]})
        self.search = search_reply()
        self.versions: Counter[str] = Counter()
        self.history_points = 0
        self.history: dict[int, bytes] = {}

    def reply(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        route = path.split("?", 1)[0].split("/api/2.0/", 1)[-1]
        if route == "/health" or path == "/health":
            return 200, b"OK"
        if route == "mlflow/runs/log-batch":
            self.history_points += body.count(HISTORY_KEY)
            return 200, b"{}"
        if route == "mlflow/runs/log-metric":
            return 200, b"{}"
        if route in ("mlflow/runs/create", "mlflow/runs/get"):
            return 200, self.run
        if route == "mlflow/runs/update":
            return 200, self.run_info
        if route == "mlflow/experiments/create":
            return 200, orjson.dumps({"experiment_id": EXPERIMENT_ID})
        if route == "mlflow/runs/search":
            return 200, self.search
        if route == "mlflow/metrics/get-history":
            points = self.history_points
            if points not in self.history:
                self.history = {points: history_reply(points)}
            return 200, self.history[points]
        if route.startswith("mlflow-artifacts/artifacts/") and method == "PUT":
            return 200, b"{}"
        return self.registry(method, path, route, body)

    def registry(self, method: str, path: str, route: str, body: bytes) -> tuple[int, bytes]:
        if method == "GET":
            name = parse_qs(urlsplit(path).query).get("name", [""])[0]
        else:
            name = str(json.loads(body or b"{}").get("name", ""))
        if route == "mlflow/registered-models/create":
            return 200, orjson.dumps({"registered_model": {"name": name}})
        if route == "mlflow/model-versions/create":
            self.versions[name] += 1
            return 200, self.version(name, self.versions[name])
        if route == "mlflow/registered-models/alias":
            return 200, b"{}" if method == "POST" else self.version(name, self.versions[name])
        if route == "mlflow/registered-models/get":
            return 200, orjson.dumps({"registered_model": {"name": name}})
        return 404, orjson.dumps(
            {"error_code": "ENDPOINT_NOT_FOUND", "message": f"canned server: no reply for {route}"}
        )

    def version(self, name: str, number: int) -> bytes:
        version = {"name": name, "version": str(number), "status": "READY", "run_id": RUN_ID}
        return orjson.dumps({"model_version": version})


async def serve_connection(
    canned: Canned, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *headers = head.decode("latin-1").split("\r\n")
            method, target, _version = request_line.split(" ", 2)
            length = 0
            for header in headers:
                field, _, value = header.partition(":")
                if field.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            status, reply = canned.reply(method, target, body)
            writer.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                % (status, b"OK" if status == 200 else b"Not Found", len(reply))
                + reply
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(host: str, port: int) -> None:
    canned = Canned()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(canned, r, w), host, port, limit=2**20
    )
    async with server:
        await server.serve_forever()


def parse_args(argv: list[str]) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="serve canned replies")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=5000)
    server.add_argument("--backend-store-uri", help="ignored")
    server.add_argument("--artifacts-destination", help="ignored")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args(sys.argv[1:])
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
