"""The fluent SDK: ``with trainlab.start_run(...) as run: trainlab.log_metric(...)``.

Log calls only enqueue (see ``BatchingLogger``); runs are created and ended synchronously, and
ending a run flushes everything it logged."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from trainlab._user import login_name
from trainlab.client.logger import (
    BatchingLogger,
    check_key,
    checked_params,
    checked_tags,
    metric_value,
    whole_number,
)
from trainlab.client.resolve import (
    absolute_tracking_uri,
    redacted,
    resolve_tracking_uri,
    store_for,
)
from trainlab.entities import DatasetInput, Metric, Run, RunStatus, ViewType
from trainlab.entities.paging import every_page
from trainlab.entities.tags import PARENT_RUN_TAG, SOURCE_NAME_TAG, SOURCE_TYPE_TAG, USER_TAG
from trainlab.exceptions import InvalidParameterValue, InvalidState, ResourceNotFound
from trainlab.store._base import BaseTrackingStore

if TYPE_CHECKING:
    import pandas as pd

    from trainlab.artifacts.base import FileInfo
    from trainlab.client.artifact_repo import ArtifactRepo
    from trainlab.models.log import ModelInfo
    from trainlab.models.signature import ModelSignature

log = logging.getLogger("trainlab")

ENV_EXPERIMENT = "TRAINLAB_EXPERIMENT"
ENV_SPOOL_DIR = "TRAINLAB_SPOOL_DIR"


def spool_dir() -> Path:
    return Path(os.environ.get(ENV_SPOOL_DIR, Path.home() / ".trainlab" / "spool")).expanduser()


class _Client:
    """One store and one background logger per tracking URI, shared by all runs."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.store: BaseTrackingStore = store_for(uri)
        self.logger = self._new_logger()

    def _new_logger(self) -> BatchingLogger:
        # Unreachable, the logger spools at once and retries the spool itself. Its files wait
        # for this store, named so that the same relative path in another folder is not it.
        target = absolute_tracking_uri(self.uri)
        return BatchingLogger(self.store.fail_fast(), target=target, spool_dir=spool_dir())

    def after_fork(self) -> None:
        """In a forked child: a logger of its own (the parent's logging thread is not here,
        and the parent's logger has disowned itself), and none of the parent's database
        connections (the pool forgets them without closing what the parent still uses)."""
        engine = getattr(self.store, "engine", None)
        if engine is not None:
            engine.dispose(close=False)
        self.logger = self._new_logger()


_clients: dict[str, _Client] = {}
_clients_lock = threading.Lock()
_tracking_uri: str | None = None
_local = threading.local()


def _after_fork_in_child() -> None:
    """A forked child (multiprocessing's workers, say) logs as a process of its own, also to
    the runs its parent had open."""
    global _clients_lock
    _clients_lock = threading.Lock()  # another thread of the parent may have held it
    for client in _clients.values():
        client.after_fork()
    for run in _stack():
        run._logger = run._client.logger


# After the loggers' own hook (logger.py, imported above), which disowns the parent's loggers.
os.register_at_fork(after_in_child=_after_fork_in_child)


def _client(uri: str | None = None) -> _Client:
    resolved = resolve_tracking_uri(uri or _tracking_uri)
    with _clients_lock:
        client = _clients.get(resolved)
        if client is None:
            client = _clients[resolved] = _Client(resolved)
        return client


def set_tracking_uri(uri: str | None) -> None:
    """Where runs go from now on (``None``: back to ``$TRAINLAB_TRACKING_URI`` / embedded)."""
    global _tracking_uri
    _tracking_uri = uri


def get_tracking_uri() -> str:
    return resolve_tracking_uri(_tracking_uri)


def _stack() -> list[ActiveRun]:
    stack: list[ActiveRun] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class ActiveRun:
    """A run being logged to. Use it as a context manager: FINISHED on success, FAILED on an
    exception, KILLED on Ctrl-C or SIGTERM."""

    def __init__(self, run: Run, client: _Client) -> None:
        self.info = run.info
        self.run_id = run.info.run_id
        self._client = client
        self._logger = client.logger
        self.ended = False
        self._warned_ended = False

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self.end(status)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.info.run_name} ({self.run_id})>"

    @property
    def tracking_uri(self) -> str:
        return self._client.uri

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything logged so far is delivered (or spooled, if unreachable)."""
        self._logger.flush(timeout)

    # Logging: enqueue and return.
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        if self.ended:
            self._warn_ended()
        self._logger.log_metric(self.run_id, key, value, step or 0, timestamp)

    def log_metrics(
        self, metrics: dict[str, float], step: int | None = None, model_id: str | None = None
    ) -> None:
        """Enqueue the points; with ``model_id`` (a logged model of this run's, as MLflow 3
        links scores to models) they are written at once, after what was logged before,
        and search_logged_models filters on them."""
        if self.ended:
            self._warn_ended()
        ts = time.time_ns() // 1_000_000
        # every key and value checked before any is logged: all of them, or none
        values = {check_key(key): metric_value(key, value) for key, value in metrics.items()}
        if step is not None and step.__class__ is not int:
            step = whole_number(next(iter(metrics), ""), step, "step")
        if model_id is None:
            for key, value in values.items():
                self._logger.log_metric(self.run_id, key, value, step or 0, ts)
            return
        points = [
            Metric(key, value, ts, step or 0, model_id=model_id) for key, value in values.items()
        ]
        self._logger.flush()
        self._client.store.log_batch(self.run_id, points)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: dict[str, Any]) -> None:
        if self.ended:
            self._warn_ended()
        self._logger.log_params(self.run_id, {k: _as_str(v) for k, v in params.items()})

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        if self.ended:
            self._warn_ended()
        self._logger.set_tags(self.run_id, {k: _as_str(v) for k, v in tags.items()})

    def _warn_ended(self) -> None:
        """Logging to a run after its end still writes to it (as MLflow allows), said once."""
        if not self._warned_ended:
            self._warned_ended = True
            log.warning(
                "trainlab: run %s has ended; what is logged to it now is still stored. "
                "Continue it explicitly with start_run(run_id=%r).",
                self.run_id,
                self.run_id,
            )

    def log_inputs(self, datasets: Sequence[DatasetInput]) -> None:
        """Record the datasets the run used (synchronous, after what was logged before)."""
        self.flush()
        self._client.store.log_inputs(self.run_id, list(datasets))

    # Artifacts: synchronous, they return once the files are stored.
    def artifact_repo(self) -> ArtifactRepo:
        """The run's artifact root (``info.artifact_uri``) as a repository."""
        from trainlab.client.artifact_repo import repo_for

        return repo_for(self.info.artifact_uri, self._client.store)

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        from trainlab.client import artifacts

        artifacts.upload_file(self.artifact_repo(), local_path, artifact_path)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        from trainlab.client import artifacts

        artifacts.upload_dir(self.artifact_repo(), local_dir, artifact_path)

    def log_text(self, text: str, artifact_file: str) -> None:
        from trainlab.client import artifacts

        artifacts.upload_text(self.artifact_repo(), text, artifact_file)

    def log_dict(self, dictionary: dict[str, Any], artifact_file: str) -> None:
        from trainlab.client import artifacts

        self.log_text(artifacts.dict_text(dictionary, artifact_file), artifact_file)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:

        return self.artifact_repo().list(path or "")

    def download_artifacts(
        self, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        from trainlab.client import artifacts

        return artifacts.download_artifacts(
            self.run_id, path, dst_path, tracking_uri=self._client.uri
        )

    def log_model(
        self,
        model: Any,
        name: str,
        input_example: Any = None,
        signature: ModelSignature | None = None,
        registered_model_name: str | None = None,
    ) -> ModelInfo:
        """See ``trainlab.log_model``: a model of any supported flavor, logged from this run."""
        from trainlab.models.log import log_model_to

        return log_model_to(self, model, name, input_example, signature, registered_model_name)

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Mark the run ended, after everything logged to it, and wait until that is delivered.
        The end travels through the logger behind the run's data: if the server is unreachable
        it is spooled with the data, and delivered with it later."""
        status = RunStatus(status)
        if self.ended:
            return
        self.ended = True
        stack = _stack()
        if self in stack:
            stack.remove(self)
        if not stack:
            from trainlab.training.signals import release_sigterm

            release_sigterm()
        try:
            self._logger.end_run(self.run_id, status, time.time_ns() // 1_000_000)
        except InvalidState as exc:  # the logger is closed (interpreter exit, forked child)
            log.error("trainlab: cannot mark run %s %s: %s", self.run_id, status, exc.message)
            return
        result = self._logger.flush()
        if result.spooled:
            log.error(
                "trainlab: could not reach %s to end run %s %s: %d item(s), the end of the run "
                "included, wait in %s; they will be delivered by the next trainlab process that "
                "logs to %s, or by `trainlab spool flush --tracking-uri %s`.",
                redacted(self._client.uri),
                self.run_id,
                status,
                result.spooled,
                ", ".join(map(str, result.spool_paths)),
                redacted(self._client.uri),
                redacted(self._client.uri),
            )


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _experiment_id(client: _Client, experiment: str | None) -> str:
    name = experiment or os.environ.get(ENV_EXPERIMENT)
    if not name:
        return "0"
    exp = client.store.find_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage != "active":
            raise InvalidParameterValue(
                f"Experiment {name!r} is deleted; restore it or choose another name."
            )
        return exp.experiment_id
    from trainlab.exceptions import ResourceAlreadyExists

    try:
        return client.store.create_experiment(name)
    except ResourceAlreadyExists:  # created concurrently by another process
        found = client.store.find_experiment_by_name(name)
        assert found is not None
        return found.experiment_id


def _default_tags() -> dict[str, str]:
    tags = {SOURCE_TYPE_TAG: "LOCAL", SOURCE_NAME_TAG: sys.argv[0] or "<python>"}
    if user := login_name():
        tags[USER_TAG] = user
    return tags


def start_run(
    experiment: str | None = None,
    run_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    *,
    nested: bool = False,
    tracking_uri: str | None = None,
    run_id: str | None = None,
    experiment_id: str | None = None,
) -> ActiveRun:
    """Start a run in ``experiment`` (created if new; default: ``$TRAINLAB_EXPERIMENT`` or the
    Default experiment), or in the experiment with id ``experiment_id``. With an active run,
    ``nested=True`` makes the new run its child. ``run_id`` continues an existing run instead
    (it is marked RUNNING again)."""
    stack = _stack()
    parent = stack[-1] if stack else None
    if parent is not None and not nested:
        raise InvalidParameterValue(
            f"Run {parent.run_id} is already active. End it first, or pass nested=True to "
            "start a child run."
        )
    client = (
        parent._client if parent is not None and tracking_uri is None else _client(tracking_uri)
    )
    checked_params(params or {})  # refused before a run exists
    checked_tags(tags or {})
    if run_id is not None:
        return _resume(client, run_id, params, tags)
    if experiment_id is not None:
        exp_id = experiment_id
    elif parent and not experiment:
        exp_id = parent.info.experiment_id
    else:
        exp_id = _experiment_id(client, experiment)
    all_tags = {**_default_tags(), **{k: _as_str(v) for k, v in (tags or {}).items()}}
    if parent is not None:
        all_tags[PARENT_RUN_TAG] = parent.run_id
    run = client.store.create_run(
        exp_id,
        user_id=all_tags.get(USER_TAG, ""),
        start_time=time.time_ns() // 1_000_000,
        tags=all_tags,
        run_name=run_name,
    )
    active = ActiveRun(run, client)
    if params:
        active.log_params(params)
    _push(active)
    return active


def _push(active: ActiveRun) -> None:
    """Make ``active`` the thread's active run. While runs are active, SIGTERM ends them KILLED
    as Ctrl-C does (``training.signals.hold_sigterm``)."""
    from trainlab.training.signals import hold_sigterm

    _stack().append(active)
    hold_sigterm()


def _resume(
    client: _Client, run_id: str, params: dict[str, Any] | None, tags: dict[str, Any] | None
) -> ActiveRun:
    client.logger.flush()  # a spooled end of this run must land before it is reopened
    client.store.update_run_info(run_id, status=RunStatus.RUNNING)
    active = ActiveRun(client.store.get_run(run_id), client)
    if params:
        active.log_params(params)
    if tags:
        active.set_tags(tags)
    _push(active)
    return active


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def _require_run() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidParameterValue(
            "No active run in this thread: wrap your code in `with trainlab.start_run(...) as "
            "run:`. The active run is per thread: another thread logs with `run.log_metric(...)` "
            "on the run object."
        )
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    run = active_run()
    if run is not None:
        run.end(status)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    _require_run().log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: dict[str, float], step: int | None = None, model_id: str | None = None
) -> None:
    _require_run().log_metrics(metrics, step, model_id)


def log_param(key: str, value: Any) -> None:
    _require_run().log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    _require_run().log_params(params)


def set_tag(key: str, value: Any) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    _require_run().set_tags(tags)


def flush(timeout: float | None = None) -> None:
    """Block until everything logged so far is delivered (or spooled, if unreachable)."""
    with _clients_lock:
        clients = list(_clients.values())
    for c in clients:
        c.logger.flush(timeout)


def get_run(run_id: str, tracking_uri: str | None = None) -> Run:
    return _client(tracking_uri).store.get_run(run_id)


def get_metric_history(run_id: str, key: str, tracking_uri: str | None = None) -> list[Metric]:
    """Every point of the run's metric ``key``, in step order (a curve to plot or check), the
    points this process logged included; empty for a metric the run never logged."""
    client = _client(tracking_uri)
    client.logger.flush()
    history = client.store.get_metric_history
    return list(every_page(lambda token: history(run_id, key, 25_000, token)))


def experiment_ids(store: BaseTrackingStore, names: Sequence[str]) -> list[str]:
    """The ids of the experiments ``names`` gives, each by its name or its id."""
    ids = []
    for name in names:
        exp = store.find_experiment_by_name(name)
        if exp is None and name.isdigit():
            with contextlib.suppress(ResourceNotFound):
                exp = store.get_experiment(name)
        if exp is None:
            raise InvalidParameterValue(
                f"No experiment named {name!r}"
                + (" or with that id" if name.isdigit() else "")
                + ". See `trainlab experiments list`."
            )
        ids.append(exp.experiment_id)
    return ids


def search_runs(
    experiments: str | Sequence[str] | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int = 1000,
    *,
    view: ViewType = ViewType.ACTIVE_ONLY,
    output: Literal["pandas", "list"] = "pandas",
    tracking_uri: str | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string`` (MLflow's grammar plus OR and parentheses), across all
    pages up to ``max_results``, as a DataFrame (default) or a list of ``Run``."""
    client = _client(tracking_uri)
    names = [experiments] if isinstance(experiments, str) else list(experiments or [])
    ids = experiment_ids(client.store, names or [os.environ.get(ENV_EXPERIMENT) or "0"])
    runs: list[Run] = []
    token = None
    while len(runs) < max_results:
        page = client.store.search_runs(
            ids, filter_string, view, min(max_results - len(runs), 50000), order_by, token
        )
        runs.extend(page)
        token = page.next_page_token
        if not token:
            break
    return runs if output == "list" else runs_to_frame(runs)


_FRAME_INFO_COLUMNS = [
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
]


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for r in runs:
        row: dict[str, Any] = {
            "run_id": r.info.run_id,
            "experiment_id": r.info.experiment_id,
            "run_name": r.info.run_name,
            "status": str(r.info.status),
            "start_time": pd.to_datetime(r.info.start_time, unit="ms", utc=True),
            "end_time": pd.to_datetime(r.info.end_time, unit="ms", utc=True)
            if r.info.end_time
            else pd.NaT,
            "artifact_uri": r.info.artifact_uri,
        }
        row.update({f"metrics.{k}": m.value for k, m in r.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in r.data.params.items()})
        row.update({f"tags.{k}": v for k, v in r.data.tags.items()})
        rows.append(row)
    # No runs: still the info columns, so that df["run_id"] and the like work on no match.
    return pd.DataFrame(rows, columns=None if rows else _FRAME_INFO_COLUMNS)
