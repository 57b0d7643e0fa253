"""The web UI in a real browser: Debian's chromium driven by Playwright, against a real
``trainlab server`` on data made the way users make it (the README's main job in the embedded
store, then served) plus a synthetic experiment logged through the server. Every test saves a
screenshot of what it saw under ``$TRAINLAB_SCREENSHOTS`` (default: ``test-screenshots/``)."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import ServerProcess

CHROMIUM = "/usr/bin/chromium"
QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart.py"
SCREENSHOTS = Path(os.environ.get("TRAINLAB_SCREENSHOTS", "test-screenshots"))
SPIKE_STEP, SPIKE_VALUE, LONG_POINTS = 12_345, 100.0, 20_000
BIG_LINES = 250_000  # a 3 MB log: too large to preview whole


@dataclass
class Seeded:
    url: str
    sweep_id: str  # synthetic experiment: 120 runs
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> params/metrics/id
    spiky_id: str = ""
    files_id: str = ""
    wine_id: str = ""  # the quickstart's experiment
    model_id: str = ""  # the model the files run logged


def _seed_sweep(url: str) -> Seeded:
    import trainlab

    seeded = Seeded(url, "")
    models = ["ridge", "forest", "boosting"]
    for i in range(120):
        params = {"lr": round(0.001 * (i + 1), 4), "depth": 2 + i % 7, "model": models[i % 3]}
        acc = round(0.5 + 0.4 * math.sin(i) ** 2, 6)
        with trainlab.start_run(
            experiment="ui-sweep",
            run_name=f"sweep-{i:03d}",
            tracking_uri=url,
            tags={"team": "red" if i % 2 else "blue"},
        ) as run:
            run.log_params(params)
            for step in range(20):
                run.log_metrics({"loss": 1.0 / (1 + step * params["lr"] * 10)}, step=step)
            run.log_metrics({"acc": acc}, step=19)
            seeded.runs[f"sweep-{i:03d}"] = {"id": run.run_id, "acc": acc, **params}
            seeded.sweep_id = run.info.experiment_id
    with trainlab.start_run(experiment="ui-sweep", run_name="spiky", tracking_uri=url) as run:
        for start in range(0, LONG_POINTS, 1000):
            for step in range(start, start + 1000):
                value = SPIKE_VALUE if step == SPIKE_STEP else 1.0 + math.sin(step / 500) / 10
                run.log_metrics({"signal": value}, step=step)
        seeded.spiky_id = run.run_id
    with trainlab.start_run(experiment="ui-files", run_name="with-files", tracking_uri=url) as run:
        run.log_text("hello from trainlab\nsecond line\n", "notes.txt")
        run.log_dict({"optimizer": {"name": "adam", "lr": 0.003}}, "config.json")
        run.log_text("model:\n  depth: 4\n", "params.yaml")
        run.log_text('fold,score\n0,0.91\n1,"0.87"\n', "eval/table.csv")
        png = Path(run.run_id + ".png")
        _write_png(png)
        run.log_artifact(png, "plots")
        png.unlink()
        run.log_text("".join(f"line {i:07d}\n" for i in range(BIG_LINES)), "big.log")
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        seeded.model_id = trainlab.log_model(model, "clf").model_id
        seeded.files_id = run.run_id
    return seeded


def _write_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 1, 3])
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp("ui")
    env = {**os.environ, "TRAINLAB_SPOOL_DIR": str(root / "spool"), "COLUMNS": "200"}
    for key in ("TRAINLAB_TRACKING_URI", "TRAINLAB_ARTIFACTS_DIR", "TRAINLAB_EXPERIMENT"):
        env.pop(key, None)
    subprocess.run(
        [sys.executable, str(QUICKSTART), "--trials", "8"],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=600,
        check=True,
    )
    db = f"sqlite:///{root}/trainlab.db"
    with ServerProcess(db, root / "trainlab-artifacts") as server:
        seeded = _seed_sweep(server.url)
        found = httpx.get(
            f"{server.url}/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": "wine-quickstart"},
        ).json()
        seeded.wine_id = found["experiment"]["experiment_id"]
        yield seeded


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, seeded: Seeded, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; fails the test on any script error, and saves a screenshot at the end."""
    # The harness's wait_for_function evaluates strings, which the UI's CSP forbids; one test
    # (test_views_keep_to_the_content_security_policy) runs every view under the CSP.
    strict = request.node.get_closest_marker("csp") is not None
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=seeded.url, bypass_csp=not strict
    )
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
    if request.node.get_closest_marker("bad_requests"):  # the test sends invalid requests
        errors = [e for e in errors if not re.search(r"status of 40[04]\b", e)]
    assert not errors, f"the page reported errors: {errors}"


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
