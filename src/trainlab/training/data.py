"""Data for a pipeline: load the source, pick features and target, split it into train, valid
and a sealed test split, and fingerprint every split (content hash, schema, row count) so a run
records exactly what it saw and a later run can tell when the data changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from trainlab.entities.tags import DATASET_CONTEXT_TAG
from trainlab.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import pandas as pd

    from trainlab.entities import DatasetInput
    from trainlab.training.spec import DataSpec, SplitSpec

# Bundled with scikit-learn (nothing is downloaded).
SKLEARN_DATASETS = ("breast_cancer", "diabetes", "digits", "iris", "linnerud", "wine")
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Fingerprint:
    digest: str  # sha256 over column names, dtypes and every row's content
    rows: int
    schema: dict[str, str]  # column -> dtype

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "rows": self.rows, "schema": self.schema}


@dataclass(frozen=True)
class Split:
    name: str
    X: pd.DataFrame
    y: pd.Series
    fingerprint: Fingerprint
    groups: pd.Series | None = None  # each row's group, when the data is split by group


@dataclass
class PreparedData:
    source: str
    features: list[str]
    target: str
    task: str  # "classification" | "regression"
    splits: dict[str, Split]
    overlaps: dict[str, int] = field(default_factory=dict)  # "train/test" -> shared rows
    split_by: str | None = None  # "group" or "time" (rows in time order), as data.split says

    def split(self, name: str) -> Split | None:
        return self.splits.get(name)

    def classes(self) -> int:
        """How many classes the target takes across the splits (0 for regression)."""
        if self.task != "classification":
            return 0
        import pandas as pd

        return int(pd.concat([s.y for s in self.splits.values()]).nunique())

    def dataset_inputs(self) -> list[DatasetInput]:
        from trainlab.entities import Dataset, DatasetInput

        name = dataset_name(self.source)
        out = []
        for split in self.splits.values():
            fp = split.fingerprint
            schema = {"mlflow_colspec": [{"name": k, "type": v} for k, v in fp.schema.items()]}
            profile = {"num_rows": fp.rows, "num_features": len(self.features)}
            out.append(
                DatasetInput(
                    Dataset(
                        name=f"{name}-{split.name}",
                        digest=fp.digest[:16],
                        source_type="sklearn" if self.source.startswith("sklearn:") else "local",
                        source=json.dumps({"uri": self.source, "split": split.name}),
                        schema=json.dumps(schema),
                        profile=json.dumps(profile),
                    ),
                    {DATASET_CONTEXT_TAG: split.name},
                )
            )
        return out


def dataset_name(source: str) -> str:
    if source.startswith("sklearn:"):
        return source.removeprefix("sklearn:")
    return Path(local_path(source)).stem


def local_path(source: str) -> str:
    """The file a local ``data.source`` names (a path, or a ``file:`` URI)."""
    if source.startswith("file:"):
        parts = urlsplit(source)
        if parts.netloc not in ("", "localhost"):
            raise InvalidParameterValue(
                f"data.source {source!r}: only local file: URIs are read (file:///abs/path.csv)."
            )
        return unquote(parts.path)
    return source


def load_frame(source: str) -> pd.DataFrame:
    """``sklearn:NAME`` (a data set bundled with scikit-learn, target column ``target``), a
    CSV or Parquet file path, or a ``file:`` URI."""
    import pandas as pd

    if source.startswith("sklearn:"):
        name = source.removeprefix("sklearn:")
        if name not in SKLEARN_DATASETS:
            raise InvalidParameterValue(
                f"data.source {source!r}: unknown bundled data set; use one of "
                f"{', '.join('sklearn:' + n for n in SKLEARN_DATASETS)}."
            )
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        frame: pd.DataFrame = bunch.frame
        if "target" not in frame.columns:  # linnerud: several targets
            frame = pd.concat([bunch.data, bunch.target], axis=1)
        return frame
    path = Path(local_path(source))
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to the current folder, {Path.cwd()})"
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise InvalidParameterValue(f"data.source {source!r}: {what}{where}.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (ValueError, OSError, ImportError) as exc:
        raise InvalidParameterValue(f"data.source {source!r}: cannot be read: {exc}") from None
    raise InvalidParameterValue(
        f"data.source {source!r}: unsupported file type {suffix!r} (use .csv, .tsv or .parquet)."
    )


def fingerprint(frame: pd.DataFrame) -> Fingerprint:
    import pandas as pd

    h = hashlib.sha256()
    schema = {str(c): str(t) for c, t in frame.dtypes.items()}
    h.update(json.dumps(list(schema.items())).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return Fingerprint(h.hexdigest(), len(frame), schema)


def infer_task(y: pd.Series, estimator: Any = None) -> str:
    from pandas.api.types import is_float_dtype, is_numeric_dtype

    if estimator is not None:
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(estimator):
            return "classification"
        if is_regressor(estimator):
            return "regression"
    if not is_numeric_dtype(y) or (not is_float_dtype(y) and y.nunique() <= 50):
        return "classification"
    return "regression"


def _indices(frame: pd.DataFrame, y: pd.Series, spec: SplitSpec) -> dict[str, Any]:
    import numpy as np

    n = len(frame)
    idx = np.arange(n)
    n_test = max(1, round(n * spec.test))
    n_valid = round(n * spec.valid)
    if n - n_test - n_valid < 2:
        raise InvalidParameterValue(
            f"data.split: {n} rows leave {n - n_test - n_valid} to train on; lower test/valid."
        )
    if spec.time:
        order = np.argsort(frame[spec.time].to_numpy(), kind="stable")
        return {
            "train": order[: n - n_test - n_valid],
            "valid": order[n - n_test - n_valid : n - n_test],
            "test": order[n - n_test :],
        }
    if spec.group:
        return _group_indices(frame[spec.group], spec)
    from sklearn.model_selection import train_test_split

    strat = y.to_numpy() if spec.stratify else None
    try:
        rest, test = train_test_split(idx, test_size=n_test, random_state=spec.seed, stratify=strat)
        if not n_valid:
            return {"train": rest, "valid": idx[:0], "test": test}
        tr, va = train_test_split(
            rest,
            test_size=n_valid,
            random_state=spec.seed,
            stratify=strat[rest] if strat is not None else None,
        )
    except ValueError as exc:  # e.g. a class with one member under stratify
        raise InvalidParameterValue(f"data.split: {exc}") from None
    return {"train": tr, "valid": va, "test": test}


def _group_indices(column: pd.Series, spec: SplitSpec) -> dict[str, Any]:
    """Whole groups to each split: test first, then valid from the rest."""
    import numpy as np
    from sklearn.model_selection import GroupShuffleSplit

    missing = int(column.isna().sum())
    if missing:
        raise InvalidParameterValue(
            f"data.split.group {spec.group!r} has {missing} missing values; every row needs a "
            "group. Fill them in the data, or split by another column."
        )
    groups, idx = column.to_numpy(), np.arange(len(column))
    with_valid = round(len(column) * spec.valid) > 0
    wanted = 3 if with_valid else 2
    if column.nunique() < wanted:
        raise InvalidParameterValue(
            f"data.split.group {spec.group!r} has {column.nunique()} group(s); a split by group "
            f"needs at least {wanted} (one for each of train{', valid' if with_valid else ''} "
            "and test). Split by a column with more groups, or leave out data.split.group."
        )
    try:
        rest, test = next(
            GroupShuffleSplit(1, test_size=spec.test, random_state=spec.seed).split(
                idx, None, groups
            )
        )
        if not with_valid:
            return {"train": rest, "valid": idx[:0], "test": test}
        frac = spec.valid / (1 - spec.test)
        tr, va = next(
            GroupShuffleSplit(1, test_size=frac, random_state=spec.seed).split(
                rest, None, groups[rest]
            )
        )
    except ValueError as exc:  # e.g. too few groups left for the valid split
        raise InvalidParameterValue(
            f"data.split (by group {spec.group!r}, {column.nunique()} groups): {exc}"
        ) from None
    return {"train": rest[tr], "valid": rest[va], "test": test}


def _overlaps(splits: dict[str, Split]) -> dict[str, int]:
    """Rows (features and target) found in two splits: leakage from duplicated records."""
    import pandas as pd

    hashes = {
        name: set(pd.util.hash_pandas_object(s.X.assign(_y=s.y.to_numpy()), index=False))
        for name, s in splits.items()
    }
    out = {}
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            out[f"{a}/{b}"] = len(hashes[a] & hashes[b])
    return out


def prepare(spec: DataSpec, estimator: Any = None) -> PreparedData:
    frame = load_frame(spec.source)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if spec.target not in columns:
        raise InvalidParameterValue(
            f"data.target {spec.target!r} is not a column of {spec.source!r}; columns: {columns}."
        )
    for key in ("group", "time"):
        col = getattr(spec.split, key)
        if col is not None and col not in columns:
            raise InvalidParameterValue(
                f"data.split.{key} {col!r} is not a column of {spec.source!r}; columns: {columns}."
            )
    split_cols = {c for c in (spec.split.group, spec.split.time) if c}
    features = spec.features or [c for c in columns if c != spec.target and c not in split_cols]
    missing = [c for c in features if c not in columns]
    if missing:
        raise InvalidParameterValue(
            f"data.features {missing} are not columns of {spec.source!r}; columns: {columns}."
        )
    if spec.target in features:
        raise InvalidParameterValue(f"data.features must not include the target {spec.target!r}.")
    y_all = frame[spec.target]
    if y_all.isna().any():
        blank = y_all.isna()
        rows = ", ".join(str(i) for i in blank.to_numpy().nonzero()[0][:5])
        raise InvalidParameterValue(
            f"data.target {spec.target!r} has {int(blank.sum())} missing values (rows {rows}"
            f"{', ...' if blank.sum() > 5 else ''}, counting the first data row as 0): a row "
            "without a label can be neither trained nor scored on. Drop those rows from the "
            "data, or fill in their labels."
        )
    if frame.empty:
        raise InvalidParameterValue(f"data.source {spec.source!r} holds no rows.")
    task = infer_task(y_all, estimator)
    if spec.split.stratify and task != "classification":
        from sklearn.base import is_regressor

        why = "the target holds measurements, a regression"
        if estimator is not None and is_regressor(estimator):
            why = f"model.class {type(estimator).__name__} is a regressor"
        raise InvalidParameterValue(
            f"data.split.stratify needs a classification task ({why}): leave it out."
        )
    parts = _indices(frame, y_all, spec.split)
    splits = {}
    for name in SPLITS:
        rows = parts[name]
        if len(rows) == 0:
            continue
        part = frame.iloc[rows]
        X = part[features].reset_index(drop=True)
        y = part[spec.target].reset_index(drop=True)
        groups = part[spec.split.group].reset_index(drop=True) if spec.split.group else None
        splits[name] = Split(name, X, y, fingerprint(part[[*features, spec.target]]), groups)
    split_by = "group" if spec.split.group else "time" if spec.split.time else None
    return PreparedData(
        spec.source, features, spec.target, task, splits, _overlaps(splits), split_by
    )
