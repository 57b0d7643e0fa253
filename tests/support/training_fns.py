"""Training functions and modules that pipeline tests name by import path."""

from __future__ import annotations

from typing import Any

import torch
from sklearn.base import BaseEstimator, ClassifierMixin


def fit_ridge(params: dict[str, Any], ctx: Any) -> Any:
    """A custom training function: a ridge regression grown over alphas, one curve point each."""
    from sklearn.linear_model import Ridge

    model = None
    for step, alpha in enumerate(params.get("alphas", [10.0, 1.0, 0.1])):
        model = Ridge(alpha=alpha).fit(ctx.train.X, ctx.train.y)
        resid = ctx.valid.y - model.predict(ctx.valid.X)
        ctx.report(step, {"valid_mse": float((resid**2).mean())})
    return model


class Net(torch.nn.Module):
    def __init__(self, n_features: int, n_outputs: int, hidden: int = 16) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def fit_sgd_checkpointed(params: dict[str, Any], ctx: Any) -> Any:
    """SGD epochs with the model as checkpoint state; the first attempt crashes at
    ``params["fail_at"]``, a resumed one continues from ``ctx.restored``."""
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", random_state=ctx.seed)
    if ctx.restored is not None:
        model = ctx.restored.state
        ctx.log_metrics({"resumed_from": ctx.start_step}, 0)
    classes = np.unique(ctx.train.y)
    for step in range(ctx.start_step, params["epochs"]):
        if step == params.get("fail_at") and ctx.restored is None:
            raise RuntimeError(f"crash at step {step}")
        model.partial_fit(ctx.train.X, ctx.train.y, classes=classes)
        ctx.report(step, {"valid_accuracy": model.score(ctx.valid.X, ctx.valid.y)})
        ctx.checkpoint(step, model)
    return model


class MiscalibratedForest(ClassifierMixin, BaseEstimator):
    """A random forest's labels with its class probabilities reversed: as accurate as the
    forest, with a ROC AUC near 0 (for the promotion gate's guards)."""

    def __init__(self, n_estimators: int = 100, max_depth: int = 6, random_state: int = 0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> MiscalibratedForest:
        from sklearn.ensemble import RandomForestClassifier

        self.forest_ = RandomForestClassifier(**self.get_params()).fit(X, y)
        self.classes_ = self.forest_.classes_
        return self

    def predict(self, X: Any) -> Any:
        return self.forest_.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.forest_.predict_proba(X)[:, ::-1]


class NearestMean:
    """A model of no framework, as in the README's ``fit``: each step moves the class means a
    little further towards the data; predicts the class with the nearest mean."""

    def __init__(self, rate: float = 0.5) -> None:
        self.rate = rate
        self.means: dict[Any, Any] = {}

    def step(self, X: Any, y: Any) -> None:
        for label in sorted(set(y)):
            target = X[y == label].to_numpy().mean(axis=0)
            current = self.means.get(label, target * 0)
            self.means[label] = current + self.rate * (target - current)

    def predict(self, X: Any) -> Any:
        import numpy as np

        labels = list(self.means)
        distances = [((X.to_numpy() - self.means[k]) ** 2).sum(axis=1) for k in labels]
        return np.asarray(labels)[np.argmin(distances, axis=0)]

    def loss(self, X: Any, y: Any) -> float:
        return float((self.predict(X) != y.to_numpy()).mean())


def fit_own_model(params: dict[str, Any], ctx: Any) -> Any:
    """The README's ``fit``: your own model, stepped, reported, checkpointed."""
    model = ctx.restored.state if ctx.restored else NearestMean(**params)
    for step in range(ctx.start_step, 6):
        model.step(ctx.train.X, ctx.train.y)
        if ctx.report(step, {"valid_loss": model.loss(ctx.valid.X, ctx.valid.y)}):
            break
        ctx.checkpoint(step, model)
    return model


def fit_slowly(params: dict[str, Any], ctx: Any) -> Any:
    """A training function that takes ``params["steps"]`` steps of 0.1 s, reporting each: long
    enough to be stopped by a signal mid-training."""
    import time

    from sklearn.dummy import DummyClassifier

    for step in range(ctx.start_step, params.get("steps", 600)):
        time.sleep(0.1)
        ctx.report(step, {"valid_loss": 1.0 / (step + 1)})
        ctx.checkpoint(step, step)
    return DummyClassifier().fit(ctx.train.X, ctx.train.y)


def fit_forgetting_to_return(params: dict[str, Any], ctx: Any) -> None:
    """A training function that fits but returns nothing."""
    from sklearn.tree import DecisionTreeClassifier

    DecisionTreeClassifier(max_depth=2).fit(ctx.train.X, ctx.train.y)
