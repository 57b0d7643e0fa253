"""Why a run failed, recorded on the run: tag ``trainlab.error`` (the exception's type and
message) and the artifact ``error/traceback.txt`` (the full traceback), so that a FAILED run
says why without its console output. The exception goes on, noted with the run's id."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from trainlab.training.context import StopTraining
from trainlab.training.signals import naming_run
from trainlab.validation import MAX_TAG_VALUE_LENGTH

if TYPE_CHECKING:
    from trainlab.client.fluent import ActiveRun

log = logging.getLogger(__name__)
ERROR_TAG = "trainlab.error"
TRACEBACK_ARTIFACT = "error/traceback.txt"
_RUN_ATTR = "trainlab_failed_run_id"
_STORED_ATTR = "trainlab_traceback_stored"


def describe(exc: BaseException) -> str:
    """``Type: message``, cut to what a tag holds."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= MAX_TAG_VALUE_LENGTH else text[: MAX_TAG_VALUE_LENGTH - 1] + "…"


def record_failure(run: ActiveRun, exc: BaseException) -> None:
    """Tag and traceback on ``run``; ``exc`` is marked with the run's id (:func:`failed_run`).
    Recording it cannot hide ``exc``: a store that refuses it (often why training failed) is
    only warned about."""
    setattr(exc, _RUN_ATTR, run.run_id)
    try:
        run.set_tag(ERROR_TAG, describe(exc))
        run.log_text("".join(traceback.format_exception(exc)), TRACEBACK_ARTIFACT)
    except Exception as failure:  # noqa: BLE001 - the training error is the one to report
        log.warning("trainlab: could not record why run %s failed: %s", run.run_id, failure)
        exc.add_note(f"trainlab: run {run.run_id} ended FAILED")
        return
    setattr(exc, _STORED_ATTR, True)
    exc.add_note(
        f"trainlab: run {run.run_id} ended FAILED; this traceback is its artifact "
        f"{TRACEBACK_ARTIFACT}"
    )


def failed_run(exc: BaseException) -> str | None:
    """The id of the run ``exc`` failed (recorded by :func:`record_failure`), if any."""
    run_id = getattr(exc, _RUN_ATTR, None)
    return run_id if isinstance(run_id, str) else None


def traceback_stored(exc: BaseException) -> bool:
    """Whether :func:`record_failure` stored ``exc``'s traceback on its run."""
    return getattr(exc, _STORED_ATTR, False) is True


@contextmanager
def recorded_outcome(run: ActiveRun) -> Iterator[None]:
    """Around training in ``run``: an exception is recorded on it (the run's context manager
    then ends it FAILED); Ctrl-C or SIGTERM comes out as ``Interrupted`` naming it (KILLED)."""
    with naming_run(run.run_id):
        try:
            yield
        except StopTraining:
            raise
        except Exception as exc:
            record_failure(run, exc)
            raise
