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
    ],
)  # fmt: skip
def test_a_class_of_another_flavor_is_refused(flavor: str, cls: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        check_flavor(spec(flavor, cls))
    assert message in err.value.message


def _own_xgb() -> type:
    from xgboost import XGBClassifier

    return type("OwnXGB", (XGBClassifier,), {"__module__": __name__})


OwnXGB = _own_xgb()
