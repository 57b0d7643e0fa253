"""Health, version and capability endpoints."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from trainlab import __version__
from trainlab.server.wire import JSONResponse
from trainlab.validation import BULK_METRICS_PER_BATCH


def register(app: FastAPI) -> None:
    async def health(_request: Request) -> Response:
        return PlainTextResponse("OK")

    async def version(_request: Request) -> Response:
        return PlainTextResponse(__version__)

    async def server_info(request: Request) -> Response:
        multipart = request.app.state.ctx.direct_transfers
        return JSONResponse(
            {
                "store_type": "SqlStore",
                "workspaces_enabled": False,
                "trace_archival_enabled": False,
                "multipart_uploads_enabled": bool(multipart),
                "multipart_downloads_enabled": bool(multipart),
                "presigned_upload_run_id_supported": False,
                "presigned_upload_model_id_supported": False,
                "features_enabled": {},
                "server": "trainlab",
                "version": __version__,
                # What POST /api/2.0/trainlab/runs/log-batch takes; clients read it here.
                "trainlab_log_batch": {
                    "max_metrics": BULK_METRICS_PER_BATCH,
                    "metric_columns": True,
                },
            }
        )

    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/version", version, methods=["GET"])
    for prefix in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
        app.add_api_route(f"{prefix}/server-info", server_info, methods=["GET"])
