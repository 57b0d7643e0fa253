"""Running trial slots of a study in this process: what the local pool's worker processes, Ray
tasks and Kubernetes pods (``trainlab tune-worker``) all do. Everything a worker needs is in
the study: the tune section, the pipeline (or the tuning function's import path), the tracking
URI and the study's run.

    python -m trainlab.tuning.worker --study NAME --storage URL [--worker I]

reads slot numbers on stdin and answers ``done SLOT STATE`` for each (the local pool's
protocol; anything the training prints goes to stderr)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from trainlab.client.resolve import ENV_TRACKING_URI
from trainlab.training.signals import exit_by, sigterm_interrupts
from trainlab.tuning import study as studies
from trainlab.tuning.trial import (
    FunctionObjective,
    Objective,
    PipelineObjective,
    run_trial,
)

if TYPE_CHECKING:
    import optuna

log = logging.getLogger("trainlab")


def objective_for(study: optuna.Study) -> Objective:
    """The objective the study was created for: its pipeline, or its tuning function."""
    from trainlab.training.adapters import resolve

    attrs = study.user_attrs
    tune = studies.tune_spec(study)
    tracking = tracking_uri(study)
    if studies.ATTR_CONFIG in attrs:
        return PipelineObjective(dict(attrs[studies.ATTR_CONFIG]), tune, tracking)
    path = str(attrs[studies.ATTR_OBJECTIVE])
    main_file = attrs.get(studies.ATTR_MAIN_FILE)
    if main_file and path.startswith("__main__."):
        # The script the study was started from, run as a module (its __main__ block is not).
        import runpy

        found: Any = runpy.run_path(str(main_file), run_name="__trainlab_main__")
        for part in path.removeprefix("__main__.").split("."):
            found = found[part] if isinstance(found, dict) else getattr(found, part)
        return FunctionObjective(found, tune, tracking)
    return FunctionObjective(resolve(path, "the tuning function"), tune, tracking)


def tracking_uri(study: optuna.Study) -> str:
    """``$TRAINLAB_TRACKING_URI`` where set (a pod may reach the server by another name than
    the machine that started the study), else the URI the study was started with."""
    return os.environ.get(ENV_TRACKING_URI) or str(study.user_attrs[studies.ATTR_TRACKING])


class SlotRunner:
    """Runs slots of one study, with this worker's own sampler seed; ``alone`` when no other
    worker runs trials of the study meanwhile."""

    def __init__(
        self,
        study_name: str,
        storage: str,
        worker: int = 0,
        objective: Objective | None = None,
        alone: bool = False,
    ) -> None:
        stored = studies.load_stored_study(study_name, storage)
        tune = studies.tune_spec(stored)
        held = int(stored.user_attrs.get(studies.ATTR_SESSION_START, 0))
        self.study = studies.open_study(
            study_name, storage, tune, worker=worker, parallel=not alone, held=held
        )
        self.objective = objective or objective_for(self.study)
        self.parent = str(self.study.user_attrs[studies.ATTR_PARENT])
        self.tracking_uri = tracking_uri(self.study)
        self.experiment_id = str(self.study.user_attrs[studies.ATTR_EXPERIMENT_ID])

    def run(self, slot: int) -> optuna.trial.TrialState:
        state: optuna.trial.TrialState = studies.run_slot(
            self.study,
            slot,
            lambda study, trial: run_trial(
                study, trial, self.objective, self.parent, self.experiment_id
            ),
            on_abandoned=self._fail_run,
        )
        return state

    def _fail_run(self, trial: Any) -> None:
        """The run of a trial whose worker died ends FAILED."""
        from trainlab.tuning.summary import end_running_trials

        end_running_trials(
            self.tracking_uri, self.experiment_id, self.study.study_name, "FAILED", trial.number
        )


def _preload(uri: str | None) -> None:
    """Import what the first trial needs (Optuna, the store's modules) now, while the study is
    being set up, rather than at the first slot."""
    import optuna  # noqa: F401

    from trainlab.client.resolve import is_remote

    if not uri:
        return
    if is_remote(uri):
        import trainlab.client.rest  # noqa: F401
    else:
        import trainlab.store.sql.tracking  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trainlab.tuning.worker")
    parser.add_argument("--study", required=True)
    parser.add_argument("--storage", required=True)
    parser.add_argument("--worker", type=int, default=0)
    args = parser.parse_args(argv)
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # what training prints must not mix with the protocol
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    _preload(os.environ.get(ENV_TRACKING_URI))
    runner: SlotRunner | None = None
    # Ctrl-C reaches the workers with the study's process; the pool ends them with SIGTERM.
    # Either way the trial's run ends KILLED, and the worker ends by that signal (the pool
    # gives a slot back only when its worker was killed), without a traceback.
    with sigterm_interrupts():
        try:
            for line in sys.stdin:
                if not line.strip():
                    continue
                slot = int(line)
                # The study is opened at the first slot: the pool starts its workers before the
                # study and its run exist.
                runner = runner or SlotRunner(args.study, args.storage, args.worker)
                state = runner.run(slot)
                _answer(protocol, f"done {slot} {state.name}\n")
        except KeyboardInterrupt as exc:
            exit_by(exc)
    protocol.close()


def _answer(protocol: TextIO, line: str) -> None:
    """Write ``line`` to the study's process; if that process is gone (killed), exit 1
    quietly: no one takes the answer or gives another slot, the trial is stored, and
    `trainlab tune --resume` goes on from there."""
    try:
        protocol.write(line)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, protocol.fileno())  # what is buffered goes nowhere, without an error
        os.close(devnull)
        protocol.close()
        sys.exit(1)


if __name__ == "__main__":
    main()
