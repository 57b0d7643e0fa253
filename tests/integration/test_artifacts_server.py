"""Proxied artifacts through a real `trainlab server`, on a local folder and on S3 (a real moto
server process), driven by the stock `mlflow` client."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.s3 import AWS_ENV
from tests.support.server import ServerProcess
from tests.support.traversal import TRAVERSAL_PATHS

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

MiB = 1024 * 1024
PREFIX = "team/mlflow"


class ArtifactServer:
    def __init__(self, kind: str, proc: ServerProcess, moto: Any = None, bucket: str = "") -> None:
        self.kind = kind
        self.proc = proc
        self.url = proc.url
        self.moto = moto
        self.bucket = bucket

    def keys(self) -> list[str]:
        return sorted(self.moto.keys(self.bucket)) if self.moto else []


@pytest.fixture(scope="module", params=["local", "s3"])
def artifact_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ArtifactServer]:
    root = tmp_path_factory.mktemp(f"artifacts-{request.param}")
    db = f"sqlite:///{root}/trainlab.db"
    if request.param == "local":
        with ServerProcess(db, root / "artifacts") as proc:
            yield ArtifactServer("local", proc)
        return
    moto = request.getfixturevalue("moto_server")
    bucket = moto.new_bucket()
    # the later --artifacts-destination wins over the folder ServerProcess always passes
    args = ["--artifacts-destination", f"s3://{bucket}/{PREFIX}", "--s3-endpoint-url", moto.url]
    with ServerProcess(db, root / "unused", extra_args=args, env=AWS_ENV) as proc:
        yield ArtifactServer("s3", proc, moto, bucket)
    assert not (root / "unused").exists()


@pytest.fixture
def run_id(artifact_server: ArtifactServer) -> Iterator[str]:
    mlflow.set_tracking_uri(artifact_server.url)
    mlflow.set_experiment(f"artifacts-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run:
        yield run.info.run_id
    while mlflow.active_run():
        mlflow.end_run()


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_stock_client_round_trip(
    artifact_server: ArtifactServer, run_id: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "nested" / "a.csv").write_text("x,y\n1,2\n")
    (src / "nested" / "deeper" / "b.bin").write_bytes(bytes(range(256)) * 10)
    single = tmp_path / "single.txt"
    single.write_text("one file")
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(4 * MiB) * 3)  # 12 MiB

    mlflow.log_artifacts(str(src), artifact_path="data")
    mlflow.log_artifact(str(single))
    mlflow.log_artifact(str(big), artifact_path="model")
    mlflow.log_text("hello text", "notes/readme.txt")
    mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config/params.json")

    client = MlflowClient(artifact_server.url)
    root = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert root == {
        ("data", True),
        ("single.txt", False),
        ("model", True),
        ("notes", True),
        ("config", True),
    }
    nested = client.list_artifacts(run_id, "data/nested")
    assert [(f.path, f.is_dir, f.file_size) for f in nested] == [
        ("data/nested/a.csv", False, 8),
        ("data/nested/deeper", True, None),
    ]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "model")] == [
        ("model/weights.bin", 12 * MiB)
    ]

    out = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "dl")))
    assert _tree(out / "data") == _tree(src)
    assert (out / "model" / "weights.bin").read_bytes() == big.read_bytes()
    assert (out / "single.txt").read_text() == "one file"
    one = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="model/weights.bin", dst_path=str(tmp_path / "one")
    )
    assert (
        hashlib.sha256(Path(one).read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    )

    uri = f"runs:/{run_id}"
    assert mlflow.artifacts.load_text(f"{uri}/notes/readme.txt") == "hello text"
    assert mlflow.artifacts.load_dict(f"{uri}/config/params.json") == {"lr": 0.1, "layers": [1, 2]}

    if artifact_server.kind == "s3":  # really in the bucket, under the prefix
        keys = artifact_server.keys()
        assert keys and all(k.startswith(f"{PREFIX}/") for k in keys)
        assert any(k.endswith(f"/{run_id}/artifacts/model/weights.bin") for k in keys)


def test_download_over_http(artifact_server: ArtifactServer, run_id: str) -> None:
    mlflow.log_text("streamed body", "dir/file name.txt")
    exp = mlflow.get_run(run_id).info.experiment_id
    base = f"{artifact_server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{run_id}/artifacts"
    r = httpx.get(f"{base}/dir/file name.txt")
    assert r.status_code == 200 and r.content == b"streamed body"
    assert r.headers["content-length"] == "13"
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["content-disposition"].startswith("attachment;")
    missing = httpx.get(f"{base}/dir/missing.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert httpx.delete(f"{base}/dir").status_code == 200
    assert httpx.get(f"{base}/dir/file name.txt").status_code == 404


def test_server_info_advertises_multipart(artifact_server: ArtifactServer) -> None:
    info = httpx.get(f"{artifact_server.url}/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is (artifact_server.kind == "s3")
    assert info["multipart_downloads_enabled"] is (artifact_server.kind == "s3")


def test_multipart_download_by_the_stock_client(
    artifact_server: ArtifactServer, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3: the client asks for a presigned URL and reads the file from the object store in
    ranged parts. Local: the server answers 501 and the client downloads through it."""
    from mlflow.store.artifact import http_artifact_repo

    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(2 * MiB))
    ranges: list[tuple[str, int, int]] = []
    real_chunk = http_artifact_repo.download_chunk

    def chunk(*, range_start: int, range_end: int, http_uri: str, **kw: Any) -> Any:
        ranges.append((http_uri, range_start, range_end))
        return real_chunk(range_start=range_start, range_end=range_end, http_uri=http_uri, **kw)

    monkeypatch.setattr(http_artifact_repo, "download_chunk", chunk)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(MiB) * 7 + b"tail")  # four ranged parts of 2 MiB
    mlflow.log_artifact(str(big), artifact_path="ranged")
    out = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="ranged/big.bin", dst_path=str(tmp_path / "dl")
    )
    assert Path(out).read_bytes() == big.read_bytes()
    if artifact_server.kind == "s3":  # straight from the object store, in four ranges
        assert sorted(start for _, start, _ in ranges) == [0, 2 * MiB, 4 * MiB, 6 * MiB]
        assert all(uri.startswith(artifact_server.moto.url) for uri, _, _ in ranges)
    else:
        assert ranges == []
    exp = mlflow.get_run(run_id).info.experiment_id
    url = f"{artifact_server.url}/api/2.0/mlflow-artifacts/presigned/{exp}/{run_id}/artifacts"
    r = httpx.get(f"{url}/ranged/big.bin")
    if artifact_server.kind != "s3":
        assert r.status_code == 501 and r.json()["error_code"] == "NOT_IMPLEMENTED"
        return
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["file_size"] == big.stat().st_size and signed["headers"] == {}
    assert signed["url"].startswith(f"{artifact_server.moto.url}/{artifact_server.bucket}/")
    part = httpx.get(signed["url"], headers={"Range": "bytes=3-9"})
    assert part.status_code == 206 and part.content == big.read_bytes()[3:10]
    assert part.headers["content-disposition"] == 'attachment; filename="big.bin"'
    missing = httpx.get(f"{url}/ranged/none.bin")
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_without_direct_transfers_everything_goes_through_the_server(
    moto_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object store only the server can reach: no presigned URLs, and the stock client
    still uploads and downloads large files, through the server."""
    from mlflow.store.artifact import http_artifact_repo

    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(6 * MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(2 * MiB))
    monkeypatch.setattr(http_artifact_repo, "download_chunk", None)  # never a ranged read
    bucket = moto_server.new_bucket()
    args = ["--artifacts-destination", f"s3://{bucket}/{PREFIX}", "--s3-endpoint-url",
            moto_server.url, "--no-direct-transfers"]  # fmt: skip
    db = f"sqlite:///{tmp_path}/trainlab.db"
    with ServerProcess(db, tmp_path / "unused", extra_args=args, env=AWS_ENV) as proc:
        info = httpx.get(f"{proc.url}/api/3.0/mlflow/server-info").json()
        assert info["multipart_uploads_enabled"] is False
        assert info["multipart_downloads_enabled"] is False
        base = f"{proc.url}/api/2.0/mlflow-artifacts"
        r = httpx.post(f"{base}/mpu/create/x", json={"path": "f.bin", "num_parts": 1})
        assert r.status_code == 501 and r.json()["error_code"] == "NOT_IMPLEMENTED"
        mlflow.set_tracking_uri(proc.url)
        mlflow.set_experiment("through-the-server")
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(MiB) * 11 + b"end")
        with mlflow.start_run() as run:
            mlflow.log_artifact(str(big), artifact_path="d")
        r = httpx.get(f"{base}/presigned/{run.info.experiment_id}/{run.info.run_id}/artifacts/d")
        assert r.status_code == 501 and r.json()["error_code"] == "NOT_IMPLEMENTED"
        out = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="d/big.bin", dst_path=str(tmp_path / "dl")
        )
        assert Path(out).read_bytes() == big.read_bytes()
        key = f"{PREFIX}/{run.info.experiment_id}/{run.info.run_id}/artifacts/d/big.bin"
        head = moto_server.client().head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] == big.stat().st_size
        assert head["ETag"].endswith('-2"')  # the server's own 8 MiB parts, not the client's


def test_multipart_upload_by_the_stock_client(
    artifact_server: ArtifactServer, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3: the client asks server-info, gets presigned part URLs and PUTs the parts straight to
    the object store. Local: the server answers 501 and the client falls back to one PUT."""
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(6 * MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))
    big = tmp_path / "mpu.bin"
    big.write_bytes(os.urandom(MiB) * 11 + b"end")
    mlflow.log_artifact(str(big), artifact_path="parts")
    out = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="parts/mpu.bin", dst_path=str(tmp_path / "dl")
    )
    assert Path(out).read_bytes() == big.read_bytes()
    if artifact_server.kind == "s3":
        exp = mlflow.get_run(run_id).info.experiment_id
        key = f"{PREFIX}/{exp}/{run_id}/artifacts/parts/mpu.bin"
        head = artifact_server.moto.client().head_object(Bucket=artifact_server.bucket, Key=key)
        assert head["ETag"].endswith('-3"')  # 5 + 5 + 1 MiB, uploaded as three parts
    else:
        r = httpx.post(
            f"{artifact_server.url}/api/2.0/mlflow-artifacts/mpu/create/x",
            json={"path": "f.bin", "num_parts": 1},
        )
        assert r.status_code == 501 and r.json()["error_code"] == "NOT_IMPLEMENTED"


def test_multipart_errors(artifact_server: ArtifactServer) -> None:
    if artifact_server.kind != "s3":
        pytest.skip("multipart is answered 501 on a local destination")
    base = f"{artifact_server.url}/api/2.0/mlflow-artifacts/mpu"
    r = httpx.post(f"{base}/create/x", json={"path": "f.bin", "num_parts": 0})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = httpx.post(f"{base}/create/x", content=b"{not json")
    assert r.status_code == 400
    # a form post from a web page of another site: refused before anything is made
    for route in ("create", "complete", "abort"):
        r = httpx.post(f"{base}/{route}/x", content=b'{"path": "f.bin", "num_parts": 1}')
        assert r.status_code == 400 and "Content-Type" in r.json()["message"], r.text
    created = httpx.post(f"{base}/create/x", json={"path": "/home/me/f.bin", "num_parts": 1})
    assert created.status_code == 200
    upload_id = created.json()["upload_id"]
    abort = httpx.post(f"{base}/abort/x", json={"path": "/home/me/f.bin", "upload_id": upload_id})
    assert abort.status_code == 200 and abort.json() == {}


@pytest.mark.parametrize(
    "path", [*TRAVERSAL_PATHS, "%2e%2e/escape.txt", "a/..%2f..%2fescape.txt", "a/..%5c..%5cx"]
)
def test_traversal_over_http_writes_nothing(artifact_server: ArtifactServer, path: str) -> None:
    if artifact_server.kind != "s3":
        pytest.skip("the local server is covered by test_http_errors")
    before = artifact_server.keys()
    base = f"{artifact_server.url}/api/2.0/mlflow-artifacts"
    quoted = path.replace("\x00", "%00").replace("#", "%23").replace("\\", "%5C")
    with httpx.Client(timeout=10) as http:
        for r in (
            http.put(f"{base}/artifacts/{quoted}", content=b"x"),
            http.get(f"{base}/artifacts/{quoted}"),
            http.get(f"{base}/presigned/{quoted}"),
            http.delete(f"{base}/artifacts/{quoted}"),
            http.post(f"{base}/mpu/create/{quoted}", json={"path": "f.bin", "num_parts": 1}),
            http.post(f"{base}/mpu/create/x", json={"path": "..", "num_parts": 1}),
        ):
            assert r.status_code in (400, 404), (r.request.url, r.status_code, r.text)
        listing = http.get(f"{base}/artifacts", params={"path": path})
        assert listing.status_code == 400, listing.text
    after = artifact_server.keys()
    assert after == before
    assert all(k.startswith(f"{PREFIX}/") for k in after)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_server_streams_large_artifacts_with_flat_memory(artifact_server: ArtifactServer) -> None:
    """A 200 MiB PUT and GET through the server: its peak RSS grows by a few parts at most."""
    assert artifact_server.proc.proc is not None
    pid = artifact_server.proc.proc.pid  # one worker: uvicorn serves in this process
    size_mib = 200
    url = f"{artifact_server.url}/api/2.0/mlflow-artifacts/artifacts/mem/{uuid.uuid4().hex}.bin"

    def body(mib: int = size_mib) -> Iterator[bytes]:
        block = bytearray(os.urandom(MiB))
        for i in range(mib):
            block[:8] = i.to_bytes(8, "little")
            yield bytes(block)

    with httpx.Client(timeout=120) as http:
        http.put(url, content=body(17)).raise_for_status()  # every code path once, multipart too
        with http.stream("GET", url) as r:
            r.read()
        baseline = _peak_rss_mib(pid)
        sent = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for chunk in body():
                sent.update(chunk)
                yield chunk

        http.put(url, content=hashed()).raise_for_status()
        after_upload = _peak_rss_mib(pid)
        received = hashlib.sha256()
        with http.stream("GET", url) as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                received.update(chunk)
        after_download = _peak_rss_mib(pid)
    print(artifact_server.kind, baseline, after_upload, after_download)
    assert sent.digest() == received.digest()
    assert after_upload - baseline < 48
    assert after_download - baseline < 48


def test_log_figure_by_the_stock_client(
    artifact_server: ArtifactServer, run_id: str, tmp_path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.plot([0, 1, 2], [2, 0, 1])
    mlflow.log_figure(fig, "plots/curve.png")
    plt.close(fig)

    client = MlflowClient(artifact_server.url)
    [info] = client.list_artifacts(run_id, "plots")
    assert info.path == "plots/curve.png" and info.file_size and info.file_size > 100
    path = Path(client.download_artifacts(run_id, "plots/curve.png", str(tmp_path)))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(path).shape[:2] == (150, 200)  # 3 x 4 inches at 50 dpi


def test_a_starting_server_removes_what_a_killed_upload_left(tmp_path: Path) -> None:
    """A server killed mid-upload leaves the upload's temporary file; the next start removes
    it once no one has written to it for an hour (an upload of a replica in progress stays)."""
    root = tmp_path / "artifacts"
    folder = root / "0" / "run" / "artifacts"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".trainlab-upload-k95hc0vu", folder / ".trainlab-upload-x1"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    os.utime(stale, (1, 1))
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", root):
        deadline = time.monotonic() + 10
        while stale.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not stale.exists() and fresh.exists()


def test_the_names_of_uploads_in_progress_are_refused(tmp_path: Path) -> None:
    """Listings leave such files out, so an artifact named so would be stored but never seen."""
    root = tmp_path / "artifacts"
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", root) as proc:
        base = f"{proc.url}/api/2.0/mlflow-artifacts/artifacts/0/run"
        for name in (".trainlab-upload-x1", ".upload-abcd_123", "d/.upload-k95hc0vu/f"):
            r = httpx.put(f"{base}/{name}", content=b"x")
            assert r.status_code == 400, name
            assert "reserved for uploads in progress" in r.json()["message"]
        ok = httpx.put(f"{base}/.upload-abc", content=b"x")
        assert ok.status_code == 200  # not the reserved form: an artifact like any other
    assert sorted(p.name for p in (root / "0" / "run").iterdir()) == [".upload-abc"]


def test_an_upload_cut_off_leaves_nothing_and_logs_no_traceback(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    info = ["--log-level", "info"]  # the server says when it has dealt with the cut-off upload
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", root, extra_args=info) as proc:
        base = f"{proc.url}/api/2.0/mlflow-artifacts/artifacts"
        assert httpx.put(f"{base}/0/run/ok.txt", content=b"kept").status_code == 200
        host, port = proc.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                b"PUT /api/2.0/mlflow-artifacts/artifacts/0/run/new/part.bin HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 3 * MiB
            )
        deadline = time.monotonic() + 10
        while "the client disconnected" not in proc.log_path.read_text():
            assert time.monotonic() < deadline, proc.log_path.read_text()
            time.sleep(0.05)
        assert sorted(p.name for p in (root / "0" / "run").iterdir()) == ["ok.txt"]
    log = proc.log_path.read_text()
    assert "PUT /api/2.0/mlflow-artifacts/artifacts/0/run/new/part.bin: the client" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_a_control_character_in_the_url_path_is_refused(tmp_path: Path, method: str) -> None:
    # A route's {path:path} drops a final line break: "ok.txt%0A" acted on "ok.txt".
    root = tmp_path / "artifacts"
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", root) as proc:
        base = f"{proc.url}/api/2.0/mlflow-artifacts/artifacts/0/run"
        assert httpx.put(f"{base}/ok.txt", content=b"kept").status_code == 200
        for suffix in ("ok.txt%0A", "ok.txt%0D%0A", "a%0Ab.txt"):
            r = httpx.request(
                method, f"{base}/{suffix}", content=b"new" if method == "PUT" else None
            )
            assert r.status_code == 400, (suffix, r.text)
            assert "control character" in r.json()["message"]
        assert (root / "0" / "run" / "ok.txt").read_bytes() == b"kept"
        assert sorted(p.name for p in (root / "0" / "run").iterdir()) == ["ok.txt"]
