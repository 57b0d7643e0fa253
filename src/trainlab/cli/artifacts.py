from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from trainlab.cli.common import TRACKING_URI, command_group

if TYPE_CHECKING:
    from trainlab.client.artifact_repo import FileInfo
    from trainlab.entities import LoggedModel
    from trainlab.store._base import BaseTrackingStore

app = command_group("Artifacts of runs: list and download.")


@app.command("list")
def list_cmd(
    run_id: str = typer.Argument(
        ..., metavar="RUN_ID", help="The run's id, or a unique start of it."
    ),
    path: str = typer.Argument(
        "", metavar="PATH", help="A folder of the run's artifacts (default: the root)."
    ),
    tracking_uri: str = TRACKING_URI,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Files and folders directly under PATH of a run's artifacts."""
    from rich.table import Table

    from trainlab.cli.common import (
        console,
        fail,
        full_run_id,
        opened_store,
        print_json,
        with_errors,
    )
    from trainlab.client.artifacts import list_artifacts

    with with_errors(), opened_store(tracking_uri) as store:
        run_id = full_run_id(store, run_id)
        files = list_artifacts(run_id, path, tracking_uri=tracking_uri)
        if path.strip("/") and not files:  # MLflow 3 keeps logged models apart: theirs?
            head, _, rest = path.strip("/").partition("/")
            files = _logged_model_files(store, run_id, head, rest)
        models = [] if path.strip("/") else [m.name for m in _run_models(store, run_id)]
    if path and not files:
        fail(
            f"Run {run_id} has no artifacts under {path!r} (a file, or nothing, is there). "
            f"See `trainlab artifacts list {run_id}`."
        )
    if as_json:
        print_json([{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in files])
        return
    # the run id on a line of its own, never wrapped, so that it copies whole
    under = f" under {path}" if path else ""
    console.print(f"{len(files)} artifact(s) of run {run_id}{under}", soft_wrap=True)
    table = Table()
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    for f in files:
        table.add_row(f.path + ("/" if f.is_dir else ""), "-" if f.is_dir else str(f.file_size))
    console.print(table)
    for name in dict.fromkeys(models):  # not among the files, but what is sought
        console.print(
            f"logged model {name!r}: trainlab artifacts list {run_id} {name}", soft_wrap=True
        )


def _run_models(store: BaseTrackingStore, run_id: str) -> list[LoggedModel]:
    """The run's logged models, oldest first (MLflow 3 keeps them outside the run's
    artifacts)."""
    from trainlab.models.uri import run_logged_models

    run = store.get_run(run_id)
    return run_logged_models(store, run_id, run.info.experiment_id)


def _logged_model_named(store: BaseTrackingStore, run_id: str, path: str) -> str | None:
    """The id of the run's logged model named ``path``, or None."""
    named = [m.model_id for m in _run_models(store, run_id) if m.name == path.strip("/")]
    return named[-1] if named else None  # the newest of that name, as runs:/ URIs load


def _logged_model_files(
    store: BaseTrackingStore, run_id: str, name: str, path: str
) -> list[FileInfo]:
    """The files under ``path`` of the run's logged model ``name``, as paths below ``name``
    (as the run's artifacts are listed); none when the run has no logged model of that name."""
    from trainlab.cli.common import err_console
    from trainlab.client.artifact_repo import FileInfo, repo_for
    from trainlab.client.rest_logged_models import logged_models_for

    model_id = _logged_model_named(store, run_id, name)
    if model_id is None:
        return []
    model = logged_models_for(store).get_logged_model(model_id)
    err_console.print(f"{name!r} is the run's logged model models:/{model_id}", soft_wrap=True)
    found = repo_for(model.artifact_uri, store).list(path)
    return [FileInfo(f"{name}/{f.path}", f.is_dir, f.file_size) for f in found]


@contextmanager
def _writing_to(dst: str) -> Iterator[None]:
    """A file the download cannot write (below ``--dst``) or read, as one line naming it
    (exit 1)."""
    from pathlib import Path

    from trainlab.cli.common import fail

    try:
        yield
    except OSError as exc:
        # A rename's target (filename2) is the file the user asked for, not the temporary
        # file the download was written to.
        target = exc.filename2 or exc.filename
        name = str(target) if target else ""
        below = bool(name) and Path(name).absolute().is_relative_to(Path(dst).absolute())
        what = f"Cannot write into --dst {dst!r}" if below else "The download failed"
        fail(f"{what}: {exc.strerror or exc}{f' ({name})' if name else ''}.")


@app.command("download")
def download_cmd(
    run_id: str = typer.Argument(
        ..., metavar="RUN_ID", help="The run's id, or a unique start of it."
    ),
    path: str = typer.Argument(
        "", metavar="PATH", help="A file or folder of the run's artifacts (default: all)."
    ),
    dst: str = typer.Option(..., "--dst", "-d", help="Local folder to copy into."),
    tracking_uri: str = TRACKING_URI,
) -> None:
    """Copy a run's artifact (file or folder) into DST, or the run's logged model that PATH
    names; prints the local path."""
    from pathlib import Path

    from trainlab.cli.common import err_console, fail, full_run_id, opened_store, with_errors
    from trainlab.client.artifacts import download_artifacts
    from trainlab.exceptions import ResourceNotFound
    from trainlab.models.uri import download_model

    if Path(dst).exists() and not Path(dst).is_dir():
        fail(f"--dst {dst!r} is a file: give a folder (it is made when missing).", code=2)
    with with_errors(), opened_store(tracking_uri) as store, _writing_to(dst):
        run_id = full_run_id(store, run_id)
        try:
            local = download_artifacts(run_id, path, dst, tracking_uri=tracking_uri)
        except ResourceNotFound:
            # MLflow 3 keeps a run's logged models apart from its artifacts
            model_id = _logged_model_named(store, run_id, path) if path.strip("/") else None
            if model_id is None:
                raise
            uri = f"models:/{model_id}"
            local = str(download_model(uri, store, Path(dst) / path.strip("/")))
            err_console.print(f"{path!r} is the run's logged model {uri}", soft_wrap=True)
    typer.echo(local)
