"""Retries of the SDK's synchronous calls to a tracking server while it is briefly away.

A server restarting (a new release, a replica replaced, its database failing over) must not
fail the ``log_model`` at the end of a three-hour training run. A call is tried again, with
growing pauses, for up to ``TRAINLAB_HTTP_RETRY_SECONDS`` (default 60; 0 turns retries off)
when the server could not have acted on it: the connection was refused, or the server (or a
proxy before it) answered 429 or 503. A call that is safe to repeat (a read, an artifact
upload) is also tried again when the connection broke mid-way or a proxy answered 502/504.

The background logger does not retry here: it spools what it cannot deliver and retries the
spool itself."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from trainlab.exceptions import InvalidParameterValue, ServiceUnavailable

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("trainlab")

ENV_RETRY_SECONDS = "TRAINLAB_HTTP_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 60.0
FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 8.0
_NOT_ACTED_ON = {429, 503}  # the server says it did nothing: always worth another try
_PROXY_TROUBLE = {502, 504}  # a proxy lost the server: maybe mid-way, only repeat what is safe
TRANSIENT_STATUS = _NOT_ACTED_ON | _PROXY_TROUBLE

T = TypeVar("T")


def retry_seconds_from_env() -> float:
    raw = os.environ.get(ENV_RETRY_SECONDS, "").strip()
    if not raw:
        return DEFAULT_RETRY_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise InvalidParameterValue(
            f"{ENV_RETRY_SECONDS}={raw!r} is not a number of seconds >= 0 (0 turns retries "
            f"off; unset, calls are retried for {DEFAULT_RETRY_SECONDS:.0f} s)."
        )
    return seconds


class Unavailable(Exception):
    """An answer that means "not now" (429, 502, 503, 504), with the server's reason."""

    def __init__(self, status: int, reason: str, retry_after: float | None) -> None:
        super().__init__(status, reason)
        self.status, self.reason, self.retry_after = status, reason, retry_after


def check_available(response: httpx.Response) -> None:
    """Raise ``Unavailable`` for an answer that means "try again later"."""
    if response.status_code not in TRANSIENT_STATUS:
        return
    response.read()
    retry_after = response.headers.get("Retry-After", "")
    raise Unavailable(
        response.status_code,
        _reason(response),
        float(retry_after) if retry_after.isdigit() else None,
    )


def _reason(response: httpx.Response) -> str:
    """The server's message of an error answer (its JSON ``message``, else the start of its
    text), or ''."""
    try:
        payload: Any = response.json()
    except ValueError:
        return response.text[:300].strip()
    message = payload.get("message") if isinstance(payload, dict) else None
    return str(message).strip().rstrip(".") if message else ""


class Retrier:
    """Runs one call against the server at ``server`` (as shown to users), again while the
    server is away, for up to ``seconds``."""

    def __init__(self, server: str, seconds: float | None = None) -> None:
        self.server = server
        self.seconds = retry_seconds_from_env() if seconds is None else seconds

    def run(self, attempt: Callable[[], T], *, what: str, safe: bool) -> T:
        """``attempt()``'s result; ``what`` says what the call does ('uploading 'x''), ``safe``
        whether repeating it after a half-done try is harmless. Raises ServiceUnavailable when
        the server stays away."""
        import httpx

        started = time.monotonic()
        pause = FIRST_PAUSE_S
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except (httpx.TransportError, Unavailable) as exc:
                waited = time.monotonic() - started
                if isinstance(exc, Unavailable) and exc.retry_after is not None:
                    pause = max(pause, min(exc.retry_after, LONGEST_PAUSE_S))
                pause = min(pause, self.seconds - waited)  # a last try at the end of the window
                if not _worth_another_try(exc, safe) or pause <= 0:
                    raise self._gave_up(exc, what, waited) from None
                if tries == 1:  # once per call: the user knows why it waits
                    log.warning(
                        "trainlab: %s; trying again for up to %.0f s (%s sets how long)",
                        self._describe(exc, what),
                        self.seconds,
                        ENV_RETRY_SECONDS,
                    )
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_S)

    def _describe(self, exc: Exception, what: str) -> str:
        doing = f" {what}" if what else ""
        if isinstance(exc, Unavailable):
            reason = f": {exc.reason}" if exc.reason else ""
            return f"the tracking server at {self.server} answered {exc.status}{doing}{reason}"
        return f"cannot reach the tracking server at {self.server}{doing}: {exc or type(exc)}"

    def _gave_up(self, exc: Exception, what: str, waited: float) -> ServiceUnavailable:
        message = self._describe(exc, what)
        message = message[0].upper() + message[1:]
        if waited >= FIRST_PAUSE_S:
            message += f" (tried for {waited:.0f} s)"
        if not isinstance(exc, Unavailable):
            message += ". Is `trainlab server` running there?"
        return ServiceUnavailable(message if message.endswith("?") else message + ".")


def _worth_another_try(exc: Exception, safe: bool) -> bool:
    import httpx

    if isinstance(exc, Unavailable):
        return exc.status in _NOT_ACTED_ON or safe
    # Refused or timed out connecting: the request never reached the server.
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or safe
