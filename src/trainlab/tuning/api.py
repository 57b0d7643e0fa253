"""``trainlab.tune``: search hyperparameters of a pipeline (its ``tune:`` section) or of your own
function, with Optuna; the study is a parent run, each trial a child run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from trainlab.exceptions import InvalidParameterValue
from trainlab.tuning.space import TuneSpec
from trainlab.tuning.tuner import Backend, TuneResult, plan_function, plan_pipeline, run_study

if TYPE_CHECKING:
    from trainlab.training.spec import PipelineSpec
    from trainlab.tuning.trial import TuneFunction


def tune(
    pipeline: str | Path | dict[str, Any] | PipelineSpec | None = None,
    fn: TuneFunction | None = None,
    *,
    space: dict[str, dict[str, Any]] | None = None,
    metric: str | list[str] = "value",
    direction: str | list[str] = "maximize",
    sampler: str = "tpe",
    pruner: str = "median",
    seed: int | None = None,
    trials: int | None = None,
    timeout: float | None = None,
    workers: int = 1,
    backend: Backend = "local",
    resume: bool = False,
    study: str | None = None,
    storage: str | None = None,
    experiment: str | None = None,
    overrides: list[str] | None = None,
    tracking_uri: str | None = None,
    progress: bool = True,
    ray_address: str | None = None,
) -> TuneResult:
    """Run (or with ``resume`` continue) a study of ``trials`` trials on ``workers`` workers.

    A pipeline (file, dict or spec) is tuned with its ``tune:`` section. A function
    ``fn(params, ctx)`` returns the metric (or a dict of metrics) for ``params`` drawn from
    ``space``; ``ctx.report(step, value)`` feeds the pruner (raising ``TrialPruned`` when it
    says stop) and ``ctx.log_metrics`` logs to the trial's run::

        def objective(params, ctx):
            return train_and_score(**params)

        trainlab.tune(fn=objective, space={"lr": {"type": "float", "low": 1e-4, "high": 0.1,
                      "log": True}}, metric="valid_auc", trials=50, experiment="churn")

    With ``workers`` > 1 or another backend, the function must be importable by name (defined
    at the top level of a module).
    """
    if (pipeline is None) == (fn is None):
        raise InvalidParameterValue("give either a pipeline or fn (a function to tune).")
    if fn is not None:
        config = {
            "metric": metric,
            "direction": direction,
            "sampler": sampler,
            "pruner": pruner,
            "seed": seed,
            "space": space or {},
        }
        try:
            spec = TuneSpec.model_validate({k: v for k, v in config.items() if v is not None})
        except ValidationError as exc:
            from trainlab._config_errors import describe

            raise InvalidParameterValue(
                f"Invalid tuning settings:\n{describe(exc, TuneSpec)}"
            ) from None
        name = experiment or str(getattr(fn, "__name__", "tune"))
        importable = workers > 1 or backend != "local"
        plan = plan_function(fn, spec, name, tracking_uri, study, storage, importable)
    else:
        from trainlab.training.api import _spec

        plan = plan_pipeline(
            _spec(pipeline, None, None, None, experiment, overrides or []),
            tracking_uri,
            study,
            storage,
        )
    return run_study(
        plan,
        trials=trials,
        timeout=timeout,
        workers=workers,
        backend=backend,
        resume=resume,
        progress=progress,
        ray_address=ray_address,
    )
