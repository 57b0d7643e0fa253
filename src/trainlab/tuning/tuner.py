"""``trainlab tune`` and ``trainlab.tune``: create (or resume) a study with its parent run, hand
its trial slots to the workers of a backend, and record the outcome on the parent run.

Everything that can be checked is checked before the study exists: the tune section, that
every searched key is a setting the model takes (with the lowest values of the space), and that
the tuned metric is one the pipeline reports."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from trainlab.client.resolve import absolute_tracking_uri
from trainlab.exceptions import InvalidParameterValue, TrainlabError
from trainlab.training.progress import Reporter
from trainlab.training.signals import interrupted, signals_held, sigterm_interrupts
from trainlab.tuning import study as studies
from trainlab.tuning.space import ParamSpace, TuneSpec
from trainlab.tuning.summary import StudySummary, end_running_trials, summarize
from trainlab.tuning.trial import FunctionObjective, Objective, PipelineObjective, TuneFunction

if TYPE_CHECKING:
    import optuna

    from trainlab.client.fluent import ActiveRun
    from trainlab.training.spec import PipelineSpec
    from trainlab.tuning.kubernetes import JobSettings

log = logging.getLogger("trainlab")

Backend = Literal["local", "ray", "kubernetes"]


@dataclass
class TuneResult:
    study: str
    storage: str
    parent_run_id: str
    experiment: str
    experiment_id: str
    tracking_uri: str
    requested: int
    summary: StudySummary
    registered: tuple[int, str, int] | None = None  # best trial, model name, version


@dataclass
class StudyPlan:
    """A checked study: its tune section, what a trial runs, and the study's attributes."""

    name: str
    storage: str
    tune: TuneSpec
    experiment: str
    tracking_uri: str
    objective: Objective
    attrs: dict[str, Any]  # the pipeline or the function's import path
    config: dict[str, Any] | None = None


def probe_params(tune: TuneSpec) -> dict[str, Any]:
    """The lowest value of every dimension: a config to check before any trial."""

    def low(space: ParamSpace) -> Any:
        if space.type == "categorical":
            return (space.choices or [None])[0]
        return int(space.low or 0) if space.type == "int" else space.low

    return {name: low(space) for name, space in tune.space.items()}


def plan_pipeline(
    spec: PipelineSpec, tracking_uri: str | None, study: str | None, storage: str | None
) -> StudyPlan:
    if spec.tune is None:
        raise InvalidParameterValue(
            "The pipeline has no tune: section: add one with metric, direction and space."
        )
    from trainlab.training.spec import LOOP_FLAVORS, LOOP_SETTINGS

    tune = spec.tune
    unused = [k for k in tune.space if k in LOOP_SETTINGS]
    if unused and spec.model.flavor not in LOOP_FLAVORS:
        raise InvalidParameterValue(
            f"tune.space {unused}: a {spec.model.flavor} model does not use them (only pytorch "
            "models and training functions read train.epochs, train.batch_size and train.lr); "
            "search the model's own params instead."
        )
    uri = absolute_tracking_uri(tracking_uri)
    config = spec.to_config()
    objective = PipelineObjective(config, tune, uri)
    lowest = probe_params(tune)
    try:
        probe = objective.plan(lowest)
    except InvalidParameterValue as exc:
        raise InvalidParameterValue(
            f"{exc.message}\n(checked with the lowest values of tune.space: {lowest})"
        ) from None
    reported = _reported_metrics(probe.spec, probe.metric_names, probe.data.splits)
    unknown = [m for m in tune.metrics if m not in reported]
    if unknown:
        # what to tune on: held-out scores (the train_* ones favour overfitting; the rest is
        # bookkeeping: memory, time, iterations)
        held_out = [m for m in reported if m.startswith("valid_") or m.endswith("_mean")]
        scores = sorted(held_out) or sorted(reported)
        raise InvalidParameterValue(
            f"tune.metric {unknown}: the pipeline reports {scores} to tune on; tune on one of "
            f"them{_metrics_to_add(unknown, probe.metric_names, probe.data)}."
        )
    for metric in tune.metrics:
        if metric.startswith("train_"):
            log.warning(
                "trainlab: tune.metric %r scores the rows each trial is fitted on: the study "
                "will favour the trials that overfit most. Tune on a valid_* score or a "
                "cross-validation mean (cv_<metric>_mean).",
                metric,
            )
    name = spec.experiment if study is None else studies.check_study_name(study)
    return StudyPlan(
        name=name,
        storage=storage or studies.default_storage(name),
        tune=tune,
        experiment=spec.experiment,
        tracking_uri=uri,
        objective=objective,
        attrs={studies.ATTR_CONFIG: config},
        config=config,
    )


def _metrics_to_add(unknown: list[str], names: list[str], data: Any) -> str:
    """For a ``valid_X`` (or ``train_X``, ``cv_X_mean``) the pipeline does not report, where X
    is a metric that applies to its target: the ``metrics:`` entry that would report it."""
    from trainlab.training.metrics import for_target

    applies = for_target(data.task, data.classes())
    missing = []
    for key in unknown:
        base = re.sub(r"^(train|valid|cv)_|_mean$", "", key)
        if base != key and base not in names and base in applies:
            missing.append(base)
    return f", or add {sorted(set(missing))} to the pipeline's metrics:" if missing else ""


def _reported_metrics(spec: PipelineSpec, names: list[str], splits: Any) -> set[str]:
    out = {f"{split}_{m}" for split in ("train", "valid") if split in splits for m in names}
    if spec.train.cv:
        out |= {f"cv_{m}_mean" for m in names}
    return out | {"training_time_s", "peak_memory_mb"}


def _importable(path: str, fn: Any) -> bool:
    from trainlab.training.adapters import resolve

    try:
        return resolve(path, "the tuning function") is fn
    except InvalidParameterValue:
        return False


def plan_function(
    fn: TuneFunction,
    tune: TuneSpec,
    experiment: str,
    tracking_uri: str | None,
    study: str | None,
    storage: str | None,
    importable: bool,
) -> StudyPlan:

    path = f"{fn.__module__}.{fn.__qualname__}"
    reachable = "<locals>" not in fn.__qualname__ and (
        bool(_main_file(fn)) or _importable(path, fn)
    )
    if importable and not reachable:
        raise InvalidParameterValue(
            f"Workers in other processes import the tuning function by name, and {path} "
            "cannot be imported: define it at the top level of a module or of the script you "
            "run (not inside another function or in an interactive session), or use workers=1."
        )
    name = experiment if study is None else studies.check_study_name(study)
    uri = absolute_tracking_uri(tracking_uri)
    return StudyPlan(
        name=name,
        storage=storage or studies.default_storage(name),
        tune=tune,
        experiment=experiment,
        tracking_uri=uri,
        objective=FunctionObjective(fn, tune, uri),
        attrs={studies.ATTR_OBJECTIVE: path, **_main_file(fn)},
    )


def _main_file(fn: Any) -> dict[str, str]:
    """A function of the script being run (``__main__``) is found by workers in that file."""
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if fn.__module__ != "__main__" or not path:
        return {}
    return {studies.ATTR_MAIN_FILE: str(Path(path).absolute())}


def _parent_run(plan: StudyPlan, study: optuna.Study, resume: bool) -> ActiveRun:
    import trainlab
    from trainlab.training.runner import CONFIG_ARTIFACT, record_code_and_environment
    from trainlab.training.trainer import check_not_training, trainer_tag

    if resume:  # not while the process running the study lives: its trials would be failed
        run_id = str(study.user_attrs[studies.ATTR_PARENT])
        running = trainlab.get_run(run_id, tracking_uri=plan.tracking_uri)
        check_not_training(running, "resuming its study now would fail the trials it runs")
        resumed = trainlab.start_run(run_id=run_id, tracking_uri=plan.tracking_uri)
        resumed.set_tags(trainer_tag())
        return resumed
    tune = plan.tune
    run = trainlab.start_run(
        experiment=plan.experiment,
        run_name=f"study {plan.name}",
        tracking_uri=plan.tracking_uri,
        tags={
            "trainlab.study": plan.name,
            "trainlab.study.storage": plan.storage,
            "trainlab.study.role": "parent",
            **trainer_tag(),
        },
        params={
            "tune.metric": ",".join(tune.metrics),
            "tune.direction": ",".join(tune.directions),
            "tune.sampler": tune.sampler,
            "tune.pruner": tune.pruner,
            **{f"tune.space.{k}": _describe(v) for k, v in tune.space.items()},
        },
    )
    if plan.config is not None:
        run.log_dict(plan.config, CONFIG_ARTIFACT)
    record_code_and_environment(run)
    return run


def _describe(space: ParamSpace) -> str:
    if space.type == "categorical":
        return f"categorical {space.choices}"
    scale = " log" if space.log else (f" step {space.step:g}" if space.step else "")
    return f"{space.type} [{space.low:g}, {space.high:g}]{scale}"


def run_study(
    plan: StudyPlan,
    *,
    trials: int | None,
    timeout: float | None = None,
    workers: int = 1,
    backend: Backend = "local",
    resume: bool = False,
    progress: bool = True,
    ray_address: str | None = None,
    kubernetes: JobSettings | None = None,
) -> TuneResult:
    """Create (or resume) the study and its run, run the missing slots, summarise."""
    if trials is not None and trials < 1:
        raise InvalidParameterValue(f"trials must be >= 1, got {trials}")
    if timeout is not None and timeout <= 0:
        raise InvalidParameterValue(f"timeout must be > 0 seconds, got {timeout}")
    n = plan.tune.trials if trials is None else trials
    if plan.tune.sampler == "grid" and n > studies.grid_size(plan.tune):
        log.warning("trainlab: the grid has %d points: %d trials", studies.grid_size(plan.tune),
                    studies.grid_size(plan.tune))  # fmt: skip
        n = studies.grid_size(plan.tune)
    if workers < 1:
        raise InvalidParameterValue(f"workers must be >= 1, got {workers}")
    if backend == "kubernetes":  # before the study and its run exist
        from trainlab.tuning.k8s_backend import check_reachable

        if kubernetes is None:
            raise InvalidParameterValue("the kubernetes backend needs Job settings (--image)")
        check_reachable(plan.storage, kubernetes)
    if backend == "ray":
        from trainlab.tuning.ray_backend import connect

        connect(ray_address)
    # entered on a Ctrl-C or SIGTERM, left once the study's run has ended KILLED
    stopping = contextlib.ExitStack()
    with stopping, sigterm_interrupts(), contextlib.ExitStack() as stack:
        pool = None
        if backend == "local" and workers > 1:
            from trainlab.tuning.local import LocalPool

            # Started first: the workers import their modules while the study is set up.
            pool = stack.enter_context(
                LocalPool(plan.name, plan.storage, min(workers, n), plan.tracking_uri)
            )
        recorded = {**plan.attrs, studies.ATTR_TUNE: plan.tune.model_dump(mode="json")}
        study = studies.create_study(
            plan.name, plan.storage, plan.tune, resume=resume, attrs=recorded
        )
        parent = stack.enter_context(_parent_run(plan, study, resume))
        if pool is not None:
            stack.callback(pool.close)  # the workers end before the study's run does
        attrs = {
            **recorded,
            studies.ATTR_PARENT: parent.run_id,
            studies.ATTR_TRACKING: plan.tracking_uri,
            studies.ATTR_EXPERIMENT_ID: parent.info.experiment_id,
            # Workers seed their samplers with it: a resumed study samples new points.
            studies.ATTR_SESSION_START: len(study.get_trials(deepcopy=False)),
        }
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        done = studies.done_slots(study)
        slots = [s for s in range(n) if s not in done]
        deadline = time.monotonic() + timeout if timeout else None
        try:
            with Reporter(enabled=progress) as reporter:
                bar = reporter.task(f"trials of study {plan.name}", n)
                reporter.advance(bar, n - len(slots))

                def on_done(slot: int, state: str) -> None:
                    reporter.advance(bar)

                if pool is not None:
                    pool.run(slots, on_done, deadline)
                else:
                    _dispatch(
                        plan, slots, workers, backend, deadline, on_done, ray_address, kubernetes
                    )
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: the study's run ends KILLED
            stopping.enter_context(signals_held())  # a second one does not cut this short
            if pool is not None:
                pool.close()  # the workers end the runs of their trials KILLED
            if backend != "kubernetes":  # a Job's pods go on without this process
                _end_own_trials(plan, parent.info.experiment_id, attrs)
            raise interrupted(exc, parent.run_id) from None
        summary = summarize(study, parent)
    registered = _register_best(plan, summary)
    return TuneResult(
        study=plan.name,
        storage=plan.storage,
        parent_run_id=parent.run_id,
        experiment=plan.experiment,
        experiment_id=parent.info.experiment_id,
        tracking_uri=plan.tracking_uri,
        requested=n,
        summary=summary,
        registered=registered,
    )


def _register_best(plan: StudyPlan, summary: StudySummary) -> tuple[int, str, int] | None:
    """With the pipeline's ``register:``, the best trial's model becomes a new version (its
    trials register nothing): (trial number, model name, version). Not when several trials
    are best (a Pareto front: register one with `trainlab models register`), nor again when
    the best trial's model is registered already (a resumed study whose best stayed)."""
    from trainlab.client.fluent import _client
    from trainlab.client.resolve import registry_for
    from trainlab.models.log import register_model
    from trainlab.training.spec import parse_spec

    register = parse_spec(plan.config).register_ if plan.config is not None else None
    if register is None or len(summary.best) != 1 or not summary.best[0].run_id:
        return None
    best = summary.best[0]
    registry = registry_for(_client(plan.tracking_uri).store)
    for version in registry.search_model_versions(f"run_id = '{best.run_id}'"):
        if version.name == register.name:
            return best.number, register.name, int(version.version)
    try:
        number = register_model(
            f"runs:/{best.run_id}/model", register.name, tracking_uri=plan.tracking_uri
        )
    except TrainlabError as exc:  # the study is done and stored: say so, not fail it
        log.warning(
            "trainlab: the best trial's model was not registered as %r: %s Register it with: "
            "trainlab models register %s %s",
            register.name, exc.message, best.run_id, register.name,
        )  # fmt: skip
        return None
    return best.number, register.name, number


def _end_own_trials(plan: StudyPlan, experiment_id: str, attrs: dict[str, Any]) -> None:
    """After Ctrl-C or SIGTERM: end KILLED the trial runs of this session that their workers
    could not end (killed between two steps of it); another session's trials go on. A store
    out of reach is warned about: the interrupt is what the user must hear of."""
    try:
        end_running_trials(plan.tracking_uri, experiment_id, plan.name, "KILLED",
                           since=int(attrs[studies.ATTR_SESSION_START]))  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("trainlab: could not end the study's running trials: %s", exc)


def _dispatch(
    plan: StudyPlan,
    slots: list[int],
    workers: int,
    backend: Backend,
    deadline: float | None,
    on_done: Callable[[int, str], None],
    ray_address: str | None,
    kubernetes: JobSettings | None,
) -> None:
    if backend == "ray":
        from trainlab.tuning.ray_backend import run_on_ray

        run_on_ray(plan.name, plan.storage, slots, workers, ray_address, deadline, on_done)
    elif backend == "kubernetes":
        from trainlab.tuning.k8s_backend import run_on_kubernetes

        assert kubernetes is not None  # checked by run_study
        run_on_kubernetes(plan.name, plan.storage, slots, kubernetes, deadline, on_done)
    else:  # one worker: this process
        from trainlab.tuning.worker import SlotRunner

        runner = SlotRunner(plan.name, plan.storage, objective=plan.objective, alone=True)
        for slot in slots:
            if deadline is not None and time.monotonic() >= deadline:
                break
            on_done(slot, runner.run(slot).name)
