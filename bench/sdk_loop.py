"""trainlab SDK end-to-end loop, run in a subprocess by bench/run.py.

    python bench/sdk_loop.py --uri http://127.0.0.1:PORT --points N

Logs N points of "loss" in one `trainlab.start_run` block and prints one JSON line:
{"points": N, "seconds": S, "median_call_ns": M, "p99_call_ns": P} where S covers the whole
`with` block (run creation, the loop and the final flush at run end), or {"error": "..."}
when the SDK is missing or fails.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from array import array

EXPERIMENT = "bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="trainlab SDK logging loop")
    parser.add_argument("--uri", required=True)
    parser.add_argument("--points", type=int, required=True)
    return parser.parse_args()


def load_sdk():  # noqa: ANN201 - the module is optional
    import trainlab

    missing = [name for name in ("start_run", "log_metric") if not hasattr(trainlab, name)]
    if missing:
        raise ImportError(f"trainlab SDK lacks {', '.join(missing)}")
    return trainlab


def run_loop(sdk, uri: str, points: int) -> dict[str, float]:  # noqa: ANN001
    call_ns = array("q", bytes(8 * points))
    log_metric = sdk.log_metric
    perf_ns = time.perf_counter_ns
    started = time.perf_counter()
    with sdk.start_run(experiment=EXPERIMENT, tracking_uri=uri):
        for step in range(points):
            value = 1.0 / (step + 1)
            t0 = perf_ns()
            log_metric("loss", value, step=step)
            call_ns[step] = perf_ns() - t0
    seconds = time.perf_counter() - started
    ordered = sorted(call_ns)
    return {
        "points": points,
        "seconds": seconds,
        "median_call_ns": ordered[len(ordered) // 2],
        "p99_call_ns": ordered[int(len(ordered) * 0.99)],
    }


def main() -> None:
    args = parse_args()
    try:
        sdk = load_sdk()
    except Exception as exc:  # ImportError, or anything the package raises at import
        print(json.dumps({"error": f"SDK unavailable: {exc!r}"}))
        return
    try:
        result = run_loop(sdk, args.uri, args.points)
    except Exception as exc:
        traceback.print_exc()
        print(json.dumps({"error": f"SDK loop failed: {exc!r}"}))
        return
    print(json.dumps(result))


if __name__ == "__main__":
    main()
