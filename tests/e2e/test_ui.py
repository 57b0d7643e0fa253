"""Each view of the web UI, in chromium, against a real server: the right values on screen, and
the interactions (filter, columns, sorting, paging, compare, zoom, previews) doing what they say."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from tests.e2e.conftest import LONG_POINTS, SPIKE_STEP, SPIKE_VALUE, Seeded

API = "/ajax-api/2.0"


def _api(seeded: Seeded, path: str, **params: Any) -> Any:
    r = httpx.get(seeded.url + API + path, params=params, timeout=30)
    r.raise_for_status()
    return r.json()


def _runs(seeded: Seeded, filter_string: str) -> list[dict[str, Any]]:
    """The quickstart experiment's runs matching a filter, over the API."""
    body = {"experiment_ids": [seeded.wine_id], "filter": filter_string}
    r = httpx.post(seeded.url + API + "/trainlab/ui/runs/table", json=body, timeout=30)
    r.raise_for_status()
    return list(r.json()["runs"])


def test_experiments_lists_run_counts_and_searches(page: Any, seeded: Seeded) -> None:
    page.goto("/")
    rows = page.locator("#experiments tbody tr")
    rows.filter(has_text="ui-sweep").wait_for()
    sweep = rows.filter(has_text="ui-sweep")
    assert sweep.locator("td").nth(1).inner_text() == "121"  # 120 runs and the spiky one
    wine = rows.filter(has_text="wine-quickstart").locator("td").nth(1).inner_text()
    found = _api(seeded, "/trainlab/ui/experiments")["experiments"]
    assert wine == str(
        next(e["runs"] for e in found if e["experiment"]["name"] == "wine-quickstart")
    )
    page.get_by_label("Search experiments").fill("wine")
    assert rows.count() == 1
    assert "wine-quickstart" in rows.first.inner_text()
    rows.first.locator("a").click()
    page.wait_for_url(f"**/experiments/{seeded.wine_id}")


def test_runs_table_pages_sorts_and_shows_values(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}")
    count = page.locator(".pager .count")
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    assert count.inner_text() == "1–100 of 121 runs"
    page.get_by_role("button", name="Next ›").click()
    page.wait_for_function("document.querySelector('.pager .count').textContent.startsWith('101')")
    assert count.inner_text() == "101–121 of 121 runs"
    assert page.locator("#runs tbody tr").count() == 21
    # sort by acc, highest first: the first row is the best run, with its value
    page.locator("#runs thead th", has_text="acc").click()
    page.wait_for_function("document.querySelector('.pager .count').textContent.startsWith('1–')")
    page.wait_for_url(re.compile(r"order=metrics"))
    if "▼" not in page.locator("#runs thead th", has_text="acc").inner_text():
        page.locator("#runs thead th", has_text="acc").click()
        page.wait_for_function("document.querySelector('#runs thead').textContent.includes('▼')")
    best = max(seeded.runs.items(), key=lambda kv: kv[1]["acc"])
    page.wait_for_function(
        "name => document.querySelector('#runs tbody tr a').textContent === name", arg=best[0]
    )
    first = page.locator("#runs tbody tr").first
    assert f"{best[1]['acc']:.5g}" in first.inner_text()


@pytest.mark.bad_requests
def test_filter_box_filters_and_explains_errors(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}")
    box = page.get_by_label("Filter runs")
    box.fill("params.model = 'forest' AND metrics.acc > 0.7")
    box.press("Enter")
    expected = [n for n, r in seeded.runs.items() if r["model"] == "forest" and r["acc"] > 0.7]
    page.wait_for_function(
        "n => document.querySelector('.pager .count').textContent.endsWith(`of ${n} runs`)",
        arg=len(expected),
    )
    shown = page.locator("#runs tbody td.name a").all_inner_texts()
    assert sorted(shown) == sorted(expected)
    assert parse_qs(urlparse(page.url).query)["filter"] == [
        "params.model = 'forest' AND metrics.acc > 0.7"
    ]
    # OR and parentheses, which MLflow's grammar lacks
    box.fill("(params.model = 'ridge' OR params.model = 'boosting') AND tags.team = 'red'")
    box.press("Enter")
    want = [n for n, r in seeded.runs.items() if r["model"] != "forest" and int(n[-3:]) % 2 == 1]
    page.wait_for_function(
        "n => document.querySelector('.pager .count').textContent.endsWith(`of ${n} runs`)",
        arg=len(want),
    )
    # a broken filter: the server's message, inline, and the runs stay as they were
    box.fill("metrics.acc >>> 1")
    box.press("Enter")
    error = page.locator(".filter-error")
    error.wait_for()
    assert "Invalid filter 'metrics.acc >>> 1': unexpected '>' at position 14" in error.inner_text()
    assert page.locator("#runs tbody tr").count() == len(want)


def test_column_chooser_adds_and_removes_columns(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}")
    head = page.locator("#runs thead")
    head.filter(has_text="acc").wait_for()
    assert "team" not in head.inner_text()
    page.get_by_role("button", name=re.compile(r"^Columns")).click()
    chooser = page.get_by_role("dialog", name="Choose columns")
    chooser.get_by_label("team").check()
    page.wait_for_function("document.querySelector('#runs thead').textContent.includes('team')")
    chooser.get_by_label("depth").uncheck()
    page.wait_for_function("!document.querySelector('#runs thead').textContent.includes('depth')")
    cols = parse_qs(urlparse(page.url).query)["cols"][0].split(",")
    assert "t:team" in cols and "p:depth" not in cols
    # the cells follow: each row shows its run's team
    first = page.locator("#runs tbody tr", has_text="sweep-").first
    name = first.locator("td.name a").inner_text()
    assert first.locator("td").last.inner_text() == ("red" if int(name[-3:]) % 2 else "blue")
    # the link keeps the columns: opening it again shows the same table
    page.goto(page.url)
    head.filter(has_text="team").wait_for()
    assert "depth" not in head.inner_text()


def test_compare_shows_selected_runs(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}?filter=params.depth%20%3D%20%272%27")
    page.wait_for_function("document.querySelectorAll('#runs tbody tr').length > 3")
    names = page.locator("#runs tbody td.name a").all_inner_texts()[:3]
    for name in names:
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Compare 3 runs").click()
    page.wait_for_url("**/compare?runs=*")
    page.locator("#diff").wait_for()
    assert page.locator(".legend-row a").all_inner_texts() == names
    lr = page.locator("#diff tr[data-key='param:lr']")
    assert "differs" in (lr.get_attribute("class") or "")
    for name in names:
        assert str(seeded.runs[name]["lr"]) in lr.inner_text()
    depth = page.locator("#diff tr[data-key='param:depth']")
    assert "differs" not in (depth.get_attribute("class") or "")
    page.get_by_label("Metric", exact=True).select_option("loss")
    chart = page.locator("figure.chart[data-metric='loss']")
    chart.wait_for()
    page.wait_for_function(
        "document.querySelector(\"figure.chart[data-metric='loss']\").dataset.points > 0"
    )
    chart.locator(".u-legend").wait_for()  # the plot is built just after the data arrives
    assert chart.locator(".u-legend .u-series").count() == 4  # x plus one per run
    assert page.locator("svg.parallel path.run").count() == 3
    assert page.locator("svg.scatter circle").count() == 3


def test_run_page_downsamples_keeps_spikes_and_zoom_refetches(page: Any, seeded: Seeded) -> None:
    page.goto(f"/runs/{seeded.spiky_id}?tab=metrics")
    fig = page.locator("figure.chart[data-metric='signal']")
    fig.wait_for()
    page.wait_for_function(
        "document.querySelector(\"figure.chart[data-metric='signal']\").dataset.points > 0"
    )
    points = int(fig.get_attribute("data-points") or 0)
    assert 0 < points <= 1000 < LONG_POINTS
    assert float(fig.get_attribute("data-max") or 0) == SPIKE_VALUE  # the spike survives
    box = fig.locator(".u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    with page.expect_request(
        lambda r: "get-history-bulk-interval" in r.url and "start_step" in r.url
    ) as req:
        page.mouse.move(box["x"] + box["width"] * 0.40, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=5)
        page.mouse.up()
    q = parse_qs(urlparse(req.value.url).query)
    start, end = int(q["start_step"][0]), int(q["end_step"][0])
    assert 0 < start < end < LONG_POINTS and end - start < 2000
    assert not start <= SPIKE_STEP <= end  # the zoomed range is away from the spike...
    page.wait_for_function(
        "document.querySelector(\"figure.chart[data-metric='signal']\").dataset.zoomed !== ''"
    )
    page.wait_for_function(
        "n => document.querySelector(\"figure.chart[data-metric='signal']\").dataset.points == n",
        arg=end - start + 1,  # every point of the zoomed range: full resolution
    )
    assert float(fig.get_attribute("data-max") or 0) < SPIKE_VALUE  # ...so it is not drawn
    fig.get_by_role("button", name="Reset zoom").click()
    page.wait_for_function(
        "document.querySelector(\"figure.chart[data-metric='signal']\").dataset.zoomed === ''"
    )


def test_run_page_overview_and_lineage(page: Any, seeded: Seeded) -> None:
    run = _runs(seeded, "params.`model.flavor` = 'sklearn'")[0]
    run_id = run["info"]["run_id"]
    tags, metrics = run["tags"], run["metrics"]
    page.goto(f"/runs/{run_id}")
    page.locator("table.kv").first.wait_for()
    text = page.locator("main").inner_text()
    assert run["info"]["run_name"] in text
    assert f"{metrics['valid_accuracy']:.5g}" in text
    assert "model.n_estimators" in text
    page.get_by_role("tab", name="Lineage").click()
    page.locator(".lineage").wait_for()
    lineage = page.locator(".lineage")
    lineage.get_by_text(tags["trainlab.data.train.digest"]).wait_for()
    assert tags["trainlab.data.test.digest"] in lineage.inner_text()
    page.get_by_role("tab", name="System").click()
    page.get_by_text("system/cpu_utilization_percentage").first.wait_for()


def test_artifact_previews(page: Any, seeded: Seeded) -> None:
    page.goto(f"/runs/{seeded.files_id}?tab=artifacts")
    tree = page.get_by_label("Artifact files")
    tree.get_by_role("button", name=re.compile("^notes.txt")).click()
    preview = page.locator(".file-preview")
    preview.get_by_text("hello from trainlab").wait_for()
    tree.get_by_role("button", name=re.compile("^config.json")).click()
    page.wait_for_function(
        "document.querySelector('.file-preview pre')?.textContent.includes('adam')"
    )
    assert json.loads(preview.locator("pre").inner_text()) == {
        "optimizer": {"name": "adam", "lr": 0.003}
    }
    tree.get_by_role("button", name=re.compile("^params.yaml")).click()
    preview.get_by_text("depth: 4").wait_for()
    tree.get_by_role("button", name="▸ eval/").click()
    tree.get_by_role("button", name=re.compile("^table.csv")).click()
    preview.locator("table.csv").wait_for()
    assert preview.locator("table.csv thead").inner_text().split() == ["fold", "score"]
    assert preview.locator("table.csv tbody tr").nth(1).inner_text().split() == ["1", "0.87"]
    tree.get_by_role("button", name="▸ plots/").click()
    tree.get_by_role("button", name=re.compile(r"\.png")).click()
    img = preview.locator("img.artifact-image")
    img.wait_for()
    page.wait_for_function("document.querySelector('img.artifact-image').naturalWidth > 100")
    href = preview.get_by_role("link", name="Download").get_attribute("href")
    assert href is not None and httpx.get(seeded.url + href).content[:4] == b"\x89PNG"


def test_study_view(page: Any, seeded: Seeded) -> None:
    table = httpx.post(
        seeded.url + API + "/trainlab/ui/runs/table",
        json={
            "experiment_ids": [seeded.wine_id],
            "filter": "tags.`trainlab.study.role` = 'parent'",
        },
    ).json()
    study = table["runs"][0]["info"]["run_id"]
    trials = httpx.post(
        seeded.url + API + "/trainlab/ui/runs/table",
        json={
            "experiment_ids": [seeded.wine_id],
            "filter": f"tags.`mlflow.parentRunId` = '{study}'",
        },
    ).json()["runs"]
    states: dict[str, int] = {}
    for t in trials:
        s = t["tags"]["trainlab.trial.state"]
        states[s] = states.get(s, 0) + 1
    page.goto(f"/experiments/{seeded.wine_id}")
    page.get_by_role("link", name="study", exact=True).click()
    page.wait_for_url(f"**/studies/{study}")
    page.locator("#trials").wait_for()
    assert page.locator("#trials tbody tr").count() == len(trials) == 8
    cards = page.locator("#trial-states").inner_text()
    for s, n in states.items():
        assert f"{n}\n{s.lower()}" in cards or f"{n} {s.lower()}" in cards
    assert page.locator("svg.scatter circle").count() == states.get("COMPLETE", 0)
    assert page.locator("svg.parallel path.run").count() == states.get("COMPLETE", 0)
    assert page.locator("table.bars tr").count() == 3  # learning_rate, max_depth, subsample
    if states.get("PRUNED"):  # the pruned trials' intermediate values, one series each
        chart = page.locator("figure.chart[data-metric^='pruner/']")
        chart.locator(".u-legend").wait_for()
        assert chart.locator(".u-legend .u-series").count() == states["PRUNED"] + 1


def test_models_view_shows_versions_aliases_and_decisions(page: Any, seeded: Seeded) -> None:
    page.goto("/models")
    row = page.locator("#models tbody tr", has_text="wine")
    row.wait_for()
    assert "@champion → v1" in row.inner_text()
    row.get_by_role("link", name="wine").click()
    page.wait_for_url("**/models/wine")
    page.locator(".decision").wait_for()
    versions = _api(seeded, "/mlflow/model-versions/search", filter="name = 'wine'")
    run_id = versions["model_versions"][0]["run_id"]
    assert run_id[:12] in page.locator("#versions").inner_text()
    decision = page.locator(".decision").first
    gate = decision.get_attribute("data-run")
    evidence = httpx.get(
        seeded.url + "/get-artifact", params={"run_id": gate, "path": "gate/decision.json"}
    ).json()
    text = decision.inner_text()
    assert "PASS" in text
    for name, value in evidence["candidate_metrics"].items():
        assert name in text and f"{value:.5g}" in text
    for check in evidence["checks"]:
        assert check["name"] in text
    level = f"{evidence['policy']['confidence'] * 100:g}% CI"  # the policy's, not always 95%
    assert level in decision.locator("table.evidence thead").inner_text()
    log = page.locator("#alias-log").inner_text()
    assert "@champion" in log and "v1" in log and "promotion gate PASS" in log


def test_mlflow_ui_addresses_open_the_same_views(page: Any, seeded: Seeded) -> None:
    """The mlflow client prints links into MLflow's UI ("View run at .../#/experiments/1/runs/
    ID"); here they open the same views."""
    names = list(seeded.runs)[:2]
    ids = [seeded.runs[n]["id"] for n in names]
    cases = {
        f"/#/experiments/{seeded.sweep_id}/runs/{seeded.spiky_id}/model-metrics":
            f"/runs/{seeded.spiky_id}?tab=metrics",
        f"/#/experiments/{seeded.sweep_id}/runs/{ids[0]}": f"/runs/{ids[0]}",
        f"/#/experiments/{seeded.sweep_id}/runs": f"/experiments/{seeded.sweep_id}",
        "/#/models/wine/versions/1": "/models/wine",
        f'/#/compare-runs?runs=["{ids[0]}","{ids[1]}"]&experiments=["{seeded.sweep_id}"]':
            f"/compare?runs={ids[0]},{ids[1]}",
        "/#/prompts": "/",
    }  # fmt: skip
    for mlflow_address, address in cases.items():
        page.goto(mlflow_address)
        page.wait_for_function(
            "([want]) => location.pathname + location.search === want && !location.hash",
            arg=[address],
        )
        page.locator("main h1").first.wait_for()
    page.goto(f"/#/experiments/{seeded.sweep_id}/runs/{ids[0]}")
    page.get_by_text(names[0]).first.wait_for()


@pytest.mark.csp
def test_views_keep_to_the_content_security_policy(page: Any, seeded: Seeded) -> None:
    """Every view under the page's CSP (scripts from this server only, no eval): a violation
    is a console error, which fails the test."""
    study = _runs(seeded, "tags.`trainlab.study.role` = 'parent'")[0]["info"]["run_id"]
    ids = [r["id"] for r in list(seeded.runs.values())[:2]]
    views = [
        ("/", "#experiments tbody tr"),
        (f"/experiments/{seeded.sweep_id}", "#runs tbody tr"),
        (f"/runs/{seeded.spiky_id}?tab=metrics", "figure.chart .u-over"),
        (f"/runs/{seeded.files_id}?tab=artifacts", ".tree button"),
        (f"/compare?runs={','.join(ids)}", "svg.parallel path.run"),
        (f"/studies/{study}", "#trials tbody tr"),
        ("/models/wine", ".decision"),
    ]
    for path, ready in views:
        page.goto(path)
        page.locator(ready).first.wait_for()


def _post(seeded: Seeded, path: str, body: dict[str, Any]) -> Any:
    r = httpx.post(seeded.url + API + path, json=body, timeout=30)
    r.raise_for_status()
    return r.json()


def _edge_run(seeded: Seeded, experiment_id: str, name: str, batch: dict[str, Any]) -> str:
    run = _post(seeded, "/mlflow/runs/create", {"experiment_id": experiment_id, "run_name": name})
    run_id = str(run["run"]["info"]["run_id"])
    _post(seeded, "/mlflow/runs/log-batch", {"run_id": run_id, **batch})
    return run_id


@pytest.fixture(scope="module")
def edges(seeded: Seeded) -> dict[str, str]:
    """Runs at the edges of what the views draw: nothing logged, a NaN among numbers, a metric
    logged at negative steps only; and a registered model whose name needs quoting."""
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-edges"})["experiment_id"]
    ids = {"bare": _edge_run(seeded, exp, "bare", {})}
    for i, acc in enumerate([1, 9, 10, "NaN"]):
        metric = {"key": "acc", "value": acc, "timestamp": 1, "step": 0}
        batch = {"metrics": [metric], "params": [{"key": "lr", "value": str(i)}]}
        ids[f"acc{i}"] = _edge_run(seeded, exp, f"acc-{i}", batch)
    points = [{"key": "warmup", "value": s, "timestamp": 1, "step": s} for s in range(-50, 0)]
    ids["negative"] = _edge_run(seeded, exp, "negative", {"metrics": points})
    broken = [{"key": "broken", "value": "NaN", "timestamp": 1, "step": s} for s in range(1, 6)]
    ids["allnan"] = _edge_run(seeded, exp, "allnan", {"metrics": broken})
    ids["long"] = _edge_run(seeded, exp, "n" * 240, {})
    ids["experiment"] = exp
    _post(seeded, "/mlflow/registered-models/create", {"name": "it's a \\ model"})
    return ids


def test_compare_of_runs_with_nothing_logged(page: Any, edges: dict[str, str]) -> None:
    page.goto(f"/compare?runs={edges['bare']}")
    page.get_by_text("A scatter needs two params or metrics; these runs have 0.").wait_for()
    page.get_by_text("These runs have no metrics.").wait_for()


def test_parallel_axis_of_numbers_and_nan_stays_numeric(page: Any, edges: dict[str, str]) -> None:
    runs = ",".join(edges[f"acc{i}"] for i in range(4))
    page.goto(f"/compare?runs={runs}&axes=params.lr,metrics.acc")
    svg = page.locator("svg.parallel")
    svg.wait_for()
    ticks = (
        svg.locator("g")
        .nth(1)
        .locator("text.tick")
        .evaluate_all("ts => ts.map(t => t.textContent)")
    )
    assert ticks == ["1", "10"]  # from 1 to 10 on a linear scale, not the categories 1, 10, 9, NaN
    # the NaN run has no point on that axis: its line stops at lr (a dash there)
    lines = svg.locator("path.run").evaluate_all("ls => ls.map(l => l.getAttribute('d'))")
    assert sorted(d.count("M") + d.count("L") for d in lines) == [1, 2, 2, 2]


def test_a_run_without_a_value_on_an_axis_is_not_drawn_across_it(page: Any, seeded: Seeded) -> None:
    """A line from lr straight to depth would cross the acc axis where the run has no value,
    reading as one: it stops before acc and goes on after it. lr over 1e-4..0.1 is drawn on a
    log axis."""
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-gaps"})["experiment_id"]
    runs = [
        _edge_run(seeded, exp, name, {
            "params": [{"key": "lr", "value": lr}, {"key": "depth", "value": "3"}],
            "metrics": [{"key": "acc", "value": 0.9, "timestamp": 1, "step": 0}] if acc else [],
        })
        for name, lr, acc in (("with-acc", "0.0001", True), ("no-acc", "0.1", False))
    ]  # fmt: skip
    page.goto(f"/compare?runs={','.join(runs)}&axes=params.lr,metrics.acc,params.depth")
    svg = page.locator("svg.parallel")
    svg.wait_for()
    paths = svg.locator("path.run").evaluate_all("ls => ls.map(l => l.getAttribute('d'))")
    assert sorted((d.count("M"), d.count("L")) for d in paths) == [(1, 2), (2, 0)]
    titles = svg.locator("text.axis-title").evaluate_all("ts => ts.map(t => t.textContent)")
    assert titles[0].startswith("lr (log)")  # its <title> follows: the whole key


def test_one_valued_axes_and_the_experiments_name(page: Any, edges: dict[str, str]) -> None:
    """An axis whose runs share one value shows that value, not a made-up range around it;
    the breadcrumbs name the experiment."""
    runs = ",".join(edges[f"acc{i}"] for i in (1, 2))
    page.goto(f"/compare?runs={runs}&axes=params.lr,metrics.acc")
    page.locator("svg.parallel").wait_for()
    page.locator(".crumbs").get_by_text("ui-edges").wait_for()
    page.goto(f"/compare?runs={edges['acc1']},{edges['acc0']}&axes=params.lr,metrics.acc")
    svg = page.locator("svg.parallel")
    svg.wait_for()
    same = "ts => ts.map(t => t.textContent)"
    assert svg.locator("g").nth(0).locator("text.tick").evaluate_all(same) == ["0", "1"]
    page.goto(f"/compare?runs={edges['acc1']}&axes=params.lr,metrics.acc")
    one = page.locator("svg.parallel")
    one.wait_for()
    assert one.locator("g").nth(1).locator("text.tick").evaluate_all(same) == ["9"]


def test_metric_logged_at_negative_steps_is_charted(page: Any, edges: dict[str, str]) -> None:
    page.goto(f"/runs/{edges['negative']}?tab=metrics")
    page.locator("figure.chart[data-metric='warmup']").wait_for()
    assert page.get_by_text("Logged at step 0").count() == 0


def test_a_long_run_name_is_cut_not_the_table_widened(page: Any, edges: dict[str, str]) -> None:
    page.goto(f"/experiments/{edges['experiment']}")
    link = page.locator(f"#runs tbody a[href='/runs/{edges['long']}']")
    link.wait_for()
    assert link.get_attribute("title") == "n" * 240  # the whole name, on hover
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400  # the viewport's


def test_a_chart_of_nan_values_only_says_so(page: Any, edges: dict[str, str]) -> None:
    page.goto(f"/runs/{edges['allnan']}?tab=metrics")
    chart = page.locator("figure.chart[data-metric='broken']")
    chart.get_by_text("All 5 values shown are NaN or infinite: nothing to draw.").wait_for()


def test_model_page_of_a_name_with_quotes(page: Any, edges: dict[str, str]) -> None:
    page.goto("/models/it%27s%20a%20%5C%20model")
    page.locator("h1", has_text="it's a \\ model").wait_for()
    assert page.locator(".error").count() == 0


@pytest.mark.bad_requests
def test_malformed_address_still_renders(page: Any, seeded: Seeded) -> None:
    page.goto("/models/%E0%A4%A")  # a malformed escape: the page says so, with navigation
    page.get_by_text("Registered Model with name=%E0%A4%A not found").wait_for()
    assert page.locator("header.top nav a").count() == 2


def _columns(page: Any) -> list[str]:
    head = page.locator("#runs thead th[title]")
    return list(head.evaluate_all("ts => ts.map(t => t.title)"))


def test_default_columns_put_results_and_differences_first(page: Any, seeded: Seeded) -> None:
    """Runs as training and tuning log them: constant data params, a varying model, bookkeeping
    metrics (data overlap counts of 0, memory, iterations) and scores on each split."""
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-columns"})["experiment_id"]
    for i in range(4):
        params = {
            "data.source": "sklearn:wine",
            "data.target": "target",
            "train.seed": "7",
            "model.class": ["xgboost.XGBClassifier", "lightgbm.LGBMClassifier"][i % 2],
            "model.max_depth": str(2 + i),
            "train.lr": str(0.05 * (i + 1)),
        }
        metrics = {
            "data_overlap_train_test": 0,
            "data_overlap_valid_test": 0,
            "peak_memory_mb": 200 + 10 * i,
            "iterations": 50 + i,
            "training_time_s": 1.5 + i,
            "train_loss": 0.1 / (i + 1),
            "test_accuracy": 0.9,
            "roc_auc": 0.9 + 0.01 * i,
            "valid_f1_macro": 0.8 + 0.01 * i,
            "valid_logloss": 0.5 - 0.01 * i,
        }
        batch = {
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "metrics": [
                {"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()
            ],
        }
        _edge_run(seeded, exp, f"fit-{i}", batch)
    study = {
        "params": [
            {"key": "tune.metric", "value": "valid_logloss"},
            {"key": "tune.direction", "value": "minimize"},
        ],
        "tags": [{"key": "trainlab.study.role", "value": "parent"}],
    }
    _edge_run(seeded, exp, "study", study)
    page.goto(f"/experiments/{exp}")
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    assert _columns(page) == [
        "metrics.valid_logloss",  # the study's tune.metric
        "metrics.valid_f1_macro",  # scores that differ: validation, unprefixed, training
        "metrics.roc_auc",
        "metrics.train_loss",
        "metrics.test_accuracy",  # the same in every run
        "metrics.iterations",  # bookkeeping last; data overlap counts of 0 not at all
        "params.model.class",  # params that differ
        "params.model.max_depth",
        "params.train.lr",
        "params.data.source",  # then constant ones; the study's alone, not
        "params.data.target",
        "params.train.seed",
    ]
    # sorted by a metric from the start: that metric comes first too
    page.goto(f"/experiments/{exp}?order=metrics.%60train_loss%60%20ASC")
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    assert _columns(page)[:3] == [
        "metrics.valid_logloss",
        "metrics.train_loss",
        "metrics.valid_f1_macro",
    ]
    # the user's own choice wins
    page.goto(f"/experiments/{exp}?cols=p:data.source,m:peak_memory_mb")
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    assert _columns(page) == ["params.data.source", "metrics.peak_memory_mb"]


@pytest.mark.bad_requests
def test_missing_experiment_run_study_and_model_say_so(page: Any, seeded: Seeded) -> None:
    page.goto("/experiments/999")
    page.get_by_role("heading", name="Experiment not found").wait_for()
    assert "There is no experiment 999." in page.locator("main").inner_text()
    assert page.locator("#runs").count() == 0 and page.get_by_text("No runs match").count() == 0
    page.get_by_role("link", name="Back to experiments").click()
    page.wait_for_url(re.compile(r"/$"))
    page.locator("#experiments tbody tr").first.wait_for()

    page.goto("/experiments/abc")  # not an id at all: the same page, with the server's reason
    page.get_by_role("heading", name="Experiment not found").wait_for()
    assert "experiment IDs are integers" in page.locator("main").inner_text()

    missing = "0123456789abcdef0123456789abcdef"
    for path, heading, what in [
        (f"/runs/{missing}", "Run not found", f"There is no run {missing}."),
        (f"/studies/{missing}", "Study not found", f"There is no study {missing}."),
    ]:
        page.goto(path)
        page.get_by_role("heading", name=heading).wait_for()
        assert what in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Back to experiments").get_attribute("href") == "/"

    page.goto("/models/no-such-model")
    page.get_by_role("heading", name="Registered model not found").wait_for()
    assert "There is no registered model no-such-model." in page.locator("main").inner_text()
    page.get_by_role("link", name="Back to registered models").click()
    page.wait_for_url("**/models")
    page.locator("#models tbody tr").first.wait_for()


def _count(page: Any) -> str:
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    return str(page.locator(".pager .count").inner_text())


def test_the_page_lives_in_the_address_and_back_returns_to_it(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}")
    assert _count(page) == "1–100 of 121 runs"
    page.get_by_role("button", name="Last page").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.wait_for_function("document.querySelector('.pager .count').textContent.startsWith('101')")
    assert page.get_by_label("Page number").input_value() == "2"
    page.locator("#runs tbody td.name a").first.click()
    page.wait_for_url("**/runs/*")
    page.go_back()
    page.wait_for_function("document.querySelector('.pager .count').textContent.startsWith('101')")
    assert page.get_by_role("button", name="Next ›").is_disabled()
    page.get_by_label("Page number").fill("1")
    page.get_by_label("Page number").dispatch_event("change")
    page.wait_for_function("document.querySelector('.pager .count').textContent.startsWith('1–')")
    # a new filter is a step back can undo, and starts at page one
    page.get_by_label("Filter runs").fill("params.model = 'ridge'")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of 40')")
    page.go_back()
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of 121')")
    assert page.get_by_label("Filter runs").input_value() == ""


def test_no_columns_is_a_choice_and_selection_can_be_cleared(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.sweep_id}")
    page.locator("#runs thead").filter(has_text="acc").wait_for()
    page.get_by_role("button", name=re.compile(r"^Columns")).click()
    page.get_by_role("dialog", name="Choose columns").get_by_role("button", name="None").click()
    page.get_by_role("button", name="Columns (0)").wait_for()
    assert _columns(page) == []
    first = page.locator("#runs tbody td.name a").first.inner_text()
    page.get_by_label(f"Select {first}").check()
    compare = page.get_by_role("button", name="Compare runs")
    assert compare.is_disabled()  # one run is not a comparison: no "Compare 1 runs"
    page.locator(".selection").get_by_text("1 selected").wait_for()
    page.locator(".selection").get_by_role("button", name="clear").click()
    assert not page.get_by_label(f"Select {first}").is_checked()


@pytest.mark.bad_requests
def test_compare_keeps_the_runs_it_finds_and_colors_lines_as_runs(
    page: Any, seeded: Seeded
) -> None:
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-compare"})["experiment_id"]
    points = [{"key": "aardvark", "value": s, "timestamp": 1, "step": s} for s in range(5)]
    odd = _edge_run(seeded, exp, "odd-one", {"metrics": points})  # a curve no other run has
    names = ["sweep-001", "sweep-002", "sweep-003"]
    ids = [seeded.runs[n]["id"] for n in names]
    gone = "0123456789abcdef0123456789abcdef"
    page.goto(f"/compare?runs={','.join([*ids, odd, gone])}")
    page.locator("#diff").wait_for()
    assert page.locator(".legend-row a").all_inner_texts() == [*names, "odd-one"]
    assert f"Run {gone} is left out" in page.locator("[role=alert]").inner_text()
    swatches = page.locator(".legend-row .swatch").evaluate_all(
        "ss => ss.map(s => getComputedStyle(s).getPropertyValue('--c').trim())"
    )
    strokes = page.locator("svg.parallel path.run").evaluate_all(
        "ls => ls.map(l => l.getAttribute('stroke'))"
    )
    assert strokes == swatches
    # the curves open on a metric most of the runs have, not the first name
    assert page.get_by_label("Metric", exact=True).input_value() == "acc"


def test_a_run_shows_the_files_of_the_model_it_logged(page: Any, seeded: Seeded) -> None:
    page.goto(f"/runs/{seeded.files_id}?tab=artifacts")
    model = page.locator(f".model-files[data-model='{seeded.model_id}']")
    model.get_by_role("button", name=re.compile("^MLmodel")).click()
    preview = page.locator(".file-preview")
    preview.get_by_text("sklearn").first.wait_for()
    href = preview.get_by_role("link", name="Download").get_attribute("href")
    assert href is not None and b"flavors" in httpx.get(seeded.url + href).content
    # a text file too large to preview whole shows its start
    page.get_by_label("Artifact files").get_by_role("button", name=re.compile("^big.log")).click()
    preview.get_by_text("line 0000000").wait_for()
    assert "download it for the rest" in preview.inner_text()


@pytest.mark.bad_requests
def test_a_run_that_is_not_a_study_and_an_unknown_address_say_so(page: Any, seeded: Seeded) -> None:
    page.goto(f"/studies/{seeded.files_id}")
    page.get_by_role("heading", name="Not a tuning study").wait_for()
    page.goto("/nowhere")
    page.get_by_role("heading", name="Not found").wait_for()
    assert page.locator("header.top nav a").count() == 2


def test_wall_time_reads_as_the_tables_and_folded_runs_are_counted_so(
    page: Any, seeded: Seeded
) -> None:
    page.goto(f"/runs/{seeded.runs['sweep-001']['id']}?tab=metrics")
    page.get_by_label("X-axis").first.select_option("wall")
    chart = page.locator("figure.chart[data-metric='loss']")
    chart.locator(".u-over").hover()  # the legend shows the time under the cursor
    legend = chart.locator(".u-legend .u-series").first
    page.wait_for_function(
        "document.querySelector(\"figure.chart[data-metric='loss'] .u-legend .u-value\")"
        ".textContent.includes(':')"
    )
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", legend.inner_text())  # as tables
    page.goto(f"/experiments/{seeded.wine_id}")  # a tuning study: its trials folded under it
    page.wait_for_function("document.querySelector('.pager .count').textContent.includes('of')")
    assert "top-level runs (child runs folded under them)" in _count(page)


def test_a_deleted_run_says_so(page: Any, seeded: Seeded) -> None:
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-deleted"})["experiment_id"]
    run_id = _edge_run(seeded, exp, "gone", {})
    _post(seeded, "/mlflow/runs/delete", {"run_id": run_id})
    page.goto(f"/runs/{run_id}")
    page.get_by_text("This run is deleted: searches and the runs table leave it out.").wait_for()
    assert page.locator(".title-row .status").all_inner_texts()[-1] == "deleted"


def test_unfolded_trials_show_their_score_and_tuned_params(page: Any, seeded: Seeded) -> None:
    """The study's own columns (best_value) are empty on its trials: unfolding them adds the
    metric the study tuned on and the params it searched, a long float to 5 digits."""
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-trials"})["experiment_id"]
    study = _edge_run(seeded, exp, "study", {
        "params": [{"key": "tune.metric", "value": "valid_auc"}],
        "metrics": [{"key": "best_value", "value": 0.9, "timestamp": 1, "step": 0}],
        "tags": [{"key": "trainlab.study.role", "value": "parent"}],
    })  # fmt: skip
    for i, lr in enumerate(["0.03312677040518849", "0.1"]):
        _edge_run(seeded, exp, f"trial-{i}", {
            "params": [{"key": "lr", "value": lr}],
            "metrics": [{"key": "valid_auc", "value": 0.8 + i / 10, "timestamp": 1, "step": 0}],
            "tags": [{"key": "mlflow.parentRunId", "value": study}],
        })  # fmt: skip
    page.goto(f"/experiments/{exp}")
    page.locator("button.fold").click()
    page.locator("#runs tbody tr.child").nth(1).wait_for()
    assert _columns(page) == [
        "metrics.best_value",  # the study's own columns, then its trials'
        "params.tune.metric",
        "metrics.valid_auc",
        "params.lr",
    ]
    cell = page.locator("#runs tbody tr.child td[title='0.03312677040518849']")
    assert cell.inner_text() == "0.033127"


def test_an_empty_table_says_why(page: Any, seeded: Seeded, edges: dict[str, str]) -> None:
    empty = _post(seeded, "/mlflow/experiments/create", {"name": "ui-empty"})["experiment_id"]
    page.goto(f"/experiments/{empty}")
    page.get_by_text("This experiment has no runs.").wait_for()
    page.goto(
        f"/experiments/{edges['experiment']}?filter=metric.nope%20%3E%201%20and%20metrics.acc%20%3E%200"
    )
    page.get_by_text("No runs match. No run here has metric 'nope'.").wait_for()


def test_chart_settings_are_in_the_address(page: Any, seeded: Seeded) -> None:
    """A reload keeps them; on the compare page they do not touch the scatter's axes."""
    page.goto(f"/runs/{seeded.runs['sweep-001']['id']}?tab=metrics")
    page.get_by_label("X-axis").first.select_option("wall")
    page.get_by_label("Log scale").first.check()
    page.wait_for_url(re.compile(r"xaxis=wall.*log=1|log=1.*xaxis=wall"))
    page.reload()
    assert page.get_by_label("X-axis").first.input_value() == "wall"
    assert page.get_by_label("Log scale").first.is_checked()
    ids = [seeded.runs[n]["id"] for n in ("sweep-001", "sweep-002")]
    page.goto(f"/compare?runs={','.join(ids)}&x=params.lr")
    page.locator("svg.scatter").wait_for()
    page.get_by_label("X-axis").first.select_option("relative")
    page.wait_for_url(re.compile(r"xaxis=relative"))
    assert "x=params.lr" in page.url and page.locator("svg.scatter circle").count() == 2


def test_back_returns_to_the_tab_before(page: Any, seeded: Seeded) -> None:
    page.goto(f"/runs/{seeded.runs['sweep-001']['id']}")
    page.get_by_role("tab", name="Metrics").click()
    page.wait_for_url(re.compile(r"tab=metrics"))
    page.get_by_role("tab", name="Artifacts").click()
    page.wait_for_url(re.compile(r"tab=artifacts"))
    page.go_back()
    page.wait_for_url(re.compile(r"tab=metrics"))
    assert page.get_by_role("tab", name="Metrics").get_attribute("aria-selected") == "true"


def _run_with_tags(seeded: Seeded, experiment_id: str, name: str, tags: dict[str, str]) -> str:
    body = {
        "experiment_id": experiment_id,
        "run_name": name,
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
    }
    return str(_post(seeded, "/mlflow/runs/create", body)["run"]["info"]["run_id"])


def test_nested_runs_fold_at_every_level_and_orphans_are_rows(page: Any, seeded: Seeded) -> None:
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-nested"})["experiment_id"]
    parent = "mlflow.parentRunId"
    top = _run_with_tags(seeded, exp, "top", {})
    child = _run_with_tags(seeded, exp, "child", {parent: top})
    _run_with_tags(seeded, exp, "grandchild", {parent: child})
    doomed = _run_with_tags(seeded, exp, "doomed", {})
    _run_with_tags(seeded, exp, "survivor", {parent: doomed})
    _post(seeded, "/mlflow/runs/delete", {"run_id": doomed})
    page.goto(f"/experiments/{exp}")
    names = "#runs tbody a.run-name"
    page.wait_for_function(f"document.querySelectorAll('{names}').length === 2")
    assert sorted(page.locator(names).all_inner_texts()) == ["survivor", "top"]
    page.locator(f"tr[data-run='{top}'] button.fold").click()
    page.locator(f"tr[data-run='{child}'] button.fold").click()
    page.locator("#runs tbody a.run-name", has_text="grandchild").wait_for()
    assert page.locator(names).all_inner_texts() == ["survivor", "top", "child", "grandchild"]


def test_a_deleted_experiment_says_so(page: Any, seeded: Seeded) -> None:
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-gone"})["experiment_id"]
    _post(seeded, "/mlflow/experiments/delete", {"experiment_id": exp})
    page.goto(f"/experiments/{exp}")
    page.get_by_text("This experiment is deleted, and its runs with it").wait_for()
    assert page.locator(".title-row .status").inner_text() == "deleted"


def test_a_run_given_twice_is_compared_once(page: Any, edges: dict[str, str]) -> None:
    page.goto(f"/compare?runs={edges['acc1']},{edges['acc1']},{edges['acc2']}")
    page.get_by_role("heading", name="Compare 2 runs").wait_for()


def test_non_finite_values_break_the_line_and_say_so(page: Any, seeded: Seeded) -> None:
    exp = _post(seeded, "/mlflow/experiments/create", {"name": "ui-inf"})["experiment_id"]
    values = [1, "Infinity", 2, "NaN", 3, "-Infinity"]
    points = [{"key": "mixed", "value": v, "timestamp": 1, "step": s} for s, v in enumerate(values)]
    run_id = _edge_run(seeded, exp, "mixed", {"metrics": points})
    page.goto(f"/runs/{run_id}?tab=metrics")
    chart = page.locator("figure.chart[data-metric='mixed']")
    chart.get_by_text(
        "3 of the 6 points shown are NaN or infinite: the line breaks there."
    ).wait_for()


def test_long_names_are_wrapped_or_cut_not_the_page_widened(page: Any, seeded: Seeded) -> None:
    name = "e" * 500
    exp = _post(seeded, "/mlflow/experiments/create", {"name": name})["experiment_id"]
    long_run = _edge_run(seeded, exp, "r" * 250, {
        "metrics": [{"key": "loss", "value": v, "timestamp": 1, "step": v} for v in range(3)],
        "tags": [{"key": "mlflow.note.content", "value": "Baseline.\nSecond line <b>kept</b>."}],
    })  # fmt: skip
    one = {"key": "loss", "value": 1, "timestamp": 1, "step": 0}
    other = _edge_run(seeded, exp, "other", {"metrics": [one]})
    width = "document.documentElement.scrollWidth"
    for address in ("/", f"/runs/{long_run}?tab=metrics", f"/compare?runs={long_run},{other}"):
        page.goto(address)
        page.locator("#experiments, figure.chart .u-legend").first.wait_for()
        assert page.evaluate(width) <= 1400, address
    page.goto(f"/runs/{long_run}")
    description = page.locator("p.description")
    assert description.inner_text() == "Baseline.\nSecond line <b>kept</b>."  # text, not markup
