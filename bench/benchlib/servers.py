"""Start, probe and stop the tracking servers under test."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
REFERENCE_MLFLOW = BENCH_DIR / ".venv-mlflow" / "bin" / "mlflow"
TRAINLAB_CLI = REPO_DIR / ".venv" / "bin" / "trainlab"
PROJECT_PYTHON = REPO_DIR / ".venv" / "bin" / "python"
HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
IDLE_SETTLE_S = 2.0  # wait after start-up / workload before reading idle RSS
QUIET_CPU_FRACTION = 0.10  # "quiet": whole tree uses < 10% of one core ...
QUIET_WINDOW_S = 1.0  # ... over a 1 s window
QUIET_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class ServerSpec:
    """How to launch one server: `argv(port, workdir)` builds its command line."""

    key: str  # "reference" or "trainlab"
    label: str
    executable: Path
    db_name: str
    artifacts_name: str
    script: Path | None = None  # run `executable script server ...` (a Python server script)

    def program(self) -> list[str]:
        return [str(self.executable)] + ([str(self.script)] if self.script else [])

    def argv(self, port: int, workdir: Path) -> list[str]:
        return [
            *self.program(),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{workdir / self.db_name}",
            "--artifacts-destination",
            str(workdir / self.artifacts_name),
        ]

    def display_command(self) -> str:
        cmd = self.argv(0, Path("WORK"))
        for i in range(len(self.program())):
            cmd[i] = os.path.relpath(cmd[i], REPO_DIR)
        return " ".join(cmd).replace(" 0 ", " PORT ")


REFERENCE = ServerSpec("reference", "MLflow", REFERENCE_MLFLOW, "mlflow.db", "mlartifacts")
TRAINLAB = ServerSpec("trainlab", "trainlab", TRAINLAB_CLI, "trainlab.db", "tlartifacts")
# Development stand-in: a second reference server plays the trainlab side.
STANDIN = ServerSpec("trainlab", "MLflow (stand-in)", REFERENCE_MLFLOW, "mlflow.db", "mlartifacts")
# The stock client's ceiling: canned replies, no work (bench/canned_server.py).
CEILING = ServerSpec(
    "ceiling", "canned replies", PROJECT_PYTHON, "unused.db", "unused",
    script=BENCH_DIR / "canned_server.py",
)  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@dataclass
class RunningServer:
    spec: ServerSpec
    workdir: Path
    port: int
    process: subprocess.Popen[bytes]
    startup_s: float = float("nan")
    log_path: Path = field(default_factory=Path)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_uri(self) -> str:
        return f"sqlite:///{self.workdir / self.spec.db_name}"

    def wait_healthy(self, started_at: float) -> float:
        """Poll /health until 200; return seconds since `started_at` (before Popen)."""
        deadline = started_at + HEALTH_TIMEOUT_S
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.spec.label} exited with code {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            if health_ok(self.port):
                return time.perf_counter() - started_at
            time.sleep(0.02)
        raise TimeoutError(f"{self.spec.label} not healthy after {HEALTH_TIMEOUT_S:.0f} s")

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss_by_role(self) -> dict[str, tuple[int, float]]:
        """{role: (process count, RSS MB)} over the server's process tree."""
        roles: dict[str, tuple[int, float]] = {}
        for proc in self.processes():
            try:
                role, rss = process_role(proc.cmdline()), proc.memory_info().rss / 1e6
            except psutil.NoSuchProcess:
                continue
            count, total = roles.get(role, (0, 0.0))
            roles[role] = (count + 1, total + rss)
        return roles

    def rss_mb(self) -> float:
        """Resident set size of the server's whole process tree, in MB (10^6 bytes)."""
        return sum(total for _count, total in self.rss_by_role().values())

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def wait_quiet(self) -> float:
        """Wait until the process tree is near idle (background start-up work done); seconds."""
        started = time.perf_counter()
        while time.perf_counter() - started < QUIET_TIMEOUT_S:
            before = self.cpu_seconds()
            time.sleep(QUIET_WINDOW_S)
            if self.cpu_seconds() - before < QUIET_CPU_FRACTION * QUIET_WINDOW_S:
                break
        return time.perf_counter() - started

    def stop(self) -> None:
        """SIGTERM the server's process group (it was started in its own session); SIGKILL
        whatever is left of the group after STOP_TIMEOUT_S."""
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.perf_counter() + STOP_TIMEOUT_S
        while group_alive(pgid) and time.perf_counter() < deadline:
            self.process.poll()
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def process_role(cmdline: list[str]) -> str:
    """Short label for a server process: `python -m X` -> X, else the program name."""
    if "-m" in cmdline[:-1]:
        return cmdline[cmdline.index("-m") + 1]
    joined = " ".join(cmdline)
    if "multiprocessing" in joined:
        return "multiprocessing " + (
            "resource tracker" if "resource_tracker" in joined else "child"
        )
    program = next((arg for arg in cmdline[1:2] if not arg.startswith("-")), cmdline[0])
    return Path(program).name


def start_server(spec: ServerSpec, workdir: Path) -> RunningServer:
    """Launch `spec` in a fresh `workdir` and block until /health answers 200."""
    if not spec.executable.exists():
        raise FileNotFoundError(f"{spec.executable} not found")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        started_at = time.perf_counter()
        process = subprocess.Popen(
            spec.argv(port, workdir),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = RunningServer(spec, workdir, port, process, log_path=log_path)
    try:
        server.startup_s = server.wait_healthy(started_at)
    except BaseException:
        server.stop()
        raise
    return server


def tool_version(executable: Path) -> str:
    try:
        out = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[-1] if out.returncode == 0 and text else "unavailable"


def server_command_available(spec: ServerSpec) -> bool:
    """True when `<executable> server --help` exits 0."""
    if not spec.executable.exists():
        return False
    try:
        out = subprocess.run([*spec.program(), "server", "--help"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0
