"""The web UI: its pages and assets (shipped in the package, nothing from a CDN), and the few
JSON endpoints it needs beyond MLflow's API, under ``/ajax-api/2.0/trainlab/ui/...``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import Field, StrictBool, StrictStr
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from trainlab._json import json_float
from trainlab.entities import Run, ViewType
from trainlab.server import requests as rq
from trainlab.server import wire
from trainlab.server.context import ServerContext as Ctx
from trainlab.server.rpc import Route

STATIC = Path(__file__).resolve().parents[2] / "ui" / "static"
# Every view has its own address, so a link to it can be shared; the page then routes itself.
PAGES = [
    *("/", "/experiments/{rest:path}", "/runs/{rest:path}", "/compare"),
    *("/studies/{rest:path}", "/models", "/models/{rest:path}"),
]
# Scripts and styles only from this server (nothing inline, no CDN); not framed by other sites.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


class ExperimentKeys(rq.Message):
    experiment_ids: list[rq.Id] = Field(min_length=1, max_length=100)


class RunTable(rq.Message):
    experiment_ids: list[rq.Id] = Field(min_length=1, max_length=100)
    filter: StrictStr | None = None
    order_by: list[StrictStr] = []
    max_results: rq.Int64 = Field(100, ge=1, le=1000)
    offset: rq.Int64 = Field(0, ge=0)
    top_level_only: StrictBool = False
    run_view_type: ViewType = ViewType.ACTIVE_ONLY


def experiments_overview(ctx: Ctx) -> dict[str, Any]:
    return {
        "experiments": [
            {
                "experiment": wire.experiment(r.experiment),
                "runs": r.runs,
                "last_activity": r.last_activity,
            }
            for r in ctx.overview.experiments()
        ]
    }


def experiment_keys(ctx: Ctx, m: ExperimentKeys) -> dict[str, Any]:
    keys = ctx.overview.run_keys(m.experiment_ids)
    return {"params": keys.params, "metrics": keys.metrics, "tags": keys.tags}


def _row(r: Run) -> dict[str, Any]:
    """A run as the table shows it: params, latest metric values and tags as plain objects
    (half the size of MLflow's run message, which repeats every key, step and timestamp)."""
    return {
        "info": wire.run_info(r.info),
        "params": r.data.params,
        "metrics": {k: json_float(m.value) for k, m in r.data.metrics.items()},
        "tags": r.data.tags,
    }


def run_table(ctx: Ctx, m: RunTable) -> dict[str, Any]:
    table = ctx.overview.run_table(
        m.experiment_ids,
        m.filter,
        m.order_by,
        m.max_results,
        m.offset,
        m.top_level_only,
        m.run_view_type,
    )
    out = {"runs": [_row(r) for r in table.runs], "total": table.total, "children": table.children}
    if not table.total and m.filter:  # why nothing matched: keys of the filter no run has
        out["unknown_keys"] = _unknown_keys(ctx, m.experiment_ids, m.filter)
    return out


def _unknown_keys(ctx: Ctx, experiment_ids: list[str], filter_string: str) -> list[str]:
    """``metric 'acc'`` for each metric, param or tag the filter names that no run of the
    experiments has (a typo, or MLflow's name for a key logged under another)."""
    from trainlab.store.search import named_keys

    keys = ctx.overview.run_keys(experiment_ids)
    have = {"metric": keys.metrics, "param": keys.params, "tag": keys.tags}
    return [f"{kind} {key!r}" for kind, key in named_keys(filter_string) if key not in have[kind]]


ROUTES = [
    Route("/ui/experiments", ("GET",), experiments_overview, None),
    Route("/ui/experiments/keys", ("GET",), experiment_keys, ExperimentKeys),
    Route("/ui/runs/table", ("POST",), run_table, RunTable),
]


# Addresses of the API and of files, where a missing one is answered in JSON or plain 404.
_NOT_PAGES = ("/api/", "/ajax-api/", "/static/", "/get-artifact", "/model-versions/")


def wants_page(request: Request) -> bool:
    """Whether a request a 404 answers came from a browser opening an address: it gets the
    app, which says that no page is there (with the way back), not the API's JSON."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith(_NOT_PAGES)
    )


def not_found_page() -> Response:
    return FileResponse(STATIC / "index.html", status_code=404, headers=PAGE_HEADERS)


def register(app: FastAPI) -> None:
    """The pages and ``/static``; call after the API routes, which take precedence."""

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
