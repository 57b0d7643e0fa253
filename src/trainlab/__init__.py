"""trainlab: reproducible, tracked ML training.

    import trainlab

    with trainlab.start_run(experiment="wine", params={"lr": 0.1}) as run:
        for step in range(100):
            trainlab.log_metric("loss", loss, step=step)

Importing trainlab is cheap: the SDK loads on first use and never needs the server stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "active_run",
    "download_artifacts",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "load_model",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "promote",
    "register_model",
    "search_runs",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "train",
    "tune",
]

_ARTIFACTS = frozenset(
    {
        "download_artifacts",
        "list_artifacts",
        "log_artifact",
        "log_artifacts",
        "log_dict",
        "log_text",
    }
)

_MODELS = frozenset({"load_model", "log_model", "register_model"})

if TYPE_CHECKING:
    from trainlab.client.artifacts import (
        download_artifacts,
        list_artifacts,
        log_artifact,
        log_artifacts,
        log_dict,
        log_text,
    )
    from trainlab.client.fluent import (
        ActiveRun,
        active_run,
        end_run,
        flush,
        get_metric_history,
        get_run,
        get_tracking_uri,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        search_runs,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
    from trainlab.evaluation.gate import promote
    from trainlab.models import load_model, log_model, register_model
    from trainlab.training.api import train
    from trainlab.tuning.api import tune


def __getattr__(name: str) -> Any:
    if name == "train":
        from trainlab.training.api import train

        globals()[name] = train
        return train
    if name == "promote":
        from trainlab.evaluation.gate import promote

        globals()[name] = promote
        return promote
    if name == "tune":
        from trainlab.tuning.api import tune

        globals()[name] = tune
        return tune
    if name in _MODELS:
        from trainlab import models

        value = getattr(models, name)
        globals()[name] = value
        return value
    if name in _ARTIFACTS:
        from trainlab.client import artifacts

        value = getattr(artifacts, name)
        globals()[name] = value
        return value
    if name in __all__:
        from trainlab.client import fluent

        value = getattr(fluent, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'trainlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API too (it loads on first use), for tab completion and ``help``."""
    return sorted({*globals(), *__all__})
