"""An unknown key in a pipeline or policy names the key meant, or the keys there are."""

from __future__ import annotations

import pytest

from trainlab.evaluation.policy import parse_policy
from trainlab.exceptions import InvalidParameterValue
from trainlab.training.spec import parse_spec

BASE = {"data": {"source": "d.csv", "target": "y"}, "model": {"class": "m.M"}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"metric": ["accuracy"]}, "  metric: unknown key (did you mean 'metrics'?)"),
        ({"data": {**BASE["data"], "split": {"tset": 0.2}}},
         "  data.split.tset: unknown key (did you mean 'test'?)"),
        ({"model": {"class": "m.M", "zzz": 1}},
         "  model.zzz: unknown key; the keys here are class, flavor, params"),
        ({"train": {"early_stopping": {"metric": "valid_loss", "patiance": 3}}},
         "  train.early_stopping.patiance: unknown key (did you mean 'patience'?)"),
        ({"tune": {"metric": "valid_f1", "direction": "maximize",
                   "space": {"depth": {"type": "int", "low": 1, "high": 3, "stpe": 1}}}},
         "  tune.space.depth.stpe: unknown key (did you mean 'step'?)"),
        ({"tune": {"metric": "valid_f1", "direction": "maximize", "samplr": "tpe",
                   "space": {"max_depth": {"type": "int", "low": 1, "high": 3}}}},
         "  tune.samplr: unknown key (did you mean 'sampler'?)"),
    ],
)  # fmt: skip
def test_an_unknown_pipeline_key(extra: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        parse_spec({**BASE, **extra})
    assert message in err.value.message.splitlines()


def test_an_unknown_policy_key() -> None:
    with pytest.raises(InvalidParameterValue) as err:
        parse_policy({"primary": {"metric": "f1_macro"}, "treshold": {},
                      "guards": {"accuracy": {"max_drop": 0.1, "maxdrop": 0.1}}})  # fmt: skip
    assert "  treshold: unknown key (did you mean 'thresholds'?)" in err.value.message
    assert "  guards.accuracy.maxdrop: unknown key (did you mean 'max_drop'?)" in err.value.message


@pytest.mark.parametrize("name", ["..x", ".", "a\tb"])
def test_a_model_name_the_registry_refuses_is_refused_before_training(name: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        parse_spec({**BASE, "register": {"name": name}})
    assert f"register.name: Invalid registered model name {name!r}" in err.value.message
    model = {"flavor": "sklearn", "class": "m.M"}
    spec = parse_spec({**BASE, "model": model, "register": {"name": "wine-rf"}})
    assert spec.register_ is not None and spec.register_.name == "wine-rf"
