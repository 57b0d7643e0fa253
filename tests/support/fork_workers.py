"""Run by tests/integration/test_sdk_fork.py: a multiprocessing pool (fork) whose workers read
runs, log to their parent's run and start runs of their own; prints what the store holds."""

from __future__ import annotations

import json
import multiprocessing as mp
import warnings

import trainlab

known: list[str] = []  # runs made before the fork, read back by the workers


def work(i: int) -> tuple[int, str]:
    wrong = 0
    for j in range(30):
        run_id = known[j % len(known)]
        wrong += trainlab.get_run(run_id).info.run_id != run_id
    trainlab.log_metric(f"child_{i}", float(i))  # the parent's run, still active here
    with trainlab.start_run(
        experiment="fork", run_name=f"child-{i}", params={"i": i}, nested=True
    ) as run:
        trainlab.log_metric("loss", 1.0 / (i + 1))
    trainlab.flush()
    return wrong, run.run_id


def main() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)  # the fork of a multi-threaded process
    mp.set_start_method("fork")
    for n in range(4):
        with trainlab.start_run(experiment="fork", run_name=f"known-{n}") as r:
            known.append(r.run_id)
    trainlab.get_run(known[0])  # the parent has a connection open when it forks
    with trainlab.start_run(experiment="fork", run_name="parent") as parent:
        trainlab.log_metric("before", 1.0)
        with mp.Pool(3) as pool:
            results = pool.map(work, range(3))
    children = [trainlab.get_run(run_id) for _, run_id in results]
    summary = {
        "wrong": sum(w for w, _ in results),
        "parent_metrics": sorted(trainlab.get_run(parent.run_id).data.metrics),
        "children": [(c.info.status, c.data.params, sorted(c.data.metrics)) for c in children],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
