"""App factory. Stores and engines are created in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from trainlab.artifacts.paths import check_url_path
from trainlab.exceptions import TrainlabError
from trainlab.server import SUPERVISOR_ENV
from trainlab.server.context import ServerContext
from trainlab.server.hosts import AllowedHosts, HostCheckMiddleware
from trainlab.server.memory import IdleTrimmer, malloc_trim
from trainlab.server.openapi import openapi
from trainlab.server.routes import artifacts, logged_models, meta, registry, tracking, ui
from trainlab.server.rpc import Route, endpoint
from trainlab.server.settings import ServerSettings
from trainlab.server.unread import CloseOnUnreadBody
from trainlab.server.wire import JSONResponse

log = logging.getLogger("trainlab.server")
API_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
TRAINLAB_PREFIXES = ("/api/2.0/trainlab", "/ajax-api/2.0/trainlab")


def build_context(settings: ServerSettings) -> ServerContext:
    from trainlab.artifacts.factory import artifact_repository
    from trainlab.store.sql.engine import make_engine
    from trainlab.store.sql.logged_models import SqlLoggedModelStore
    from trainlab.store.sql.overview import SqlOverviewStore
    from trainlab.store.sql.registry import SqlRegistryStore
    from trainlab.store.sql.tracking import SqlTrackingStore

    engine = make_engine(settings.backend_store_uri)
    root = "mlflow-artifacts:" if settings.serve_artifacts else settings.artifacts_destination
    tracking_store = SqlTrackingStore(settings.backend_store_uri, root, engine=engine)
    return ServerContext(
        settings=settings,
        tracking=tracking_store,
        logged_models=SqlLoggedModelStore(tracking_store),
        registry=SqlRegistryStore(tracking_store),
        overview=SqlOverviewStore(tracking_store),
        artifacts=artifact_repository(settings.artifacts_destination, settings.s3_endpoint_url),
    )


async def _trainlab_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TrainlabError)
    return JSONResponse(exc.to_json(), status_code=exc.http_status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    try:
        check_url_path(request.scope["path"])  # a control character: why no route matched
    except TrainlabError as refused:
        return await _trainlab_error(request, refused)
    if exc.status_code == 404 and ui.wants_page(request):
        return ui.not_found_page()
    code = {404: "ENDPOINT_NOT_FOUND", 405: "BAD_REQUEST"}.get(exc.status_code, "BAD_REQUEST")
    message = str(exc.detail)
    if exc.status_code in (404, 405):  # what the stock client prints: say which, and why
        message = (
            f"{message}: no {request.method} {request.url.path} here. Is the tracking URI "
            "this server's root URL (http://host:port, with no path)?"
        )
    return JSONResponse({"error_code": code, "message": message}, exc.status_code)


async def _client_gone(request: Request, _exc: Exception) -> Response:
    """The client disconnected mid-request (an upload cut off): nothing was stored, and no one
    reads the answer."""
    log.info(
        "%s %s: the client disconnected before the request ended",
        request.method,
        request.scope["path"],
    )
    body = {"error_code": "BAD_REQUEST", "message": "The client disconnected."}
    return JSONResponse(body, status_code=400)


async def _unexpected_error(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    body = {"error_code": "INTERNAL_ERROR", "message": f"Internal error: {type(exc).__name__}"}
    return JSONResponse(body, status_code=500)


def _sweep_stale_uploads(repo: object) -> None:
    """Files of uploads a killed server left in a local destination go, in a thread that
    does not hold up start-up (or shut-down, on a large destination)."""
    from trainlab.artifacts.local import LocalArtifactRepository

    if isinstance(repo, LocalArtifactRepository):
        threading.Thread(
            target=repo.remove_stale_uploads, name="stale-uploads", daemon=True
        ).start()


def _end_with_supervisor() -> None:
    """A worker of ``--workers N`` ends when its supervisor does, even by SIGKILL: it would
    otherwise go on serving the port, and the next start could not take it (Linux)."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if not supervisor or not sys.platform.startswith("linux"):
        return
    if os.getppid() == int(supervisor):
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != int(supervisor):  # it died while this worker started: end too
        os.kill(os.getpid(), signal.SIGTERM)


def _mount(app: FastAPI, routes: list[Route], prefixes: tuple[str, ...]) -> list[tuple[str, Route]]:
    """Each route under each prefix, as a plain Starlette route (a GET one answers HEAD too):
    FastAPI's dependency handling has nothing to do for them and took 150 us a request. Returns
    the routes under the first prefix, the one documented in /docs."""
    for route in routes:
        for prefix in prefixes:
            app.add_route(prefix + route.path, endpoint(route), methods=list(route.methods))
    return [(prefixes[0] + route.path, route) for route in routes]


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _end_with_supervisor()
        app.state.ctx = build_context(settings)
        _sweep_stale_uploads(app.state.ctx.artifacts)
        # What start-up made (modules, routes, the stores) lives as long as the server: out of
        # the collector's generations, a full collection no longer walks it during requests
        # that allocate a lot (a search page, a big log-batch). Search p95 went 65 -> 40 ms.
        gc.collect()
        gc.freeze()
        trim = malloc_trim()
        trimmer = asyncio.create_task(IdleTrimmer(trim).run()) if trim else None
        yield
        if trimmer is not None:
            trimmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trimmer
        app.state.ctx.tracking.engine.dispose()

    app = FastAPI(
        title="trainlab",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        exception_handlers={
            TrainlabError: _trainlab_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected_error,
        },
    )
    documented = _mount(app, tracking.ROUTES + logged_models.ROUTES + registry.ROUTES, API_PREFIXES)
    documented += _mount(
        app, tracking.TRAINLAB_ROUTES + registry.TRAINLAB_ROUTES + ui.ROUTES, TRAINLAB_PREFIXES
    )
    app.openapi = openapi(app, documented)  # type: ignore[method-assign]
    meta.register(app)
    artifacts.register(app)
    ui.register(app)
    allowed = AllowedHosts.for_server(settings.allowed_hosts, settings.listen_host)
    app.add_middleware(HostCheckMiddleware, allowed=allowed)
    app.add_middleware(CloseOnUnreadBody)
    return app
