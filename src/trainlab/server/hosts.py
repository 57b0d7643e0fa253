"""Which host names the server answers to (the ``Host`` header): protection from DNS rebinding.

A web page on another site can point its own host name at this server's address (a DNS record
that changes after the page loaded), and its scripts then read and write the API as if it were
their own site: the browser sends the attacker's name in ``Host``. The server answers only to
names it knows are its own: any IP address (a page cannot take one as its origin), ``localhost``,
this machine's host name, the name it listens on, and what ``--allowed-hosts`` adds.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from trainlab.exceptions import InvalidParameterValue
from trainlab.server.wire import JSONResponse

# Probes of load balancers and orchestrators name the server in many ways; these say nothing.
_UNCHECKED_PATHS = frozenset({"/health", "/version"})
_CACHE_SIZE = 256


def parse_allowed_hosts(text: str) -> tuple[str, ...]:
    """``--allowed-hosts``: comma-separated host names or patterns (``*.example.com``; ``*``
    answers every name), without ports."""
    patterns = tuple(p.strip().lower().rstrip(".") for p in text.split(",") if p.strip())
    for pattern in patterns:
        if ":" in pattern or "/" in pattern:
            raise InvalidParameterValue(
                f"--allowed-hosts {pattern!r}: give host names without a scheme or a port "
                "(trainlab.example.com, *.example.com); IP addresses are always answered."
            )
    return patterns


def host_name(header: str) -> str:
    """The name of a ``Host`` header: lower case, without its port or a final dot."""
    header = header.strip().lower()
    if header.startswith("["):  # an IPv6 address, [::1]:5000
        return header[1 : header.find("]")] if "]" in header else header
    name, colon, port = header.rpartition(":")
    if colon and port.isdigit():
        header = name
    return header.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """Says whether a ``Host`` header names this server."""

    def __init__(self, patterns: Iterable[str] = (), own_names: Iterable[str] = ()) -> None:
        self.patterns = tuple(patterns)
        self.own = {n.lower().rstrip(".") for n in own_names if n}
        self.any = "*" in self.patterns
        self._seen: dict[str, bool] = {}

    @classmethod
    def for_server(cls, allowed: str, listen_host: str) -> AllowedHosts:
        machine = socket.gethostname()
        own = {machine, machine.split(".")[0]}
        if not _is_address(host_name(listen_host)):
            own.add(host_name(listen_host))
        return cls(parse_allowed_hosts(allowed), own)

    def __call__(self, header: str) -> bool:
        known = self._seen.get(header)
        if known is None:
            known = self._decide(host_name(header))
            if len(self._seen) < _CACHE_SIZE:
                self._seen[header] = known
        return known

    def _decide(self, name: str) -> bool:
        if self.any or _is_address(name) or name in self.own:
            return True
        if name == "localhost" or name.endswith(".localhost"):  # loopback by RFC 6761
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


def _refusal(header: str) -> str:
    name = host_name(header)
    return (
        f"This server does not answer to the host name {name!r} (the request's Host header). "
        f"If that is this server's name, start it with --allowed-hosts {name} (or set "
        "TRAINLAB_ALLOWED_HOSTS); the check keeps web pages of other sites from reaching the "
        "server through a name of their own (DNS rebinding)."
    )


class HostCheckMiddleware:
    """Refuses (403) an HTTP request whose ``Host`` header names another host."""

    def __init__(self, app: ASGIApp, allowed: AllowedHosts) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.allowed.any or scope["path"] in _UNCHECKED_PATHS:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"host"), None)
        if header is None or self.allowed(header.decode("latin-1")):  # no Host: not a browser
            await self.app(scope, receive, send)
            return
        body = {"error_code": "PERMISSION_DENIED", "message": _refusal(header.decode("latin-1"))}
        await JSONResponse(body, status_code=403)(scope, receive, send)
