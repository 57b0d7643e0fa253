"""``save_model``, ``log_model`` and ``load_model``: scikit-learn, XGBoost, LightGBM and
PyTorch models in MLflow's layout, logged as MLflow 3 LoggedModels (so both clients read what
the other wrote)."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.entities import LoggedModelStatus
from trainlab.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    TrainlabError,
)
from trainlab.models import flavors
from trainlab.models.mlmodel import (
    DATA_DIGEST_KEY,
    INPUT_EXAMPLE_FILE,
    SERVING_INPUT_FILE,
    MLModel,
)
from trainlab.models.pyfunc import LoadedModel
from trainlab.models.signature import ModelSignature, as_frame_or_array, infer_schema
from trainlab.validation import validate_logged_model_name

if TYPE_CHECKING:
    from trainlab.client.fluent import ActiveRun, _Client
    from trainlab.entities import Run

log = logging.getLogger("trainlab")


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    model_uri: str  # models:/m-<id>
    run_id: str
    name: str
    artifact_uri: str
    signature: ModelSignature | None
    requirements: list[str]
    data_digest: str | None = None
    registered_model_version: int | None = None


def _save_input_example(example: Any, directory: Path) -> dict[str, Any]:
    import numpy as np

    data = as_frame_or_array(example)
    if isinstance(data, np.ndarray):
        payload: dict[str, Any] = {"inputs": data.tolist()}
        info = {"artifact_path": INPUT_EXAMPLE_FILE, "type": "ndarray", "format": "tf-serving"}
        serving = payload
    else:
        payload = json.loads(data.to_json(orient="split", index=False, date_format="iso"))
        info = {
            "artifact_path": INPUT_EXAMPLE_FILE,
            "pandas_orient": "split",
            "serving_input_path": SERVING_INPUT_FILE,
            "type": "dataframe",
        }
        serving = {"dataframe_split": payload}
    (directory / INPUT_EXAMPLE_FILE).write_text(json.dumps(payload), encoding="utf-8")
    (directory / SERVING_INPUT_FILE).write_text(json.dumps(serving, indent=2), encoding="utf-8")
    return info


def _infer(model: Any, flavor: Any, example: Any) -> ModelSignature | None:
    import pandas as pd

    frame = as_frame_or_array(example)
    if isinstance(frame, pd.DataFrame):
        categorical = [
            str(c) for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)
        ]
        if categorical:
            # No signature type describes them: typed as strings, mlflow.pyfunc would refuse the
            # model's own data ("Can not safely convert category"). MLflow logs none either.
            log.warning(
                "trainlab: the model is logged without a signature: column(s) %s are pandas "
                "categoricals, which signatures cannot describe. Pass signature= to set one.",
                categorical,
            )
            return None
    as_taken = getattr(flavor, "signature_input", None)  # the dtype the model computes in
    inputs = infer_schema(example if as_taken is None else as_taken(model, example))
    try:
        outputs = infer_schema(flavor.predict(model, as_frame_or_array(example)))
    except (ValueError, TypeError, RuntimeError, InvalidParameterValue) as exc:
        log.warning("trainlab: no output signature, predicting the input example failed: %s", exc)
        outputs = None
    return ModelSignature(inputs, outputs)


def save_model(
    model: Any,
    path: str | Path,
    *,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    serialization_format: str = "cloudpickle",
    mlmodel: MLModel | None = None,
) -> MLModel:
    """Write ``model`` (scikit-learn, XGBoost, LightGBM, a ``torch.nn.Module``, or any other
    object with ``predict``) as an MLflow model folder at ``path`` (must not exist or be
    empty). ``serialization_format`` applies to pickled estimators (scikit-learn, LightGBM's
    scikit-learn API: cloudpickle or pickle) and XGBoost (ubj or json; other values mean ubj);
    other objects are always cloudpickled."""
    directory = Path(path)
    if directory.exists() and any(directory.iterdir()):
        raise ResourceAlreadyExists(f"{str(directory)!r} already exists and is not empty.")
    flavor = flavors.for_model(model)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        meta = mlmodel or MLModel()
        if input_example is not None:
            meta.saved_input_example_info = _save_input_example(input_example, directory)
            if signature is None:
                signature = _infer(model, flavor, input_example)
        meta.signature = signature
        reqs = flavor.save(model, directory, meta, serialization_format)
        meta.extra.setdefault("metadata", {})["trainlab.requirements"] = reqs
        meta.model_size_bytes = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
        meta.save(directory)
    except BaseException:  # no half-written model folder is left behind
        shutil.rmtree(directory, ignore_errors=True)
        if not created:
            directory.mkdir()  # it was there, empty, before
        raise
    return meta


def _data_digest(run: Run) -> str | None:
    """The digest of the run's dataset inputs: one dataset's digest, or ``name:digest`` pairs."""
    inputs = run.inputs.dataset_inputs
    if not inputs:
        return None
    if len(inputs) == 1:
        return inputs[0].dataset.digest
    return ",".join(sorted(f"{d.dataset.name}:{d.dataset.digest}" for d in inputs))


def _register(client: _Client, name: str, model_id: str, run_id: str | None) -> int:
    from trainlab.client.resolve import registry_for

    registry = registry_for(client.store)
    with contextlib.suppress(ResourceAlreadyExists):
        registry.create_registered_model(name)
    # The store lists the version on the logged model (mlflow.modelVersions).
    version = registry.create_model_version(
        name, f"models:/{model_id}", run_id=run_id, model_id=model_id
    )
    return version.version


def log_model(
    model: Any,
    name: str,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    registered_model_name: str | None = None,
    *,
    serialization_format: str = "cloudpickle",
) -> ModelInfo:
    """Log ``model`` (scikit-learn, XGBoost, LightGBM or PyTorch) from the active run as a
    LoggedModel named ``name``: an MLflow model folder (MLmodel, the model file, requirements,
    environment, input example) in the logged model's artifacts, READY once uploaded, recorded
    as an output of the run, and registered as a new version of ``registered_model_name`` when
    given."""
    from trainlab.client.fluent import _require_run

    return log_model_to(
        _require_run(),
        model,
        name,
        input_example,
        signature,
        registered_model_name,
        serialization_format=serialization_format,
    )


def log_model_to(
    active: ActiveRun,
    model: Any,
    name: str,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    registered_model_name: str | None = None,
    *,
    serialization_format: str = "cloudpickle",
) -> ModelInfo:
    """``log_model`` from the run ``active``."""
    from trainlab.client.artifact_repo import repo_for
    from trainlab.client.rest_logged_models import logged_models_for

    validate_logged_model_name(name)  # before the run's points are flushed for it
    flavor = flavors.for_model(model)
    client = active._client
    client.logger.flush()
    run = client.store.get_run(active.run_id)
    digest = _data_digest(run)
    models = logged_models_for(client.store)
    tags = {DATA_DIGEST_KEY: digest} if digest else {}
    logged = models.create_logged_model(
        run.info.experiment_id, name, run.info.run_id, tags, model_type=flavor.NAME
    )
    try:
        with tempfile.TemporaryDirectory(prefix="trainlab-model-") as tmp:
            meta = MLModel(artifact_path=name, run_id=run.info.run_id, model_id=logged.model_id)
            if digest:
                meta.extra["metadata"] = {DATA_DIGEST_KEY: digest}
            saved = save_model(
                model,
                Path(tmp) / "model",
                input_example=input_example,
                signature=signature,
                serialization_format=serialization_format,
                mlmodel=meta,
            )
            repo_for(logged.artifact_uri, client.store).upload_dir(Path(tmp) / "model")
    except BaseException:
        try:
            models.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
        except TrainlabError as exc:
            log.error("trainlab: cannot mark model %s failed: %s", logged.model_id, exc.message)
        raise
    models.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    client.store.log_outputs(run.info.run_id, [(logged.model_id, 0)])
    version = (
        _register(client, registered_model_name, logged.model_id, run.info.run_id)
        if registered_model_name
        else None
    )
    reqs = list(saved.extra.get("metadata", {}).get("trainlab.requirements", []))
    return ModelInfo(
        model_id=logged.model_id,
        model_uri=f"models:/{logged.model_id}",
        run_id=run.info.run_id,
        name=name,
        artifact_uri=logged.artifact_uri,
        signature=saved.signature,
        requirements=reqs,
        data_digest=digest,
        registered_model_version=version,
    )


def load_model(
    uri: str | Path, *, tracking_uri: str | None = None, dst_path: str | Path | None = None
) -> LoadedModel:
    """Load the model ``uri`` names (``runs:/``, ``models:/name/version``,
    ``models:/name@alias``, ``models:/m-<id>`` or a local folder); ``predict`` on the result
    enforces the model's signature. A model that is not a local folder is downloaded into
    ``dst_path``, where its files stay, else into a temporary folder removed once it is loaded
    (every flavor reads its model into memory)."""
    from trainlab.client.fluent import _client
    from trainlab.models.uri import download_model

    text = str(uri)
    if isinstance(uri, Path) or "://" not in text and ":/" not in text:
        return _load_folder(Path(text), Path(text))
    store = _client(tracking_uri).store
    if dst_path:
        directory = download_model(text, store, Path(dst_path))
        return _load_folder(directory, directory)
    with tempfile.TemporaryDirectory(prefix="trainlab-model-") as tmp:
        return _load_folder(download_model(text, store, Path(tmp) / "model"), None)


def _load_folder(directory: Path, kept: Path | None) -> LoadedModel:
    meta = MLModel.load(directory)
    flavor = flavors.for_folder(directory, meta)
    predict = flavors.predictor(flavor, meta)
    return LoadedModel(flavor.load(directory, meta), meta, kept, predict)


def register_model(model_uri: str, name: str, *, tracking_uri: str | None = None) -> int:
    """Register a logged model as a new version of ``name`` (created if new) and return the
    version number. ``model_uri``: ``models:/m-<id>`` or ``runs:/<run_id>/<model name>``."""
    from trainlab.client.fluent import _client
    from trainlab.client.rest_logged_models import logged_models_for
    from trainlab.models.uri import logged_model_id, run_logged_model

    client = _client(tracking_uri)
    if model_uri.startswith("runs:/"):
        run_id, _, model_name = model_uri[len("runs:/") :].strip("/").partition("/")
        run = client.store.get_run(run_id)
        missing = f"Run {run_id} has no logged model named {model_name!r}."
        found = run_logged_model(run, model_name, client.store, missing)
        return _register(client, name, found.model_id, run_id)
    model_id = logged_model_id(model_uri)
    if model_id is None:
        raise InvalidParameterValue(
            f"Cannot register {model_uri!r}: use models:/m-<id> or runs:/<run_id>/<model name>."
        )
    model = logged_models_for(client.store).get_logged_model(model_id)
    return _register(client, name, model_id, model.source_run_id)
