"""Lists in messages: what the CLI, the gate and the checks of a pipeline name."""

from __future__ import annotations

from collections.abc import Sequence

LISTED = 6  # items a message names before "and N more"


def listing(items: Sequence[str], limit: int = LISTED, sep: str = ", ") -> str:
    """``a, b, c``; past ``limit`` items (and one more) ``a, b, ... and 7 more`` (``a; b; ...;
    and 7 more`` with ``sep="; "``)."""
    if len(items) <= limit + 1:
        return sep.join(items)
    more = f"and {len(items) - limit} more"
    return f"{sep.join(items[:limit])}{' ' if sep == ', ' else sep}{more}"
