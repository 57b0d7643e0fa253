"""Tracking URIs in messages and logs never show a password."""

from __future__ import annotations

import pytest

from trainlab.client.resolve import redacted
from trainlab.client.rest import RestTrackingStore
from trainlab.exceptions import ServiceUnavailable


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("http://alice:s3cret@host:5000/x", "http://alice:***@host:5000/x"),
        ("postgresql://app:pw@10.0.0.1:5432/db", "postgresql://app:***@10.0.0.1:5432/db"),
        ("postgresql://app@db/track", "postgresql://app@db/track"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("sqlite:///trainlab.db", "sqlite:///trainlab.db"),
    ],
)
def test_passwords_are_masked(uri: str, shown: str) -> None:
    assert redacted(uri) == shown


def test_an_unreachable_server_is_named_without_its_password() -> None:
    store = RestTrackingStore("http://alice:s3cret@127.0.0.1:1", timeout=2, retry_seconds=0)
    with pytest.raises(ServiceUnavailable) as err:
        store.get_run("0" * 32)
    assert "alice:***@127.0.0.1:1" in err.value.message and "s3cret" not in err.value.message
    store.close()
