"""A loaded model: the framework object plus its MLmodel, predicting under its signature."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainlab.models.mlmodel import MLModel
from trainlab.models.signature import ModelSignature, enforce


class LoadedModel:
    """``predict`` checks the input against the model's signature (a ``SchemaMismatch`` names
    the column and both types), converts what converts safely, then calls the model."""

    def __init__(
        self,
        model: Any,
        metadata: MLModel,
        path: Path | None,
        predict_fn: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        self.model = model
        self.metadata = metadata
        self.path = path  # the model's folder; None when it was downloaded and then removed
        self._predict = predict_fn or (lambda model, data: model.predict(data))

    @property
    def signature(self) -> ModelSignature | None:
        return self.metadata.signature

    @property
    def model_id(self) -> str | None:
        return self.metadata.model_id

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any) -> Any:
        sig = self.metadata.signature
        if sig is not None:
            data = enforce(sig.inputs, data)
        return self._predict(self.model, data)

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        where = f" from {self.path}" if self.path is not None else ""
        return f"<LoadedModel {type(self.model).__name__} ({flavors}){where}>"
