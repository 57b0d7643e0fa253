"""The search space's grid: the points a user wrote, not float arithmetic's neighbours."""

from __future__ import annotations

from trainlab.tuning.space import ParamSpace


def test_a_float_grid_has_the_values_its_step_names() -> None:
    space = ParamSpace(type="float", low=0.1, high=0.5, step=0.1)
    assert space.grid("learning_rate") == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert ParamSpace(type="int", low=2, high=8, step=3).grid("depth") == [2, 5, 8]


def test_list_choices_are_encoded_for_optuna_and_decoded_back() -> None:
    space = ParamSpace(type="categorical", choices=[[32], [64, 32], "auto", None])
    assert space.encoded_choices() == ["[32]", "[64, 32]", "auto", None]
    assert [space.decode(c) for c in space.encoded_choices()] == [[32], [64, 32], "auto", None]
