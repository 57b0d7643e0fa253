"""Store interfaces. ``SqlTrackingStore`` and ``RestTrackingStore`` implement the same contract,
checked by one test suite (tests/contract)."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Literal

from trainlab.entities import (
    AliasEvent,
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelVersion,
    PagedList,
    Param,
    RegisteredModel,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_LIMIT = 50000
DATASET_SUMMARIES_MAX = 1000


class BaseTrackingStore(abc.ABC):
    """Experiments, runs and everything logged to a run."""

    @property
    def max_batch_metrics(self) -> int:
        """The most metrics (and items in all) one ``log_batch`` call takes; 100 params and 100
        tags at most besides. MLflow's REST API allows 1000."""
        return 1000

    def close(self) -> None:  # noqa: B027 - a store with nothing to let go of keeps this
        """Let go of the store's connections (they reopen if it is used again)."""

    def fail_fast(self) -> BaseTrackingStore:
        """This store, answering at once when its backend is away instead of trying again for
        a while (the background logger spools and retries on its own)."""
        return self

    # -- experiments -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str: ...

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abc.abstractmethod
    def find_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # -- runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: dict[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run: ...

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo: ...

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Atomic: all of it is stored or none of it. Re-sending an identical batch is a no-op,
        which makes client retries safe."""

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]: ...

    @abc.abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """Down-sampled history of one metric for several runs: per bucket of steps the
        minimum, the maximum and the last point are kept, and so are the first and last step."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    @abc.abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        model_ids: Sequence[str] = (),
    ) -> None: ...

    @abc.abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None: ...

    @abc.abstractmethod
    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The distinct (experiment, dataset, context) that the experiments' runs took, at most
        ``DATASET_SUMMARIES_MAX`` of them (MLflow's ``search-datasets``)."""

    # -- conveniences shared by every backend -----------------------------------------------
    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])


class BaseLoggedModelStore(abc.ABC):
    """MLflow 3 logged models: the models a run produced, with their own params/tags/metrics."""

    @abc.abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel: ...

    @abc.abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    @abc.abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel: ...

    @abc.abstractmethod
    def delete_logged_model(self, model_id: str) -> None: ...

    @abc.abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> LoggedModel: ...

    @abc.abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 50,
        order_by: Sequence[Mapping[str, object]] = (),
        page_token: str | None = None,
        datasets: Sequence[Mapping[str, object]] = (),
    ) -> PagedList[LoggedModel]:
        """MLflow's logged-model search. ``order_by`` entries are ``{field_name, ascending,
        dataset_name, dataset_digest}``; ``datasets`` entries ``{dataset_name,
        dataset_digest}`` restrict metric filters to points logged on those datasets."""


REGISTRY_SEARCH_MAX_RESULTS = 100
REGISTRY_SEARCH_LIMIT = 1000
VERSIONS_SEARCH_MAX_RESULTS = 10_000
VERSIONS_SEARCH_LIMIT = 200_000


class BaseRegistryStore(abc.ABC):
    """The model registry: registered models, versions, stages (deprecated) and aliases.

    Every move of an alias (set, delete, rollback, deleting the version holding it) appends an
    ``AliasEvent`` saying who moved it, when, from which version to which, and why."""

    # -- registered models -------------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user_id: str = "",
    ) -> RegisteredModel: ...

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Deletes its versions, tags and aliases too."""

    @abc.abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = REGISTRY_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]: ...

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    # -- model versions ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str = "",
    ) -> ModelVersion:
        """The next version number of the model; numbers are never reused."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion: ...

    @abc.abstractmethod
    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion: ...

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int, user: str = "") -> None:
        """Aliases held by the version are removed (and recorded as alias events)."""

    @abc.abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = VERSIONS_SEARCH_MAX_RESULTS,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]: ...

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None: ...

    @abc.abstractmethod
    def get_model_version_download_uri(self, name: str, version: int) -> str: ...

    # -- stages (deprecated in MLflow, still answered) ---------------------------------------
    @abc.abstractmethod
    def get_latest_versions(self, name: str, stages: Sequence[str] = ()) -> list[ModelVersion]: ...

    @abc.abstractmethod
    def transition_model_version_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion: ...

    # -- aliases -----------------------------------------------------------------------------
    @abc.abstractmethod
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str = "",
        reason: str = "",
        expected: int | None | Literal["any"] = "any",
    ) -> None:
        """Point ``alias`` at ``version``; with ``expected`` (a version, or None for an alias
        not set) only if the alias holds it at that moment, else ``InvalidState`` and nothing
        moves: the promotion gate moves only what it evaluated."""

    @abc.abstractmethod
    def delete_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = ""
    ) -> None: ...

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    @abc.abstractmethod
    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Alias events of a model (of one alias), oldest first; an event of alias ``""``
        marks the deletion of an earlier model of the name (the moves before it were its)."""

    @abc.abstractmethod
    def rollback_registered_model_alias(
        self, name: str, alias: str, user: str = "", reason: str = "", *, dry_run: bool = False
    ) -> ModelVersion:
        """Point ``alias`` back at the version it held before its last move; recorded as a new
        event. Returns the version it now points to (``dry_run``: would point to, unmoved)."""


__all__ = ["BaseLoggedModelStore", "BaseRegistryStore", "BaseTrackingStore", "Dataset"]
