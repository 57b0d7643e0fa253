"""Pydantic's errors for a config file (a pipeline, a policy) as ``  key.path: message`` lines,
an unknown key with the key meant when it is close to one."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from trainlab._text import listing


def describe(
    exc: ValidationError, model: type[BaseModel], examples: dict[str, str] | None = None
) -> str:
    """``examples``: how a section that takes keys is written (``register: {name: wine}``),
    for a plain value given in its place."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if p != "[key]"]  # a bad dict key reads as its path
        where = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = _unknown_key(str(loc[-1]), _keys_at(model, loc[:-1]))
        elif err["type"] in ("model_type", "dict_type"):  # not "instance of RegisterSpec"
            example = (examples or {}).get(str(loc[-1]) if loc else "")
            msg = f"expected keys and values, got {err['input']!r}" + (
                f", e.g. {where}: {example}" if example else ""
            )
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def _unknown_key(key: str, keys: list[str]) -> str:
    if not keys:
        return "unknown key"
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    if close:  # two letters swapped (stpe: step, not type) before the closest by ratio
        meant = next((c for c in close if sorted(c) == sorted(key)), close[0])
        return f"unknown key (did you mean {meant!r}?)"
    return f"unknown key; the keys here are {listing(keys, limit=12)}"


def _keys_at(model: type[BaseModel], path: list[Any]) -> list[str]:
    """The keys the section at ``path`` takes (their names as written), or [] when the path
    goes through something other than sections (a ``dict`` of sections, such as
    ``guards.accuracy``, is passed through by its own keys)."""
    current: Any = model
    parts = list(path)
    while parts:
        field = (_section(current) or {}).get(str(parts.pop(0)))
        if field is None:
            return []
        current = _unwrapped(field.annotation)
        if typing.get_origin(current) is dict:  # the next part is a key of the user's
            if not parts:
                return []
            parts.pop(0)
            current = _unwrapped(typing.get_args(current)[1])
    return sorted(_section(current) or {})


def _section(cls: Any) -> dict[str, Any] | None:
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return None
    return {f.alias or name: f for name, f in cls.model_fields.items()}


def _unwrapped(annotation: Any) -> Any:
    """``X`` of ``X``, ``X | None``, ``Optional[X]``, ``Annotated[X, ...]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrapped(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrapped(kept[0]) if len(kept) == 1 else None
    return annotation
