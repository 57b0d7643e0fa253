"""The promotion gate: ``trainlab promote MODEL --version V --alias champion --policy P``.

The candidate and the version holding the alias are scored on the same sealed held-out data:
the test split recorded with the candidate's run, loaded again and identified by fingerprint.
The policy decides (see :mod:`trainlab.evaluation.decision`). Pass: the alias moves to the
candidate and the previous holder keeps alias ``previous``. Either way the evidence (both
models' metrics, the confidence interval, the data fingerprint, the policy, the verdict) is
recorded in an evaluation run with plots, and on the candidate version as tags.

Held-out rows the champion was trained on (its run recorded another split) are left out, so
that neither model is scored on rows it learnt.

A model that takes a tensor gets the held-out columns by position, so it is compared with one
that takes named columns only when that order is checked against the tensor model's run (see
:mod:`trainlab.evaluation.inputs`); the evidence says what each model takes and how it was fed.

Refusals (nothing evaluated, nothing moved): the data no longer has the recorded fingerprint,
the models' inputs differ (or a tensor's column order cannot be checked), the candidate has no
trainlab run to take data from, the champion was trained on every held-out row."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainlab._user import login_name
from trainlab.evaluation.decision import Decision, Scored, decide
from trainlab.evaluation.inputs import Party, match_inputs, trained_columns
from trainlab.evaluation.policy import Policy
from trainlab.evaluation.verdict import RUN_TAG, VERDICT_TAG, run_tag, verdict_tag
from trainlab.exceptions import InvalidParameterValue, InvalidState, ResourceNotFound
from trainlab.store.sql.registry_rules import validate_alias

if TYPE_CHECKING:
    import pandas as pd

    from trainlab.models.pyfunc import LoadedModel
    from trainlab.store._base import BaseRegistryStore, BaseTrackingStore

PREVIOUS_ALIAS = "previous"
GATE_EXPERIMENT_TAG = "trainlab.evaluation"


@dataclass
class GateResult:
    decision: Decision
    model: str
    version: int
    alias: str
    champion: int | None  # the version that held the alias before
    evaluation_run_id: str
    moved: bool
    data_digest: str
    rows: int  # the held-out rows both models were scored on
    left_out: int = 0  # held-out rows left out: the champion was trained on them
    unchecked: str | None = None  # why the champion's training rows could not be checked
    # what each model takes and how it was fed the held-out rows (decision.json's "inputs")
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class HeldOut:
    X: pd.DataFrame
    y: Any
    task: str
    digest: str
    experiment_id: str  # the candidate run's: the evaluation run goes there too


def held_out(store: BaseTrackingStore, run_id: str, tracking_uri: str) -> HeldOut:
    """The candidate run's test split, loaded again; refused if its fingerprint changed."""
    from trainlab.training.data import prepare
    from trainlab.training.runner import recorded_spec
    from trainlab.training.trainer import in_training_folder

    run = store.get_run(run_id)
    spec = recorded_spec(run, tracking_uri)
    recorded = run.data.tags.get("trainlab.data.test.digest")
    if recorded is None:
        raise InvalidState(f"Run {run_id} recorded no test split: the gate has no held-out data.")
    with in_training_folder(run, spec.data.source):
        data = prepare(spec.data)
    test = data.splits.get("test")
    if test is None or test.fingerprint.digest != recorded:
        now = test.fingerprint.digest[:12] if test is not None else "no test split"
        raise InvalidState(
            f"The held-out data changed: run {run_id} recorded test split {recorded[:12]}, "
            f"{spec.data.source!r} now gives {now}. The gate compares models only on the data "
            "the candidate recorded."
        )
    task = run.data.tags.get("trainlab.task", data.task)
    return HeldOut(test.X, test.y, task, recorded, run.info.experiment_id)


def _row_hashes(X: pd.DataFrame, y: Any) -> np.ndarray:
    """One hash per row of features and target (the same row hashes the same in any frame)."""
    import pandas as pd

    rows = X.reset_index(drop=True).assign(__target__=np.asarray(y))
    return np.asarray(pd.util.hash_pandas_object(rows, index=False))


@dataclass
class ChampionRows:
    """The rows the champion was trained (and validated) on, as row hashes: None when its
    splits are the candidate's (nothing to leave out) or when they cannot be known, ``note``
    saying which and why."""

    hashes: np.ndarray | None
    note: str
    checked: bool


def champion_training_rows(
    store: BaseTrackingStore,
    run_id: str | None,
    test_digest: str,
    X: pd.DataFrame,
    tracking_uri: str,
) -> ChampionRows:
    """A champion scored on rows it was trained on would look better than it is: when its run
    recorded another split than the candidate's held-out one, its training rows, loaded again
    and checked against the fingerprints it recorded."""
    from trainlab.training.data import prepare
    from trainlab.training.runner import data_differences, recorded_spec
    from trainlab.training.trainer import in_training_folder

    if not run_id:
        return ChampionRows(None, "the champion has no run: its training rows are unknown", False)
    run = store.get_run(run_id)
    recorded = run.data.tags.get("trainlab.data.test.digest")
    if recorded is None:
        return ChampionRows(
            None, "the champion was not trained by trainlab: its training rows are unknown", False
        )
    if recorded == test_digest:
        return ChampionRows(None, "the champion was trained on the same split", True)
    try:
        spec = recorded_spec(run, tracking_uri)
        with in_training_folder(run, spec.data.source):
            data = prepare(spec.data)
    except (InvalidState, InvalidParameterValue, ResourceNotFound) as exc:
        return ChampionRows(None, f"the champion's data does not load: {exc}", False)
    if changed := data_differences(run, data):
        return ChampionRows(
            None, f"the champion's data changed since it trained ({changed[0]})", False
        )
    parts = [
        _row_hashes(split.X[list(X.columns)], split.y)
        for name, split in data.splits.items()
        if name != "test" and set(X.columns) <= set(split.X.columns)
    ]
    if not parts:
        return ChampionRows(None, "the champion's data has other columns", False)
    return ChampionRows(np.concatenate(parts), "the champion was trained on another split", True)


def unseen_by_champion(
    data: HeldOut, seen: np.ndarray | None, champion: int | None
) -> tuple[HeldOut, int]:
    """The held-out rows the champion was not trained on, and how many were left out."""
    if seen is None:
        return data, 0
    mask = np.isin(_row_hashes(data.X, data.y), seen)
    left_out = int(mask.sum())
    if left_out == len(mask):
        raise InvalidState(
            f"All {left_out} held-out rows of the candidate were in the training data of the "
            f"champion (version {champion}): no row is unseen by both models. Train the "
            "candidate with the champion's split (data.split) to compare them."
        )
    if not left_out:
        return data, 0
    keep = ~mask
    y = data.y[keep] if hasattr(data.y, "iloc") else np.asarray(data.y)[keep]
    return HeldOut(data.X[keep], y, data.task, data.digest, data.experiment_id), left_out


def score(model: LoadedModel, X: pd.DataFrame, task: str) -> Scored:
    """Predictions (and class probabilities, where the model gives them) on ``X``."""
    from trainlab.models.signature import enforce

    sig = model.signature
    # A tensor gets the columns by position, in X's order (see trainlab.evaluation.inputs).
    data: Any = X.to_numpy(np.float32) if sig is not None and sig.inputs.is_tensor else X
    # The framework's own methods get the frame as the signature orders and types it.
    checked = enforce(sig.inputs, data) if sig is not None else data
    if model.metadata.flavors.get("python_function", {}).get("predict_fn", "predict") != "predict":
        # an MLflow model whose pyfunc predicts otherwise (predict_proba): labels from predict
        out = np.asarray(model.get_raw_model().predict(checked))
    else:
        out = np.asarray(model.predict(data))
    if task != "classification":
        return Scored(out.reshape(-1), None)
    if out.ndim == 2:  # scores per class (a network's logits): labels by argmax
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        return Scored(out.argmax(axis=1), shifted / shifted.sum(axis=1, keepdims=True))
    raw = model.get_raw_model()
    proba = raw.predict_proba(checked) if hasattr(raw, "predict_proba") else None
    classes = getattr(raw, "classes_", None)  # what the probabilities' columns stand for
    return Scored(out, None if proba is None else np.asarray(proba), classes)


def promote(
    name: str,
    version: int,
    alias: str = "champion",
    policy: Policy | str | Path = "policy.yaml",
    *,
    tracking_uri: str | None = None,
    user: str = "",
) -> GateResult:
    """Run the gate for version ``version`` of model ``name`` (``policy``: a Policy or its
    YAML file); move ``alias`` only when the policy passes. ``user`` (default: the login
    name) is recorded in the alias history."""
    import trainlab
    from trainlab.client.fluent import _client
    from trainlab.client.resolve import registry_for
    from trainlab.evaluation.policy import load_policy

    validate_alias(alias)  # before anything is evaluated or recorded
    if alias == PREVIOUS_ALIAS:
        raise InvalidParameterValue(
            f"Alias {alias!r} is the gate's own: it keeps the holder before the last promotion."
        )
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    client = _client(tracking_uri)
    registry = registry_for(client.store)
    candidate_mv = registry.get_model_version(name, version)
    if not candidate_mv.run_id:
        raise InvalidState(f"Version {version} of {name!r} has no run: no held-out data.")
    champion = _holder(registry, name, alias)
    if champion == version:
        raise InvalidState(f"Version {version} of {name!r} already holds alias {alias!r}.")
    data = held_out(client.store, candidate_mv.run_id, client.uri)
    policy.check_task(data.task, len(np.unique(np.asarray(data.y))))
    candidate = trainlab.load_model(f"models:/{name}/{version}", tracking_uri=client.uri)
    champion_model, left_out, rows, against = None, 0, None, None
    if champion is not None:
        champion_model = trainlab.load_model(f"models:/{name}/{champion}", tracking_uri=client.uri)
        champion_run = registry.get_model_version(name, champion).run_id
        against = Party("champion", champion, champion_run, champion_model)
    inputs = match_inputs(
        Party("candidate", version, candidate_mv.run_id, candidate),
        against,
        data.X,
        lambda run_id: trained_columns(client.store, run_id, client.uri),
    )
    if against is not None:
        rows = champion_training_rows(client.store, against.run_id, data.digest, data.X, client.uri)
        data, left_out = unseen_by_champion(data, rows.hashes, champion)
    scores = (
        score(candidate, data.X, data.task),
        None if champion_model is None else score(champion_model, data.X, data.task),
    )
    decision = decide(policy, np.asarray(data.y), scores[0], scores[1], data.task)
    checked: dict[str, Any] = {"rows_left_out_champion_trained_on": left_out}
    if rows is not None:
        checked |= {"champion_rows_checked": rows.checked, "champion_rows": rows.note}
    run_id = _record(name, version, alias, champion, decision, scores, data, client.uri,
                     candidate_mv, checked, inputs)  # fmt: skip
    verdict = "PASS" if decision.passed else "FAIL"
    for key in (VERDICT_TAG, verdict_tag(alias)):  # the last verdict, and that for this alias
        registry.set_model_version_tag(name, version, key, verdict)
    for key in (RUN_TAG, run_tag(alias)):
        registry.set_model_version_tag(name, version, key, run_id)
    if decision.passed:
        user = user or login_name()
        reason = f"promotion gate {verdict} (evaluation run {run_id})"
        # Only if the alias still holds the version evaluated: two gates at once, or a move
        # by hand meanwhile, must not let a version in unjudged against the new holder.
        try:
            registry.set_registered_model_alias(name, alias, version, user, reason, champion)
        except InvalidState as moved:
            raise InvalidState(
                f"{moved.message} Version {version} passed against "
                f"{'no champion' if champion is None else f'version {champion}'} (evaluation "
                f"run {run_id}); run the gate again to judge it against the new holder."
            ) from None
        if champion is not None:
            registry.set_registered_model_alias(name, PREVIOUS_ALIAS, champion, user, reason)
    unchecked = None if rows is None or rows.checked else rows.note
    return GateResult(
        decision, name, version, alias, champion, run_id, decision.passed, data.digest,
        len(data.y), left_out, unchecked, inputs,
    )  # fmt: skip


def _holder(registry: BaseRegistryStore, name: str, alias: str) -> int | None:
    return registry.get_registered_model(name).aliases.get(alias)


def _record(
    name: str,
    version: int,
    alias: str,
    champion: int | None,
    decision: Decision,
    scores: tuple[Scored, Scored | None],
    data: HeldOut,
    tracking_uri: str,
    candidate_mv: Any,
    champion_rows: dict[str, Any],
    inputs: dict[str, Any],
) -> str:
    """The evaluation run: every number, the policy, the verdict, and plots."""
    import trainlab

    verdict = "PASS" if decision.passed else "FAIL"
    with trainlab.start_run(
        experiment_id=data.experiment_id,
        run_name=f"gate {name} v{version} -> {alias}: {verdict}",
        tracking_uri=tracking_uri,
        tags={
            GATE_EXPERIMENT_TAG: "promotion-gate",
            "trainlab.gate.model": name,
            "trainlab.gate.version": str(version),
            "trainlab.gate.alias": alias,
            "trainlab.gate.champion": "" if champion is None else str(champion),
            VERDICT_TAG: verdict,
            "trainlab.gate.data_digest": data.digest,
            "trainlab.gate.candidate_run": candidate_mv.run_id,
        },
        nested=True,
    ) as run:
        metrics = {f"candidate_{k}": v for k, v in decision.candidate_metrics.items()}
        if decision.champion_metrics is not None:
            metrics |= {f"champion_{k}": v for k, v in decision.champion_metrics.items()}
        if decision.interval is not None:
            metrics |= {
                "improvement": decision.interval.point,
                "improvement_ci_low": decision.interval.low,
                "improvement_ci_high": decision.interval.high,
            }
        run.log_metrics({k: float(v) for k, v in metrics.items()})
        evidence = {
            **decision.to_dict(),
            "model": name,
            "candidate": version,
            "champion": champion,
            "alias": alias,
            "data": {
                "test_digest": data.digest,
                "rows": len(data.y),
                "task": data.task,
                **champion_rows,
            },
            "inputs": inputs,
        }
        run.log_dict(evidence, "gate/decision.json")
        with tempfile.TemporaryDirectory(prefix="trainlab-gate-") as tmp:
            for path in _plots(scores, data, Path(tmp)):
                run.log_artifact(path, "gate")
        return run.run_id


def _plots(scores: tuple[Scored, Scored | None], data: HeldOut, folder: Path) -> list[Path]:
    from trainlab.evaluation.plots import classification_plots, regression_plots

    plots = classification_plots if data.task == "classification" else regression_plots
    return plots(np.asarray(data.y), scores[0], scores[1], folder)
