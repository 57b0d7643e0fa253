"""A failed run's record: the hint printed names the traceback artifact only when it was stored."""

from __future__ import annotations

from typing import Any

from trainlab.cli.train import _where_failed
from trainlab.training.failure import record_failure


class _Run:
    run_id = "r1"

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.stored: dict[str, Any] = {}

    def set_tag(self, key: str, value: str) -> None:
        self.stored[key] = value

    def log_text(self, text: str, path: str) -> None:
        if self.refuse:
            raise ConnectionError("the server is unreachable")
        self.stored[path] = text


def test_the_hint_names_the_traceback_only_when_it_was_stored() -> None:
    stored, lost = RuntimeError("boom"), RuntimeError("boom")
    record_failure(_Run(refuse=False), stored)  # type: ignore[arg-type]
    record_failure(_Run(refuse=True), lost)  # type: ignore[arg-type]
    assert "trainlab artifacts download r1 error/traceback.txt" in _where_failed(stored, "r1", None)
    hint = _where_failed(lost, "r1", None)
    assert hint == "run r1 ended FAILED; its traceback could not be stored with it."
