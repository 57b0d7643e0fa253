"""``trainlab reproduce RUN_ID``: train a recorded run again from its own pipeline and data, as a
new run linked to the original, after checking that the data and the code are what it recorded.

A changed data fingerprint or different code (commit, or uncommitted changes) is a refusal that
names each difference, unless forced; then the differences are stored with the new run.
Package versions that changed are reported, not refused: they are the usual reason a
reproduction drifts."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainlab.entities.tags import GIT_COMMIT_TAG
from trainlab.exceptions import InvalidParameterValue, InvalidState, ResourceNotFound
from trainlab.training.environment import GitInfo, git_info, installed_packages
from trainlab.training.progress import Reporter
from trainlab.training.runner import (
    DIFF_ARTIFACT,
    Fit,
    TrainResult,
    data_differences,
    plan,
    recorded_spec,
    run_plan,
    unreachable_script_function,
)
from trainlab.training.trainer import in_training_folder

if TYPE_CHECKING:
    from trainlab.entities import Run

REPRODUCES_TAG = "trainlab.reproduces"
DIFFERENCES_ARTIFACT = "reproduce/differences.txt"
DIFF_SHA_TAG = "trainlab.git.diff_sha256"


@dataclass
class Reproduction:
    original: Run
    reproduced: Run
    result: TrainResult
    differences: list[str] = field(default_factory=list)  # accepted with force
    packages: list[str] = field(default_factory=list)  # version changes since the original
    notes: list[str] = field(default_factory=list)  # what could not be compared


def _download_text(run: Run, path: str, tracking_uri: str | None) -> str | None:
    import trainlab

    with tempfile.TemporaryDirectory(prefix="trainlab-") as tmp:
        try:
            local = trainlab.download_artifacts(
                run.info.run_id, path, tmp, tracking_uri=tracking_uri
            )
        except ResourceNotFound:
            return None
        return Path(local).read_text(encoding="utf-8")


_FILE_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$", re.MULTILINE)


def _per_file(diff: str) -> dict[str, str]:
    """A git diff split by file: path -> that file's part."""
    starts = list(_FILE_HEADER.finditer(diff))
    out = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(diff)
        out[m.group(2)] = diff[m.start() : end]
    return out


def code_differences(
    run: Run, now: GitInfo | None, tracking_uri: str | None = None
) -> tuple[list[str], list[str]]:
    """(differences, notes): the checked-out commit and the uncommitted changes against those
    the run recorded; notes say what cannot be compared."""
    tags = run.data.tags
    commit = tags.get(GIT_COMMIT_TAG)
    if commit is None:
        return [], ["code: the run recorded no git commit (it ran outside a repository)"]
    if now is None:
        return [
            f"code: the run was trained at commit {commit[:12]}; this folder is not in a git "
            "repository"
        ], []
    out, notes = [], []
    if now.commit != commit:
        out.append(f"code: commit {now.commit[:12]} is checked out, the run used {commit[:12]}")
    if now.diff_sha256 != tags.get(DIFF_SHA_TAG, ""):
        recorded = _download_text(run, DIFF_ARTIFACT, tracking_uri) or ""
        before, after = _per_file(recorded), _per_file(now.diff)
        files = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        # A file new since the run (a log, a download) is not code the run had: for it to
        # change what runs, a file the run had must change too, which is a difference.
        new = [f for f in files if f not in before and "\nnew file mode" in after[f][:400]]
        changed = [f for f in files if f not in new]
        if changed or not files:
            out.append(
                "code: uncommitted changes differ from the run's "
                f"({DIFF_ARTIFACT}) in {', '.join(changed) or 'their content'}"
            )
        if new:
            notes.append(f"code: files new since the run, not compared: {', '.join(new)}")
    return out, notes


def package_changes(run: Run, tracking_uri: str | None = None) -> list[str]:
    """Installed package versions that differ from the run's ``requirements.txt``."""
    text = _download_text(run, "environment/requirements.txt", tracking_uri)
    if text is None:
        return []
    then = dict(line.split("==", 1) for line in text.splitlines() if "==" in line)
    now = installed_packages()
    out = []
    for name in sorted(set(then) | set(now)):
        a, b = then.get(name), now.get(name)
        if a == b:
            continue
        if a is None:
            out.append(f"{name} {b} (new)")
        elif b is None:
            out.append(f"{name} {a} (not installed now)")
        else:
            out.append(f"{name} {a} -> {b}")
    return out


def reproduce(
    run_id: str,
    *,
    force: bool = False,
    tracking_uri: str | None = None,
    fit: Fit | None = None,
    reporter: Reporter | None = None,
) -> Reproduction:
    """Train run ``run_id`` again as a new run tagged ``trainlab.reproduces``. Raises
    ``InvalidState`` naming every difference in data or code, unless ``force``."""
    import trainlab

    original = trainlab.get_run(run_id, tracking_uri=tracking_uri)
    spec = recorded_spec(original, tracking_uri)
    if fn := unreachable_script_function(spec, fit):
        raise InvalidParameterValue(
            f"Run {run_id} was trained by {fn}() of the script that started it, which no other "
            f"process can import, so it cannot be trained again from here. Define {fn} in a "
            "module that the script imports: runs trained from then on reproduce with "
            "`trainlab reproduce` (model.class names module.function)."
        )
    with in_training_folder(original, spec.data.source):
        p = plan(spec, fit)
    code, notes = code_differences(original, git_info("."), tracking_uri)
    differences = data_differences(original, p.data) + code
    if differences and not force:
        raise InvalidState(
            f"Run {run_id} cannot be reproduced as recorded:\n  "
            + "\n  ".join(differences)
            + "\nRestore the data and code it used, or pass --force to train anyway "
            "(the differences are stored with the new run)."
        )
    packages = package_changes(original, tracking_uri)
    texts = {DIFFERENCES_ARTIFACT: "\n".join(differences) + "\n"} if differences else {}
    result = run_plan(
        p,
        tracking_uri=tracking_uri,
        reporter=reporter,
        tags={REPRODUCES_TAG: run_id, "trainlab.reproduce.exact": str(not differences)},
        texts=texts,
    )
    reproduced = trainlab.get_run(result.run_id, tracking_uri=tracking_uri)
    return Reproduction(original, reproduced, result, differences, packages, notes)
