"""ORM models. The schema is owned by the Alembic migrations shipped next to this module."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KEY = String(250)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ExperimentModel(Base):
    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    artifact_location: Mapped[str] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTagModel(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunModel(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index(None, "experiment_id", "lifecycle_stage", "start_time"),
        Index(None, "parent_run_id"),
    )

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.experiment_id"))
    name: Mapped[str] = mapped_column(String(250))
    user_id: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[int | None] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    artifact_uri: Mapped[str] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    parent_run_id: Mapped[str | None] = mapped_column(String(32))
    deleted_time: Mapped[int | None] = mapped_column(BigInteger)


class ParamModel(Base):
    __tablename__ = "params"
    __table_args__ = (
        # Search by value within experiments (params.lr = '0.1'), covering: the run ids come
        # from the index. SQLite only: PostgreSQL's b-tree entries cannot hold a 6000-character
        # value; there the (experiment, key) index serves.
        Index(None, "experiment_id", "key", "value", "run_id").ddl_if(dialect="sqlite"),
        Index(None, "experiment_id", "key").ddl_if(dialect="postgresql"),
        # The (run, key) primary key is the table (SQLite): a run's values, or one value of a
        # run, are one lookup, not two (revision 0008).
        {"sqlite_with_rowid": False},
    )

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    # The run's experiment, copied (runs never move): a search reads the values of its own
    # experiments only, not those of every experiment in the database.
    experiment_id: Mapped[int] = mapped_column(Integer)


class TagModel(Base):
    __tablename__ = "tags"
    __table_args__ = (
        Index(None, "experiment_id", "key", "value", "run_id").ddl_if(dialect="sqlite"),
        Index(None, "experiment_id", "key").ddl_if(dialect="postgresql"),
        {"sqlite_with_rowid": False},  # as ParamModel's
    )

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    experiment_id: Mapped[int] = mapped_column(Integer)  # as ParamModel's


class MetricModel(Base):
    """Full history. Identical points collapse (the key includes the value), which makes
    re-delivering a batch idempotent. NaN is stored as value 0 with ``is_nan`` set."""

    __tablename__ = "metrics"
    # The primary key is the table (SQLite): one b-tree to write per point, not two. A point's
    # model_id is what it was logged with; a logged model's points are LoggedModelMetricModel.
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float(precision=53), primary_key=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    dataset_name: Mapped[str | None] = mapped_column(String(500))
    dataset_digest: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(64))


class LatestMetricModel(Base):
    """The newest point (by step, then timestamp, then value) of each metric of each run."""

    __tablename__ = "latest_metrics"
    # Search by value within experiments (metrics.acc > 0.9), covering: the run ids come from
    # the index.
    __table_args__ = (
        Index(None, "experiment_id", "key", "value", "is_nan", "run_id"),
        {"sqlite_with_rowid": False},  # as ParamModel's
    )

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float(precision=53))
    is_nan: Mapped[bool] = mapped_column(Boolean)
    dataset_name: Mapped[str | None] = mapped_column(String(500))
    dataset_digest: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(64))
    experiment_id: Mapped[int] = mapped_column(Integer)  # as ParamModel's


class DatasetModel(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("experiment_id", "name", "digest"),)

    dataset_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.experiment_id"))
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    source_type: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str | None] = mapped_column(Text)


class RunInputModel(Base):
    __tablename__ = "run_inputs"
    __table_args__ = (Index(None, "dataset_id"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.dataset_id", ondelete="CASCADE"), primary_key=True
    )


class RunInputTagModel(Base):
    __tablename__ = "run_input_tags"
    __table_args__ = (Index(None, "key", "value"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.dataset_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class LoggedModelModel(Base):
    __tablename__ = "logged_models"
    __table_args__ = (Index(None, "experiment_id", "creation_timestamp"),)

    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.experiment_id"))
    name: Mapped[str] = mapped_column(String(500))
    artifact_uri: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    creation_timestamp: Mapped[int] = mapped_column(BigInteger)
    last_updated_timestamp: Mapped[int] = mapped_column(BigInteger)
    model_type: Mapped[str | None] = mapped_column(String(500))
    source_run_id: Mapped[str | None] = mapped_column(String(32))
    status_message: Mapped[str | None] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")


class LoggedModelTagModel(Base):
    __tablename__ = "logged_model_tags"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoggedModelParamModel(Base):
    __tablename__ = "logged_model_params"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoggedModelMetricModel(Base):
    """The points logged with a logged model (a metric's ``model_id``), kept apart from the
    run's history as MLflow keeps them: a point the run already has is linked to a model later
    (the stock client sends a run's metrics again, with the model's id, when it logs a model),
    and to any number of models."""

    __tablename__ = "logged_model_metrics"
    __table_args__ = ({"sqlite_with_rowid": False},)

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float(precision=53), primary_key=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    dataset_name: Mapped[str | None] = mapped_column(String(500))
    dataset_digest: Mapped[str | None] = mapped_column(String(64))


class RunModelIOModel(Base):
    """Logged models a run consumed (direction 'input') or produced (direction 'output')."""

    __tablename__ = "run_model_io"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)


# -- model registry -------------------------------------------------------------------------
# Children follow a rename of their model through ON UPDATE CASCADE.
MODEL_NAME = String(256)


def _model_fk() -> ForeignKey:
    return ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE")


class RegisteredModelModel(Base):
    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(MODEL_NAME, primary_key=True)
    creation_timestamp: Mapped[int] = mapped_column(BigInteger)
    last_updated_timestamp: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(256), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The highest version number ever handed out: versions are never reused, also after a
    # delete. Incremented with an UPDATE ... that row-locks the model (PostgreSQL) or under
    # SQLite's write lock.
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class RegisteredModelTagModel(Base):
    __tablename__ = "registered_model_tags"

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionModel(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        Index(None, "run_id"),
        Index(None, "last_updated_timestamp"),
        # A model's newest version in a stage in one index seek, however many versions it has.
        Index(None, "name", "current_stage", "version"),
    )

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    creation_timestamp: Mapped[int] = mapped_column(BigInteger)
    last_updated_timestamp: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(256), default="")
    current_stage: Mapped[str] = mapped_column(String(20), default="None")
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="READY")
    status_message: Mapped[str | None] = mapped_column(Text)
    run_link: Mapped[str | None] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(String(64))
    # A copy's artifacts: the original's location when it was copied (see migration 0005).
    storage_location: Mapped[str | None] = mapped_column(Text)


class ModelVersionTagModel(Base):
    __tablename__ = "model_version_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    )

    name: Mapped[str] = mapped_column(MODEL_NAME, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RegisteredModelAliasModel(Base):
    __tablename__ = "registered_model_aliases"

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    alias: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AliasEventModel(Base):
    """Append-only audit of alias moves. No foreign key: the history outlives a deleted model;
    a rename rewrites ``name`` explicitly."""

    __tablename__ = "alias_events"
    __table_args__ = (Index(None, "name", "alias", "event_id"),)

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(MODEL_NAME)
    alias: Mapped[str] = mapped_column(String(255))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(256), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[int] = mapped_column(BigInteger)
