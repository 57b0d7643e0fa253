"""What `pip install trainlab` gives without extras (tests/support/core_only.py makes every
other installed package unimportable): training, logging and loading a scikit-learn model and
the CLI work; the server says which extra it needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CORE_ONLY = str(Path(__file__).parents[1] / "support" / "core_only.py")

TRAIN_AND_LOAD = """
import sys
import trainlab

uri = sys.argv[1]
result = trainlab.train(
    {"experiment": "core", "data": {"source": "sklearn:iris", "target": "target"},
     "model": {"flavor": "sklearn", "class": "sklearn.linear_model.LogisticRegression",
               "params": {"max_iter": 200}},
     "metrics": ["accuracy"]},
    tracking_uri=uri, progress=False,
)
model = trainlab.load_model(result.model_uri, tracking_uri=uri)
from sklearn.datasets import load_iris

print("predicted", len(model.predict(load_iris(as_frame=True).data.head(3))))
"""

CLI = """
import sys
from trainlab.cli.main import app

app(sys.argv[1:])
"""


def _run(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.py"
    path.write_text(script)
    return subprocess.run(
        [sys.executable, CORE_ONLY, str(path), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_core_install_trains_logs_and_loads_a_model(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    proc = _run(tmp_path, TRAIN_AND_LOAD, uri)
    assert proc.returncode == 0, proc.stderr
    assert "predicted 3" in proc.stdout
    listed = _run(tmp_path, CLI, "runs", "list", "--json", "--tracking-uri", uri)
    assert listed.returncode == 0, listed.stderr
    assert [r["info"]["status"] for r in json.loads(listed.stdout)] == ["FINISHED"]


def test_a_core_install_says_the_server_needs_its_extra(tmp_path: Path) -> None:
    proc = _run(tmp_path, CLI, "server", "--port", "1")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "pip install 'trainlab[server]'" in proc.stderr
