"""Model signatures in MLflow's format, inferred from examples and enforced at predict time.

A column schema (``[{"type": "double", "name": "a", "required": true}, ...]``) describes a
DataFrame; a tensor schema (``[{"type": "tensor", "tensor-spec": {"dtype": "float32",
"shape": [-1, 4]}}]``) a numpy array. Both are stored in MLmodel as JSON strings, exactly as
``mlflow.models.signature.ModelSignature.to_dict`` writes them, so either side reads the other's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trainlab.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# MLflow's column types -> the numpy dtype a column of that type holds.
COLUMN_DTYPES: dict[str, str] = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}


class SchemaMismatch(InvalidParameterValue):
    """Model input that does not match the model's signature."""


@dataclass(frozen=True)
class ColSpec:
    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d


@dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "tensor"}
        if self.name is not None:
            d["name"] = self.name
        d["tensor-spec"] = {"dtype": self.dtype, "shape": list(self.shape)}
        return d


Spec = ColSpec | TensorSpec


@dataclass(frozen=True)
class Schema:
    specs: tuple[Spec, ...]

    @property
    def is_tensor(self) -> bool:
        return bool(self.specs) and isinstance(self.specs[0], TensorSpec)

    def to_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.specs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise InvalidParameterValue(f"Invalid signature schema {text!r}: {exc}.") from None
        specs: list[Spec] = []
        for item in items:
            if item.get("type") == "tensor":
                ts = item["tensor-spec"]
                specs.append(TensorSpec(ts["dtype"], tuple(ts["shape"]), item.get("name")))
            elif isinstance(item.get("type"), str):
                specs.append(ColSpec(item["type"], item.get("name"), item.get("required", True)))
            else:  # objects, arrays, maps: kept out of enforcement
                specs.append(ColSpec("any", item.get("name"), item.get("required", True)))
        return cls(tuple(specs))


@dataclass(frozen=True)
class ModelSignature:
    inputs: Schema
    outputs: Schema | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_json(),
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSignature:
        outputs = d.get("outputs")
        return cls(Schema.from_json(d["inputs"]), Schema.from_json(outputs) if outputs else None)


def _column_type(series: pd.Series) -> str:
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "long" if np.dtype(dtype).itemsize > 4 else "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "double" if np.dtype(dtype).itemsize > 4 else "float"
    values = series.dropna()
    if values.map(lambda v: isinstance(v, bytes | bytearray)).all() and len(values):
        return "binary"
    if values.map(lambda v: isinstance(v, str)).all():
        return "string"
    raise InvalidParameterValue(
        f"Cannot infer a signature type for column {series.name!r} of dtype {dtype}: use "
        "numbers, booleans, strings, bytes or datetimes, or pass signature=."
    )


def as_frame_or_array(data: Any) -> pd.DataFrame | np.ndarray:
    """DataFrames and numpy arrays as they are; a Series, dict or list of dicts as a DataFrame."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame | np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, dict):
        return pd.DataFrame({k: np.atleast_1d(v) for k, v in data.items()})
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(data)
    if isinstance(data, list):
        return np.asarray(data)
    raise InvalidParameterValue(
        f"Unsupported model input of type {type(data).__name__}: use a pandas DataFrame or a "
        "numpy array."
    )


def infer_schema(data: Any) -> Schema:
    import numpy as np

    data = as_frame_or_array(data)
    if isinstance(data, np.ndarray):
        text = data.dtype.kind in "US" or (
            data.dtype == object and all(isinstance(v, str) for v in data.flat)
        )
        if text and data.ndim == 1:
            # a classifier's predictions of text labels: a string column, as mlflow.sklearn
            # writes it (MLflow cannot read a tensor of a sized text dtype such as <U3)
            return Schema((ColSpec("string"),))
        if text:
            return Schema((TensorSpec("str", (-1, *data.shape[1:])),))
        if data.dtype == object:
            raise InvalidParameterValue(
                "Cannot infer a tensor signature from a numpy array of objects other than "
                "text: pass signature=."
            )
        return Schema((TensorSpec(str(data.dtype), (-1, *data.shape[1:])),))
    # As MLflow infers it: a column with a missing value in the example is optional.
    return Schema(
        tuple(
            ColSpec(_column_type(data[c]), str(c), required=not data[c].isna().any())
            for c in data.columns
        )
    )


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(infer_schema(model_input), outputs)


def _cast_column(series: pd.Series, spec: ColSpec) -> pd.Series:
    import numpy as np
    import pandas as pd

    name = spec.name
    expected = spec.type
    actual = series.dtype
    if expected == "any":
        return series
    if len(series) and series.isna().all():  # a missing feature: None in every row
        if expected in ("float", "double"):
            return series.astype(COLUMN_DTYPES[expected])
        if expected in ("string", "binary"):
            return series
        if expected == "datetime":
            return pd.to_datetime(series)
        raise SchemaMismatch(
            f"Input column {name!r} holds only missing values (None or NaN), which the model's "
            f"signature type {expected} cannot hold. Give it values."
        )
    try:
        actual_type = _column_type(series)
    except InvalidParameterValue:
        actual_type = str(actual)
    if actual_type == expected:
        return series
    target = COLUMN_DTYPES.get(expected)
    numeric = pd.api.types.is_numeric_dtype(actual) and not pd.api.types.is_bool_dtype(actual)
    if (
        target is not None
        and numeric
        and expected in ("integer", "long", "float", "double")
        and np.can_cast(actual, np.dtype(target), casting="safe")
    ):
        return series.astype(target)
    if expected == "datetime" and actual_type == "string":
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError):
            pass
    raise SchemaMismatch(
        f"Input column {name!r} has type {actual_type} ({actual}) but the model's signature "
        f"expects {expected}; it cannot be converted without loss. Cast the column to "
        f"{expected} ({target or expected})."
    )


def _enforce_columns(schema: Schema, data: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    specs = [s for s in schema.specs if isinstance(s, ColSpec)]
    names = [s.name for s in specs]
    if isinstance(data, np.ndarray):
        if all(n is not None for n in names) and data.ndim == 2 and data.shape[1] == len(specs):
            data = pd.DataFrame(data, columns=names)
        else:
            raise SchemaMismatch(
                f"The model expects a DataFrame with columns {names}, got a numpy array of shape "
                f"{data.shape}."
            )
    assert isinstance(data, pd.DataFrame)
    if all(n is None for n in names):  # unnamed columns: by position
        if data.shape[1] < len(specs):
            raise SchemaMismatch(
                f"The model expects {len(specs)} input columns, got {data.shape[1]}."
            )
        return data
    missing = [n for s, n in zip(specs, names, strict=True) if s.required and n not in data]
    if missing:
        raise SchemaMismatch(
            f"Model input is missing required column(s) {missing}: the signature expects "
            f"{names}, got {[str(c) for c in data.columns]}."
        )
    out = {}
    for spec in specs:
        # an optional column left out is missing in every row, as the model may take it
        column = data[spec.name] if spec.name in data else pd.Series(None, data.index, object)
        out[spec.name] = _cast_column(column, spec)
    return pd.DataFrame(out, index=data.index)


def _enforce_tensor(schema: Schema, data: pd.DataFrame | np.ndarray) -> np.ndarray:
    import numpy as np
    import pandas as pd

    spec = schema.specs[0]
    assert isinstance(spec, TensorSpec)
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    assert isinstance(data, np.ndarray)
    expected = np.dtype(spec.dtype)
    if data.dtype != expected:
        # A table of float64 features goes to a float32 network as float32 (as MLflow's own
        # pytorch wrapper converts a DataFrame), not refused.
        floats = data.dtype.kind == "f" and expected.kind == "f" and expected.itemsize >= 4
        if not floats and not np.can_cast(data.dtype, expected, casting="safe"):
            raise SchemaMismatch(
                f"Model input has dtype {data.dtype} but the signature expects {expected}; it "
                "cannot be converted without loss."
            )
        data = data.astype(expected)
    shape = spec.shape
    if len(shape) != data.ndim or any(
        want != -1 and want != got for want, got in zip(shape, data.shape, strict=True)
    ):
        raise SchemaMismatch(
            f"Model input has shape {data.shape} but the signature expects {list(shape)} "
            "(-1: any size)."
        )
    return data


def enforce(schema: Schema, data: Any) -> pd.DataFrame | np.ndarray:
    """``data`` checked against ``schema`` and converted where that is safe; ``SchemaMismatch``
    naming the column and both types otherwise."""
    data = as_frame_or_array(data)
    if schema.is_tensor:
        return _enforce_tensor(schema, data)
    return _enforce_columns(schema, data)
