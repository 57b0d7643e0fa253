"""Turn raw results into the comparison table (rich for the terminal, Markdown for RESULTS.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from .measures import CEILING_MEASURES, Sizes

Results = dict[str, dict[str, dict[str, Any]]]  # server key -> measure -> fields


@dataclass(frozen=True)
class Row:
    label: str
    unit: str
    measure: str
    field: str
    lower_is_better: bool
    target: str
    check: Callable[[float | None, float], bool]  # (reference, trainlab) -> pass
    ratio_word: str = "faster"  # for lower-is-better rows: "x faster" / "x smaller"
    trainlab_only: bool = False

    @property
    def needs_reference(self) -> bool:
        return getattr(self.check, "relative", False)


def at_most(limit: float) -> Callable[[float | None, float], bool]:
    return lambda _ref, tl: tl <= limit


def at_least(limit: float) -> Callable[[float | None, float], bool]:
    return lambda _ref, tl: tl >= limit


def relative(check: Callable[[float | None, float], bool]) -> Callable[[float | None, float], bool]:
    """Mark a check as comparing against the reference (no verdict without its value)."""
    check.relative = True  # type: ignore[attr-defined]
    return check


def ratio_at_least(factor: float, lower_is_better: bool) -> Callable[[float | None, float], bool]:
    @relative
    def check(ref: float | None, tl: float) -> bool:
        if ref is None:
            return False
        ratio = ref / tl if lower_is_better else tl / ref
        return ratio >= factor

    return check


@relative
def search_p50_check(ref: float | None, tl: float) -> bool:
    return ratio_at_least(10, True)(ref, tl) and tl <= 50


def rows_for(sizes: Sizes) -> list[Row]:
    return [
        Row("Server start to first /health 200", "s", "startup", "value", True, "<= 2 s",
            at_most(2.0)),
        Row("Idle RSS after startup (process tree)", "MB", "rss_startup", "value", True,
            "<= 150 MB", at_most(150), "smaller"),
        Row("Idle RSS after workload (process tree)", "MB", "rss_after", "value", True,
            "<= 150 MB", at_most(150), "smaller"),
        Row("Single log_metric", "calls/s", "log_metric", "value", False, ">= 20x",
            ratio_at_least(20, False)),
        Row(f"log_batch, {sizes.batch_size:,} metrics/call", "points/s", "log_batch", "value",
            False, ">= 20x", ratio_at_least(20, False)),
        Row(f"get_metric_history, {sizes.history_points:,} points", "s", "history", "value",
            True, ">= 20x faster", ratio_at_least(20, True)),
        Row(f"Runs created + logged ({sizes.params_per_run} params, {sizes.metrics_per_run} "
            "metrics)", "runs/s", "runs", "value", False, ">= 20x", ratio_at_least(20, False)),
        Row(f"search_runs over {sizes.search_runs:,} runs, p50", "ms", "search", "p50", True,
            ">= 10x faster, <= 50 ms", search_p50_check),
        Row(f"search_runs over {sizes.search_runs:,} runs, p95", "ms", "search", "p95", True,
            ">= 10x faster", ratio_at_least(10, True)),
        Row(f"search_runs, the same, with {sizes.search_experiments} such experiments in the "
            "database, p50", "ms", "search", "p50_many", True, ">= 10x faster",
            ratio_at_least(10, True)),
        Row(f"SDK end-to-end, {sizes.sdk_points:,} points", "points/s", "sdk", "points_per_s",
            False, ">= 200,000/s", at_least(200_000), trainlab_only=True),
        Row("SDK log_metric call, median", "us", "sdk", "median_us", True, "<= 5 us",
            at_most(5.0), trainlab_only=True),
        Row(f"Artifact upload, {sizes.artifact_rate_mb} MB file", "MB/s", "artifacts", "upload",
            False, ">= 2x", ratio_at_least(2, False)),
        Row(f"Artifact download, {sizes.artifact_rate_mb} MB file", "MB/s", "artifacts",
            "download", False, ">= 4x", ratio_at_least(4, False)),
        Row(f"Server RSS growth, {sizes.artifact_rss_mb:,} MB upload", "MB", "artifacts",
            "upload_rss", True, "< 50 MB", at_most(50), "smaller"),
        Row(f"Server RSS growth, {sizes.artifact_rss_mb:,} MB download", "MB", "artifacts",
            "download_rss", True, "< 50 MB", at_most(50), "smaller"),
        Row("Register a version + move an alias", "versions/s", "registry", "value", False,
            ">= 20x", ratio_at_least(20, False)),
    ]  # fmt: skip


def fmt_number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_ratio(ref: float, tl: float, row: Row) -> str:
    if ref <= 0 or tl <= 0:  # e.g. no RSS growth at all on one side
        return "-"
    if row.lower_is_better:
        ratio = ref / tl
        if ratio >= 1:
            return f"{ratio:.1f}x {row.ratio_word}"
        opposite = "slower" if row.ratio_word == "faster" else "larger"
        return f"{1 / ratio:.1f}x {opposite}"
    return f"{tl / ref:.1f}x"


def cell_value(results: Results, server: str, row: Row) -> tuple[float | None, str]:
    """(number or None, text shown) for one server's cell."""
    entry = results.get(server, {}).get(row.measure)
    if entry is None:
        return None, "n/a"
    if "error" in entry:
        return None, "error"
    if "unavailable" in entry:
        return None, "n/a"
    value = entry.get(row.field)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, "n/a"
    return float(value), fmt_number(float(value))


def ceiling_cell(results: Results, row: Row) -> str:
    """The canned-reply server's value and its ratio to the reference: the most any server
    could reach with the stock client on this machine."""
    ceiling, text = cell_value(results, "ceiling", row)
    ref, _ = cell_value(results, "reference", row)
    if ceiling is None or row.measure not in CEILING_MEASURES:
        return "—"
    return f"{text} ({fmt_ratio(ref, ceiling, row)})" if ref is not None else text


def table_rows(results: Results, sizes: Sizes, measures: set[str]) -> list[list[str]]:
    """[measure, unit, reference, trainlab, ratio, ceiling, target, result] per row."""
    out = []
    for row in rows_for(sizes):
        if row.measure not in measures:
            continue
        ref, ref_text = cell_value(results, "reference", row)
        tl, tl_text = cell_value(results, "trainlab", row)
        if row.trainlab_only:
            ref, ref_text = None, "—"
        ratio = fmt_ratio(ref, tl, row) if ref is not None and tl is not None else "—"
        verdict = "n/a"
        if tl is not None and (ref is not None or not row.needs_reference):
            verdict = "PASS" if row.check(ref, tl) else "FAIL"
            incomplete = results.get("trainlab", {}).get(row.measure, {}).get("incomplete")
            if incomplete:
                verdict += " (incomplete)"
        ceiling = ceiling_cell(results, row)
        out.append([row.label, row.unit, ref_text, tl_text, ratio, ceiling, row.target, verdict])
    return out


CEILING_HEADER = "Stock-client ceiling (ratio)"
HEADERS = ["Measure", "Unit", "Reference", "trainlab", "Ratio", CEILING_HEADER, "Target", "Result"]
RIGHT_ALIGNED = {"Reference", "trainlab", "Ratio", CEILING_HEADER}


def rich_table(rows: list[list[str]], trainlab_label: str) -> Table:
    table = Table(title="trainlab vs reference MLflow server")
    for header in HEADERS:
        name = trainlab_label if header == "trainlab" else header
        justify = "right" if header in RIGHT_ALIGNED else "left"
        table.add_column(name, justify=justify)
    for row in rows:
        style = {"PASS": "green", "FAIL": "red"}.get(row[-1].split()[0], "yellow")
        table.add_row(*row[:-1], f"[{style}]{row[-1]}[/{style}]")
    return table


def markdown_table(rows: list[list[str]], trainlab_label: str) -> str:
    headers = [trainlab_label if h == "trainlab" else h for h in HEADERS]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if h in RIGHT_ALIGNED else "---" for h in HEADERS)
                 + "|")  # fmt: skip
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
