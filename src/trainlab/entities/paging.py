from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from trainlab.exceptions import InvalidParameterValue
from trainlab.validation import INT64_MAX

T = TypeVar("T")


@dataclass(frozen=True)
class PagedList(Generic[T]):
    """One page of results and the opaque token for the next one (None on the last page)."""

    items: Sequence[T] = field(default_factory=list)
    next_page_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


def every_page(fetch: Callable[[str | None], PagedList[T]]) -> Iterator[T]:
    """The items of every page: ``fetch(token)`` reads the page a token (None: the first)
    names."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.next_page_token
        if not token:
            return


def search_key(*parts: object) -> str:
    """A short digest of a search's arguments, so that a page token can be tied to them."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page_token(offset: int, search: str | None = None) -> str:
    """MLflow's token format: base64 of ``{"offset": N}``, with the ``search_key`` of the
    search it continues when given."""
    payload: dict[str, object] = {"offset": offset}
    if search is not None:
        payload["search"] = search
    return base64.b64encode(json.dumps(payload).encode()).decode()


def decode_page_token(token: str | None, search: str | None = None) -> int:
    """Offset encoded in ``token``; 0 for no token. A bad token is a 400 naming the field, and
    so is, with ``search``, a token of another search (its next page would be another's)."""
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidParameterValue(
            f"Invalid page token {token!r} for parameter 'page_token': could not base64-decode "
            "it. Pass the next_page_token of a previous response unchanged."
        ) from None
    offset = payload.get("offset") if isinstance(payload, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= INT64_MAX:
        raise InvalidParameterValue(
            f"Invalid page token {token!r} for parameter 'page_token': it holds no valid offset."
        )
    if search is not None and payload.get("search") != search:
        raise InvalidParameterValue(
            f"Invalid page token {token!r} for parameter 'page_token': it continues another "
            "search (other experiment_ids, filter, order_by or datasets). Pass the same "
            "arguments as the search that returned it, or no token for the first page."
        )
    return offset
