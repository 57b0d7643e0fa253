"""trainlab's errors."""

from __future__ import annotations

import pickle

from trainlab.exceptions import RemoteError


def test_a_remote_error_crosses_process_boundaries() -> None:
    """multiprocessing pickles a worker's exception; one that cannot be rebuilt hangs the pool."""
    error = pickle.loads(pickle.dumps(RemoteError("UNAUTHENTICATED", "who are you?", 401)))
    assert (error.to_json(), error.http_status) == (
        {"error_code": "UNAUTHENTICATED", "message": "who are you?"},
        401,
    )
