"""Framework adapters: build the model named by ``model.class`` with ``model.params``, train it
on the train split and report its per-iteration/epoch curve on train and valid through the
context (scikit-learn: staged predictions or warm-start growth; XGBoost and LightGBM: their
evaluation callbacks; PyTorch: :func:`torch_loop`; ``python``: the user's function)."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from trainlab._text import listing
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.context import FitContext
from trainlab.training.data import PreparedData, Split
from trainlab.training.metrics import evaluate
from trainlab.training.spec import ModelSpec

TORCH_STATE = "torch_state.pt"
_EXTRAS = {"xgboost": "xgboost", "lightgbm": "lightgbm", "torch": "pytorch"}  # trainlab's extras
_TORCH_AUTO = ("n_features", "n_outputs")  # filled from the data when the module takes them


def resolve(path: str, what: str = "model.class") -> Any:
    module, _, attr = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        extra = _EXTRAS.get(missing.partition(".")[0])
        hint = f" Install it: pip install 'trainlab[{extra}]'." if extra else ""
        raise InvalidParameterValue(
            f"{what} {path!r}: cannot import {module!r} ({exc}).{hint}"
        ) from None
    except AttributeError:
        raise InvalidParameterValue(f"{what} {path!r}: {module!r} has no {attr!r}.") from None
    return obj


def check_params(cls: Any, params: dict[str, Any], path: str) -> None:
    """Refuse a param the class does not take, naming it (before any training). Classes that
    take ``**kwargs`` accept any name here (XGBoost's and LightGBM's booster params: see
    ``check_booster_params``)."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    accepted = {n for n, p in sig.parameters.items() if p.kind is not p.VAR_POSITIONAL}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise InvalidParameterValue(
            f"model.params {unknown}: {path} does not take {'it' if len(unknown) == 1 else 'them'}"
            f"; it takes {sorted(accepted)}."
        )


_NOT_USED = re.compile(r"Parameters: \{(.*?)\} (?:are|is) not used")
# How the boosters refuse a value of a param: "value -3 for Parameter max_depth should be
# greater equal to 0" or "value 1.5 for Parameter subsample exceed bound [0,1]" (XGBoost),
# "Check failed: (num_leaves) > (1)" (LightGBM).
_XGB_BAD_VALUE = re.compile(
    r"value (\S+) for Parameter (\w+) (should [^\n]*|exceed bound \[[^\]]*\])"
)
_LGB_BAD_VALUE = re.compile(r"Check failed: \((\w+)\) (\S+) \(([^)]*)\)")
# What follows the probe's four rows rather than the params (the number of classes).
_FROM_DATA = {"num_class"}


def _lightgbm_aliases() -> dict[str, set[str]]:
    """LightGBM's params, each with its aliases (the names of its scikit-learn estimators
    among them); empty for a LightGBM without the table."""
    try:
        from lightgbm.basic import _ConfigAliases

        table = _ConfigAliases._get_all_param_aliases()
    except (ImportError, AttributeError):
        return {}
    return {name: {name, *aliases} for name, aliases in table.items()}


def _refused_value(error: Exception | None, framework: str, params: dict[str, Any]) -> str | None:
    """What a booster said of the value of a param it refused, if that is why the probe
    failed. XGBoost names the param whose range it checks; a LightGBM check may be about the
    probe's rows (a label, the rows bagged), so only a check of a param given counts, by any
    of its names."""
    text = str(error) if error is not None else ""
    if framework == "xgboost":
        m = _XGB_BAD_VALUE.search(text)
        if m and m.group(2) not in _FROM_DATA:
            return f"{m.group(2)} = {m.group(1)}: it {m.group(3).rstrip('. ')}"
        return None
    m = _LGB_BAD_VALUE.search(text)
    if m is None or m.group(1) in _FROM_DATA:
        return None
    names = _lightgbm_aliases().get(m.group(1), {m.group(1)})
    given = [k for k in params if k in names]
    if not given:
        return None
    return f"{given[0]} = {params[given[0]]!r}: it must be {m.group(2)} {m.group(3)}"


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The process's stderr (fd 2) to /dev/null: LightGBM writes its fatal errors there from
    C++, before the Python error that says the same."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _probe_fit(estimator: Any) -> tuple[list[str], Exception | None]:
    """A one-tree fit of a clone of the unfitted ``estimator`` on four rows (no callbacks):
    the warnings it gave, and the error it raised, if any."""
    from sklearn.base import clone

    probe = clone(estimator).set_params(n_estimators=1, callbacks=None)
    X, y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 0, 1])
    error = None
    # LightGBM prints its log ("number of data points in the train set: 4") with print():
    # the user would take it for their data
    with (
        warnings.catch_warnings(record=True) as caught,
        _quiet_stderr(),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("always")
        try:
            probe.fit(X, y)
        except Exception as exc:  # noqa: BLE001 - what it means is read below
            error = exc
    return [str(w.message) for w in caught], error


def check_booster_params(estimator: Any, params: dict[str, Any], path: str) -> None:
    """Refuse a booster param of an XGBoost or LightGBM estimator (one of its ``**kwargs``)
    that the booster would ignore, and a value of a param given that the booster refuses (a
    negative ``max_depth``), before the real training. LightGBM lists its params and their
    aliases; XGBoost warns "Parameters: { ... } are not used" when it trains; the values both
    check when they start: a one-tree fit on four rows tells."""
    framework = type(estimator).__module__.split(".")[0]
    if framework not in ("xgboost", "lightgbm"):
        return
    # the estimator's own params (an XGBRegressor's are its base class's), not its **kwargs
    explicit = set(type(estimator)().get_params())
    extra = {k: v for k, v in params.items() if k not in explicit}
    unknown: list[str] = []
    if extra and framework == "lightgbm" and (table := _lightgbm_aliases()):
        unknown = sorted(set(extra) - set().union(*table.values()))
    warned, error = _probe_fit(estimator) if params else ([], None)
    if framework == "xgboost":  # of the extra names only: one of the estimator's own params
        # unused by this booster (max_depth with gblinear) is XGBoost's warning to give
        named = [text for w in warned for text in _NOT_USED.findall(w)]
        unused = {n.strip().strip('"') for t in named for n in t.split(",")}
        unknown = sorted(unused & set(extra))
    refused = _refused_value(error, framework, params)
    if refused and not unknown:
        raise InvalidParameterValue(f"model.params for {path}: {refused}.")
    if unknown:
        raise InvalidParameterValue(
            f"model.params {unknown}: {path} does not use {'it' if len(unknown) == 1 else 'them'} "
            "(not one of its booster parameters)."
        )


def build(path: str, params: dict[str, Any], seed: int) -> Any:
    cls = resolve(path)
    if not callable(cls):
        raise InvalidParameterValue(f"model.class {path!r} is not a class.")
    check_params(cls, params, path)
    kwargs = dict(params)
    if hasattr(cls, "get_params") and "random_state" in cls().get_params():
        kwargs.setdefault("random_state", seed)
    try:
        estimator = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(f"model.params for {path}: {exc}") from None
    check_param_values(estimator, path)
    return estimator


def check_param_values(estimator: Any, path: str) -> None:
    """Refuse the values a scikit-learn estimator would refuse at its first fit (a negative
    ``max_depth``, a string ``n_estimators``), checked now against its declared constraints;
    estimators without declared constraints are left to their fit."""
    if not hasattr(estimator, "_parameter_constraints") or not hasattr(
        estimator, "_validate_params"
    ):
        return
    try:
        estimator._validate_params()
    except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
        raise InvalidParameterValue(f"model.params for {path}: {exc}") from None


def validate(spec: ModelSpec, seed: int, custom_fit: bool = False) -> Any:
    """Check ``model.class`` and ``model.params`` before any work: the class imports and takes
    every param. Returns the unfitted estimator for scikit-learn, XGBoost and LightGBM (it
    tells classification from regression), else None."""
    if custom_fit:
        return None  # the Python API's training function, given as an object
    check_flavor(spec)
    if spec.flavor in ("sklearn", "xgboost", "lightgbm"):
        estimator = build(spec.class_, spec.params, seed)
        check_booster_params(estimator, spec.params, spec.class_)
        return estimator
    target = resolve(spec.class_)
    if not callable(target):
        raise InvalidParameterValue(f"model.class {spec.class_!r} is not callable.")
    if spec.flavor == "pytorch":
        auto = {k: 0 for k in _TORCH_AUTO if k in _parameters(target)}
        check_params(target, {**auto, **spec.params}, spec.class_)
    return None


def _check_training_function(target: Any, path: str) -> None:
    """``model.flavor: python`` names a function ``fit(params, ctx)``: a model class there
    was called as one and failed deep in its own code."""
    takes = "model.flavor python names a training function fit(params, ctx) that returns a "
    takes += "fitted model with predict (see 'Train from Python' in the README)"
    if inspect.isclass(target):
        raise InvalidParameterValue(
            f"model.class {path!r} is a class; {takes}. Write one that builds and trains "
            f"{target.__name__}, and name it instead."
        )
    try:
        inspect.signature(target).bind(None, None)
    except TypeError as exc:
        raise InvalidParameterValue(
            f"model.class {path!r} cannot be called as fit(params, ctx) ({exc}); {takes}."
        ) from None
    except ValueError:  # no signature to read (a builtin): its call will tell
        return


# The package a flavor's classes come from, its name in messages, and examples.
_FLAVOR_PACKAGES = {
    "xgboost": ("xgboost", "an XGBoost", "xgboost.XGBClassifier, xgboost.XGBRegressor"),
    "lightgbm": ("lightgbm", "a LightGBM", "lightgbm.LGBMClassifier, lightgbm.LGBMRegressor"),
}


def check_flavor(spec: ModelSpec) -> None:
    """Refuse a ``model.class`` that ``model.flavor`` cannot train (an XGBoost flavor with a
    scikit-learn forest, a PyTorch flavor with something other than a ``torch.nn.Module``),
    naming the flavor that would. A class counts as its bases' (a subclass of XGBClassifier
    in your own module is an XGBoost model)."""
    if spec.flavor == "python":
        _check_training_function(resolve(spec.class_), spec.class_)
        return
    cls = resolve(spec.class_)
    packages = {base.__module__.split(".")[0] for base in getattr(cls, "__mro__", (cls,))}
    is_module = False
    if spec.flavor == "pytorch" or "torch" in packages:
        import torch

        is_module = isinstance(cls, type) and issubclass(cls, torch.nn.Module)
    hint = _flavor_hint(packages, is_module)
    if spec.flavor == "pytorch":
        if not is_module:
            raise InvalidParameterValue(
                f"model.class {spec.class_!r} is not a torch.nn.Module: model.flavor pytorch "
                f"trains networks. {hint}"
            )
        return
    wanted = _FLAVOR_PACKAGES.get(spec.flavor)
    if wanted is not None and wanted[0] not in packages:
        raise InvalidParameterValue(
            f"model.class {spec.class_!r} is not {wanted[1]} model: model.flavor "
            f"{spec.flavor} trains {wanted[2]}. {hint}"
        )
    if spec.flavor == "sklearn" and (is_module or not hasattr(cls, "fit")):
        why = "a torch.nn.Module" if is_module else "it has no fit method"
        raise InvalidParameterValue(
            f"model.class {spec.class_!r} is not a scikit-learn estimator ({why}). {hint}"
        )


def _flavor_hint(packages: set[str], is_module: bool) -> str:
    if is_module:
        return "Use model.flavor: pytorch for it."
    for package in ("xgboost", "lightgbm", "sklearn"):
        if package in packages:
            return f"Use model.flavor: {package} for it."
    return "Use model.flavor: python with a training function for other models."


def _parameters(obj: Any) -> dict[str, Any]:
    try:
        return dict(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return {}


def _proba(model: Any, X: Any) -> Any:
    return model.predict_proba(X) if hasattr(model, "predict_proba") else None


def _curve_metrics(task: str) -> list[str]:
    return ["logloss", "accuracy"] if task == "classification" else ["rmse"]


def _score(ctx: FitContext, pred: Any, proba: Any, split: str) -> dict[str, float]:
    part = ctx.train if split == "train" else ctx.valid
    assert part is not None
    # a scikit-learn model's classes_: the train split's labels, sorted
    classes = np.unique(ctx.train.y) if ctx.task == "classification" else None
    values = evaluate(_curve_metrics(ctx.task), part.y, pred, proba, classes, split)
    return {f"{split}_{k}": v for k, v in values.items()}


# scikit-learn ---------------------------------------------------------------------------------


def _growable(model: Any) -> bool:
    params = model.get_params()
    return (
        "warm_start" in params and "n_estimators" in params and not hasattr(model, "staged_predict")
    )


def growth_sizes(n_estimators: int) -> list[int]:
    """Forest sizes a warm-started forest grows through: up to 20 stages, one curve point each."""
    step_size = max(1, -(-n_estimators // 20))  # ceil: 50 trees grow in 17 stages of 3
    return list(range(step_size, n_estimators, step_size)) + [n_estimators]


def sklearn_steps(model: Any) -> int | None:
    """Curve points a scikit-learn model reports: growth stages or boosting stages."""
    params = model.get_params()
    if "n_estimators" not in params or not isinstance(params["n_estimators"], int):
        return None
    n = int(params["n_estimators"])
    return len(growth_sizes(n)) if _growable(model) else n


def fit_sklearn(ctx: FitContext, path: str) -> Any:
    model = build(path, ctx.params, ctx.seed)
    X, y = ctx.train.X, ctx.train.y
    if _growable(model):
        # Forests and bagging grow with warm_start: one curve point (and, when asked, one
        # checkpoint) per growth stage; the grown forest equals one fitted at full size.
        sizes = growth_sizes(int(model.get_params()["n_estimators"]))
        if ctx.restored is not None:
            model = ctx.restored.state
        for step in range(ctx.start_step, len(sizes)):
            model.set_params(warm_start=True, n_estimators=sizes[step])
            model.fit(X, y)
            values = _eval_both(ctx, model.predict, lambda d: _proba(model, d))
            if ctx.report(step, {**values, "n_estimators": sizes[step]}):
                break
            ctx.checkpoint(step, model)
        model.set_params(warm_start=False)
        best = ctx.best_step
        if ctx.should_stop and best is not None and sizes[best] < len(model.estimators_):
            # Stopped early: the forest of the best stage, which a fresh fit of that size with
            # the same seed grows again (its first trees are the warm-started forest's).
            model.set_params(n_estimators=sizes[best])
            model.fit(X, y)
        return model
    model.fit(X, y)
    if hasattr(model, "staged_predict") and ctx.valid is not None:
        # Boosting: replay its stages (no refit) for the curve; early stopping truncates.
        staged = zip(
            model.staged_predict(ctx.train.X),
            model.staged_predict(ctx.valid.X),
            _staged_proba(model, ctx.train.X),
            _staged_proba(model, ctx.valid.X),
            strict=False,
        )
        for step, (p_tr, p_va, s_tr, s_va) in enumerate(staged):
            values = {**_score(ctx, p_tr, s_tr, "train"), **_score(ctx, p_va, s_va, "valid")}
            if ctx.report(step, values):
                break
        if ctx.should_stop and ctx.best_step is not None and "n_estimators" in model.get_params():
            model.set_params(n_estimators=ctx.best_step + 1)
            model.fit(X, y)  # refit at the best stage: deterministic with the same seed
    return model


def _staged_proba(model: Any, X: Any) -> Any:
    if hasattr(model, "staged_predict_proba"):
        return model.staged_predict_proba(X)
    return iter(lambda: None, 0)  # endless Nones


def _eval_both(
    ctx: FitContext, predict: Callable[[Any], Any], proba: Callable[[Any], Any]
) -> dict[str, float]:
    out = _score(ctx, predict(ctx.train.X), proba(ctx.train.X), "train")
    if ctx.valid is not None:
        out.update(_score(ctx, predict(ctx.valid.X), proba(ctx.valid.X), "valid"))
    return out


# XGBoost --------------------------------------------------------------------------------------


# Params that make a booster draw rows or columns at random, per library. Neither library keeps
# its random state in a saved model: training continued from a checkpoint draws anew.
_FRACTIONS = {
    "xgboost": ("subsample", "colsample_bytree", "colsample_bylevel", "colsample_bynode"),
    "lightgbm": (
        "colsample_bytree",
        "feature_fraction",
        "sub_feature",
        "feature_fraction_bynode",
        "sub_feature_bynode",
    ),
}
_LIGHTGBM_BAGGING = ("subsample", "bagging_fraction", "sub_row", "bagging")
_LIGHTGBM_BAGGING_FREQ = ("subsample_freq", "bagging_freq")


def random_draws(flavor: str, params: dict[str, Any]) -> list[str]:
    """``key=value`` of the params with which a resumed run cannot equal an uninterrupted one
    (random sampling of rows or columns by XGBoost or LightGBM); empty for other flavors."""

    def below_one(key: str) -> bool:
        value = params.get(key)
        return isinstance(value, int | float) and not isinstance(value, bool) and value < 1

    keys = [k for k in _FRACTIONS.get(flavor, ()) if below_one(k)]
    if flavor == "lightgbm" and any(params.get(f) for f in _LIGHTGBM_BAGGING_FREQ):
        keys += [k for k in _LIGHTGBM_BAGGING if below_one(k)]
    return [f"{k}={params[k]}" for k in sorted(keys)]


def _remaining(ctx: FitContext, params: dict[str, Any]) -> dict[str, Any]:
    """Boosting rounds left after a restored checkpoint (both libraries default to 100)."""
    total = params.get("n_estimators") or 100
    return {**params, "n_estimators": max(1, int(total) - ctx.start_step)}


def fit_xgboost(ctx: FitContext, path: str) -> Any:
    import xgboost

    offset = ctx.start_step

    class Report(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
            values = {}
            for data, metrics in evals_log.items():
                split = {"validation_0": "train", "validation_1": "valid"}.get(data, data)
                for name, history in metrics.items():
                    values[f"{split}_{name}"] = history[-1]
            step = offset + epoch
            if ctx.report(step, values):
                return True
            ctx.checkpoint(step, files=lambda d: model.save_model(d / "model.ubj"))
            return False

    params = dict(ctx.params)
    resume_from = None
    if ctx.restored is not None:
        params = _remaining(ctx, params)
        resume_from = str(ctx.restored.dir / "model.ubj")
    model = build(path, {**params, "callbacks": [Report()]}, ctx.seed)
    evals = [(ctx.train.X, ctx.train.y)]
    if ctx.valid is not None:
        evals.append((ctx.valid.X, ctx.valid.y))
    model.fit(ctx.train.X, ctx.train.y, eval_set=evals, verbose=False, xgb_model=resume_from)
    if ctx.should_stop and ctx.best_step is not None:
        # XGBoost's own convention: predict (and saved models) use the trees up to the best.
        model.get_booster().set_attr(best_iteration=str(ctx.best_step))
    model.set_params(callbacks=None)  # the callback does not pickle; the trees are kept
    return model


# LightGBM -------------------------------------------------------------------------------------


def fit_lightgbm(ctx: FitContext, path: str) -> Any:
    import lightgbm

    offset = ctx.start_step

    def report(env: Any) -> None:
        values = {f"{data}_{name}": value for data, name, value, _ in env.evaluation_result_list}
        step = offset + env.iteration - env.begin_iteration
        if ctx.report(step, values):
            best = ctx.best_step if ctx.best_step is not None else step
            # The booster predicts (and saves) with the trees up to the best iteration.
            raise lightgbm.callback.EarlyStopException(best, env.evaluation_result_list)
        ctx.checkpoint(step, files=lambda d: env.model.save_model(str(d / "model.txt")))

    params = {"verbose": -1, **ctx.params}
    init_model = None
    if ctx.restored is not None:
        params = _remaining(ctx, params)
        init_model = str(ctx.restored.dir / "model.txt")
    model = build(path, params, ctx.seed)
    parts = [ctx.train] if ctx.valid is None else [ctx.train, ctx.valid]
    names = [p.name for p in parts]
    if "eval_X" in inspect.signature(model.fit).parameters:  # LightGBM >= 4.7
        evals: dict[str, Any] = {
            "eval_X": tuple(p.X for p in parts),
            "eval_y": tuple(p.y for p in parts),
        }
    else:
        evals = {"eval_set": [(p.X, p.y) for p in parts]}
    model.fit(
        ctx.train.X,
        ctx.train.y,
        eval_names=names,
        callbacks=[report],
        init_model=init_model,
        **evals,
    )
    return model


# PyTorch --------------------------------------------------------------------------------------


def torch_loop(
    module: Any,
    ctx: FitContext,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    loss_fn: Any = None,
) -> Any:
    """Train ``module`` with Adam on the train split, one curve point per epoch (train and
    valid loss, plus accuracy for classifiers); stops early when the context says so, saves
    checkpoints (module, optimizer and random state) when it asks, and continues from a
    restored one."""
    import torch

    torch.manual_seed(ctx.seed)
    classify = ctx.task == "classification"
    X = torch.tensor(ctx.train.X.to_numpy(np.float32))
    y_np = ctx.train.y.to_numpy()
    y = torch.tensor(y_np.astype(np.int64) if classify else y_np.astype(np.float32))
    loss_fn = loss_fn or (torch.nn.CrossEntropyLoss() if classify else torch.nn.MSELoss())
    opt = torch.optim.Adam(module.parameters(), lr=lr or ctx.lr)
    gen = torch.Generator().manual_seed(ctx.seed)
    size = batch_size or ctx.batch_size

    def measure(split: Any) -> dict[str, float]:
        xs = torch.tensor(split.X.to_numpy(np.float32))
        ys_np = split.y.to_numpy()
        ys = torch.tensor(ys_np.astype(np.int64) if classify else ys_np.astype(np.float32))
        with torch.no_grad():
            out = module(xs)
            if not classify:
                out = out.reshape(-1)
            values = {"loss": float(loss_fn(out, ys))}
            if classify:
                values["accuracy"] = float((out.argmax(1) == ys).float().mean())
        return values

    if ctx.restored is not None:
        saved = torch.load(ctx.restored.dir / TORCH_STATE, weights_only=True)
        module.load_state_dict(saved["module"])
        opt.load_state_dict(saved["optimizer"])
        gen.set_state(saved["generator"])
        torch.set_rng_state(saved["rng"])

    def save(folder: Path) -> None:
        state = {
            "module": module.state_dict(),
            "optimizer": opt.state_dict(),
            "generator": gen.get_state(),
            "rng": torch.get_rng_state(),
        }
        torch.save(state, folder / TORCH_STATE)

    for epoch in range(ctx.start_step, epochs or ctx.epochs):
        module.train()
        batches = list(torch.split(torch.randperm(len(X), generator=gen), size))
        if len(batches) > 1 and len(batches[-1]) == 1:  # batch norm cannot train on one row
            batches[-2:] = [torch.cat(batches[-2:])]
        for batch in batches:
            opt.zero_grad()
            out = module(X[batch])
            loss = loss_fn(out if classify else out.reshape(-1), y[batch])
            loss.backward()
            opt.step()
        module.eval()
        values = {f"train_{k}": v for k, v in measure(ctx.train).items()}
        if ctx.valid is not None:
            values.update({f"valid_{k}": v for k, v in measure(ctx.valid).items()})
        if ctx.report(epoch, values):
            break
        ctx.checkpoint(epoch, files=save)
    return TorchPredictor(module, classify)


class TorchPredictor:
    """A trained module with ``predict`` (class labels or values) and ``predict_proba``."""

    def __init__(self, module: Any, classify: bool) -> None:
        self.module = module.eval()
        self.classify = classify

    def _forward(self, X: Any) -> Any:
        import torch

        data = X.to_numpy(np.float32) if hasattr(X, "to_numpy") else np.asarray(X, np.float32)
        with torch.no_grad():
            return self.module(torch.tensor(data))

    def predict(self, X: Any) -> Any:
        out = self._forward(X)
        return out.argmax(1).numpy() if self.classify else out.reshape(-1).numpy()

    def predict_proba(self, X: Any) -> Any:
        import torch

        return torch.softmax(self._forward(X), 1).numpy()


def torch_module(path: str, params: dict[str, Any], train: Split, task: str) -> Any:
    """The module ``model.class`` names, built with ``params``; ``n_features`` and
    ``n_outputs`` come from the data when it takes them."""
    cls = resolve(path)
    kwargs = dict(params)
    n_out = int(train.y.max()) + 1 if task == "classification" else 1  # 0..K-1: check_data
    for key, value in zip(_TORCH_AUTO, (train.X.shape[1], n_out), strict=True):
        if key in _parameters(cls):
            kwargs.setdefault(key, value)
    check_params(cls, kwargs, path)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(f"model.params for {path}: {exc}") from None


def fit_pytorch(ctx: FitContext, path: str) -> Any:
    return torch_loop(torch_module(path, ctx.params, ctx.train, ctx.task), ctx)


# python ---------------------------------------------------------------------------------------


def fit_python(ctx: FitContext, path: str) -> Any:
    """``model.class`` names ``fn(params, ctx)`` returning a fitted model with ``predict``;
    ``ctx`` has the splits (``ctx.train.X``/``.y``, ``ctx.valid``) and ``ctx.report``."""
    return fitted_model(resolve(path)(dict(ctx.params), ctx), path)


def fitted_model(model: Any, path: str) -> Any:
    """What a training function returned, if it can predict."""
    if not hasattr(model, "predict"):
        what = "None" if model is None else f"a {type(model).__name__}"
        raise InvalidParameterValue(
            f"{path} returned {what}, which has no predict method: return the fitted model."
        )
    return model


def _check_classes_trained(data: PreparedData) -> None:
    """Every class a split is scored on is in the train split: the model never learns one it
    did not see, and scoring it failed only after training."""
    train = data.split("train")
    if data.task != "classification" or train is None:
        return
    known = train.y.unique()
    if len(known) < 2:
        label = known[0].item() if hasattr(known[0], "item") else known[0]
        where, todo = (
            ("in the data", "Check the target column and the rows the data holds.")
            if data.classes() < 2
            else ("in the train split", "Split with stratify: true, or by other columns.")
        )
        raise InvalidParameterValue(
            f"data.target {data.target!r}: every row {where} has class {label!r}; a classifier "
            f"learns from two classes or more. {todo}"
        )
    for name, split in data.splits.items():
        unseen = split.y[~split.y.isin(known)]
        if unseen.empty:
            continue
        counts = unseen.value_counts()
        label, rows = counts.index[0], int(counts.iloc[0])
        total = sum(int((s.y == label).sum()) for s in data.splits.values())
        label = label.item() if hasattr(label, "item") else label  # 2, not np.int64(2)
        others = f" (and {len(counts) - 1} more class(es))" if len(counts) > 1 else ""
        todo = (
            "Split with stratify: true (each class in every split, given a row per split), "
            "or merge or drop classes this rare in the data."
            if data.split_by is None
            else f"A split by {data.split_by} cannot spread rows by class: merge or drop "
            "classes this rare in the data."
        )
        raise InvalidParameterValue(
            f"data.split: class {label!r} is in the {name} split ({rows} of its {total} rows) "
            f"but not in train{others}: the model never learns it, so it cannot be scored "
            f"there. {todo}"
        )


def _infinite_columns(splits: list[Any]) -> list[str]:
    floats = splits[0].X.select_dtypes(include="floating").columns
    return [str(c) for c in floats if any(np.isinf(s.X[c].to_numpy()).any() for s in splits)]


def check_data(flavor: str, data: PreparedData) -> None:
    """Refuse, before anything is logged, data that ``flavor`` cannot train on: feature columns
    of text (every flavor takes numbers), missing feature values for a network (its loss would
    be NaN), class labels other than 0..K-1 for XGBoost and networks, text labels for LightGBM
    (scikit-learn's models take any labels)."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    _check_classes_trained(data)
    if flavor == "python":
        return
    splits = list(data.splits.values())
    X = splits[0].X  # every split has the frame's columns and types: no copy of the data
    # pandas categoricals: LightGBM takes them, and some scikit-learn models (e.g. histogram
    # gradient boosting); XGBoost and networks do not
    categorical = flavor in ("lightgbm", "sklearn")
    text = [
        str(c)
        for c in X.columns
        if not (
            is_numeric_dtype(X[c])
            or is_bool_dtype(X[c])
            or (categorical and X[c].dtype == "category")
        )
    ]
    if text:
        values = sorted({str(v) for s in splits for v in s.X[text[0]].dropna().unique()})
        seen = f" (e.g. {values[0]!r})" if values else ""
        named = listing([repr(c) for c in text])
        which = f"column {named} holds" if len(text) == 1 else f"columns {named} hold"
        raise InvalidParameterValue(
            f"data.features: {which} values that are not numbers{seen}; model.flavor {flavor} "
            "trains on numbers. Encode them in the data (text: one column per category, or a "
            "code; dates: a number such as days since a start), or leave them out with "
            "data.features."
        )
    infinite = _infinite_columns(splits)
    if infinite:
        named = listing([repr(c) for c in infinite])
        raise InvalidParameterValue(
            f"data.features: infinite values in {named}; no model trains on them. Replace them "
            "in the data (with a large number, or leave them blank), or leave those columns out "
            "with data.features."
        )
    if flavor == "pytorch":
        counts = sum(s.X.isna().sum() for s in splits)
        gaps = {str(c): int(n) for c, n in counts.items() if n}
        if gaps:
            named = ", ".join(f"{c!r} ({n} rows)" for c, n in list(gaps.items())[:5])
            raise InvalidParameterValue(
                f"data.features: missing values in {named}{' and more' if len(gaps) > 5 else ''}; "
                "a network (model.flavor pytorch) trains on complete rows, or its loss is NaN. "
                "Fill them in the data, or leave those columns out with data.features."
            )
    if data.task != "classification" or flavor == "sklearn":
        return
    y = pd.concat([s.y for s in data.splits.values()])
    labels = y.unique().tolist()
    try:
        labels.sort()
        # 0..K-1, as integers, booleans or whole floats (0.0, 1.0)
        numbered = is_numeric_dtype(y) and labels == list(range(len(labels)))
    except TypeError:  # labels of several types
        labels.sort(key=str)
        numbered = False
    if (flavor in ("xgboost", "pytorch") and not numbered) or not is_numeric_dtype(y):
        codes = ", ".join(f"{v!r}: {i}" for i, v in enumerate(labels[:5]))
        more = ", ..." if len(labels) > 5 else ""
        need = "numeric class labels" if flavor == "lightgbm" else "class labels 0..K-1"
        named = listing([repr(v) for v in labels])
        raise InvalidParameterValue(
            f"data.target {data.target!r} has the labels {named}; model.flavor "
            f"{flavor} needs {need}. Encode them in the data (e.g. {{{codes}{more}}}), or "
            "train a scikit-learn model (model.flavor sklearn), which takes any labels."
        )


def total_steps(flavor: str, estimator: Any, epochs: int) -> int | None:
    """How many curve points (iterations, growth stages, epochs) a full training reports."""
    if flavor == "pytorch":
        return epochs
    if flavor == "sklearn":
        return sklearn_steps(estimator)
    if flavor in ("xgboost", "lightgbm"):
        rounds = estimator.get_params().get("n_estimators")
        if rounds is None:
            return 100
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise InvalidParameterValue(
                f"model.params.n_estimators: {rounds!r} is not a number of boosting rounds; "
                "give a whole number >= 1 (e.g. 100)."
            )
        return int(rounds)
    return None


FITTERS: dict[str, Callable[[FitContext, str], Any]] = {
    "sklearn": fit_sklearn,
    "xgboost": fit_xgboost,
    "lightgbm": fit_lightgbm,
    "pytorch": fit_pytorch,
    "python": fit_python,
}


def loggable(model: Any) -> Any:
    """The object to log as the model: a trained PyTorch module rather than its predictor."""
    return model.module if isinstance(model, TorchPredictor) else model
