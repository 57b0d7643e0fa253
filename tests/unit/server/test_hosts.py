"""Which Host headers the server answers to."""

from __future__ import annotations

import socket

import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.server.hosts import AllowedHosts, host_name, parse_allowed_hosts


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.COM:5000", "example.com"),
        ("example.com.", "example.com"),
        ("[::1]:5000", "::1"),
        ("[fe80::1]", "fe80::1"),
        ("10.0.0.5", "10.0.0.5"),
        ("host:port", "host:port"),  # not a port: kept, and no pattern matches it
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    "header",
    [
        "127.0.0.1:5000",
        "10.1.2.3",
        "203.0.113.9:80",
        "[::1]:5000",
        "[2001:db8::1]",
        "localhost",
        "LOCALHOST:5000",
        "app.localhost",
        "team.example.com",
        "a.corp.example:443",
    ],
)
def test_answered(header: str) -> None:
    assert AllowedHosts(parse_allowed_hosts("team.example.com, *.corp.example"))(header)


@pytest.mark.parametrize(
    "header",
    [
        "evil.example",
        "evil.example:5000",
        "team.example.com.evil.example",
        "corp.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "",
        "[::1",
    ],
)
def test_refused(header: str) -> None:
    assert not AllowedHosts(parse_allowed_hosts("team.example.com, *.corp.example"))(header)


def test_a_star_answers_every_name() -> None:
    assert AllowedHosts(parse_allowed_hosts("*"))("anything.example")


def test_the_machines_name_and_the_name_it_listens_on_are_its_own() -> None:
    allowed = AllowedHosts.for_server("", "trainlab.internal")
    assert allowed(socket.gethostname()) and allowed("trainlab.internal:5000")
    assert not allowed("other.internal")
    assert not AllowedHosts.for_server("", "0.0.0.0")("other.internal")


@pytest.mark.parametrize("text", ["x.org:80", "http://x.org", "a,b:1"])
def test_patterns_take_no_scheme_or_port(text: str) -> None:
    with pytest.raises(InvalidParameterValue, match="without a scheme or a port"):
        parse_allowed_hosts(text)


def test_patterns_are_trimmed_and_lower_cased() -> None:
    assert parse_allowed_hosts(" A.example. ,, *.B.example ") == ("a.example", "*.b.example")
