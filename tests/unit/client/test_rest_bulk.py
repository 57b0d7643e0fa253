"""What the REST store sends to a server's bulk log-batch follows the server's own server-info:
columns and 50,000 points to this release, MLflow's list to older trainlab servers and none of
it to other servers."""

from __future__ import annotations

from typing import Any

import pytest

from trainlab.client.rest import NO_BULK, BulkLogBatch


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({}, NO_BULK),
        ({"store_type": "SqlStore"}, NO_BULK),  # MLflow's own server
        ({"server": "trainlab", "version": "0.0.9"}, BulkLogBatch(10_000, False)),
        (
            {
                "server": "trainlab",
                "trainlab_log_batch": {"max_metrics": 50_000, "metric_columns": True},
            },
            BulkLogBatch(50_000, True),
        ),
    ],
)
def test_the_bulk_log_batch_is_what_server_info_says(
    info: dict[str, Any], expected: BulkLogBatch
) -> None:
    assert BulkLogBatch.of(info) == expected
    assert (NO_BULK.max_metrics, NO_BULK.metric_columns) == (1000, False)
