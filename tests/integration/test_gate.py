"""``trainlab promote`` and ``trainlab rollback`` as real commands: models trained and
registered by ``trainlab train`` on one CSV; the gate passes a clearly better candidate and
refuses a worse one, a marginal one, one that breaks a guard, and one on changed data or with
another signature, each with the right exit code and nothing moved."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.integration.test_cli import TRAINLAB, one_line
from tests.unit.client.test_fluent import close_store

from trainlab.client.resolve import registry_for, store_for

REPO = Path(__file__).resolve().parents[2]
POLICY = {
    "primary": {"metric": "f1_macro", "min_improvement": 0.0},
    "confidence": 0.95,
    "bootstrap_samples": 1000,
    "thresholds": {"f1_macro": ">= 0.80", "roc_auc": ">= 0.90"},
    "guards": {"roc_auc": {"max_drop": 0.01}},
}
# name -> (model.class, model.params): trained once for the module, registered as "cancer"
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "weak": ("sklearn.linear_model.LogisticRegression", {"C": 0.0001, "max_iter": 5000}),
    "marginal": ("sklearn.linear_model.LogisticRegression", {"C": 0.0005, "max_iter": 5000}),
    "worse": ("sklearn.neighbors.KNeighborsClassifier", {"n_neighbors": 1}),
    "miscalibrated": ("tests.support.training_fns.MiscalibratedForest", {}),
    "strong": ("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 100, "max_depth": 6}),
}


@dataclass
class Registry:
    cwd: Path
    uri: str
    versions: dict[str, int]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
        env |= {"COLUMNS": "250", "TRAINLAB_SPOOL_DIR": str(self.cwd / "spool")}
        env["PYTHONPATH"] = str(REPO)  # the miscalibrated model's class
        return subprocess.run(
            [TRAINLAB, *args, "--tracking-uri", self.uri],
            capture_output=True, text=True, timeout=300, cwd=self.cwd, env=env,
        )  # fmt: skip

    def promote(self, version: int, alias: str = "champion", policy: str = "policy.yaml",
                model: str = "cancer") -> subprocess.CompletedProcess[str]:  # fmt: skip
        return self.run("promote", model, "--version", str(version), "--alias", alias,
                        "--policy", policy)  # fmt: skip

    def holder(self, alias: str, model: str = "cancer") -> int | None:
        store = store_for(self.uri)
        try:
            aliases = registry_for(store).get_registered_model(model).aliases
            return aliases.get(alias)
        finally:
            close_store(store)

    def version_tags(self, version: int, model: str = "cancer") -> dict[str, str]:
        store = store_for(self.uri)
        try:
            return registry_for(store).get_model_version(model, version).tags
        finally:
            close_store(store)


def pipeline(source: str, cls: str, params: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "experiment": "cancer",
        "data": {"source": source, "target": "target",
                 "split": {"test": 0.3, "valid": 0.2, "seed": 3, "stratify": True}, **data},
        "model": {"flavor": "sklearn", "class": cls, "params": params},
        "metrics": ["accuracy", "f1_macro", "roc_auc"],
        "register": {"name": "cancer"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    from sklearn.datasets import load_breast_cancer

    cwd = tmp_path_factory.mktemp("gate")
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(cwd / "cancer.csv", index=False)
    frame.to_csv(cwd / "drifting.csv", index=False)
    (cwd / "policy.yaml").write_text(yaml.safe_dump(POLICY))
    reg = Registry(cwd, f"sqlite:///{cwd}/t.db", {})
    for n, (name, (cls, params)) in enumerate(MODELS.items(), start=1):
        (cwd / f"{name}.yaml").write_text(yaml.safe_dump(pipeline("cancer.csv", cls, params)))
        proc = reg.run("train", f"{name}.yaml", "--no-progress")
        assert proc.returncode == 0, proc.stderr
        reg.versions[name] = n
    return reg


def test_the_gate_in_order(registry: Registry) -> None:
    v = registry.versions
    # No champion yet: the thresholds alone decide.
    proc = registry.promote(v["weak"])
    assert proc.returncode == 0, proc.stderr
    assert "PASS: champion -> v1" in one_line(proc.stdout)
    assert registry.holder("champion") == v["weak"]
    proc = registry.promote(v["miscalibrated"], alias="fresh")  # an alias no version holds
    assert proc.returncode == 1, proc.stdout
    out = one_line(proc.stdout)
    assert "threshold:roc_auc │ FAIL" in out and "FAIL: fresh stays unset" in out

    for name, needle in (
        ("worse", "primary:f1_macro │ FAIL"),
        ("marginal", "primary:f1_macro │ FAIL"),
        ("miscalibrated", "guard:roc_auc │ FAIL"),
    ):
        proc = registry.promote(v[name])
        out = one_line(proc.stdout)
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert needle in out and "FAIL: champion stays on version 1" in out, (name, out)
        assert registry.holder("champion") == v["weak"], name
        assert registry.version_tags(v[name])["trainlab.gate.verdict"] == "FAIL"
    # The marginal candidate is better on the point estimate, but its interval includes 0.
    assert "improvement 0.007, 95% CI [" in one_line(registry.promote(v["marginal"]).stdout)
    # The miscalibrated forest is more accurate: the guard alone stops it.
    out = one_line(registry.promote(v["miscalibrated"]).stdout)
    assert "primary:f1_macro │ pass" in out and "threshold:roc_auc │ FAIL" in out

    proc = registry.promote(v["strong"])
    assert proc.returncode == 0, proc.stdout
    assert "PASS: champion -> v5; v1 keeps alias 'previous'" in one_line(proc.stdout)
    assert (registry.holder("champion"), registry.holder("previous")) == (v["strong"], v["weak"])
    evidence_line = one_line(proc.stdout).split("evidence: trainlab runs show ")[1]
    run_id = evidence_line.split()[0]
    assert evidence_line.split()[1:3] == ["--tracking-uri", registry.uri]
    evidence = _evidence(registry, run_id)
    assert evidence["passed"] is True and evidence["champion"] == v["weak"]
    assert evidence["candidate_metrics"]["f1_macro"] > evidence["champion_metrics"]["f1_macro"]
    assert evidence["interval"]["low"] > 0
    assert evidence["data"]["rows"] == 171
    assert evidence["data"]["champion_rows_checked"] is True  # the same split: nothing left out
    assert evidence["data"]["rows_left_out_champion_trained_on"] == 0
    assert evidence["policy"]["guards"] == {"roc_auc": {"max_drop": 0.01}}
    listed = registry.run("artifacts", "list", run_id, "gate", "--json")
    assert {Path(f["path"]).name for f in json.loads(listed.stdout)} == {
        "decision.json", "confusion_matrix.png", "roc.png"
    }  # fmt: skip
    history = registry.run("models", "alias", "history", "cancer", "champion", "--json")
    assert "promotion gate PASS" in history.stdout

    proc = registry.run("rollback", "cancer", "--alias", "champion", "--reason", "regressed")
    assert proc.returncode == 0, proc.stderr
    assert registry.holder("champion") == v["weak"]
    moves = registry_for(store_for(registry.uri)).get_alias_history("cancer", "champion")
    assert {e.user for e in moves[-2:]} == {getpass.getuser()}  # who: the login name


def _evidence(registry: Registry, run_id: str) -> dict[str, Any]:
    dst = registry.cwd / f"evidence-{run_id}"
    proc = registry.run("artifacts", "download", run_id, "gate/decision.json", "--dst", str(dst))
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads((dst / "gate" / "decision.json").read_text())
    return data


def test_changed_data_and_other_signatures_are_refused(registry: Registry) -> None:
    import pandas as pd

    cwd = registry.cwd
    for name, cfg in (
        ("drift", pipeline("drifting.csv", *MODELS["strong"])),
        ("narrow", pipeline("cancer.csv", *MODELS["strong"],
                            features=["mean radius", "mean texture"])),
    ):  # fmt: skip
        cfg["register"] = {"name": "cancer-refusals"}
        (cwd / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
        assert registry.run("train", f"{name}.yaml", "--no-progress").returncode == 0
    baseline = pipeline("cancer.csv", *MODELS["weak"])
    baseline["register"] = {"name": "cancer-refusals"}
    (cwd / "baseline.yaml").write_text(yaml.safe_dump(baseline))
    assert registry.run("train", "baseline.yaml", "--no-progress").returncode == 0
    assert registry.promote(3, model="cancer-refusals").returncode == 0  # the champion

    frame = pd.read_csv(cwd / "drifting.csv")
    frame["mean area"] += 1.0  # every row: the held-out rows change too
    frame.to_csv(cwd / "drifting.csv", index=False)
    proc = registry.promote(1, model="cancer-refusals")
    assert proc.returncode == 2
    assert "The held-out data changed" in one_line(proc.stderr)
    proc = registry.promote(2, model="cancer-refusals")
    assert proc.returncode == 2
    assert "input signatures differ" in one_line(proc.stderr)
    typo = registry.promote(9, model="cancer-refusals")  # 1 would read as "the gate failed"
    assert typo.returncode == 2 and "version=9) not found" in one_line(typo.stderr), typo.stderr
    assert (
        "the candidate lacks 28 columns the champion takes: mean perimeter (double), mean area "
        "(double)," in one_line(proc.stderr)
    )
    assert "and 22 more. The candidate takes 2 columns: mean radius (double), mean " in one_line(
        proc.stderr
    )
    assert registry.holder("champion", "cancer-refusals") == 3
    assert "trainlab.gate.verdict" not in registry.version_tags(1, "cancer-refusals")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"primary": {"metric": "f1"}, "thresholds": {"auc": ">= 0.9"}}, "thresholds.auc"),
        ({"primary": {"metric": "f1_macro"}, "confidence": 1.5}, "confidence"),
        ({"primary": {"metric": "f1_macro"}, "gaurds": {}}, "gaurds"),
        ({"primary": {"metric": "rmse"}}, "primary.metric: 'rmse' is not a classification"),
    ],
)
def test_bad_policies_are_refused(registry: Registry, policy: dict[str, Any], message: str) -> None:
    (registry.cwd / "bad.yaml").write_text(yaml.safe_dump(policy))
    proc = registry.promote(registry.versions["strong"], alias="other", policy="bad.yaml")
    assert proc.returncode == 2, proc.stdout
    assert message in one_line(proc.stderr)
    assert registry.holder("other") is None


def test_a_model_class_of_the_users_own_module_is_scored(registry: Registry) -> None:
    """promote imports the model's module from the current folder, as train does; elsewhere
    it says what to do (exit 2), with no traceback."""
    here = registry.cwd / "own-module"
    here.mkdir()
    (here / "localmodels.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\n\n"
        "class LocalLR(LogisticRegression):\n    pass\n"
    )
    spec = pipeline(str(registry.cwd / "cancer.csv"), "localmodels.LocalLR", {"max_iter": 5000})
    spec["register"] = {"name": "local"}
    (here / "local.yaml").write_text(yaml.safe_dump(spec))
    local = Registry(here, registry.uri, {})
    proc = local.run("train", "local.yaml", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    elsewhere = registry.promote(1, model="local", policy=str(registry.cwd / "policy.yaml"))
    assert elsewhere.returncode == 2, elsewhere.stderr
    assert "No module named 'localmodels'" in elsewhere.stderr
    assert "run promote from the folder" in one_line(elsewhere.stderr)
    assert "Traceback" not in elsewhere.stderr
    proc = local.promote(1, model="local", policy=str(registry.cwd / "policy.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert local.holder("champion", model="local") == 1


def test_rows_the_champion_was_trained_on_are_left_out(registry: Registry) -> None:
    """A champion trained on another split has seen most of the candidate's held-out rows:
    both are scored only on rows neither was trained on, and the evidence says how many. When
    the champion's rows cannot be known (its data changed), the gate says so."""
    import shutil

    import pandas as pd

    shutil.copy(registry.cwd / "cancer.csv", registry.cwd / "cancer-copy.csv")
    other_split = {"test": 0.3, "valid": 0.2, "seed": 99, "stratify": True}
    for name, source, split in (
        ("leaky-champion", "cancer-copy.csv", other_split),
        ("leaky-candidate", "cancer.csv", None),
    ):
        cfg = pipeline(source, *MODELS["strong"], **({"split": split} if split else {}))
        cfg["register"] = {"name": "cancer-leak"}
        (registry.cwd / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
        assert registry.run("train", f"{name}.yaml", "--no-progress").returncode == 0
    for alias in ("leak", "leak-changed"):
        assert registry.promote(1, alias, model="cancer-leak").returncode == 0
    proc = registry.promote(2, "leak", model="cancer-leak")
    out = one_line(proc.stdout)
    assert proc.returncode in (0, 1), proc.stderr
    left_out = int(out.split("; ")[1].split(" left out: the champion was trained on them")[0])
    run_id = out.split("evidence: trainlab runs show ")[1].split()[0]
    data = _evidence(registry, run_id)["data"]
    assert data["rows_left_out_champion_trained_on"] == left_out
    assert data["champion_rows_checked"] is True
    assert data["rows"] + left_out == 171 and 60 < left_out < 171
    # the rows kept are exactly the held-out rows outside the champion's train and valid splits
    from trainlab.training.data import prepare
    from trainlab.training.spec import DataSpec

    def split_rows(seed: int, names: tuple[str, ...]) -> set[tuple[float, ...]]:
        spec = DataSpec.model_validate(
            {"source": str(registry.cwd / "cancer.csv"), "target": "target",
             "split": {**other_split, "seed": seed}}
        )  # fmt: skip
        prepared = prepare(spec)
        return {
            tuple(row)
            for n in names
            for row in prepared.splits[n].X.assign(t=prepared.splits[n].y).itertuples(index=False)
        }

    assert len(split_rows(3, ("test",)) - split_rows(99, ("train", "valid"))) == data["rows"]

    frame = pd.read_csv(registry.cwd / "cancer-copy.csv")
    frame["mean area"] += 1.0  # the champion's data is not what it trained on any more
    frame.to_csv(registry.cwd / "cancer-copy.csv", index=False)
    proc = registry.promote(2, "leak-changed", model="cancer-leak")
    out = one_line(proc.stdout)
    assert proc.returncode in (0, 1), proc.stderr
    assert "warning: the champion's data changed since it trained" in out
    assert "the champion may have been trained on some of these rows" in out
    run_id = out.split("evidence: trainlab runs show ")[1].split()[0]
    data = _evidence(registry, run_id)["data"]
    assert data["champion_rows_checked"] is False and data["rows"] == 171


def test_an_alias_goes_to_a_version_that_failed_the_gate_only_with_force(
    registry: Registry,
) -> None:
    failed, good = registry.versions["worse"], registry.versions["strong"]
    store = store_for(registry.uri)
    try:
        registry_for(store).set_model_version_tag("cancer", failed, "trainlab.gate.verdict", "FAIL")
    finally:
        close_store(store)
    proc = registry.run("models", "alias", "set", "cancer", "canary", str(failed))
    assert proc.returncode == 2
    message = one_line(proc.stderr)
    assert f"Version {failed} of cancer failed the promotion gate" in message
    # the evidence command, copied, reads the store this one did
    assert f" --tracking-uri {registry.uri}`)" in message
    assert registry.holder("canary") is None
    forced = ("models", "alias", "set", "cancer", "canary", str(failed), "--force")
    assert registry.run(*forced, "--reason", "debugging").returncode == 0
    assert registry.run("models", "alias", "set", "cancer", "canary", str(good)).returncode == 0
    for rollback in (("rollback", "cancer", "--alias", "canary"),
                     ("models", "alias", "rollback", "cancer", "canary")):  # fmt: skip
        proc = registry.run(*rollback)
        assert proc.returncode == 2, proc.stdout
        assert one_line(proc.stderr).startswith(
            f"error: Rolling back moves cancer@canary v{good} -> v{failed}, undoing its last "
            f"move (v{failed} -> v{good} by "
        )
        assert "--force" in one_line(proc.stderr) and registry.holder("canary") == good
    assert registry.run("rollback", "cancer", "--alias", "canary", "--force").returncode == 0
    assert registry.holder("canary") == failed


def test_a_pass_for_one_alias_does_not_clear_a_failure_for_another(registry: Registry) -> None:
    """Verdicts are kept per alias: a version that failed for ``strict-slot`` and then passed a
    laxer gate for ``lax-slot`` still gets ``strict-slot`` only with --force."""
    version = registry.versions["miscalibrated"]  # its roc_auc breaks the 0.90 threshold
    (registry.cwd / "lax.yaml").write_text(yaml.safe_dump({"primary": {"metric": "f1_macro"}}))
    assert registry.promote(version, alias="strict-slot").returncode == 1
    assert registry.promote(version, alias="lax-slot", policy="lax.yaml").returncode == 0
    tags = registry.version_tags(version)
    assert tags["trainlab.gate.verdict"] == "PASS"  # the last verdict
    assert tags["trainlab.gate.verdict.strict-slot"] == "FAIL"
    assert tags["trainlab.gate.verdict.lax-slot"] == "PASS"
    proc = registry.run("models", "alias", "set", "cancer", "strict-slot", str(version))
    assert proc.returncode == 2 and "failed the promotion gate" in one_line(proc.stderr)
    assert tags["trainlab.gate.run_id.strict-slot"] in one_line(proc.stderr)  # its evidence
    assert registry.holder("strict-slot") is None


@pytest.mark.parametrize("alias", ["latest", "v3", "bad alias", "previous"])
def test_an_alias_the_gate_cannot_move_is_refused_before_anything_is_evaluated(
    registry: Registry, alias: str
) -> None:
    version = registry.versions["strong"]
    before = registry.version_tags(version)
    store = store_for(registry.uri)
    try:
        runs_before = len(store.search_runs([e.experiment_id for e in store.search_experiments()]))
    finally:
        close_store(store)
    proc = registry.promote(version, alias=alias)
    assert proc.returncode == 2, proc.stdout
    assert f"{alias!r}" in one_line(proc.stderr)
    assert registry.version_tags(version) == before  # no verdict recorded
    store = store_for(registry.uri)
    try:
        runs_after = len(store.search_runs([e.experiment_id for e in store.search_experiments()]))
    finally:
        close_store(store)
    assert runs_after == runs_before  # no evaluation run


def _log_as_tensor_model(registry: Registry, version: int, columns: list[str]) -> int:
    """Log version ``version``'s network again in its run, with a float32 array as its input
    example (a signature of one tensor, as trainlab logged pipeline networks before they named
    their columns), registered as a new version of cancer-mixed; its number."""
    import numpy as np
    import pandas as pd
    from tests.unit.client.test_fluent import reset_sdk

    import trainlab

    uri, name = registry.uri, "cancer-mixed"
    store = store_for(uri)
    try:
        run_id = registry_for(store).get_model_version(name, version).run_id
    finally:
        close_store(store)
    net = trainlab.load_model(f"models:/{name}/{version}", tracking_uri=uri).get_raw_model()
    example = pd.read_csv(registry.cwd / "cancer.csv")[columns].head(5).to_numpy(np.float32)
    try:
        with trainlab.start_run(run_id=run_id, tracking_uri=uri):
            info = trainlab.log_model(
                net, "tensor-model", input_example=example, registered_model_name=name
            )
    finally:
        reset_sdk()
    assert info.registered_model_version is not None
    return int(info.registered_model_version)


def test_networks_are_compared_with_models_that_take_columns(registry: Registry) -> None:
    """A pytorch pipeline's network names its feature columns in its signature, as every
    pipeline model does: the gate feeds it and a forest the same held-out frame by name,
    whatever order each trained on. A network whose signature is one float32 tensor gets the
    columns by position: the gate compares it with a model that takes columns when its run
    records that it was trained on the held-out columns in their order (either one the
    candidate), says so in the evidence, and refuses one trained on another order with what
    differs and what to do."""
    from sklearn.datasets import load_breast_cancer

    cwd = registry.cwd
    columns = list(load_breast_cancer(as_frame=True).data.columns)
    mlp = ("trainlab.training.nets.TabularMLP", {"hidden": [16]})
    for name, (cls, params), data in (
        ("mixed-forest", MODELS["strong"], {}),
        ("mixed-mlp", mlp, {}),
        ("mixed-reversed", mlp, {"features": columns[::-1]}),
    ):
        cfg = pipeline("cancer.csv", cls, params, **data)
        cfg["register"] = {"name": "cancer-mixed"}
        if cls == mlp[0]:
            cfg["model"]["flavor"] = "pytorch"
            cfg["train"] = {"epochs": 30, "batch_size": 64, "lr": 0.01, "seed": 3}
        (cwd / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
        proc = registry.run("train", f"{name}.yaml", "--no-progress")
        assert proc.returncode == 0, proc.stderr
    forest, net, reversed_net = 1, 2, 3
    tensor_net = _log_as_tensor_model(registry, net, columns)
    reversed_tensor_net = _log_as_tensor_model(registry, reversed_net, columns[::-1])
    for alias, version in (
        ("champion", forest),
        ("reversed", reversed_net),
        ("tensor", tensor_net),
        ("reversed-tensor", reversed_tensor_net),
    ):
        proc = registry.run("models", "alias", "set", "cancer-mixed", alias, str(version))
        assert proc.returncode == 0, proc.stderr

    def inputs_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
        out = one_line(proc.stdout)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        run_id = out.split("evidence: trainlab runs show ")[1].split()[0]
        return dict(_evidence(registry, run_id)["inputs"])

    # the network the candidate, the forest the champion: the user's case, by name
    proc = registry.promote(net, model="cancer-mixed")
    assert "on 171 held-out rows" in one_line(proc.stdout)
    inputs = inputs_of(proc)
    assert inputs["candidate"]["takes"] == inputs["champion"]["takes"] == "columns"
    assert inputs["candidate"]["signature"].startswith("30 columns: mean radius (double),")
    assert registry.version_tags(net, "cancer-mixed")["trainlab.gate.verdict"] in ("PASS", "FAIL")
    # a network trained on the columns in another order gets them by name too
    inputs = inputs_of(registry.promote(forest, "reversed", model="cancer-mixed"))
    assert inputs["champion"]["takes"] == "columns"

    # a tensor network the candidate, trained on the held-out columns in their order
    inputs = inputs_of(registry.promote(tensor_net, model="cancer-mixed"))
    assert inputs["candidate"]["takes"] == "tensor"
    assert inputs["candidate"]["signature"] == "a float32 tensor of shape (-1, 30)"
    assert inputs["candidate"]["column_order"]["checked"] is True
    assert inputs["candidate"]["column_order"]["columns"] == columns
    assert inputs["champion"]["takes"] == "columns"
    # the other way round: the forest the candidate, the tensor network the champion
    inputs = inputs_of(registry.promote(forest, "tensor", model="cancer-mixed"))
    assert inputs["champion"]["takes"] == "tensor" and inputs["candidate"]["takes"] == "columns"
    assert inputs["champion"]["column_order"]["checked"] is True

    # a tensor network trained on the columns in another order would be fed them wrongly
    proc = registry.promote(forest, "reversed-tensor", model="cancer-mixed")
    assert proc.returncode == 2, proc.stdout
    message = one_line(proc.stderr)
    assert "the candidate takes 30 columns: mean radius (double), mean texture (double)," in message
    assert "the champion takes a float32 tensor of shape (-1, 30)" in message
    assert (
        f"Here version {reversed_tensor_net} (the champion) was trained on the held-out data's "
        "30 columns in another order (column 1 was worst fractal dimension, the held-out data "
        "has mean radius;"
    ) in message
    assert "{'type'" not in message
    assert registry.holder("reversed-tensor", "cancer-mixed") == reversed_tensor_net


def test_the_gate_moves_the_alias_only_from_the_version_it_judged(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gates at once, or a move by hand while one runs: the candidate passed against the
    old holder, not the new one, so nothing moves."""
    import trainlab
    from trainlab.evaluation import gate

    v = registry.versions
    monkeypatch.chdir(registry.cwd)  # the data's recorded path is relative to it
    store = store_for(registry.uri)
    models = registry_for(store)
    models.set_registered_model_alias("cancer", "race", v["weak"])
    decide = gate.decide

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        models.set_registered_model_alias("cancer", "race", v["worse"], "someone")
        return decide(*args, **kwargs)

    monkeypatch.setattr(gate, "decide", meanwhile)
    try:
        with pytest.raises(trainlab.exceptions.InvalidState, match="run the gate again"):
            trainlab.promote(
                "cancer", v["strong"], "race", "policy.yaml",
                tracking_uri=registry.uri,
            )  # fmt: skip
        assert registry.holder("race") == v["worse"]
        events = models.get_alias_history("cancer", "race")
        assert [(e.from_version, e.to_version) for e in events] == [
            (None, v["weak"]),
            (v["weak"], v["worse"]),
        ]
    finally:
        close_store(store)
