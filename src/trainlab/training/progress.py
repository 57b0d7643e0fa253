"""Progress bars for training (rich): iterations/epochs and CV folds."""

from __future__ import annotations

from typing import Any


def resume_command(run_id: str, tracking_uri: str | None, script_fn: str = "") -> str:
    """How to continue run ``run_id``: the CLI, or for a function of the script that trained
    it (``script_fn``, which no other process can import) the call in that script."""
    from trainlab.cli.common import uri_flag

    if script_fn:
        uri = f", tracking_uri={tracking_uri!r}" if tracking_uri else ""
        return f'trainlab.train(fn={script_fn}, resume_run="{run_id}"{uri}) in that script'
    return f"trainlab train --resume {run_id}{uri_flag(tracking_uri)}"


class Reporter:
    """A rich progress display when ``enabled``; every call is a no-op otherwise."""

    def __init__(self, enabled: bool = True, console: Any = None) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._started = False
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )

    def __enter__(self) -> Reporter:
        return self  # the display starts with the first task: nothing shows for work that fails

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._progress.stop()

    def run_started(
        self, run_id: str, tracking_uri: str | None, script_fn: str = "", how_started: str = ""
    ) -> None:
        """Name the run as it starts (``how_started``: "resumed after ..."), with how to
        continue it should the process be killed (a killed process prints nothing more): the
        CLI, or for a function of the script that runs (``script_fn``, which no other process
        can import) a call in that script."""
        if self._progress is None:
            return
        how = resume_command(run_id, tracking_uri, script_fn)
        self._progress.console.print(
            f"run {run_id} {how_started or 'started'}; if the process is killed, continue it "
            f"with: {how}",
            soft_wrap=True,
            highlight=False,
        )

    def task(self, description: str, total: int | None) -> int:
        if self._progress is None:
            return 0
        if not self._started:
            self._progress.start()
            self._started = True
        console = self._progress.console
        if not console.is_terminal:  # piped or logged: no live bars, a line per stage instead
            steps = f" ({total} steps)" if total else ""
            console.print(f"{description}{steps} ...", soft_wrap=True)
            console.file.flush()
        return int(self._progress.add_task(description, total=total))

    def stop_early(self, task: int, steps: int) -> None:
        """Show a bar that ended before its total (early stopping) as done at ``steps``."""
        if self._progress is not None:
            description = f"training (early stop at {steps})"
            self._progress.update(task, total=steps, completed=steps, description=description)

    def advance(self, task: int, steps: int = 1) -> None:
        if self._progress is not None and steps:
            self._progress.advance(task, steps)
