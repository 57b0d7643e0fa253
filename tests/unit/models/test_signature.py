"""Signature inference and enforcement, and the JSON format shared with MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.models.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    SchemaMismatch,
    TensorSpec,
    enforce,
    infer_schema,
    infer_signature,
)

mlflow_signature = pytest.importorskip("mlflow.models.signature")


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "d": [1.0, 2.0],
            "f": np.array([1.0, 2.0], dtype="float32"),
            "l": [1, 2],
            "i": np.array([1, 2], dtype="int32"),
            "b": [True, False],
            "s": ["x", "y"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )


def test_infer_columns_matches_mlflow() -> None:
    ours = infer_signature(sample()).to_dict()
    theirs = mlflow_signature.infer_signature(sample()).to_dict()
    assert ours["inputs"] == theirs["inputs"]


def test_infer_tensor_matches_mlflow() -> None:
    x = np.zeros((3, 4), dtype="float32")
    y = np.zeros(3)
    ours = infer_signature(x, y).to_dict()
    theirs = mlflow_signature.infer_signature(x, y).to_dict()
    assert ours["inputs"] == theirs["inputs"] and ours["outputs"] == theirs["outputs"]


def test_mlflow_signature_round_trips_through_ours() -> None:
    theirs = mlflow_signature.infer_signature(sample(), np.array([1, 0])).to_dict()
    ours = ModelSignature.from_dict(theirs)
    assert ours.to_dict()["inputs"] == theirs["inputs"]
    back = mlflow_signature.ModelSignature.from_dict(ours.to_dict())
    assert back.inputs.input_names() == list(sample().columns)


def test_schema_specs() -> None:
    schema = infer_schema(sample())
    assert schema.specs[0] == ColSpec("double", "d")
    assert [s.type for s in schema.specs if isinstance(s, ColSpec)] == [
        "double", "float", "long", "integer", "boolean", "string", "datetime",
    ]  # fmt: skip
    assert infer_schema(np.ones((2, 3, 4))).specs == (TensorSpec("float64", (-1, 3, 4)),)
    assert not Schema.from_json(schema.to_json()).is_tensor


def test_text_predictions_are_a_string_column_mlflow_reads() -> None:
    """A classifier's predictions of text labels, however numpy holds them: a string column,
    as mlflow.sklearn writes it (MLflow cannot read a tensor of dtype <U3)."""
    for labels in (np.array(["no", "yes"]), np.array(["no", "yes"], dtype=object)):
        schema = infer_schema(labels)
        assert schema.specs == (ColSpec("string"),)
        assert mlflow_signature.Schema.from_json(schema.to_json()).input_types() is not None
    grid = infer_schema(np.array([["a", "b"], ["c", "d"]]))
    assert grid.specs == (TensorSpec("str", (-1, 2)),)
    mlflow_signature.Schema.from_json(grid.to_json())  # readable by MLflow too
    with pytest.raises(InvalidParameterValue, match="objects other than text"):
        infer_schema(np.array([object(), "x"], dtype=object))


def test_infer_rejects_untyped_columns() -> None:
    with pytest.raises(InvalidParameterValue, match="column 'o'"):
        infer_schema(pd.DataFrame({"o": [object(), object()]}))


def test_enforce_passes_and_converts_safely() -> None:
    schema = infer_schema(sample())
    df = sample().astype({"l": "int16", "d": "float32"})
    out = enforce(schema, df)
    assert isinstance(out, pd.DataFrame)
    assert out["l"].dtype == np.int64 and out["d"].dtype == np.float64
    # extra columns are dropped, order follows the signature
    out = enforce(schema, sample().assign(extra=1)[list(reversed(sample().columns)) + ["extra"]])
    assert list(out.columns) == list(sample().columns)


def test_enforce_missing_column_names_it() -> None:
    with pytest.raises(SchemaMismatch, match=r"missing required column\(s\) \['s'\]"):
        enforce(infer_schema(sample()), sample().drop(columns="s"))


@pytest.mark.parametrize(
    ("column", "value", "actual", "expected"),
    [
        ("l", 1.5, "double", "long"),
        ("d", "x", "string", "double"),
        ("i", np.int64(2**40), "long", "integer"),
        ("s", 3, "long", "string"),
        ("b", 1, "long", "boolean"),
    ],
)
def test_enforce_unsafe_type_names_column_and_types(
    column: str, value: object, actual: str, expected: str
) -> None:
    df = sample()
    df[column] = value
    with pytest.raises(
        SchemaMismatch, match=rf"'{column}' has type {actual} .* expects {expected}"
    ):
        enforce(infer_schema(sample()), df)


def test_enforce_tensor() -> None:
    schema = infer_schema(np.zeros((2, 3), dtype="float64"))
    assert enforce(schema, np.ones((5, 3), dtype="float32")).dtype == np.float64
    with pytest.raises(SchemaMismatch, match="shape"):
        enforce(schema, np.ones((5, 4)))
    with pytest.raises(SchemaMismatch, match="dtype complex128"):
        enforce(schema, np.ones((5, 3), dtype="complex128"))


def test_a_float32_tensor_takes_float64_tables_and_arrays_as_float32() -> None:
    """What a network trained on a table gets at predict time: the table itself."""
    schema = infer_schema(np.zeros((2, 3), dtype="float32"))
    frame = pd.DataFrame({"a": [0.5, 1.0], "b": [2.0, 3.0], "c": [4.0, 5.0]})
    for data in (frame, frame.to_numpy()):
        out = enforce(schema, data)
        assert out.dtype == np.float32 and out.tolist() == [[0.5, 2, 4], [1, 3, 5]]
    with pytest.raises(SchemaMismatch, match="dtype int64 .* cannot be converted without loss"):
        enforce(schema, np.ones((2, 3), dtype="int64"))
    with pytest.raises(SchemaMismatch, match="dtype float64 .* expects float16"):
        enforce(infer_schema(np.zeros((2, 3), dtype="float16")), frame)


def test_enforce_array_against_columns() -> None:
    schema = Schema((ColSpec("double", "a"), ColSpec("double", "b")))
    out = enforce(schema, np.ones((2, 2)))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b"]
    with pytest.raises(SchemaMismatch, match="columns"):
        enforce(schema, np.ones((2, 3)))


def test_columns_with_missing_values_are_optional_as_mlflow_infers_them() -> None:
    frame = pd.DataFrame({"a": [0.5, None], "s": ["x", None], "full": [1.0, 2.0]})
    ours = infer_signature(frame).to_dict()
    theirs = mlflow_signature.infer_signature(frame).to_dict()
    assert ours["inputs"] == theirs["inputs"]
    assert [c.required for c in infer_schema(frame).specs] == [False, False, True]


def test_a_feature_missing_in_every_row_is_taken_where_its_type_can_hold_it() -> None:
    """A one-record request with a feature left out (None) is a double column of NaN, not a
    string column."""
    schema = Schema((ColSpec("double", "a"), ColSpec("double", "b"), ColSpec("datetime", "t")))
    out = enforce(schema, [{"a": 0.7, "b": None, "t": None}])
    assert isinstance(out, pd.DataFrame)
    assert out["b"].dtype == np.float64 and out["b"].isna().all()
    assert str(out["t"].dtype).startswith("datetime64")
    with pytest.raises(SchemaMismatch, match="'n' holds only missing values .* long"):
        enforce(Schema((ColSpec("long", "n"),)), [{"n": None}])


def test_an_optional_column_left_out_reaches_the_model_as_missing_values() -> None:
    schema = infer_schema(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, 3.0], "s": ["x", None]}))
    out = enforce(schema, pd.DataFrame({"a": [0.5]}))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b", "s"]
    assert np.isnan(out["b"].iloc[0]) and pd.isna(out["s"].iloc[0])
    with pytest.raises(SchemaMismatch, match=r"missing required column\(s\) \['a'\]"):
        enforce(schema, pd.DataFrame({"b": [1.0]}))
