"""The run database schema: SQLAlchemy 2 typed models.

The same schema runs on SQLite (embedded default) and PostgreSQL (JSON columns
become JSONB there). ``docs/schema.md`` documents every column for researchers;
Alembic migrations under ``hubkit/db/migrations`` create it.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(str, enum.Enum):
    casual = "casual"
    developer = "developer"
    educator = "educator"
    researcher = "researcher"
    admin = "admin"


class Outcome(str, enum.Enum):
    success = "success"
    failure = "failure"
    partial = "partial"


class RunStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    finished = "finished"


class Visibility(str, enum.Enum):
    public = "public"
    unlisted = "unlisted"
    private = "private"


class ExecutedBy(str, enum.Enum):
    platform = "platform"
    user = "user"


class JobState(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    lost = "lost"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _now_col(nullable: bool = False) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=nullable)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.casual)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now_col()


class BaseModel(Base):
    __tablename__ = "base_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    family: Mapped[str] = mapped_column(String(40))
    hf_id: Mapped[str] = mapped_column(String(200))
    architecture: Mapped[str] = mapped_column(String(80))
    licence: Mapped[str] = mapped_column(String(120))
    parameters: Mapped[int | None] = mapped_column(BigInteger)
    is_standin: Mapped[bool] = mapped_column(Boolean, default=False)
    info: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    benchmark_scores: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = _now_col()


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(500))
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    archive_hash: Mapped[str | None] = mapped_column(String(64))
    parent_dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    licence: Mapped[str | None] = mapped_column(String(120))
    tainted: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _now_col()


class Model(Base):
    """One row per training attempt, failed and killed ones included."""

    __tablename__ = "models"

    # Column order is storage order: the flat columns first and the large JSON documents last, so
    # that a scan of the flat columns (run frames, leaderboards) reads each row's first page only
    # instead of walking SQLite's overflow pages of the loss curve and the scores.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    domain: Mapped[str] = mapped_column(String(40), index=True)
    base_model_id: Mapped[int] = mapped_column(ForeignKey("base_models.id"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"), index=True)
    dataset_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The four critical fields: parent_model_id, training_outcome, and (last) benchmark_scores and loss_curve_data.
    parent_model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    training_outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "outcome"), index=True)
    # Lineage detail, set together with parent_model_id by fork/continue/resume.
    parent_relation: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), index=True)
    failure_class: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = _now_col()
    started_at: Mapped[datetime | None] = _now_col(nullable=True)
    finished_at: Mapped[datetime | None] = _now_col(nullable=True)
    heartbeat_at: Mapped[datetime | None] = _now_col(nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"), index=True)
    executed_by: Mapped[ExecutedBy] = mapped_column(_enum(ExecutedBy, "executed_by"))
    template: Mapped[str | None] = mapped_column(String(200))
    template_version: Mapped[str | None] = mapped_column(String(40))
    evaluated_at: Mapped[datetime | None] = _now_col(nullable=True)
    failure_message: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    hardware: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    versions: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    artifacts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    benchmark_scores: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    loss_curve_data: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)

class LossPoint(Base):
    """Append-only: every logged training point, written as it happens.

    Non-finite values cannot live in SQLite REAL columns, so a NaN/inf value is
    stored as NULL in its column and named in ``nonfinite``
    (e.g. ``{"loss": "nan"}``).
    """

    __tablename__ = "loss_points"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[float | None] = mapped_column(Float)
    loss: Mapped[float | None] = mapped_column(Float)
    lr: Mapped[float | None] = mapped_column(Float)
    grad_norm: Mapped[float | None] = mapped_column(Float)
    eval_loss: Mapped[float | None] = mapped_column(Float)
    nonfinite: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    logged_at: Mapped[datetime] = _now_col()

    __table_args__ = (UniqueConstraint("model_id", "seq", name="model_seq"),)


class Evaluation(Base):
    """One row per benchmark task run; ``models.benchmark_scores`` summarises them."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    base_model_id: Mapped[int | None] = mapped_column(ForeignKey("base_models.id"), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    task: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float)
    stderr: Mapped[float | None] = mapped_column(Float)
    n_samples: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="scored")
    skip_reason: Mapped[str | None] = mapped_column(Text)
    stamp: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    stamp_hash: Mapped[str] = mapped_column(String(64))
    delta_base: Mapped[float | None] = mapped_column(Float)
    delta_parent: Mapped[float | None] = mapped_column(Float)
    executed_by: Mapped[ExecutedBy] = mapped_column(_enum(ExecutedBy, "eval_executed_by"))
    # False once a newer run of the same task under the same stamp exists for this model.
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now_col()

    __table_args__ = (
        # Covers both the ranking and the choice of the board's stamp without table lookups.
        Index("ix_evaluations_board", "domain", "task", "stamp_hash", "is_current", "status",
              "executed_by", "value", "model_id"),
    )


class BoardStamp(Base):
    """How many scores each board ranks under each stamp, kept up to date as scores are recorded.

    A board left to choose its stamp takes the most common one; reading it here costs one
    index probe instead of counting every score of the task.
    """

    __tablename__ = "board_stamps"

    domain: Mapped[str] = mapped_column(String(40), primary_key=True)
    task: Mapped[str] = mapped_column(String(120), primary_key=True)
    stamp_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    suite: Mapped[str] = mapped_column(String(40))
    # Current, scored, platform-run evaluations of models (not base models): what a board ranks.
    scores: Mapped[int] = mapped_column(Integer, default=0)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    thumbs_up: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_col()
    updated_at: Mapped[datetime] = _now_col()

    __table_args__ = (UniqueConstraint("model_id", "user_id", name="one_per_user"),)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    notebook: Mapped[str] = mapped_column(String(500))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    resources: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    executor: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), index=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    log_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _now_col()
    started_at: Mapped[datetime | None] = _now_col(nullable=True)
    finished_at: Mapped[datetime | None] = _now_col(nullable=True)
    heartbeat_at: Mapped[datetime | None] = _now_col(nullable=True)


class NotebookRun(Base):
    __tablename__ = "notebook_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    notebook: Mapped[str] = mapped_column(String(500))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    archive_hash: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    template: Mapped[str | None] = mapped_column(String(200))
    template_version: Mapped[str | None] = mapped_column(String(40))
    rerun_of: Mapped[int | None] = mapped_column(ForeignKey("notebook_runs.id"))
    created_at: Mapped[datetime] = _now_col()


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now_col()


class CapabilityFlag(Base):
    __tablename__ = "capability_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    task: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str] = mapped_column(String(16))
    delta: Mapped[float] = mapped_column(Float)
    relative: Mapped[float | None] = mapped_column(Float)
    z: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    q_value: Mapped[float] = mapped_column(Float)
    peer_percentile: Mapped[float | None] = mapped_column(Float)
    sentence: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_col()

    __table_args__ = (
        UniqueConstraint("model_id", "domain", "task", "reference", name="one_flag"),
    )


class DatasetItem(Base):
    """Hashes of normalised training items, for the contamination guard."""

    __tablename__ = "dataset_items"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    item_hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class EvaluationRequest(Base):
    """One per run that ended with an adapter: the platform's evaluation worker claims it under a lease.

    Written in the transaction that sets the run's outcome, so no door can
    finish a run without asking for its scores; a worker that stops renewing
    its lease loses the request to the next worker, and scores are recorded
    only together with ``state = done`` by the lease holder.
    """

    __tablename__ = "evaluation_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = _now_col(nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_col()
    claimed_at: Mapped[datetime | None] = _now_col(nullable=True)
    finished_at: Mapped[datetime | None] = _now_col(nullable=True)
