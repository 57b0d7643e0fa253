"""How the CLI shows a run's status."""

from __future__ import annotations

from trainlab.cli.render import status
from trainlab.entities import Run, RunData, RunInfo, RunStatus


def _run(state: RunStatus, tags: dict[str, str]) -> Run:
    info = RunInfo("r" * 32, "1", "trial-3", "me", state, 1, 2, "file:///a", "active")
    return Run(info=info, data=RunData(metrics={}, params={}, tags=tags))


def test_a_pruned_trial_says_so() -> None:
    assert status(_run(RunStatus.KILLED, {"trainlab.trial.state": "PRUNED"})) == "KILLED (pruned)"
    assert status(_run(RunStatus.KILLED, {})) == "KILLED"
    assert status(_run(RunStatus.FINISHED, {"trainlab.trial.state": "COMPLETE"})) == "FINISHED"
