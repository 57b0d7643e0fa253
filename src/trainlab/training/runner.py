"""The training engine: one pipeline spec in, one completely recorded run out.

Recorded for every run: the resolved config (``pipeline.yaml``), params, every seed, git commit,
branch and the uncommitted diff, Python/OS/CPU/GPU and pinned packages, each split's
fingerprint as a dataset input, overlaps between splits, per-iteration curves, CV folds,
train/valid/test metrics, training time, peak memory, system metrics, checkpoints when asked,
and the model with its signature (registered when the spec says so). The test split is sealed:
adapters and CV see only train and valid; test is evaluated once, at the end.

``train`` starts a run; ``resume`` continues a killed or failed one in place from its last
checkpoint. Everything that can be checked is checked before a run is created or reopened."""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainlab.entities.tags import GIT_BRANCH_TAG, GIT_COMMIT_TAG, GIT_DIRTY_TAG
from trainlab.exceptions import InvalidParameterValue, InvalidState, ResourceNotFound
from trainlab.training import adapters
from trainlab.training.checkpoint import Checkpoint, RunCheckpoints
from trainlab.training.context import FitContext, OnReport
from trainlab.training.data import PreparedData, Split, prepare
from trainlab.training.failure import ERROR_TAG, recorded_outcome
from trainlab.training.metrics import DEFAULTS, evaluate, for_target
from trainlab.training.progress import Reporter, resume_command
from trainlab.training.spec import PipelineSpec, parse_spec
from trainlab.training.trainer import check_not_training, in_training_folder, trainer_tag

if TYPE_CHECKING:
    from trainlab.client.fluent import ActiveRun
    from trainlab.entities import Run

log = logging.getLogger("trainlab")

DIFF_ARTIFACT = "code/uncommitted.diff"
CONFIG_ARTIFACT = "pipeline.yaml"
RESUMED_TAG = "trainlab.resumed"
CV_DONE_TAG = "trainlab.cv.done"

Fit = Callable[[FitContext, str], Any]


@dataclass
class TrainResult:
    run_id: str
    experiment_id: str
    experiment: str
    task: str
    metrics: dict[str, float]
    model_uri: str | None
    registered_name: str | None
    registered_version: int | None
    overlaps: dict[str, int] = field(default_factory=dict)
    tracking_uri: str = ""
    resumed_after_step: int | None = None  # the checkpoint a resumed run continued from
    checkpoints: int = 0  # checkpoints saved by this call


@dataclass
class Plan:
    """A validated pipeline, its data and how to fit it: everything settled before a run."""

    spec: PipelineSpec
    data: PreparedData
    metric_names: list[str]
    fit: Fit
    total_steps: int | None
    folds: list[Any] | None = None  # train.cv's folds, when made as plan() checked the data


def plan(spec: PipelineSpec, fit: Fit | None = None, data: PreparedData | None = None) -> Plan:
    """Check the model class and params, load, split and check the data (or take ``data``,
    prepared and checked for the same ``spec.data`` and model before: a tuning trial's), check
    the metrics; raises ``InvalidParameterValue`` naming the key before anything is logged."""
    estimator = adapters.validate(spec.model, spec.train.seed, custom_fit=fit is not None)
    folds = None
    if data is None:
        data = prepare(spec.data, estimator)
        if fit is None:  # a training function of the Python API takes what it can
            adapters.check_data(spec.model.flavor, data)
        folds = _planned_folds(spec, data)
    names = spec.metrics or DEFAULTS[data.task]
    classes = data.classes()
    allowed = for_target(data.task, classes)
    wrong = [m for m in names if m not in allowed]
    if wrong:
        target = f"{data.task} target" if classes <= 2 else f"target of {classes} classes"
        raise InvalidParameterValue(
            f"metrics {wrong} do not apply to a {target} ({spec.data.target!r}); "
            f"use {sorted(allowed)}."
        )
    if spec.train.early_stopping and "valid" not in data.splits:
        raise InvalidParameterValue(
            "train.early_stopping needs a valid split: set data.split.valid (e.g. 0.2)."
        )
    if spec.model.flavor == "pytorch" and fit is None:  # its params, checked with the data
        adapters.torch_module(spec.model.class_, spec.model.params, data.splits["train"], data.task)
    steps = adapters.total_steps(spec.model.flavor, estimator, spec.train.epochs)
    return Plan(spec, data, names, fit or adapters.FITTERS[spec.model.flavor], steps, folds)


def train(
    spec: PipelineSpec,
    *,
    tracking_uri: str | None = None,
    fit: Fit | None = None,
    reporter: Reporter | None = None,
    tags: dict[str, str] | None = None,
) -> TrainResult:
    """Run ``spec`` as one new tracked run. ``fit`` replaces the flavor's adapter (the Python
    API's training function)."""
    return run_plan(plan(spec, fit), tracking_uri=tracking_uri, reporter=reporter, tags=tags)


def run_plan(
    p: Plan,
    *,
    tracking_uri: str | None = None,
    reporter: Reporter | None = None,
    tags: dict[str, str] | None = None,
    texts: dict[str, str] | None = None,
) -> TrainResult:
    """Train a checked plan as a new run; ``texts`` are extra text artifacts (path -> text)."""
    tags = {**(tags or {}), **trainer_tag()}
    with start_run_for(p.spec, tracking_uri, tags) as run, recorded_outcome(run):
        if reporter is not None:
            reporter.run_started(run.run_id, tracking_uri, script_function(p.spec))
        return train_in_run(p, run, reporter=reporter, texts=texts)


def start_run_for(
    spec: PipelineSpec,
    tracking_uri: str | None,
    tags: dict[str, str] | None = None,
    *,
    nested: bool = False,
    run_name: str | None = None,
    experiment_id: str | None = None,
) -> ActiveRun:
    """A new run in the pipeline's experiment (or ``experiment_id``, known to be it) with its
    params and tags (``nested``: a child of the run active in this thread, if any)."""
    import trainlab

    _check_artifact_root(spec.experiment, experiment_id, tracking_uri)
    run_tags = {
        "trainlab.flavor": spec.model.flavor,
        "trainlab.seed": str(spec.train.seed),
        **(tags or {}),
    }
    return trainlab.start_run(
        experiment=spec.experiment,
        params=_params(spec),
        tags=run_tags,
        tracking_uri=tracking_uri,
        nested=nested,
        run_name=run_name,
        experiment_id=experiment_id,
    )


def _check_artifact_root(experiment: str, experiment_id: str | None, uri: str | None) -> None:
    """Refuse, before a run exists, to train into an experiment whose artifacts a trainlab
    server keeps (``mlflow-artifacts:``) through a store that writes files itself (a database
    URI): the model and checkpoints could not be stored."""
    from trainlab.artifacts.paths import PROXY_SCHEME
    from trainlab.client.fluent import _client
    from trainlab.client.resolve import is_remote, redacted

    client = _client(uri)
    if is_remote(client.uri):
        return
    store = client.store
    found = store.get_experiment(experiment_id) if experiment_id else None
    found = found or store.find_experiment_by_name(experiment)
    if found is not None and found.artifact_location.startswith(PROXY_SCHEME):
        raise InvalidParameterValue(
            f"Experiment {found.name!r} keeps its artifacts on a trainlab server "
            f"({found.artifact_location}), which {redacted(client.uri)} cannot write to: "
            "train with --tracking-uri http://<that server>, or into another experiment "
            "(-e NAME)."
        )


def train_in_run(
    p: Plan,
    run: ActiveRun,
    *,
    reporter: Reporter | None = None,
    texts: dict[str, str] | None = None,
    on_report: OnReport | None = None,
    record_context: bool = True,
) -> TrainResult:
    """Record the pipeline and train it in the open ``run``. ``on_report(step, values,
    log_metrics)`` sees every curve point and may raise ``StopTraining``, which propagates
    with the run still open (a tuning trial ends it KILLED once it has logged its outcome);
    ``record_context=False`` skips code and environment (a tuning trial: its study records
    them once)."""
    run.log_dict(p.spec.to_config(), CONFIG_ARTIFACT)
    if record_context:
        record_code_and_environment(run)
    _record_data(run, p.data)
    for path, text in (texts or {}).items():
        run.log_text(text, path)
    return _execute(p, run, reporter or Reporter(enabled=False), on_report=on_report)


def recorded_spec(run: Run, tracking_uri: str | None = None) -> PipelineSpec:
    """The resolved pipeline a run was trained with (its ``pipeline.yaml``)."""
    import yaml

    import trainlab

    with tempfile.TemporaryDirectory(prefix="trainlab-") as tmp:
        try:
            path = trainlab.download_artifacts(
                run.info.run_id, CONFIG_ARTIFACT, tmp, tracking_uri=tracking_uri
            )
        except ResourceNotFound:
            raise InvalidState(
                f"Run {run.info.run_id} has no {CONFIG_ARTIFACT}: it was not trained by "
                "`trainlab train` or `trainlab.train`."
            ) from None
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return parse_spec(config, f"the {CONFIG_ARTIFACT} of run {run.info.run_id}")


def data_differences(run: Run, data: PreparedData) -> list[str]:
    """How the splits prepared now differ from those the run recorded (fingerprint, rows)."""
    tags = run.data.tags
    recorded = {
        key.split(".")[2] for key in tags if key.startswith("trainlab.data.") and key.count(".") > 2
    }
    out = []
    for name in sorted(recorded | set(data.splits)):
        split = data.splits.get(name)
        digest = tags.get(f"trainlab.data.{name}.digest")
        if split is None:
            out.append(f"data: the {name} split is empty now (the run had one)")
        elif digest is None:
            out.append(f"data: the {name} split is new (the run had none)")
        elif digest != split.fingerprint.digest:
            rows = tags.get(f"trainlab.data.{name}.rows", "?")
            out.append(
                f"data: the {name} split's fingerprint is {split.fingerprint.digest[:12]} "
                f"({split.fingerprint.rows} rows), the run recorded {digest[:12]} ({rows} rows)"
            )
    return out


def script_function(spec: PipelineSpec) -> str:
    """The name of the training function when it is one of the script that ran (``__main__``),
    else ""."""
    target = spec.model.class_
    if spec.model.flavor == "python" and target.startswith("__main__."):
        return target.removeprefix("__main__.")
    return ""


def unreachable_script_function(spec: PipelineSpec, fit: Fit | None) -> str:
    """The script function that trained ``spec``'s run when this process cannot call it (it
    is not this process's script, and no ``fit`` was given), else ""."""
    fn = script_function(spec)
    return fn if fit is None and fn and not hasattr(sys.modules.get("__main__"), fn) else ""


def resume(
    run_id: str,
    *,
    tracking_uri: str | None = None,
    fit: Fit | None = None,
    reporter: Reporter | None = None,
) -> TrainResult:
    """Continue a killed or failed ``trainlab train`` run in place, from its last checkpoint
    (from the start when it has none). Its data must be what it recorded; points already stored
    are not logged again, so every curve holds each step exactly once."""
    import trainlab
    from trainlab.cli.common import uri_flag

    original = trainlab.get_run(run_id, tracking_uri=tracking_uri)
    if original.info.status == "FINISHED":
        raise InvalidState(
            f"Run {run_id} is FINISHED: there is nothing to resume. `trainlab reproduce "
            f"{run_id}{uri_flag(tracking_uri)}` trains it again as a new run."
        )
    if original.info.lifecycle_stage != "active":
        raise InvalidState(f"Run {run_id} is deleted; restore it before resuming it.")
    check_not_training(original)
    spec = recorded_spec(original, tracking_uri)
    if fn := unreachable_script_function(spec, fit):
        raise InvalidParameterValue(
            f"Run {run_id} was trained by {fn}() of the script that started it, which only that "
            f"script can run: resume it there with {resume_command(run_id, tracking_uri, fn)}."
        )
    with in_training_folder(original, spec.data.source):
        p = plan(spec, fit)
    differences = data_differences(original, p.data)
    if differences:
        raise InvalidState(
            f"Cannot resume run {run_id}: its data changed.\n  " + "\n  ".join(differences)
        )
    times = int(original.data.tags.get(RESUMED_TAG, "0")) + 1
    if ERROR_TAG in original.data.tags:  # the failure resumed from is no longer the outcome
        from trainlab.client.fluent import _client

        _client(tracking_uri).store.delete_tag(run_id, ERROR_TAG)
    with (
        trainlab.start_run(run_id=run_id, tracking_uri=tracking_uri) as run,
        recorded_outcome(run),
        tempfile.TemporaryDirectory(prefix="trainlab-resume-") as tmp,
    ):
        run.set_tags({RESUMED_TAG: str(times), **trainer_tag()})
        # The last step of each curve: read once the run is reopened, which delivers what the
        # killed process spooled (its points past the checkpoint are not logged twice).
        now = trainlab.get_run(run_id, tracking_uri=tracking_uri)
        stored = {key: m.step for key, m in now.data.metrics.items()}
        restored = RunCheckpoints(run).latest(Path(tmp))
        if reporter is not None:
            how = f"after the checkpoint at step {restored.step}" if restored else "from step 0"
            reporter.run_started(run_id, tracking_uri, script_function(spec), f"resumed {how}")
        drawn = adapters.random_draws(p.spec.model.flavor, p.spec.model.params)
        if restored is not None and drawn:
            log.warning(
                "trainlab: %s samples at random (%s) and does not keep its random state in a "
                "checkpoint: the trees after step %d draw anew, so run %s will be as good as, "
                "not equal to, an uninterrupted run",
                p.spec.model.flavor,
                ", ".join(drawn),
                restored.step,
                run_id,
            )
        if restored is None:
            log.warning(
                "trainlab: run %s has no checkpoint; training starts again from step 0 "
                "(steps already stored are kept, not logged twice)",
                run_id,
            )
        cv = None
        if original.data.tags.get(CV_DONE_TAG) == "true":  # folds finished before the kill
            cv = {k: m.value for k, m in original.data.metrics.items() if _is_cv_summary(k)}
        return _execute(p, run, reporter or Reporter(enabled=False), restored, stored, cv)


def _execute(
    p: Plan,
    run: ActiveRun,
    reporter: Reporter,
    restored: Checkpoint | None = None,
    stored: dict[str, int] | None = None,
    cv: dict[str, float] | None = None,
    on_report: OnReport | None = None,
) -> TrainResult:
    """Fit, evaluate and log the model in the open ``run``. On resume: ``stored`` is the last
    step of each metric the run holds (not logged again), ``cv`` its finished CV summary."""
    from trainlab.training.system import SystemMetricsSampler

    spec, data = p.spec, p.data
    stored = stored or {}
    _seed_everything(spec.train.seed)
    checkpoints = RunCheckpoints(run, spec.train.keep_checkpoints)
    sampler = SystemMetricsSampler(
        run.log_metrics,
        spec.train.system_metrics_interval_s,
        first_step=stored.get(SystemMetricsSampler.KEY, -1) + 1,
    )
    prior_s = float(restored.tracker.get("elapsed_s", 0.0)) if restored else 0.0
    started = time.perf_counter()

    def save(step: int, state: Any, files: Any, tracker: dict[str, Any]) -> None:
        elapsed = prior_s + time.perf_counter() - started
        checkpoints.save(step, state, files, {**tracker, "elapsed_s": elapsed})

    sampler.start()
    try:
        metrics: dict[str, float] = {}
        if spec.train.cv:
            metrics.update(cv if cv is not None else _cross_validation(p, run, reporter, stored))
        bar = reporter.task("training", p.total_steps)
        ctx = FitContext(
            params=dict(spec.model.params),
            train=data.splits["train"],
            valid=data.split("valid"),
            task=data.task,
            seed=spec.train.seed,
            log_metrics=run.log_metrics,
            early_stopping=spec.train.early_stopping,
            on_step=lambda step: reporter.advance(bar),
            epochs=spec.train.epochs,
            batch_size=spec.train.batch_size,
            lr=spec.train.lr,
            checkpoint_every=spec.train.checkpoint_every,
            total_steps=p.total_steps,
            save_checkpoint=save,
            restored=restored,
            logged_through=stored,
            on_report=on_report,
            warn_checkpoints_off=spec.model.flavor == "python",
        )
        reporter.advance(bar, ctx.start_step)
        model = p.fit(ctx, spec.model.class_)
        metrics["training_time_s"] = prior_s + time.perf_counter() - started
        if ctx.steps:
            metrics["iterations"] = ctx.steps
        if ctx.best_step is not None and ctx.should_stop:
            metrics["best_iteration"] = ctx.best_step
            reporter.stop_early(bar, ctx.steps)
    finally:
        sampler.stop()
    metrics["peak_memory_mb"] = sampler.peak_rss_mb
    classes = getattr(model, "classes_", None)  # a network's columns are 0..K-1
    for split in data.splits.values():  # test only here, once the model is final
        pred, proba = _predictions(model, split)
        for m, v in evaluate(p.metric_names, split.y, pred, proba, classes, split.name).items():
            metrics[f"{split.name}_{m}"] = v
    finals = {
        k: v
        for k, v in metrics.items()
        if k not in ctx.last and k not in stored and not _is_cv_summary(k)  # CV: logged already
    }
    # A final score named like a curve (valid_logloss) ends that curve: it is its last
    # point already, or (after an early-stopping refit) the point after it.
    for key in sorted(set(metrics) & set(ctx.last)):
        if metrics[key] != ctx.last[key] and ctx.steps > stored.get(key, -1):
            run.log_metric(key, metrics[key], step=ctx.steps)
    reg = spec.register_.name if spec.register_ else None
    info = run.log_model(
        adapters.loggable(model),
        "model",
        input_example=data.splits["train"].X.head(5),
        registered_model_name=reg,
    )
    # The scores of the model, linked to it (MLflow 3): search_logged_models filters on them.
    run.log_metrics(finals, model_id=info.model_id)
    return TrainResult(
        run_id=run.run_id,
        experiment_id=run.info.experiment_id,
        experiment=spec.experiment,
        task=data.task,
        metrics=metrics,
        model_uri=info.model_uri,
        registered_name=reg,
        registered_version=info.registered_model_version,
        overlaps=data.overlaps,
        tracking_uri=run.tracking_uri,
        resumed_after_step=restored.step if restored else None,
        checkpoints=checkpoints.saved,
    )


def _seed_everything(seed: int) -> None:
    import sys

    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _params(spec: PipelineSpec) -> dict[str, Any]:
    out: dict[str, Any] = {f"model.{k}": v for k, v in spec.model.params.items()}
    out.update(
        {
            "model.flavor": spec.model.flavor,
            "model.class": spec.model.class_,
            "data.source": spec.data.source,
            "data.target": spec.data.target,
            "train.seed": spec.train.seed,
        }
    )
    for k, v in spec.data.split.model_dump(exclude_none=True).items():
        out[f"data.split.{k}"] = v
    if spec.train.cv:
        out["train.cv"] = spec.train.cv
    if spec.train.early_stopping:
        out["train.early_stopping.metric"] = spec.train.early_stopping.metric
        out["train.early_stopping.patience"] = spec.train.early_stopping.patience
    if spec.train.checkpoint_every:
        out["train.checkpoint_every"] = spec.train.checkpoint_every
    if spec.model.flavor == "pytorch":
        out.update(
            {
                "train.epochs": spec.train.epochs,
                "train.batch_size": spec.train.batch_size,
                "train.lr": spec.train.lr,
            }
        )
    return out


def record_code_and_environment(run: ActiveRun) -> None:
    """Tags and artifacts of the code (git) and the environment the process runs in."""
    from trainlab.training.environment import (
        environment,
        git_info,
        installed_packages,
        requirements_text,
    )

    git = git_info(".")
    if git is not None:
        tags = {GIT_COMMIT_TAG: git.commit, GIT_DIRTY_TAG: str(git.dirty)}
        if git.branch:
            tags[GIT_BRANCH_TAG] = git.branch
        if git.remote:
            tags["mlflow.source.git.repoURL"] = git.remote
        if git.diff:
            tags["trainlab.git.diff_sha256"] = git.diff_sha256
            run.log_text(git.diff, DIFF_ARTIFACT)
        if git.skipped:
            run.log_text("\n".join(git.skipped) + "\n", "code/untracked-not-copied.txt")
        run.set_tags(tags)
    env = environment()
    run.log_dict(env, "environment/environment.json")
    run.log_text(requirements_text(installed_packages()), "environment/requirements.txt")
    run.set_tags(
        {f"trainlab.env.{k}": env[k] for k in ("python.version", "os.platform") if k in env}
    )
    run.set_tags({"trainlab.env.gpu.count": env.get("gpu.count", "0")})


def _record_data(run: ActiveRun, data: PreparedData) -> None:
    run.log_inputs(data.dataset_inputs())
    tags = {"trainlab.task": data.task}
    for split in data.splits.values():
        tags[f"trainlab.data.{split.name}.digest"] = split.fingerprint.digest
        tags[f"trainlab.data.{split.name}.rows"] = str(split.fingerprint.rows)
    run.set_tags(tags)
    run.log_dict(
        {name: s.fingerprint.as_dict() for name, s in data.splits.items()},
        "data/fingerprints.json",
    )
    for pair, count in data.overlaps.items():
        run.log_metric(f"data_overlap_{pair.replace('/', '_')}", count)
        if count:
            log.warning(
                "trainlab: %d identical rows are in both the %s and the %s split (leakage?)",
                count,
                *pair.split("/"),
            )


def _predictions(model: Any, split: Split) -> tuple[Any, Any]:
    pred = model.predict(split.X)
    proba = model.predict_proba(split.X) if hasattr(model, "predict_proba") else None
    return pred, proba


def _folds(split_by: str | None, task: str, train: Split, k: int, seed: int) -> list[Any]:
    """(train rows, valid rows) of each of ``k`` folds: no group in both parts of a fold, and
    no fold fitted on rows later than those it is scored on, as the data's own split."""
    from sklearn import model_selection as ms

    classifier = task == "classification"
    if split_by == "time":  # train.X is in time order
        splitter: Any = ms.TimeSeriesSplit(k)
    elif split_by == "group":
        kind = ms.StratifiedGroupKFold if classifier else ms.GroupKFold
        splitter = kind(k, shuffle=True, random_state=seed)
    else:
        kind = ms.StratifiedKFold if classifier else ms.KFold
        splitter = kind(k, shuffle=True, random_state=seed)
    try:
        return list(splitter.split(train.X, train.y, train.groups))
    except ValueError as exc:  # e.g. fewer groups in the train split than folds
        raise InvalidParameterValue(f"train.cv={k}: {exc}") from None


def _planned_folds(spec: PipelineSpec, data: PreparedData) -> list[Any] | None:
    """``train.cv``'s folds of the train split, made before a run exists: too few rows,
    groups or members of a class for them is refused then (a split by group says how many
    groups went where)."""
    k = spec.train.cv
    if not k:
        return None
    try:
        return _folds(data.split_by, data.task, data.splits["train"], k, spec.train.seed)
    except InvalidParameterValue as exc:
        if data.split_by != "group":
            raise
        counts = ", ".join(
            f"{name} {split.groups.nunique()}"
            for name, split in data.splits.items()
            if split.groups is not None
        )
        raise InvalidParameterValue(
            f"{exc.message} Groups of {spec.data.split.group!r} per split: {counts}. Use "
            "fewer folds, smaller data.split.test/valid shares, or a column with more groups."
        ) from None


def _cross_validation(
    p: Plan, run: ActiveRun, reporter: Reporter, stored: dict[str, int]
) -> dict[str, float]:
    """k folds of the train split, as the data was split: whole groups to each fold when split
    by group, each fold later in time than what it is fitted on when split by time (else
    shuffled; stratified for classifiers). Each fold's scores are logged as ``cv_<metric>`` at
    step = fold, their mean and std logged at once and returned."""
    spec, data = p.spec, p.data
    train = data.splits["train"]
    k = spec.train.cv or 0
    folds = (
        p.folds
        if p.folds is not None
        else _folds(data.split_by, data.task, train, k, spec.train.seed)
    )

    def part(rows: Any, name: str) -> Split:
        X = train.X.iloc[rows].reset_index(drop=True)
        return Split(name, X, train.y.iloc[rows].reset_index(drop=True), train.fingerprint)

    scores: dict[str, list[float]] = {m: [] for m in p.metric_names}
    bar = reporter.task("cross-validation folds", k)
    for fold, (tr, va) in enumerate(folds):
        valid = part(va, "valid")
        ctx = FitContext(
            params=dict(spec.model.params),
            train=part(tr, "train"),
            valid=valid,
            task=data.task,
            seed=spec.train.seed,
            log_metrics=lambda values, step: None,  # folds' curves would overwrite each other
            early_stopping=spec.train.early_stopping,
            epochs=spec.train.epochs,
            batch_size=spec.train.batch_size,
            lr=spec.train.lr,
        )
        model = p.fit(ctx, spec.model.class_)
        pred, proba = _predictions(model, valid)
        classes = getattr(model, "classes_", None)
        values = evaluate(p.metric_names, valid.y, pred, proba, classes, f"cv fold {fold}")
        if fold > max((stored.get(f"cv_{m}", -1) for m in values), default=-1):
            run.log_metrics({f"cv_{m}": v for m, v in values.items()}, fold)
        for m, v in values.items():
            scores[m].append(v)
        reporter.advance(bar)
    out = {}
    for m, values_ in scores.items():
        if values_:
            out[f"cv_{m}_mean"] = float(np.mean(values_))
            out[f"cv_{m}_std"] = float(np.std(values_))
    run.log_metrics(out)
    run.set_tag(CV_DONE_TAG, "true")  # delivered after the scores: they are stored if it is
    return out


def _is_cv_summary(key: str) -> bool:
    return key.startswith("cv_") and key.endswith(("_mean", "_std"))
