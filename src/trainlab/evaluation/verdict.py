"""The gate's verdicts, kept as tags of the model version judged (light: the CLI's alias
moves read them)."""

from __future__ import annotations

# The last verdict and its evaluation run, and those for each alias the version was judged for
VERDICT_TAG = "trainlab.gate.verdict"
RUN_TAG = "trainlab.gate.run_id"


def verdict_tag(alias: str) -> str:
    return f"{VERDICT_TAG}.{alias}"


def run_tag(alias: str) -> str:
    return f"{RUN_TAG}.{alias}"


def alias_verdict(tags: dict[str, str], alias: str) -> tuple[str | None, str]:
    """(verdict, evaluation run) of a version for ``alias``: the gate's for that alias, else
    its last (a version judged only for another alias, or before verdicts were per alias)."""
    if verdict_tag(alias) in tags:
        return tags[verdict_tag(alias)], tags.get(run_tag(alias), "")
    return tags.get(VERDICT_TAG), tags.get(RUN_TAG, "")
