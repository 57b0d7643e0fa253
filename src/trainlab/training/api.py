"""``trainlab.train``: the training engine from Python, with a pipeline file, a config dict,
or your own training function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.adapters import fitted_model
from trainlab.training.context import FitContext
from trainlab.training.progress import Reporter
from trainlab.training.runner import TrainResult, resume
from trainlab.training.runner import train as run_spec
from trainlab.training.signals import sigterm_interrupts
from trainlab.training.spec import PipelineSpec, apply_overrides, load_spec, parse_spec


def train(
    pipeline: str | Path | dict[str, Any] | PipelineSpec | None = None,
    fn: Callable[[dict[str, Any], FitContext], Any] | None = None,
    *,
    data: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    experiment: str | None = None,
    overrides: list[str] | None = None,
    tracking_uri: str | None = None,
    progress: bool = True,
    resume_run: str | None = None,
) -> TrainResult:
    """Train and track one run.

    ``pipeline``: a YAML file, a config dict or a :class:`PipelineSpec`. ``fn(params, ctx)``
    trains your own model instead: ``ctx.train.X``/``ctx.train.y`` (and ``ctx.valid``) are the
    splits, ``ctx.report(step, {"valid_loss": ...})`` logs a curve point and returns True when
    early stopping says stop; return a fitted model with ``predict``. trainlab does the rest:
    data loading and fingerprints, splits, tracking, evaluation, model logging.

        trainlab.train(fn=my_fit, data={"source": "sklearn:iris", "target": "target"},
                       params={"C": 1.0}, experiment="iris")

    ``resume_run="RUN_ID"`` continues a killed or failed run from its last checkpoint with the
    pipeline it recorded (pass the same ``fn`` if it was trained with one); ``ctx.checkpoint``
    and ``ctx.restored`` let a training function take part.

    Ctrl-C, or SIGTERM where the process has no handler of its own, ends the run KILLED and
    raises ``trainlab.training.signals.Interrupted`` (a ``KeyboardInterrupt``) with its
    ``run_id``. An error in training is recorded on the run (tag ``trainlab.error``, artifact
    ``error/traceback.txt``) before it is raised.
    """
    fit: Callable[[FitContext, str], Any] | None = None
    if fn is not None:
        _check_function(fn)

        def fit(ctx: FitContext, path: str) -> Any:
            return fitted_model(fn(dict(ctx.params), ctx), path)

    if resume_run is not None:
        if pipeline is not None or data is not None or params is not None or overrides:
            raise InvalidParameterValue(
                "resume_run continues a run with the pipeline it recorded: pass no pipeline, "
                "data, params or overrides with it."
            )
        with sigterm_interrupts(), Reporter(enabled=progress) as reporter:
            return resume(resume_run, tracking_uri=tracking_uri, fit=fit, reporter=reporter)
    spec = _spec(pipeline, fn, data, params, experiment, overrides or [])
    with sigterm_interrupts(), Reporter(enabled=progress) as reporter:
        return run_spec(spec, tracking_uri=tracking_uri, fit=fit, reporter=reporter)


def _check_function(fn: Any) -> None:
    """``fn`` is recorded by its import path (``train --resume`` and ``reproduce`` call it
    again): a function defined at the top level of a module or script."""
    if not callable(fn) or not hasattr(fn, "__qualname__"):
        raise InvalidParameterValue(
            f"fn must be a training function fn(params, ctx), not {type(fn).__name__}."
        )
    if "<" in fn.__qualname__:  # <lambda>, <locals>
        raise InvalidParameterValue(
            f"fn {fn.__qualname__!r}: define the training function with def at the top level "
            "of a module or of the script you run (not a lambda, not inside another "
            "function): its run records it by name, to resume or reproduce it."
        )


def _spec(
    pipeline: str | Path | dict[str, Any] | PipelineSpec | None,
    fn: Callable[..., Any] | None,
    data: dict[str, Any] | None,
    params: dict[str, Any] | None,
    experiment: str | None,
    overrides: list[str],
) -> PipelineSpec:
    if isinstance(pipeline, (str, Path)):
        spec = load_spec(pipeline, overrides, experiment)
        if fn is None and data is None and params is None:
            return spec
        pipeline, overrides = spec, []  # the file, with what the arguments change
    config = pipeline.to_config() if isinstance(pipeline, PipelineSpec) else dict(pipeline or {})
    if data is not None:
        config["data"] = data
    if fn is not None:
        config["model"] = {
            "flavor": "python",
            "class": f"{fn.__module__}.{fn.__qualname__}",
            "params": params or {},
        }
    elif params is not None:
        config.setdefault("model", {})["params"] = params
    config = apply_overrides(config, overrides)
    if experiment:
        config["experiment"] = experiment
    return parse_spec(config)
