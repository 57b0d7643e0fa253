"""MLflow's proxied artifact API on the server's artifact destination."""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from trainlab.exceptions import InvalidParameterValue, TrainlabError
from trainlab.server.context import ServerContext
from trainlab.server.wire import JSONResponse

PROXY_SCHEME = "mlflow-artifacts:"


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _files(infos: list[Any], prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for f in infos:
        d: dict[str, Any] = {"path": f"{prefix}{f.path}", "is_dir": f.is_dir}
        if f.file_size is not None:
            d["file_size"] = f.file_size
        out.append(d)
    return out


def _proxied_path(uri: str) -> str:
    """``mlflow-artifacts:/1/abc/artifacts`` -> ``1/abc/artifacts``."""
    if not uri.startswith(PROXY_SCHEME):
        raise InvalidParameterValue(
            f"Artifacts at {uri!r} are not stored by this server; read them from that location."
        )
    rest = uri[len(PROXY_SCHEME) :]
    if rest.startswith("//"):
        rest = rest[2:].split("/", 1)[1] if "/" in rest[2:] else ""
    return rest.lstrip("/")


def register(app: FastAPI) -> None:
    async def upload(request: Request) -> Response:
        path = request.path_params["path"]
        await _ctx(request).artifacts.write_stream(path, request.stream())
        return JSONResponse({})

    async def download(request: Request) -> Response:
        path = request.path_params["path"]
        file = await run_in_threadpool(_ctx(request).artifacts.file_path, path)
        media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return FileResponse(file, media_type=media, filename=file.name)

    async def delete(request: Request) -> Response:
        await run_in_threadpool(_ctx(request).artifacts.delete, request.path_params["path"])
        return JSONResponse({})

    async def list_dir(request: Request) -> Response:
        path = request.query_params.get("path", "")
        infos = await run_in_threadpool(_ctx(request).artifacts.list, path)
        files = _files(infos)
        return JSONResponse({"files": files} if files else {})

    async def run_artifacts(request: Request) -> Response:
        ctx = _ctx(request)
        q = request.query_params
        run_id = q.get("run_id") or q.get("run_uuid")
        if not run_id:
            raise InvalidParameterValue("Missing value for required parameter 'run_id'.")
        path = q.get("path", "")

        def work() -> dict[str, Any]:
            run = ctx.tracking.get_run(run_id)
            from trainlab.artifacts.paths import validate_artifact_path

            rel = validate_artifact_path(path)
            base = _proxied_path(run.info.artifact_uri)
            infos = ctx.artifacts.list(f"{base}/{rel}" if rel else base)
            prefix = f"{rel}/" if rel else ""
            out: dict[str, Any] = {"root_uri": run.info.artifact_uri}
            files = _files(infos, prefix)
            if files:
                out["files"] = files
            return out

        return JSONResponse(await run_in_threadpool(work))

    async def multipart_unsupported(_request: Request) -> Response:
        body = {
            "error_code": "NOT_IMPLEMENTED",
            "message": "Multipart upload is not supported for the current artifact repository",
        }
        return JSONResponse(body, status_code=501)

    for api in ("/api/2.0", "/ajax-api/2.0"):
        base = f"{api}/mlflow-artifacts"
        app.add_api_route(f"{base}/artifacts/{{path:path}}", upload, methods=["PUT"])
        app.add_api_route(f"{base}/artifacts/{{path:path}}", download, methods=["GET"])
        app.add_api_route(f"{base}/artifacts/{{path:path}}", delete, methods=["DELETE"])
        app.add_api_route(f"{base}/artifacts", list_dir, methods=["GET"])
        for op in ("create", "complete", "abort"):
            app.add_api_route(
                f"{base}/mpu/{op}/{{path:path}}", multipart_unsupported, methods=["POST"]
            )
        app.add_api_route(f"{api}/mlflow/artifacts/list", run_artifacts, methods=["GET"])


__all__ = ["TrainlabError", "register"]
