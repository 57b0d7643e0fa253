"""Progress bars for training (rich): iterations/epochs and CV folds."""

from __future__ import annotations

from typing import Any


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

    def run_started(self, run_id: str, tracking_uri: str | None) -> None:
        """Name the run as it starts, with how to continue it should the process be killed (a
        killed process prints nothing more)."""
        if self._progress is None:
            return
        from trainlab.cli.common import uri_flag

        self._progress.console.print(
            f"run {run_id} started; if the process is killed, continue it with: "
            f"trainlab train --resume {run_id}{uri_flag(tracking_uri)}",
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
