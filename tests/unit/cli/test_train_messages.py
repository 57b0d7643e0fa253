"""What `trainlab train` prints when a run fails."""

from __future__ import annotations

from trainlab.cli.train import _where_failed
from trainlab.exceptions import ServiceUnavailable


def test_a_run_failed_by_an_unreachable_server_says_how_to_continue_it() -> None:
    down = ServiceUnavailable("Cannot reach the tracking server at http://t:5000 (tried for 60 s).")
    hint = _where_failed(down, "abc123", "http://t:5000")
    assert hint == (
        "run abc123 ended FAILED; once the server answers again, continue it from its last "
        "checkpoint: trainlab train --resume abc123 --tracking-uri http://t:5000"
    )
