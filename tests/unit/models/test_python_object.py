"""Models of no framework (your own class with predict()): pickled by value with cloudpickle,
loaded back by trainlab and by ``mlflow.pyfunc`` in another process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trainlab
from trainlab.exceptions import InvalidParameterValue
from trainlab.models import MLModel, SchemaMismatch, save_model

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("mlflow.pyfunc")

# A training script's own model class: it lives in the script's __main__, which the process
# that loads the model does not have, so the class has to travel inside model.pkl.
SCRIPT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from trainlab.models import save_model

    class Threshold:
        def __init__(self, cut):
            self.cut = cut

        def predict(self, X):
            return (X["a"] > self.cut).astype(int).to_numpy()

    X = pd.DataFrame({"a": [0.5, 1.5, 2.5, 3.5], "b": [1.0, 0.0, 1.0, 0.0]})
    save_model(Threshold(2.0), sys.argv[1], input_example=X.head(2))
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    subprocess.run([sys.executable, str(script), str(path)], check=True, timeout=120)
    return path


def test_a_script_class_loads_in_another_process(folder: Path) -> None:
    meta = MLModel.load(folder)
    assert meta.flavors["python_object"]["model_class"] == "__main__.Threshold"
    loader = meta.flavors["python_function"]["loader_module"]
    assert loader == "trainlab.models.flavors.python_object"
    reqs = (folder / "requirements.txt").read_text().split()
    assert any(r.startswith("trainlab==") for r in reqs)
    X = pd.DataFrame({"a": [1.0, 3.0, 2.0], "b": [0.0, 0.0, 1.0]})
    model = trainlab.load_model(folder)
    np.testing.assert_array_equal(model.predict(X), [0, 1, 0])
    with pytest.raises(SchemaMismatch, match="'b'"):
        model.predict(X[["a"]])
    by_mlflow = mlflow.pyfunc.load_model(str(folder))
    np.testing.assert_array_equal(np.asarray(by_mlflow.predict(X)), [0, 1, 0])


def test_an_object_that_does_not_pickle_is_refused_clearly(tmp_path: Path) -> None:
    class Holding:
        def __init__(self) -> None:
            self.handle = open(tmp_path / "f", "w")  # noqa: SIM115 - the point of the test

        def predict(self, X: object) -> object:
            return X

    model = Holding()
    try:
        with pytest.raises(InvalidParameterValue, match="Cannot pickle"):
            save_model(model, tmp_path / "m")
        assert not (tmp_path / "m").exists()  # nothing half-written is left
    finally:
        model.handle.close()
