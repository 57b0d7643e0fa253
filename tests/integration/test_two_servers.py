"""Two `trainlab server` processes on one PostgreSQL database, written to concurrently through
both: everything written is visible through both, nothing is lost or duplicated."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.server import ServerProcess

from trainlab.client.rest import RestTrackingStore
from trainlab.entities import Metric, Param, RunTag
from trainlab.exceptions import ResourceAlreadyExists

pytestmark = pytest.mark.postgres

THREADS_PER_SERVER = 3
RUNS_PER_THREAD = 4
BATCHES_PER_RUN = 3
POINTS_PER_BATCH = 200


@pytest.fixture
def servers(postgres_uri: str, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    procs = [ServerProcess(postgres_uri, tmp_path / f"artifacts{i}") for i in range(2)]
    for p in procs:  # both migrate the new database at once: the advisory lock serialises them
        p.launch()
    try:
        yield [p.wait_ready() for p in procs]
    finally:
        for p in procs:
            p.stop()


def _writer(url: str, exp_id: str, shared_run: str, tag: str, errors: list[BaseException]) -> None:
    store = RestTrackingStore(url)
    try:
        for r in range(RUNS_PER_THREAD):
            run_id = store.create_run(exp_id, run_name=f"{tag}-{r}").info.run_id
            for b in range(BATCHES_PER_RUN):
                base = b * POINTS_PER_BATCH
                metrics = [
                    Metric("m", float(i), 1000 + i, i) for i in range(base, base + POINTS_PER_BATCH)
                ]
                store.log_batch(run_id, metrics, [Param(f"p{b}", tag)], [RunTag("writer", tag)])
            # every writer also appends its own key to one shared run
            store.log_batch(shared_run, [Metric(f"w-{tag}", float(r), 1, r)])
    except BaseException as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)
    finally:
        store.close()


def test_concurrent_writes_through_two_servers(servers: list[ServerProcess]) -> None:
    stores = [RestTrackingStore(s.url) for s in servers]
    exp_id = stores[0].create_experiment(f"two-{uuid.uuid4().hex[:6]}")
    shared = stores[1].create_run(exp_id, run_name="shared").info.run_id
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(s.url, exp_id, shared, f"s{i}t{t}", errors))
        for i, s in enumerate(servers)
        for t in range(THREADS_PER_SERVER)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    n_writers = 2 * THREADS_PER_SERVER
    for store in stores:
        runs = store.search_runs([exp_id], max_results=1000)
        assert len(runs) == n_writers * RUNS_PER_THREAD + 1
        for run in runs:
            if run.info.run_name == "shared":
                assert len(run.data.metrics) == n_writers
                continue
            writer = run.info.run_name.rsplit("-", 1)[0]
            assert run.data.params == {f"p{b}": writer for b in range(BATCHES_PER_RUN)}
            assert run.data.tags["writer"] == writer
            steps = [m.step for m in store.get_metric_history(run.info.run_id, "m")]
            assert steps == list(range(BATCHES_PER_RUN * POINTS_PER_BATCH))
        for tag in (f"s{i}t{t}" for i in range(2) for t in range(THREADS_PER_SERVER)):
            history = store.get_metric_history(shared, f"w-{tag}")
            assert [m.step for m in history] == list(range(RUNS_PER_THREAD))
    for s in stores:
        s.close()


def test_same_experiment_name_created_through_both(servers: list[ServerProcess]) -> None:
    name = f"race-{uuid.uuid4().hex[:6]}"
    outcomes: list[str] = []

    def create(url: str) -> None:
        store = RestTrackingStore(url)
        try:
            outcomes.append(store.create_experiment(name))
        except ResourceAlreadyExists:
            outcomes.append("exists")
        finally:
            store.close()

    threads = [threading.Thread(target=create, args=(s.url,)) for s in servers for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    created = [o for o in outcomes if o != "exists"]
    assert len(outcomes) == 6 and len(created) == 1
    for s in servers:
        store = RestTrackingStore(s.url)
        found = store.find_experiment_by_name(name)
        assert found is not None and found.experiment_id == created[0]
        store.close()
