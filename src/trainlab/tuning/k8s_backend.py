"""Trials as a Kubernetes Indexed Job: index i of the Job runs slot i
(``trainlab tune-worker`` reads ``JOB_COMPLETION_INDEX``), Kubernetes retries a failed index
(``backoffLimitPerIndex``) and the retry fails the dead attempt and tries its params again.
This process submits the Job and follows the study in its storage until every slot is done.

The pods need the study's storage and the tracking server: give them as a Secret
(``TRAINLAB_STUDY_STORAGE``, ``TRAINLAB_TRACKING_URI``, credentials) rather than on the
command line, where they would be part of the Job's manifest."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.tuning.kubernetes import JobSettings, render_job, submit

POLL_S = 5.0


def worker_command(study: str, storage: str, secret: str | None) -> list[str]:
    command = ["trainlab", "tune-worker", "--study", study]
    return command if secret else [*command, "--storage", storage]


def job_name(study: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", study.lower()).strip("-")[:40] or "study"
    return f"tune-{name}-{int(time.time())}"


def check_reachable(storage: str, settings: JobSettings) -> None:
    """The pods can reach the study's storage (checked before the study exists)."""
    if storage.startswith("journal:") and not settings.secret:
        raise InvalidParameterValue(
            "Pods cannot reach a journal file on this machine: give the study a storage they "
            "all reach (--storage postgresql://...), or a Secret holding TRAINLAB_STUDY_STORAGE."
        )


def manifest(study: str, storage: str, slots: int, settings: JobSettings) -> dict[str, Any]:
    """The Indexed Job for slots 0..``slots``-1 of the study."""
    check_reachable(storage, settings)
    command = settings.command or worker_command(study, storage, settings.secret)
    return render_job(replace(settings, command=command, completions=slots))


def run_on_kubernetes(
    study: str,
    storage: str,
    slots: list[int],
    settings: JobSettings,
    deadline: float | None,
    on_done: Callable[[int, str], None],
) -> None:
    from trainlab.tuning import study as studies

    if not slots:
        return
    job = manifest(study, storage, max(slots) + 1, settings)
    submit(job, settings.namespace)
    opened = studies.open_study(
        study, storage, studies.tune_spec(studies.load_stored_study(study, storage))
    )
    todo = set(slots)
    while todo and (deadline is None or time.monotonic() < deadline):
        time.sleep(POLL_S)
        for slot in sorted(studies.done_slots(opened) & todo):
            todo.discard(slot)
            on_done(slot, "DONE")
