"""What the gate's two models take as input, in words, and whether both can be fed the same
held-out rows.

A model whose signature names columns gets the held-out frame and picks its columns by name. A
model whose signature is a tensor gets the held-out feature columns as one float32 array: by
position, so the order counts, and the signature does not say it. Two column models must take
the same columns with the same types, two tensor models the same tensor. A tensor model and a
column model are compared only when the order is known and right: the tensor model's run is a
``trainlab train`` pipeline of flavor pytorch (which feeds the network its feature columns as
float32, in the order of the train split that ``data/fingerprints.json`` records), that order is
the held-out data's, and the column model takes exactly those columns with their types. Anything
else is refused (nothing evaluated) with what differs and what to do.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainlab._text import listing
from trainlab.exceptions import InvalidParameterValue, InvalidState, ResourceNotFound
from trainlab.models.signature import ColSpec, Schema, TensorSpec, infer_schema

if TYPE_CHECKING:
    import pandas as pd

    from trainlab.models.pyfunc import LoadedModel
    from trainlab.store._base import BaseTrackingStore

FINGERPRINTS = "data/fingerprints.json"
FED_COLUMNS = "the held-out frame; the model picks its columns by name"
FED_TENSOR = "the held-out feature columns as one float32 array, in the held-out data's order"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def columns_of(schema: Schema) -> dict[str, str]:
    """Column name -> type, in the signature's order; an unnamed column by position."""
    return {
        spec.name if spec.name is not None else f"column {i + 1}": spec.type
        for i, spec in enumerate(schema.specs)
        if isinstance(spec, ColSpec)
    }


def tensor_text(spec: TensorSpec) -> str:
    """``a float32 tensor of shape (-1, 13)``."""
    dims = ", ".join(str(d) for d in spec.shape) + ("," if len(spec.shape) == 1 else "")
    name = f" {spec.name!r}" if spec.name else ""
    return f"a {spec.dtype} tensor{name} of shape ({dims})"


def describe(schema: Schema, first: Collection[str] = ()) -> str:
    """A model's inputs in words: ``13 columns: alcohol (double), malic_acid (double), ... and
    7 more`` (the columns named in ``first`` listed first), or ``a float32 tensor of shape
    (-1, 13)``."""
    if not schema.specs:
        return "no inputs"
    if schema.is_tensor:
        tensors = [tensor_text(s) for s in schema.specs if isinstance(s, TensorSpec)]
        return tensors[0] if len(tensors) == 1 else f"{len(tensors)} tensors: {', '.join(tensors)}"
    cols = columns_of(schema)
    shown = [n for n in cols if n in first] + [n for n in cols if n not in first]
    return f"{_plural(len(cols), 'column')}: {listing([f'{n} ({cols[n]})' for n in shown])}"


def column_differences(
    mine: dict[str, str],
    theirs: dict[str, str],
    me: str,
    them: str,
    *,
    verb: str = "takes",
) -> tuple[list[str], list[str]]:
    """How the columns ``mine`` (name -> type) of ``me`` differ from ``theirs`` of ``them``, in
    any order: clauses naming the columns missing, added and typed otherwise, and the names
    that differ."""
    missing = [n for n in theirs if n not in mine]
    extra = [n for n in mine if n not in theirs]
    retyped = [n for n in mine if n in theirs and mine[n] != theirs[n]]
    clauses = []
    if missing:
        named = listing([f"{n} ({theirs[n]})" for n in missing])
        clauses.append(f"{me} lacks {_plural(len(missing), 'column')} {them} takes: {named}")
    if extra:
        named = listing([f"{n} ({mine[n]})" for n in extra])
        clauses.append(f"{me} {verb} {_plural(len(extra), 'column')} {them} does not: {named}")
    if retyped:
        named = listing([f"{n} ({theirs[n]} for {them}, {mine[n]} for {me})" for n in retyped])
        have = "has" if len(retyped) == 1 else "have"
        clauses.append(f"{_plural(len(retyped), 'column')} {have} another type: {named}")
    return clauses, missing + extra + retyped


def _comparable(schema: Schema) -> list[dict[str, Any]]:
    # Names and types must agree; whether a column may be missing depends only on the rows each
    # model's input example happened to hold. Named columns reach each model by name, in the
    # order it takes them, so their order does not matter; unnamed ones and tensors keep theirs.
    specs = [{k: v for k, v in s.to_dict().items() if k != "required"} for s in schema.specs]
    return specs if schema.is_tensor else sorted(specs, key=lambda s: str(s.get("name") or ""))


def refusal(candidate: Schema, champion: Schema, versions: str, why: str = "") -> str:
    """The message refusing to compare models with these inputs: what differs, both models'
    inputs (the differing columns first), and what to do (``why``: where a tensor is compared
    with columns, why the gate cannot feed both the same rows, and what to do)."""
    head = f"The models' input signatures differ ({versions})"
    if candidate.is_tensor or champion.is_tensor:
        takes = f"the candidate takes {describe(candidate)}; "
        takes += f"the champion takes {describe(champion)}"
        if candidate.is_tensor and champion.is_tensor:
            why = why or (
                "Train the candidate on the champion's feature columns, or register it under "
                "another model name."
            )
            return f"{head}: {takes}. They cannot be scored on the same held-out rows. {why}"
        return (
            f"{head}: {takes}. A tensor gets the held-out columns by position, so the gate "
            f"compares it with a model that takes named columns only when it knows the order "
            f"the tensor model was trained on and the held-out data has exactly those columns "
            f"in that order. {why}"
        )
    mine, theirs = columns_of(candidate), columns_of(champion)
    clauses, differing = column_differences(mine, theirs, "the candidate", "the champion")
    return (
        f"{head}: {'; '.join(clauses) or 'they differ'}. The candidate takes "
        f"{describe(candidate, differing)}; the champion takes {describe(champion, differing)}. "
        "They cannot be scored on the same held-out rows. Train the candidate on the "
        "champion's columns and types (data.features), or register it under another model name."
    )


@dataclass(frozen=True)
class TrainedColumns:
    """The feature columns, in order, a model's run fed it (None: not known), and where that
    order comes from, or why it is not known."""

    columns: list[str] | None
    source: str


def trained_columns(
    store: BaseTrackingStore, run_id: str | None, tracking_uri: str
) -> TrainedColumns:
    """The columns, in order, that the network of a ``trainlab train`` pytorch run was trained
    on: its train split's schema in ``data/fingerprints.json``, less the target."""
    import trainlab
    from trainlab.training.runner import recorded_spec

    if not run_id:
        return TrainedColumns(None, "it has no run")
    try:
        spec = recorded_spec(store.get_run(run_id), tracking_uri)
    except (InvalidState, InvalidParameterValue, ResourceNotFound) as exc:
        return TrainedColumns(None, exc.message.rstrip("."))
    if spec.model.flavor != "pytorch":
        return TrainedColumns(
            None,
            f"its run {run_id} trained a pipeline of flavor {spec.model.flavor}, which does not "
            "say in what order the model gets the columns as a tensor",
        )
    with tempfile.TemporaryDirectory(prefix="trainlab-gate-") as tmp:
        try:
            path = trainlab.download_artifacts(run_id, FINGERPRINTS, tmp, tracking_uri=tracking_uri)
            recorded = json.loads(Path(path).read_text(encoding="utf-8"))
        except (ResourceNotFound, ValueError, OSError):
            return TrainedColumns(None, f"its run {run_id} has no readable {FINGERPRINTS}")
    train = recorded.get("train") if isinstance(recorded, dict) else None
    schema = train.get("schema") if isinstance(train, dict) else None
    if not isinstance(schema, dict) or spec.data.target not in schema:
        return TrainedColumns(None, f"the {FINGERPRINTS} of run {run_id} has no train schema")
    return TrainedColumns(
        [str(c) for c in schema if c != spec.data.target],
        f"run {run_id}: a pytorch pipeline, which feeds its network the train split's feature "
        f"columns in the order its {FINGERPRINTS} records",
    )


@dataclass(frozen=True)
class Party:
    """One model the gate scores."""

    role: str  # "candidate" | "champion"
    version: int
    run_id: str | None
    model: LoadedModel

    @property
    def inputs(self) -> Schema | None:
        sig = self.model.signature
        return None if sig is None else sig.inputs

    @property
    def label(self) -> str:
        return f"version {self.version} (the {self.role})"


@dataclass(frozen=True)
class Order:
    """Whether a tensor model gets the held-out columns in the order it was trained on:
    ``checked`` (its record says which order), ``problem`` (why the held-out columns cannot be
    fed to it in their order: unknown, or known and not theirs) and what to do then."""

    checked: bool
    columns: list[str] | None
    source: str
    problem: str | None = None
    todo: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"checked": self.checked and self.problem is None}
        out |= {"columns": self.columns, "from": self.source}
        return out | ({"problem": self.problem} if self.problem else {})


RETRAIN = (
    "Train both with `trainlab train` on the same data.features (for a network, flavor "
    "pytorch: the gate then checks the order against the run's record), or log the tensor "
    "model with a DataFrame input example so that its signature names its columns."
)


def _tensor_order(
    party: Party, held: list[str], record: Callable[[str | None], TrainedColumns]
) -> Order:
    inputs = party.inputs
    assert inputs is not None and inputs.is_tensor
    spec = inputs.specs[0]
    assert isinstance(spec, TensorSpec)
    wanted = spec.shape[1] if len(spec.shape) == 2 else None
    if len(inputs.specs) != 1 or wanted is None:
        problem = f"{party.label} takes {describe(inputs)}, not one row of values per example"
        return Order(True, None, "its signature", problem, RETRAIN)
    if wanted not in (-1, len(held)):
        problem = (
            f"{party.label} takes {wanted} values per row; the held-out data has "
            f"{_plural(len(held), 'feature column')}"
        )
        return Order(True, None, "its signature", problem, RETRAIN)
    if not np.can_cast(np.float32, np.dtype(spec.dtype), casting="safe"):
        problem = f"{party.label} takes {spec.dtype} values; the gate feeds float32"
        return Order(True, None, "its signature", problem, RETRAIN)
    if "pytorch" not in party.model.metadata.flavors:
        why = "it is not a pytorch model, so no trainlab pipeline trained it"
        return Order(False, None, why, _unknown(party, why), RETRAIN)
    trained = record(party.run_id)
    if trained.columns is None:
        return Order(False, None, trained.source, _unknown(party, trained.source), RETRAIN)
    if trained.columns == held:
        return Order(True, trained.columns, trained.source)
    problem = _order_difference(held, trained.columns, party.label)
    todo = (
        "Train the two models on the same data.features, in the same order, or register the "
        "candidate under another model name."
    )
    return Order(True, trained.columns, trained.source, problem, todo)


def _unknown(party: Party, why: str) -> str:
    why = why[0].lower() + why[1:] if why.startswith("Run ") else why
    return f"the column order {party.label} was trained on cannot be checked: {why}"


def _order_difference(held: list[str], trained: list[str], label: str) -> str:
    """How the held-out feature columns differ from those ``label`` was trained on, in order."""
    missing = [c for c in trained if c not in held]
    extra = [c for c in held if c not in trained]
    clauses = []
    if missing:
        named = listing(missing)
        n = _plural(len(missing), "column")
        clauses.append(f"the held-out data lacks {n} {label} was trained on: {named}")
    if extra:
        named = listing(extra)
        n = _plural(len(extra), "column")
        clauses.append(f"the held-out data has {n} {label} was not trained on: {named}")
    if not clauses:
        places = [(i, a, b) for i, (a, b) in enumerate(zip(trained, held, strict=True)) if a != b]
        where = [f"column {i + 1} was {a}, the held-out data has {b}" for i, a, b in places]
        clauses.append(
            f"{label} was trained on the held-out data's {len(held)} columns in another order "
            f"({listing(where, 3, '; ')})"
        )
    return "; ".join(clauses)


def _column_problem(party: Party, X: pd.DataFrame) -> str | None:
    """Why a column model cannot take the held-out frame the tensor model gets, if it cannot."""
    inputs = party.inputs
    assert inputs is not None
    try:
        held = columns_of(infer_schema(X))
    except InvalidParameterValue as exc:
        return f"the held-out columns have no signature types: {exc.message}"
    clauses, _ = column_differences(
        held, columns_of(inputs), "the held-out data", party.label, verb="has"
    )
    return "; ".join(clauses) or None


def _evidence(party: Party) -> dict[str, Any]:
    inputs = party.inputs
    if inputs is None:
        return {"version": party.version, "takes": "unknown: no signature", "fed": FED_COLUMNS}
    kind, fed = ("tensor", FED_TENSOR) if inputs.is_tensor else ("columns", FED_COLUMNS)
    return {"version": party.version, "takes": kind, "signature": describe(inputs), "fed": fed}


def match_inputs(
    candidate: Party,
    champion: Party | None,
    X: pd.DataFrame,
    record: Callable[[str | None], TrainedColumns],
) -> dict[str, Any]:
    """What each model takes and how the gate feeds it the held-out rows ``X`` (for the
    evidence); ``InvalidState`` with a readable message when the two cannot be fed the same
    rows. ``record(run_id)``: the columns, in order, that run trained its model on."""
    evidence = {candidate.role: _evidence(candidate)}
    if champion is None:
        return evidence
    evidence[champion.role] = _evidence(champion)
    a, b = candidate.inputs, champion.inputs
    if a is None or b is None:
        return evidence
    versions = f"versions {candidate.version} and {champion.version}"
    if not a.is_tensor and not b.is_tensor:
        if _comparable(a) != _comparable(b):
            raise InvalidState(refusal(a, b, versions))
        return evidence
    held = [str(c) for c in X.columns]
    if a.is_tensor and b.is_tensor:
        if _comparable(a) != _comparable(b):
            raise InvalidState(refusal(a, b, versions))
        for party in (candidate, champion):
            order = _tensor_order(party, held, record)
            if order.checked and order.problem:  # known, and not the held-out data's
                raise InvalidState(
                    f"Both models take {describe(a)} ({versions}), which gets the held-out "
                    f"columns by position, and {order.problem}: they cannot be scored on the "
                    f"same held-out rows. {order.todo}"
                )
            evidence[party.role]["column_order"] = order.to_dict()  # unchecked: as it is
        return evidence
    tensor, columns = (candidate, champion) if a.is_tensor else (champion, candidate)
    order = _tensor_order(tensor, held, record)
    if order.problem:
        raise InvalidState(refusal(a, b, versions, f"Here {order.problem}. {order.todo}"))
    if problem := _column_problem(columns, X):
        todo = (
            "Train both on the same data.features, or register the candidate under another "
            "model name."
        )
        raise InvalidState(refusal(a, b, versions, f"Here {problem}. {todo}"))
    evidence[tensor.role]["column_order"] = order.to_dict()
    return evidence
