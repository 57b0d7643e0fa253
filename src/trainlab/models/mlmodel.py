"""The ``MLmodel`` file: MLflow's model directory descriptor, read and written as YAML."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainlab.exceptions import InvalidParameterValue, ResourceNotFound
from trainlab.models.signature import ModelSignature

MLMODEL = "MLmodel"
INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_FILE = "serving_input_example.json"
DATA_DIGEST_KEY = "trainlab.data_digest"


@dataclass
class MLModel:
    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(
        default_factory=lambda: str(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    )
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this class does not model

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.artifact_path is not None:
            d["artifact_path"] = self.artifact_path
        d["flavors"] = self.flavors
        d["model_id"] = self.model_id
        if self.model_size_bytes is not None:
            d["model_size_bytes"] = self.model_size_bytes
        d["model_uuid"] = self.model_uuid
        if self.run_id is not None:
            d["run_id"] = self.run_id
        if self.saved_input_example_info is not None:
            d["saved_input_example_info"] = self.saved_input_example_info
        if self.signature is not None:
            d["signature"] = self.signature.to_dict()
        d["utc_time_created"] = self.utc_time_created
        d.update(self.extra)
        return d

    def save(self, directory: Path) -> Path:
        import yaml

        path = directory / MLMODEL
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(self.to_dict(), f, default_flow_style=False, sort_keys=True)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> MLModel:
        import yaml

        path = Path(directory)
        if path.is_dir():
            path = path / MLMODEL
        if not path.is_file():
            raise ResourceNotFound(
                f"No MLmodel file in {str(path.parent)!r}: it is not a model directory."
            )
        with open(path, encoding="utf-8") as f:
            d = yaml.safe_load(f)
        if not isinstance(d, dict) or not isinstance(d.get("flavors"), dict):
            raise InvalidParameterValue(f"{str(path)!r} is not a valid MLmodel file.")
        known = {
            "artifact_path",
            "flavors",
            "run_id",
            "model_id",
            "model_uuid",
            "utc_time_created",
            "signature",
            "saved_input_example_info",
            "model_size_bytes",
        }
        sig = d.get("signature")
        return cls(
            flavors=d["flavors"],
            artifact_path=d.get("artifact_path"),
            run_id=d.get("run_id"),
            model_id=d.get("model_id"),
            model_uuid=d.get("model_uuid") or uuid.uuid4().hex,
            utc_time_created=str(d.get("utc_time_created", "")),
            signature=ModelSignature.from_dict(sig) if sig and sig.get("inputs") else None,
            saved_input_example_info=d.get("saved_input_example_info"),
            model_size_bytes=d.get("model_size_bytes"),
            extra={k: v for k, v in d.items() if k not in known},
        )
