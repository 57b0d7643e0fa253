"""What a trial does: train the pipeline with the trial's params (pipeline tuning) or call your
function (function tuning) in a child run of the study's run, with the pruner watching the
curve, then tell the study how it went and record that on the run."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from trainlab.entities.tags import PARENT_RUN_TAG, STOPPED_TAG, TRIAL_STATE_TAG
from trainlab.training.context import LogMetrics, OnReport, StopTraining
from trainlab.training.failure import record_failure
from trainlab.training.spec import EarlyStopping, PipelineSpec, parse_spec, set_path
from trainlab.tuning.space import ParamSpace, TuneSpec
from trainlab.tuning.study import ATTR_SESSION_START, ERROR, RETRY_OF, SLOT
from trainlab.tuning.summary import INTERRUPTED

if TYPE_CHECKING:
    import optuna

    from trainlab.client.fluent import ActiveRun
    from trainlab.training.data import PreparedData
    from trainlab.training.runner import Plan

log = logging.getLogger("trainlab")


class TrialPruned(StopTraining):  # noqa: N818 - Optuna's name for the same signal
    """The pruner stopped this trial."""


def suggest(trial: optuna.Trial, tune: TuneSpec) -> dict[str, Any]:
    return {name: _suggest(trial, name, space) for name, space in tune.space.items()}


def _suggest(trial: optuna.Trial, name: str, space: ParamSpace) -> Any:
    if space.type == "categorical":
        return space.decode(trial.suggest_categorical(name, space.encoded_choices()))
    assert space.low is not None and space.high is not None
    if space.type == "int":
        step = int(space.step or 1)
        return trial.suggest_int(name, int(space.low), int(space.high), step=step, log=space.log)
    return trial.suggest_float(name, space.low, space.high, step=space.step, log=space.log)


def apply_params(config: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The pipeline with a trial's params: ``name`` sets ``model.params.name``, a dotted
    ``train.lr`` sets that setting."""
    for name, value in params.items():
        path = name.split(".") if "." in name else ["model", "params", name]
        config = set_path(config, path, value, f"tune.space.{name}")
    return config


class Pruning:
    """The hook that feeds one curve to the pruner: ``tune.prune_on``, else the tuned metric
    when it is a curve, else the first validation loss (or validation curve) the model
    reports. Values go to Optuna in the study's direction and are logged as
    ``pruner/<curve>``, so every pruning decision can be seen on the run."""

    def __init__(self, trial: optuna.Trial, tune: TuneSpec) -> None:
        self.trial = trial
        self.tune = tune
        self.curve: str | None = None
        self.sign = 1.0

    def _pick(self, values: dict[str, float]) -> str | None:
        wanted = self.tune.prune_on or self.tune.metrics[0]
        if wanted in values:
            return wanted
        if self.tune.prune_on:
            self._warn_once(values)
            return None
        valid = sorted(k for k in values if k.startswith("valid_"))
        losses = [k for k in valid if EarlyStopping(metric=k, patience=1).minimize]
        return (losses or valid or [""])[0] or None

    def _warn_once(self, values: dict[str, float]) -> None:
        """Warn that ``tune.prune_on`` is not reported, once per run of the study (every trial
        finds the same): by its first trial, the one numbered as many as the study held."""
        study = self.trial.study
        if self.trial.number != int(study.user_attrs.get(ATTR_SESSION_START, 0)):
            return
        log.warning(
            "trainlab: tune.prune_on %r is not a curve this model reports (it reports %s): "
            "no trial of study %s is pruned; set tune.prune_on to one of them",
            self.tune.prune_on,
            ", ".join(sorted(values)),
            study.study_name,
        )

    def __call__(self, step: int, values: dict[str, float], log_metrics: LogMetrics) -> None:
        if self.curve is None:
            self.curve = self._pick(values) or ""
            if self.curve:
                lower_better = EarlyStopping(metric=self.curve, patience=1).minimize
                maximize = self.tune.directions[0] == "maximize"
                self.sign = -1.0 if lower_better == maximize else 1.0
        if self.curve and self.curve in values:
            self.report(step, values[self.curve], log_metrics)

    def report(self, step: int, value: float, log_metrics: LogMetrics) -> None:
        seen = self.sign * value
        log_metrics({f"pruner/{self.curve}": seen}, step)
        if self.tune.pruner == "none":
            return
        self.trial.report(seen, step)
        if self.trial.should_prune():
            raise TrialPruned(f"pruned at step {step}: {self.curve} = {value:.6g}")


class Objective(Protocol):
    tune: TuneSpec

    def begin(self, params: dict[str, Any], tags: dict[str, str], experiment_id: str) -> ActiveRun:
        """Start the trial's run (in the study's experiment)."""

    def evaluate(
        self, run: ActiveRun, params: dict[str, Any], pruning: Pruning
    ) -> dict[str, float]:
        """Train and score in ``run``; the metrics, the tuned ones among them."""


class PipelineObjective:
    """Train the pipeline with the trial's params; its data is loaded once per process."""

    def __init__(self, config: dict[str, Any], tune: TuneSpec, tracking_uri: str) -> None:
        self.config = config
        self.tune = tune
        self.tracking_uri = tracking_uri
        self._data: dict[str, PreparedData] = {}
        self._plan: Plan | None = None

    def spec(self, params: dict[str, Any]) -> PipelineSpec:
        # A trial registers nothing: the study registers its best trial's model at the end.
        config = {k: v for k, v in apply_params(self.config, params).items() if k != "register"}
        return parse_spec(config, "the trial's pipeline")

    def plan(self, params: dict[str, Any]) -> Plan:
        from trainlab.training.runner import plan

        spec = self.spec(params)
        key = json.dumps([spec.data.model_dump(mode="json"), spec.model.class_], sort_keys=True)
        p = plan(spec, data=self._data.get(key))
        self._data[key] = p.data
        return p

    def begin(self, params: dict[str, Any], tags: dict[str, str], experiment_id: str) -> ActiveRun:
        from trainlab.training.runner import start_run_for

        self._plan = self.plan(params)
        return start_run_for(
            self._plan.spec,
            self.tracking_uri,
            tags,
            nested=True,
            run_name=f"trial-{tags['trainlab.trial.number']}",
            experiment_id=experiment_id,
        )

    def evaluate(
        self, run: ActiveRun, params: dict[str, Any], pruning: Pruning
    ) -> dict[str, float]:
        from trainlab.training.runner import train_in_run

        assert self._plan is not None
        hook: OnReport = pruning
        result = train_in_run(self._plan, run, on_report=hook, record_context=False)
        return result.metrics


class TrialContext:
    """What a tuning function gets besides its params: ``report(step, value)`` for the pruner
    (it raises ``TrialPruned`` when the trial should stop), and the trial's run to log to."""

    def __init__(self, trial: optuna.Trial, run: ActiveRun, pruning: Pruning) -> None:
        self.number = trial.number
        self.run = run
        self._pruning = pruning

    def report(self, step: int, value: float) -> None:
        if not self._pruning.curve:
            self._pruning.curve = self._pruning.tune.prune_metric
        self._pruning.report(step, float(value), self.run.log_metrics)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.run.log_metrics(metrics, step)


TuneFunction = Callable[[dict[str, Any], TrialContext], "float | dict[str, float]"]


class FunctionObjective:
    """Call ``fn(params, ctx)``; it returns the tuned metric (or a dict of metrics)."""

    def __init__(self, fn: TuneFunction, tune: TuneSpec, tracking_uri: str) -> None:
        self.fn = fn
        self.tune = tune
        self.tracking_uri = tracking_uri

    def begin(self, params: dict[str, Any], tags: dict[str, str], experiment_id: str) -> ActiveRun:
        import trainlab

        return trainlab.start_run(
            experiment_id=experiment_id,
            params=params,
            tags=tags,
            tracking_uri=self.tracking_uri,
            nested=True,  # in this process the study's run may be active
            run_name=f"trial-{tags['trainlab.trial.number']}",
        )

    def evaluate(
        self, run: ActiveRun, params: dict[str, Any], pruning: Pruning
    ) -> dict[str, float]:
        out = self.fn(dict(params), TrialContext(pruning.trial, run, pruning))
        if isinstance(out, dict):
            metrics = {str(k): float(v) for k, v in out.items()}
        else:
            metrics = {self.tune.metrics[0]: float(out)}
        run.log_metrics(metrics)
        return metrics


def run_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    objective: Objective,
    parent_run_id: str,
    experiment_id: str,
) -> optuna.trial.TrialState:
    """Run one trial in a child run of ``parent_run_id`` and tell the study how it went:
    complete (the tuned metrics), pruned, or failed (the error is kept on the trial)."""
    from optuna.trial import TrialState

    params = suggest(trial, objective.tune)
    tags = {
        PARENT_RUN_TAG: parent_run_id,
        "trainlab.study": study.study_name,
        "trainlab.trial.number": str(trial.number),
        "trainlab.trial.slot": str(trial.user_attrs.get(SLOT, "")),
    }
    if RETRY_OF in trial.user_attrs:
        tags["trainlab.trial.retry_of"] = str(trial.user_attrs[RETRY_OF])
    started = time.perf_counter()
    try:
        run = objective.begin(params, tags, experiment_id)
    except Exception as exc:  # noqa: BLE001 - e.g. params the model rejects: this trial fails
        return _failed(study, trial, exc)
    pruning = Pruning(trial, objective.tune)
    try:
        metrics = objective.evaluate(run, params, pruning)
        missing = [m for m in objective.tune.metrics if m not in metrics]
        if missing:
            raise ValueError(f"the trial gave no {missing}; it gave {sorted(metrics)}")
    except StopTraining as stop:
        state, status = TrialState.PRUNED, "KILLED"
        run.set_tag(STOPPED_TAG, stop.reason)
    except Exception as exc:  # noqa: BLE001 - the user's training failed: this trial fails
        state, status = TrialState.FAIL, "FAILED"
        record_failure(run, exc)
        _failed(study, trial, exc, tell=False)
    except BaseException:  # Ctrl-C, SIGTERM: the run ends killed, the trial is retried on resume
        run.set_tags({TRIAL_STATE_TAG: TrialState.FAIL.name, STOPPED_TAG: INTERRUPTED})
        run.end("KILLED")
        raise
    else:
        state, status = TrialState.COMPLETE, "FINISHED"
    run.set_tag(TRIAL_STATE_TAG, state.name)
    run.log_metric("trial_duration_s", time.perf_counter() - started)
    run.end(status)
    if state == TrialState.COMPLETE:
        study.tell(trial, [metrics[m] for m in objective.tune.metrics])
    else:
        study.tell(trial, state=state)
    return state


def _failed(
    study: optuna.Study, trial: optuna.Trial, exc: Exception, *, tell: bool = True
) -> optuna.trial.TrialState:
    from optuna.trial import TrialState

    trial.set_user_attr(ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    log.error("trainlab: trial %d failed: %s: %s", trial.number, type(exc).__name__, exc)
    if tell:
        study.tell(trial, state=TrialState.FAIL)
    return TrialState.FAIL
