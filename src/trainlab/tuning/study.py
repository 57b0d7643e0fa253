"""An Optuna study as trainlab keeps it: storage, sampler and pruner from the ``tune:`` section,
what every worker needs stored in the study itself, and trial *slots*.

The requested number of trials is a list of slots 0..N-1. A slot is done once one of its trials
finished (complete, pruned, or failed by an error of its own, which ``ERROR`` records). An
attempt that died with its worker (still RUNNING when the slot is run again) is marked failed,
without ``ERROR``, and its params are tried once more. Workers coordinate only through the
storage, and whoever hands out slots (this process, the local pool, Ray, a Kubernetes Indexed
Job) hands each out once at a time, so no trial is lost or run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ServiceUnavailable,
    TrainlabError,
)
from trainlab.tuning.space import TuneSpec

if TYPE_CHECKING:
    import optuna

log = logging.getLogger("trainlab")

STUDIES_DIR = "trainlab-studies"
SLOT = "trainlab.slot"
ERROR = "trainlab.error"
RETRY_OF = "trainlab.retry_of"
# Study attributes every worker reads.
ATTR_TUNE = "trainlab.tune"
ATTR_CONFIG = "trainlab.config"  # the resolved pipeline, for pipeline tuning
ATTR_OBJECTIVE = "trainlab.objective"  # module.function, for function tuning
ATTR_MAIN_FILE = "trainlab.main_file"  # the script, when the function is in __main__
ATTR_PARENT = "trainlab.parent_run_id"
ATTR_TRACKING = "trainlab.tracking_uri"
ATTR_EXPERIMENT_ID = "trainlab.experiment_id"
# How many trials the study held when this session of it (a new study, or a --resume) began.
ATTR_SESSION_START = "trainlab.session_start_trials"


def check_study_name(name: str) -> str:
    if not name.strip():
        raise InvalidParameterValue("--study: the study name is empty; give one, or leave it out.")
    return name


def default_storage(study_name: str) -> str:
    """A journal file under ./trainlab-studies: fast, safe for processes on one machine."""
    folder = Path(STUDIES_DIR).absolute()
    path = folder / f"{study_name}.journal"
    if "\0" in study_name or folder.resolve() not in path.resolve().parents:
        raise InvalidParameterValue(
            f"Study {study_name!r}: its journal file would lie outside ./{STUDIES_DIR}. Name the "
            "study with --study NAME (study='NAME' in Python), or give its --storage."
        )
    return f"journal:{path}"


def storage_missing(url: str) -> bool:
    """A journal file that does not exist: no study was ever stored there (opening it would
    create it)."""
    return url.startswith("journal:") and not journal_path(url).exists()


def journal_path(url: str) -> Path:
    return Path(url.removeprefix("journal:")).expanduser()


def load_stored_study(name: str, url: str) -> optuna.Study:
    """The existing study ``name`` as stored (Optuna's default sampler and pruner)."""
    import optuna

    if storage_missing(url):
        raise InvalidState(f"There is no study {name!r} in {url}: the file does not exist.")
    try:
        return optuna.load_study(study_name=name, storage=open_storage(url))
    except KeyError:
        raise InvalidState(f"There is no study {name!r} in {url}.") from None


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """``journal:/path/study.journal`` (one machine), ``sqlite:///file.db``,
    ``postgresql://...`` or ``mysql://...`` (several machines), ``grpc://host:port`` (an
    Optuna storage proxy)."""
    import optuna

    # trainlab reports trials itself (progress bar, runs): Optuna's per-trial lines would
    # only repeat it.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = journal_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if url.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+", "mysql")):
        return _database_storage(url)
    if url.startswith("grpc://"):
        host, _, port = url.removeprefix("grpc://").partition(":")
        return optuna.storages.GrpcStorageProxy(host=host, port=int(port or 13000))
    raise InvalidParameterValue(
        f"--storage {url!r}: use journal:/path/study.journal, sqlite:///file.db, "
        "postgresql://user@host/db or grpc://host:port"
    )


def _database_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's storage in the database at ``url``, which it connects to (and sets up) at
    once; ``ServiceUnavailable`` naming the storage when it cannot."""
    import optuna
    from sqlalchemy.exc import ArgumentError, OperationalError

    from trainlab.client.resolve import redacted

    driver_url = url
    if url.startswith(("postgresql://", "postgres://")):  # the driver trainlab ships
        driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        return optuna.storages.RDBStorage(driver_url)
    except (OperationalError, ArgumentError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ServiceUnavailable(
            f"--storage {redacted(url)}: cannot open the study storage ({reason}). Check that "
            "the database server is running and the URL is right, or leave --storage out for a "
            "journal file on this machine."
        ) from None


def make_sampler(
    tune: TuneSpec, worker: int = 0, parallel: bool = True, held: int = 0
) -> optuna.samplers.BaseSampler:
    """The sampler the spec names. Each worker gets its own seed, drawn from ``tune.seed``,
    the worker's number and ``held``, the trials the study held when this session of it began:
    a new study samples the same points for the same seed, a resumed one new points rather
    than the ones its first session began with. TPE treats the trials running in parallel as
    if they had failed badly (``constant_liar``), so that workers do not all sample the same
    point; a study run by one worker skips that work."""
    import optuna

    seed = sampler_seed(tune.seed, worker, held)
    s = optuna.samplers
    if tune.sampler == "tpe":
        return s.TPESampler(seed=seed, constant_liar=parallel)
    if tune.sampler == "random":
        return s.RandomSampler(seed=seed)
    if tune.sampler == "grid":
        return _grid_sampler(tune, seed)
    if tune.sampler == "nsga2":
        return s.NSGAIISampler(seed=seed)
    if tune.sampler == "cmaes":
        _require("cmaes", "the cmaes sampler", "pip install cmaes")
        return s.CmaEsSampler(seed=seed)
    _require("torch", "the gp sampler", 'pip install "trainlab[pytorch]"')
    return s.GPSampler(seed=seed)


def sampler_seed(seed: int | None, worker: int, held: int) -> int | None:
    """A 32-bit seed for ``(seed, worker, held)``; None (a random one) without ``seed``."""
    if seed is None:
        return None
    import numpy as np

    return int(np.random.SeedSequence([seed, worker, held]).generate_state(1)[0])


def grid_size(tune: TuneSpec) -> int:
    size = 1
    for name, space in tune.space.items():
        size *= len(space.grid(name))
    return size


def _grid_sampler(tune: TuneSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    import optuna

    class SlotGridSampler(optuna.samplers.GridSampler):
        """The grid, without stopping the study when it is exhausted: the number of trials
        (at most the grid's size) decides that, and a study told trials outside Optuna's own
        loop (ask/tell) cannot be stopped."""

        def after_trial(self, *args: Any, **kwargs: Any) -> None:
            return None

    grid = {name: space.grid(name) for name, space in tune.space.items()}
    return SlotGridSampler(grid, seed=seed)


def _require(module: str, what: str, fix: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise InvalidParameterValue(f"tune.sampler: {what} needs {module}: {fix}")


def make_pruner(tune: TuneSpec) -> optuna.pruners.BasePruner:
    import optuna

    if tune.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if tune.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


def open_study(
    name: str,
    url: str,
    tune: TuneSpec,
    *,
    worker: int = 0,
    parallel: bool = True,
    held: int = 0,
) -> optuna.Study:
    """The existing study ``name`` with this process's sampler and pruner; ``parallel=False``
    when this process is the study's only worker, ``held`` as for ``make_sampler``."""
    import optuna

    try:
        return optuna.load_study(
            study_name=name,
            storage=open_storage(url),
            sampler=make_sampler(tune, worker, parallel, held),
            pruner=make_pruner(tune),
        )
    except KeyError:
        raise InvalidState(f"There is no study {name!r} in {url}.") from None


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out |= _flat(item, f"{prefix}.{key}" if prefix else str(key))
    return out


# What a session may change without making its trials incomparable with the study's: how many
# trials, where runs go and are registered, checkpoints and sampling of system metrics, the
# scores logged besides the tuned one.
_SESSION_KEYS = (
    "tune.trials", "experiment", "register", "metrics", "train.keep_checkpoints",
    "train.checkpoint_every", "train.system_metrics_interval_s",
)  # fmt: skip


def _recorded(attrs: dict[str, Any]) -> dict[str, Any]:
    """What a study's trials are made from, as dotted keys: the pipeline (which holds its tune
    section) read as this version reads it, so defaults it did not record count as given, or
    the objective, its script and the tune spec; less ``_SESSION_KEYS``."""
    from trainlab.training.spec import parse_spec

    config = attrs.get(ATTR_CONFIG)
    if config is not None:
        source = parse_spec(config).to_config()
    else:
        names = {"objective": ATTR_OBJECTIVE, "script": ATTR_MAIN_FILE, "tune": ATTR_TUNE}
        source = {name: attrs.get(key) for name, key in names.items()}
    return {
        k: v
        for k, v in _flat(source).items()
        if not any(k == s or k.startswith(f"{s}.") for s in _SESSION_KEYS)
    }


def _differences(study: optuna.Study, attrs: dict[str, Any]) -> list[str]:
    """How the pipeline (or objective) of ``attrs`` differs from the one ``study`` recorded:
    ``model.class: 'A' -> 'B'``; nothing for a study that recorded none."""
    if not any(k in study.user_attrs for k in (ATTR_CONFIG, ATTR_OBJECTIVE)):
        return []
    try:
        old = _recorded(study.user_attrs)
    except TrainlabError as exc:  # recorded by a version whose pipelines this one cannot read
        log.warning("trainlab: study %s: its pipeline is not checked: %s", study.study_name, exc)
        return []
    new = _recorded(attrs)
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))

    def shown(values: dict[str, Any], key: str) -> str:
        return repr(values[key]) if key in values else "(none)"

    return [f"{k}: {shown(old, k)} -> {shown(new, k)}" for k in keys]


def create_study(
    name: str, url: str, tune: TuneSpec, *, resume: bool, attrs: dict[str, Any]
) -> optuna.Study:
    """A new study, or with ``resume`` the existing one (same directions); refuses to reuse a
    study without ``resume``, to resume one that does not exist, and to add to a study trials
    of another pipeline (or objective) than its own (``attrs``: what this session records)."""
    import optuna

    if resume and storage_missing(url):
        raise InvalidState(f"There is no study {name!r} in {url} to resume.")
    storage = open_storage(url)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    names = {s.study_name for s in summaries}
    if name in names:
        study = open_study(name, url, tune)
        differences = _differences(study, attrs)
        if differences:
            shown = "; ".join(differences[:5]) + (" ..." if len(differences) > 5 else "")
            kind = "pipeline" if ATTR_CONFIG in attrs else "objective"
            raise InvalidState(
                f"Study {name!r} already exists in {url}, made from another {kind} "
                f"({len(differences)} difference(s): {shown}). Its trials cannot be compared "
                f"with this {kind}'s: start another study with --study NAME (study='NAME'), "
                f"or resume this one with the {kind} it recorded."
            )
        if not resume:
            raise InvalidState(
                f"Study {name!r} already exists in {url} with {len(study.trials)} trial(s): "
                "continue it with --resume (resume=True in Python), or start another with "
                "--study NAME (study='NAME')."
            )
        wanted = [d.upper() for d in tune.directions]
        have = [d.name for d in study.directions]
        if wanted != have:
            raise InvalidState(
                f"Study {name!r} optimises {have}, the pipeline asks for {wanted}: start a "
                "new study (--study NAME)."
            )
        return study
    if resume:
        raise InvalidState(f"There is no study {name!r} in {url} to resume.")
    return optuna.create_study(
        study_name=name,
        storage=storage,
        directions=tune.directions,  # type: ignore[arg-type]
        sampler=make_sampler(tune),
        pruner=make_pruner(tune),
    )


def tune_spec(study: optuna.Study) -> TuneSpec:
    return TuneSpec.model_validate(study.user_attrs[ATTR_TUNE])


# Called with a trial abandoned by a dead worker, to end what it left behind (its run).
OnAbandoned = Callable[["optuna.trial.FrozenTrial"], None]


def run_slot(
    study: optuna.Study,
    slot: int,
    run_trial: Callable[[optuna.Study, optuna.Trial], Any],
    on_abandoned: OnAbandoned | None = None,
) -> Any:
    """Run the trial of ``slot`` unless the slot is done; returns what ``run_trial`` returned
    (the trial's state), or the state of the trial that did the slot before."""
    from optuna.trial import TrialState

    retry: dict[str, Any] | None = None
    retry_of = None
    for t in study.get_trials(deepcopy=False):
        if t.user_attrs.get(SLOT) != slot:
            continue
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or ERROR in t.user_attrs:
            return t.state
        if t.state == TrialState.RUNNING:  # its worker died: fail it, try its params again
            study.tell(t.number, state=TrialState.FAIL)
            if on_abandoned is not None:
                on_abandoned(t)
            log.warning("trainlab: trial %d of slot %d was abandoned; retrying it", t.number, slot)
        if t.state in (TrialState.RUNNING, TrialState.FAIL) and RETRY_OF not in t.user_attrs:
            retry, retry_of = dict(t.params), t.number
    if retry is not None:
        study.enqueue_trial(retry, user_attrs={RETRY_OF: retry_of}, skip_if_exists=False)
    trial = study.ask()
    trial.set_user_attr(SLOT, slot)
    return run_trial(study, trial)


def done_slots(study: optuna.Study) -> set[int]:
    """Slots some trial finished (complete, pruned, or failed by its own error)."""
    from optuna.trial import TrialState

    return {
        int(t.user_attrs[SLOT])
        for t in study.get_trials(deepcopy=False)
        if SLOT in t.user_attrs
        and (t.state in (TrialState.COMPLETE, TrialState.PRUNED) or ERROR in t.user_attrs)
    }
