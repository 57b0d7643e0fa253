"""Which model classes each flavor trains: refused before anything is logged otherwise."""

from __future__ import annotations

import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.training.adapters import check_flavor
from trainlab.training.spec import ModelSpec


class OwnBooster:  # a class of the user's own module, built on XGBoost's
    pass


def spec(flavor: str, cls: str) -> ModelSpec:
    return ModelSpec.model_validate({"flavor": flavor, "class": cls})


@pytest.mark.parametrize(
    ("flavor", "cls"),
    [
        ("sklearn", "sklearn.ensemble.RandomForestClassifier"),
        ("sklearn", "xgboost.XGBClassifier"),  # scikit-learn's API: trained as an estimator
        ("xgboost", "xgboost.XGBRegressor"),
        ("xgboost", "tests.unit.training.test_flavors.OwnXGB"),
        ("lightgbm", "lightgbm.LGBMClassifier"),
        ("pytorch", "trainlab.training.nets.TabularMLP"),
        ("python", "tests.support.training_fns.fit_ridge"),
    ],
)
def test_a_class_of_the_flavor_is_taken(flavor: str, cls: str) -> None:
    check_flavor(spec(flavor, cls))


@pytest.mark.parametrize(
    ("flavor", "cls", "message"),
    [
        ("xgboost", "sklearn.linear_model.Ridge", "is not an XGBoost model"),
        ("lightgbm", "xgboost.XGBClassifier", "Use model.flavor: xgboost for it."),
        ("pytorch", "xgboost.XGBClassifier", "is not a torch.nn.Module"),
        ("sklearn", "trainlab.training.nets.TabularMLP", "(a torch.nn.Module). Use model.flavor: "
         "pytorch for it."),
        ("sklearn", "tests.unit.training.test_flavors.OwnBooster", "(it has no fit method). Use "
         "model.flavor: python with a training function"),
        ("python", "tests.unit.training.test_flavors.OwnBooster", "'tests.unit.training."
         "test_flavors.OwnBooster' is a class; model.flavor python names a training function "
         "fit(params, ctx)"),
        ("python", "tests.unit.training.test_flavors.fit_one_arg", "cannot be called as "
         "fit(params, ctx) (too many positional arguments)"),
    ],
)  # fmt: skip
def test_a_class_of_another_flavor_is_refused(flavor: str, cls: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        check_flavor(spec(flavor, cls))
    assert message in err.value.message


def fit_one_arg(params: dict[str, object]) -> None:
    pass


def _own_xgb() -> type:
    from xgboost import XGBClassifier

    return type("OwnXGB", (XGBClassifier,), {"__module__": __name__})


OwnXGB = _own_xgb()


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        ("xgboost.XGBClassifier", {"objective": "multi:softprob"}),  # num_class from the labels
        ("xgboost.XGBClassifier", {"max_depth": 0, "gamma": 0.5}),
        ("lightgbm.LGBMClassifier", {"objective": "multiclass", "num_class": 3}),
        ("xgboost.XGBRegressor", {"objective": "reg:tweedie"}),
        ("xgboost.XGBRegressor", {"booster": "gblinear", "max_depth": 3}),  # XGBoost warns
        ("lightgbm.LGBMClassifier", {"bagging_fraction": 0.1, "bagging_freq": 1}),
        ("lightgbm.LGBMRegressor", {"objective": "gamma"}),  # positive labels, not the probe's
    ],
)
def test_valid_booster_params_pass_the_probe(
    cls: str, params: dict[str, object], capfd: pytest.CaptureFixture[str]
) -> None:
    """The probe's four rows of two classes are not the data: what follows the labels is not
    held against the params, and nothing the boosters print about them is shown (LightGBM's
    "number of data points in the train set: 4" reads as if the user's data were four rows)."""
    from trainlab.training.adapters import build, check_booster_params

    check_booster_params(build(cls, params, seed=0), params, cls)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        ("xgboost.XGBClassifier", {"max_depth": -3}, "max_depth = -3: it should be greater"),
        ("xgboost.XGBClassifier", {"subsample": 1.5}, r"subsample = 1.5: it exceed bound \[0,1\]"),
        ("lightgbm.LGBMRegressor", {"min_child_samples": -1}, "min_child_samples = -1: it must be"),
        ("lightgbm.LGBMClassifier", {"num_leaves": 1}, "num_leaves = 1: it must be > 1"),
    ],
)
def test_values_a_booster_refuses_are_refused_before_training(
    cls: str, params: dict[str, object], message: str
) -> None:
    from trainlab.training.adapters import build, check_booster_params

    with pytest.raises(InvalidParameterValue, match=message):
        check_booster_params(build(cls, params, seed=0), params, cls)


@pytest.mark.parametrize(
    ("flavor", "params", "drawn"),
    [
        (
            "xgboost",
            {"subsample": 0.8, "colsample_bynode": 0.5, "max_depth": 3},
            ["colsample_bynode=0.5", "subsample=0.8"],
        ),
        ("xgboost", {"subsample": 1.0, "colsample_bytree": 1}, []),
        ("lightgbm", {"subsample": 0.7}, []),  # bagging is off without a frequency
        ("lightgbm", {"subsample": 0.7, "subsample_freq": 1}, ["subsample=0.7"]),
        (
            "lightgbm",
            {"bagging_fraction": 0.5, "bagging_freq": 2, "feature_fraction": 0.9},
            ["bagging_fraction=0.5", "feature_fraction=0.9"],
        ),
        ("sklearn", {"subsample": 0.5}, []),  # a forest's own random state is in its checkpoint
    ],
)
def test_the_params_that_keep_a_resume_from_equalling_the_run(
    flavor: str, params: dict[str, object], drawn: list[str]
) -> None:
    from trainlab.training.adapters import random_draws

    assert random_draws(flavor, params) == drawn
