"""What a run ran on: the git state of the code, the machine, and the installed packages."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import platform
import socket
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# Never part of a run's code: trainlab's own files (the embedded store, its artifacts, the
# spool) and the reference's, wherever they sit in the repository.
EXCLUDED = (
    "trainlab.db",
    "trainlab.db-*",
    "trainlab-artifacts",
    "trainlab-studies",
    ".trainlab",
    "mlruns",
    "mlartifacts",
)
MAX_UNTRACKED_BYTES = 1 << 20  # larger untracked files (data, models) are named, not copied
# Untracked files named as secrets usually are: named, never copied into a run everyone on the
# server can read (a .gitignore entry leaves a file out altogether).
SECRET_NAMES = (
    ".env", ".env.*", "*.env", ".envrc", ".netrc", ".pgpass", ".npmrc", ".pypirc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.kdbx", "id_rsa*", "id_dsa*", "id_ecdsa*",
    "id_ed25519*", "credentials", "credentials.*", "*secret*", "*password*",
)  # fmt: skip


@dataclass(frozen=True)
class GitInfo:
    commit: str
    branch: str | None
    dirty: bool
    diff: str
    remote: str | None
    skipped: tuple[str, ...] = ()  # untracked files left out of the diff: size, or a secret's name

    @property
    def diff_sha256(self) -> str:
        return hashlib.sha256(self.diff.encode()).hexdigest() if self.diff else ""


def _git(path: Path, *args: str, env: dict[str, str] | None = None) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=path, capture_output=True, text=True, timeout=30, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _pathspec() -> list[str]:
    out = ["--", "."]
    for name in EXCLUDED:
        out += [f":(exclude,glob)**/{name}", f":(exclude,glob)**/{name}/**"]
    return out


def git_info(path: str | Path = ".") -> GitInfo | None:
    """The repository ``path`` is in, or None outside one (or without git). ``diff`` holds
    every uncommitted change against HEAD, staged or not, with the contents of untracked files
    up to 1 MiB (larger ones, and those named as secrets usually are, are listed in
    ``skipped``); trainlab's own files are left out. The
    user's index is not touched (a temporary copy gets the intent-to-add entries). A repository
    with no commit yet has commit ""."""
    import shutil
    import tempfile

    where = Path(path)
    if (_git(where, "rev-parse", "--is-inside-work-tree") or "").strip() != "true":
        return None
    commit = (_git(where, "rev-parse", "HEAD") or "").strip()
    branch = (_git(where, "symbolic-ref", "--short", "-q", "HEAD") or "").strip() or None
    remote = (_git(where, "remote", "get-url", "origin") or "").strip() or None
    git_dir = Path((_git(where, "rev-parse", "--absolute-git-dir") or "").strip())
    top = Path((_git(where, "rev-parse", "--show-toplevel") or "").strip())
    spec = _pathspec()
    untracked = [
        f
        for f in (_git(top, "ls-files", "-z", "--others", "--exclude-standard", *spec) or "").split(
            "\0"
        )
        if f
    ]
    small: list[str] = []
    skipped: list[str] = []
    for name in untracked:
        try:
            big = (top / name).stat().st_size > MAX_UNTRACKED_BYTES
        except OSError:
            continue
        (skipped if big or _secret(name) else small).append(name)
    diff = ""
    with tempfile.TemporaryDirectory(prefix="trainlab-git-") as tmp:
        index = Path(tmp) / "index"
        if (git_dir / "index").is_file():
            shutil.copy2(git_dir / "index", index)  # keeps mtime: git's racy-entry check
        env = {**os.environ, "GIT_INDEX_FILE": str(index)}
        for start in range(0, len(small), 500):
            _git(top, "add", "-N", "--", *small[start : start + 500], env=env)
        if commit:
            diff = _git(top, "diff", "HEAD", "--binary", *spec, env=env) or ""
        else:
            diff = _git(top, "diff", "--cached", "--binary", *spec, env=env) or ""
            diff += _git(top, "diff", "--binary", *spec, env=env) or ""
    return GitInfo(commit, branch, bool(diff or skipped), diff, remote, tuple(sorted(skipped)))


def _secret(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment() -> dict[str, str]:
    """Python, OS, CPU, memory and GPUs (through NVML when ``nvidia-ml-py`` is installed)."""
    import psutil

    env = {
        "python.version": platform.python_version(),
        "python.implementation": platform.python_implementation(),
        "python.executable": os.path.realpath(sys.executable),
        "os.name": platform.system(),
        "os.release": platform.release(),
        "os.platform": platform.platform(),
        "cpu.model": _cpu_model(),
        "cpu.count": str(os.cpu_count() or 0),
        "memory.total_mb": str(psutil.virtual_memory().total // 2**20),
        "hostname": socket.gethostname(),
    }
    env.update(gpus())
    return env


def gpus() -> dict[str, str]:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no NVML, no driver or no GPU: all mean "none"
        return {"gpu.count": "0"}
    try:
        count = pynvml.nvmlDeviceGetCount()
        out = {"gpu.count": str(count)}
        for i in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            out[f"gpu.{i}.name"] = name.decode() if isinstance(name, bytes) else str(name)
            out[f"gpu.{i}.memory_total_mb"] = str(
                pynvml.nvmlDeviceGetMemoryInfo(handle).total // 2**20
            )
        return out
    finally:
        pynvml.nvmlShutdown()


def installed_packages() -> dict[str, str]:
    """Every installed distribution's normalized name and version; where one is installed
    twice, the one imports find first. A wheel's ``NAME-VERSION.dist-info`` folder names both,
    so its METADATA file is read only for other layouts (reading them all takes about 0.4 s
    in a data-science environment)."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        folder = getattr(dist, "_path", None)
        name, version = _from_folder(folder.name if isinstance(folder, Path) else "")
        if not name:
            name, version = dist.metadata["Name"] or "", dist.version
        name = _normalize(name)
        if name:
            out.setdefault(name, version)
    return dict(sorted(out.items()))


def _from_folder(folder: str) -> tuple[str, str]:
    """(name, version) from a ``NAME-VERSION.dist-info`` folder name, else empty strings."""
    stem, dot, kind = folder.rpartition(".")
    name, dash, version = stem.partition("-")
    if kind != "dist-info" or not dash or not version or "-" in version:
        return "", ""
    return name, version


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def requirements_text(packages: dict[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(packages.items()))
