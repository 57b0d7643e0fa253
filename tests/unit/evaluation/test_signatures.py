"""How the gate names the difference between two models' inputs."""

from __future__ import annotations

from trainlab.evaluation.gate import _difference


def _cols(*spec: tuple[str, str]) -> list[dict[str, object]]:
    return [{"name": n, "type": t, "required": True} for n, t in spec]


def test_missing_extra_and_retyped_columns_are_named() -> None:
    champion = _cols(("a", "double"), ("b", "double"), ("c", "long"))
    candidate = _cols(("a", "double"), ("c", "double"), ("d", "string"))
    assert _difference(candidate, champion) == (
        "the candidate lacks 1 column(s) the champion takes: b; it takes 1 the champion does "
        "not: d; types differ: c (long -> double)"
    )


def test_unnamed_inputs_are_shown_whole() -> None:
    tensor = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]
    other = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 5]}}]
    assert _difference(tensor, other).startswith("candidate takes [{'type': 'tensor'")
