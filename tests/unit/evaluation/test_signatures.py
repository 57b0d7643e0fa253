"""How the gate names what two models take, and when it feeds a tensor model and a column model
the same held-out rows (only with the tensor's column order checked against its run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from trainlab.evaluation.inputs import (
    Party,
    TrainedColumns,
    describe,
    match_inputs,
    refusal,
)
from trainlab.exceptions import InvalidState
from trainlab.models.mlmodel import MLModel
from trainlab.models.pyfunc import LoadedModel
from trainlab.models.signature import ColSpec, ModelSignature, Schema, TensorSpec

WINE = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
    "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
    "od280/od315_of_diluted_wines", "proline",
]  # fmt: skip
HELD_OUT = pd.DataFrame({c: [float(i), float(i) + 0.5] for i, c in enumerate(WINE)})


def _cols(*spec: tuple[str, str]) -> Schema:
    return Schema(tuple(ColSpec(t, n) for n, t in spec))


def _tensor(n: int, dtype: str = "float32") -> Schema:
    return Schema((TensorSpec(dtype, (-1, n)),))


COLUMNS = _cols(*((c, "double") for c in WINE))
TENSOR = _tensor(13)


def test_columns_are_named_with_their_types_and_long_lists_are_shortened() -> None:
    assert describe(_cols(("a", "double"), ("b", "long"))) == "2 columns: a (double), b (long)"
    assert describe(COLUMNS) == (
        "13 columns: alcohol (double), malic_acid (double), ash (double), alcalinity_of_ash "
        "(double), magnesium (double), total_phenols (double) and 7 more"
    )
    assert describe(COLUMNS, first=["proline"]).startswith("13 columns: proline (double), alc")
    assert describe(Schema((ColSpec("double"), ColSpec("long")))) == (
        "2 columns: column 1 (double), column 2 (long)"
    )


def test_tensors_are_named_by_dtype_and_shape() -> None:
    assert describe(TENSOR) == "a float32 tensor of shape (-1, 13)"
    assert describe(Schema((TensorSpec("float64", (-1,), "x"),))) == (
        "a float64 tensor 'x' of shape (-1,)"
    )


def test_missing_extra_and_retyped_columns_come_first_with_what_to_do() -> None:
    champion = _cols(("a", "double"), ("b", "double"), ("c", "long"))
    candidate = _cols(("a", "double"), ("c", "double"), ("d", "string"))
    assert refusal(candidate, champion, "versions 3 and 1") == (
        "The models' input signatures differ (versions 3 and 1): the candidate lacks 1 column "
        "the champion takes: b (double); the candidate takes 1 column the champion does not: d "
        "(string); 1 column has another type: c (long for the champion, double for the "
        "candidate). The candidate takes 3 columns: c (double), d (string), a (double); the "
        "champion takes 3 columns: b (double), c (long), a (double). They cannot be scored on "
        "the same held-out rows. Train the candidate on the champion's columns and types "
        "(data.features), or register it under another model name."
    )


def test_many_missing_columns_are_shortened_differing_first() -> None:
    champion = _cols(*((c, "double") for c in WINE))
    candidate = _cols(("alcohol", "double"), ("proline", "double"))
    message = refusal(candidate, champion, "versions 2 and 1")
    assert "the candidate lacks 11 columns the champion takes: malic_acid (double), ash " in message
    assert "flavanoids (double) and 5 more." in message
    assert "the champion takes 13 columns: malic_acid (double), ash (double)," in message


def test_the_same_columns_in_another_order_are_compared_by_name() -> None:
    """Each model picks its columns from the held-out frame by name, so the order each was
    trained in does not matter; a type that differs still does."""
    candidate = _party("candidate", 2, _cols(("b", "long"), ("a", "double")))
    champion = _party("champion", 1, _cols(("a", "double"), ("b", "long")))
    evidence = match_inputs(candidate, champion, HELD_OUT, _record())
    assert evidence["candidate"]["takes"] == evidence["champion"]["takes"] == "columns"
    retyped = _party("champion", 1, _cols(("a", "double"), ("b", "double")))
    with pytest.raises(InvalidState) as err:
        match_inputs(candidate, retyped, HELD_OUT, _record())
    assert (
        "(versions 2 and 1): 1 column has another type: b (double for the champion, long for "
        "the candidate)." in err.value.message
    )


def test_a_tensor_and_columns_are_named_readably() -> None:
    message = refusal(TENSOR, COLUMNS, "versions 3 and 1", "Here why. What to do.")
    assert message.startswith(
        "The models' input signatures differ (versions 3 and 1): the candidate takes a float32 "
        "tensor of shape (-1, 13); the champion takes 13 columns: alcohol (double), malic_acid "
        "(double),"
    )
    assert "A tensor gets the held-out columns by position" in message
    assert message.endswith("Here why. What to do.")
    assert "{" not in message


def _party(role: str, version: int, inputs: Schema, flavors: tuple[str, ...] = ()) -> Party:
    meta = MLModel(flavors={f: {} for f in flavors}, signature=ModelSignature(inputs))
    return Party(role, version, f"run-{version}", LoadedModel(None, meta, Path(".")))


def _record(**runs: list[str] | None) -> Callable[[str | None], TrainedColumns]:
    def record(run_id: str | None) -> TrainedColumns:
        columns = runs.get(str(run_id).replace("-", "_"))
        return TrainedColumns(columns, f"{run_id}'s record" if columns else "no pipeline")

    return record


def test_a_tensor_candidate_is_compared_with_a_column_champion_when_its_order_is_recorded() -> None:
    candidate = _party("candidate", 3, TENSOR, ("pytorch",))
    champion = _party("champion", 1, COLUMNS, ("sklearn",))
    evidence = match_inputs(candidate, champion, HELD_OUT, _record(run_3=WINE))
    assert evidence["candidate"]["takes"] == "tensor"
    assert evidence["candidate"]["signature"] == "a float32 tensor of shape (-1, 13)"
    assert evidence["candidate"]["column_order"] == {
        "checked": True, "columns": WINE, "from": "run-3's record"
    }  # fmt: skip
    assert evidence["champion"]["takes"] == "columns"
    assert "column_order" not in evidence["champion"]
    # and the other way round: the champion takes the tensor
    evidence = match_inputs(
        _party("candidate", 3, COLUMNS), _party("champion", 1, TENSOR, ("pytorch",)), HELD_OUT,
        _record(run_1=WINE),
    )  # fmt: skip
    assert evidence["champion"]["column_order"]["checked"] is True


def test_a_tensor_whose_order_is_not_recorded_is_not_compared_with_columns() -> None:
    candidate = _party("candidate", 3, COLUMNS)
    champion = _party("champion", 1, TENSOR, ("pytorch",))
    with pytest.raises(InvalidState) as err:
        match_inputs(candidate, champion, HELD_OUT, _record())
    assert (
        "Here the column order version 1 (the champion) was trained on cannot be checked: no "
        "pipeline. Train both with `trainlab train` on the same data.features"
    ) in err.value.message
    not_torch = _party("champion", 1, TENSOR, ("python_function",))
    with pytest.raises(InvalidState, match="it is not a pytorch model"):
        match_inputs(candidate, not_torch, HELD_OUT, _record(run_1=WINE))


def test_a_tensor_trained_on_another_column_order_is_refused() -> None:
    candidate = _party("candidate", 3, COLUMNS)
    champion = _party("champion", 1, TENSOR, ("pytorch",))
    with pytest.raises(InvalidState) as err:
        match_inputs(candidate, champion, HELD_OUT, _record(run_1=WINE[::-1]))
    assert (
        "Here version 1 (the champion) was trained on the held-out data's 13 columns in another "
        "order (column 1 was proline, the held-out data has alcohol; column 2 was "
        "od280/od315_of_diluted_wines, the held-out data has malic_acid; column 3 was hue, the "
        "held-out data has ash; and 9 more). Train the two models on the same data.features, in "
        "the same order"
    ) in err.value.message


def test_a_tensor_of_another_width_or_columns_of_other_names_are_refused() -> None:
    narrow = _party("candidate", 3, _tensor(2), ("pytorch",))
    champion = _party("champion", 1, COLUMNS)
    with pytest.raises(InvalidState, match=r"takes 2 values per row; the held-out data has 13 fe"):
        match_inputs(narrow, champion, HELD_OUT, _record(run_3=WINE))
    other = _party("champion", 1, _cols(*((c, "double") for c in WINE[:12]), ("ph", "double")))
    tensor = _party("candidate", 3, TENSOR, ("pytorch",))
    with pytest.raises(InvalidState) as err:
        match_inputs(tensor, other, HELD_OUT, _record(run_3=WINE))
    assert (
        "Here the held-out data lacks 1 column version 1 (the champion) takes: ph (double); the "
        "held-out data has 1 column version 1 (the champion) does not: proline (double)."
    ) in err.value.message


def test_two_tensor_models_are_refused_only_when_an_order_is_known_to_differ() -> None:
    candidate = _party("candidate", 3, TENSOR, ("pytorch",))
    champion = _party("champion", 1, TENSOR, ("pytorch",))
    evidence = match_inputs(candidate, champion, HELD_OUT, _record(run_3=WINE))
    assert evidence["candidate"]["column_order"]["checked"] is True
    assert evidence["champion"]["column_order"] == {
        "checked": False, "columns": None, "from": "no pipeline",
        "problem": "the column order version 1 (the champion) was trained on cannot be checked: "
        "no pipeline",
    }  # fmt: skip
    with pytest.raises(InvalidState) as err:
        match_inputs(candidate, champion, HELD_OUT, _record(run_3=WINE, run_1=WINE[::-1]))
    assert err.value.message.startswith(
        "Both models take a float32 tensor of shape (-1, 13) (versions 3 and 1), which gets the "
        "held-out columns by position, and version 1 (the champion) was trained on the "
        "held-out data's 13 columns in another order"
    )
    with pytest.raises(
        InvalidState, match=r"the candidate takes a float32 tensor of shape \(-1, 1"
    ):
        match_inputs(candidate, _party("champion", 1, _tensor(12)), HELD_OUT, _record())


def test_column_models_with_the_same_columns_need_no_record() -> None:
    evidence = match_inputs(
        _party("candidate", 2, COLUMNS), _party("champion", 1, COLUMNS), HELD_OUT, _record()
    )
    assert evidence == {
        "candidate": {"version": 2, "takes": "columns", "signature": describe(COLUMNS),
                      "fed": "the held-out frame; the model picks its columns by name"},
        "champion": {"version": 1, "takes": "columns", "signature": describe(COLUMNS),
                     "fed": "the held-out frame; the model picks its columns by name"},
    }  # fmt: skip
