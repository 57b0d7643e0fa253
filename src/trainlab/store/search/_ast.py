"""The filter AST: small frozen dataclasses produced by the parser, consumed by the compiler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Kind: TypeAlias = Literal["metric", "param", "tag", "attribute", "dataset"]
"""Canonical entity type of an identifier (aliases such as ``metrics.`` map onto these)."""

Value: TypeAlias = str | int | float
"""A literal: ``str`` for quoted strings, ``int``/``float`` for unquoted numbers."""

# Canonical comparator spellings, in the order error messages list them.
OPERATORS: tuple[str, ...] = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
)


_QUOTED_MAX = 200


def quote(text: str) -> str:
    """Quote user text for a message like repr() would, but leave backslashes alone; a long
    text is cut to its start and end."""
    if len(text) > _QUOTED_MAX:
        half = _QUOTED_MAX // 2
        text = f"{text[:half]}...{text[-half:]}"
    return f'"{text}"' if "'" in text and '"' not in text else f"'{text}'"


@dataclass(frozen=True)
class Comparison:
    """``<kind>.<key> <op> <value>``; ``value`` is a tuple for IN/NOT IN and None for IS [NOT] NULL.

    ``text`` is the clause as written (for error messages) and does not take part in equality.
    """

    kind: Kind
    key: str
    op: str
    value: Value | tuple[Value, ...] | None = None
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node: TypeAlias = Comparison | And | Or


@dataclass(frozen=True)
class OrderBy:
    """One ``order_by`` clause: ``<kind>.<key> [ASC|DESC]``."""

    kind: Kind
    key: str
    ascending: bool = True
    text: str = field(default="", compare=False)
