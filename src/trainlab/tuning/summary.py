"""What the study's parent run records when trials finish: counts per state, the optimization
history (each trial's value and the best so far, by trial number), the best trial with its run,
parameter importances, and the trials table."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlab.entities.tags import STOPPED_TAG, TRIAL_STATE_TAG
from trainlab.tuning.study import ERROR, SLOT

INTERRUPTED = "stopped before it finished (interrupted, or its worker died); tried again"

if TYPE_CHECKING:
    import optuna

    from trainlab.client.fluent import ActiveRun
    from trainlab.entities import Run

log = logging.getLogger("trainlab")


@dataclass
class BestTrial:
    number: int
    params: dict[str, Any]
    values: list[float]
    run_id: str | None


@dataclass
class StudySummary:
    study: str
    counts: dict[str, int]
    best: list[BestTrial]  # one for a single objective; the Pareto front for several
    importances: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # of failed trials, newest first


def _ms(when: Any) -> int | None:
    return int(when.timestamp() * 1000) if when is not None else None


def trial_run_ids(run: ActiveRun, study: str) -> dict[int, str]:
    """Trial number -> the id of its run (the newest attempt's)."""
    out: dict[int, str] = {}
    for child in trial_runs(run.tracking_uri, run.info.experiment_id, study):
        out[int(child.data.tags["trainlab.trial.number"])] = child.info.run_id
    return out


def trial_runs(
    tracking_uri: str, experiment_id: str, study: str, number: int | None = None
) -> list[Run]:
    """The runs of a study's trials (of trial ``number`` only), oldest first."""
    import trainlab

    quoted = study.replace("'", "''")
    where = f"tags.`trainlab.study` = '{quoted}'"
    if number is not None:
        where += f" AND tags.`trainlab.trial.number` = '{number}'"
    found = trainlab.search_runs(
        [experiment_id], where, output="list", max_results=100_000, tracking_uri=tracking_uri
    )
    assert isinstance(found, list)
    trials = [r for r in found if "trainlab.trial.number" in r.data.tags]  # not the study's run
    return sorted(trials, key=lambda r: r.info.start_time or 0)


def end_running_trials(
    tracking_uri: str,
    experiment_id: str,
    study: str,
    status: str,
    number: int | None = None,
    since: int = 0,
) -> list[str]:
    """End the trial runs of ``study`` (of trial ``number`` only; of trials numbered ``since``
    or later) still RUNNING with ``status``: those whose worker is gone. Their ids."""
    import trainlab

    ended = []
    for run in trial_runs(tracking_uri, experiment_id, study, number):
        if int(run.data.tags["trainlab.trial.number"]) < since:
            continue  # another session's trial, maybe running still
        if run.info.status == "RUNNING":
            # nested: in the process that runs the study its run is active
            ended_run = trainlab.start_run(
                run_id=run.info.run_id, tracking_uri=tracking_uri, nested=True
            )
            ended_run.set_tags({TRIAL_STATE_TAG: "FAIL", STOPPED_TAG: INTERRUPTED})
            ended_run.end(status)
            ended.append(run.info.run_id)
    return ended


def summarize(study: optuna.Study, run: ActiveRun) -> StudySummary:
    """Log the study's state to its run (repeatable: a resumed study logs it again)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    counts = {s.name.lower(): 0 for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    for t in trials:
        if t.state.name.lower() in counts:
            counts[t.state.name.lower()] += 1
    run.log_metrics({f"trials_{k}": float(v) for k, v in counts.items()})
    complete = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    single = len(study.directions) == 1
    if single and complete:
        _history(run, study, complete)
    ids = trial_run_ids(run, study.study_name)
    front = ([study.best_trial] if single else study.best_trials) if complete else []
    best = [
        BestTrial(t.number, dict(t.params), list(t.values or []), ids.get(t.number)) for t in front
    ]
    if single and best:
        b = best[0]
        run.set_tags(
            {
                "trainlab.best_trial": str(b.number),
                "trainlab.best_run_id": b.run_id or "",
                **{f"trainlab.best.{k}": str(v) for k, v in b.params.items()},
            }
        )
    importances = _importances(study, run, len(complete))
    run.log_dict(
        {
            "study": study.study_name,
            "directions": [d.name.lower() for d in study.directions],
            "counts": counts,
            "best": [vars(b) for b in best],
            "importances": importances,
        },
        "study/summary.json",
    )
    frame = study.trials_dataframe()
    run.log_text(frame.to_csv(index=False), "study/trials.csv")
    errors = [
        f"trial {t.number} (slot {t.user_attrs.get(SLOT)}): {t.user_attrs[ERROR]}"
        for t in sorted(trials, key=lambda t: -t.number)
        if ERROR in t.user_attrs
    ]
    return StudySummary(study.study_name, counts, best, importances, errors)


def _history(run: ActiveRun, study: optuna.Study, complete: list[Any]) -> None:
    maximize = study.direction.name == "MAXIMIZE"
    best: float | None = None
    for t in complete:
        value = float(t.value)
        better = best is None or (value > best if maximize else value < best)
        best = value if better else best
        ts = _ms(t.datetime_complete)  # the same point each time: a re-log collapses
        run.log_metric("trial_value", value, step=t.number, timestamp=ts)
        run.log_metric("best_value", float(best), step=t.number, timestamp=ts)  # type: ignore[arg-type]


def _importances(study: optuna.Study, run: ActiveRun, n_complete: int) -> dict[str, float]:
    import optuna

    if n_complete < 2 or len(study.directions) != 1:
        return {}
    try:
        with warnings.catch_warnings():  # "importances will be equal" when values tie
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as exc:  # e.g. every trial had the same params
        log.info("trainlab: no parameter importances: %s", exc)
        return {}
    values = {str(k): float(v) for k, v in found.items()}
    run.log_metrics({f"importance/{k}": v for k, v in values.items()}, step=n_complete)
    return values
