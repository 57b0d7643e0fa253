"""Run as a script: ``python core_only.py SCRIPT ARGS...`` runs SCRIPT with every module that
trainlab's core install (``pip install trainlab``, no extras) lacks made unimportable, so that
an import of a package of an extra (the server's, a framework's) fails as it would there."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import runpy
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from types import ModuleType

from packaging.requirements import Requirement


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def core_distributions() -> set[str]:
    """trainlab and what it needs without extras, transitively."""
    seen: set[str] = set()
    todo = ["trainlab"]
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        for text in reqs:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] in self.blocked:
            missing = f"No module named {name!r} (not in the core install)"
            raise ModuleNotFoundError(missing, name=name)
        return None


def block_extras() -> set[str]:
    core = core_distributions()
    blocked = {
        module
        for module, dists in packages_distributions().items()
        if not any(_norm(d) in core for d in dists)
    }
    sys.meta_path.insert(0, _Blocker(blocked))
    return blocked


if __name__ == "__main__":
    block_extras()
    script, *sys.argv = sys.argv[1:]
    sys.argv.insert(0, script)
    runpy.run_path(script, run_name="__main__")
