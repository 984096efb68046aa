"""Typed records the store returns and accepts (one shape for SQL and HTTP stores)."""
from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hubkit.db.models import ExecutedBy, JobState, Outcome, Role, RunStatus, Visibility


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, use_enum_values=False)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        # SQLite hands back naive datetimes; every timestamp we write is UTC.
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class UserRecord(Record):
    id: int
    username: str
    role: Role
    display_name: str | None = None
    created_at: datetime


class BaseModelRecord(Record):
    id: int
    key: str
    family: str
    hf_id: str
    architecture: str
    licence: str
    parameters: int | None = None
    is_standin: bool
    info: dict[str, Any] = Field(default_factory=dict)
    benchmark_scores: dict[str, Any] = Field(default_factory=dict)


class DatasetRecord(Record):
    id: int
    owner_id: int | None
    name: str
    fingerprint: str
    format: str
    source: str | None = None
    n_rows: int
    stats: dict[str, Any] = Field(default_factory=dict)
    archive_hash: str | None = None
    parent_dataset_id: int | None = None
    licence: str | None = None
    tainted: str | None = None
    created_at: datetime


class RunRecord(Record):
    """One training attempt; the four critical fields are spelled as in the schema."""

    id: int
    slug: str
    name: str
    description: str | None = None
    owner_id: int
    owner: str | None = None
    domain: str
    base_model_id: int
    base_model_key: str | None = None
    dataset_id: int | None = None
    dataset_fingerprint: str | None = None
    parent_model_id: int | None = None
    parent_relation: str | None = None
    training_outcome: Outcome | None = None
    loss_curve_data: list[dict[str, Any]] | None = None
    benchmark_scores: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus
    failure_class: str | None = None
    failure_message: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    duration_s: float | None = None
    hardware: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    visibility: Visibility
    artifacts: dict[str, Any] = Field(default_factory=dict)
    executed_by: ExecutedBy
    template: str | None = None
    template_version: str | None = None
    evaluated_at: datetime | None = None


class LossPointIn(BaseModel):
    """One logged training point; non-finite floats are accepted and kept."""

    step: int = Field(ge=0)
    epoch: float | None = None
    loss: float | None = None
    lr: float | None = None
    grad_norm: float | None = None
    eval_loss: float | None = None


class EvaluationIn(BaseModel):
    domain: str = Field(min_length=1, max_length=40)
    task: str = Field(min_length=1, max_length=120)
    metric: str = Field(min_length=1, max_length=60)
    value: float | None = None
    stderr: float | None = None
    n_samples: int = Field(default=0, ge=0)
    status: Literal["scored", "skipped", "refused", "error"] = "scored"
    skip_reason: str | None = None
    stamp: dict[str, Any] = Field(default_factory=dict)

    @field_validator("value", "stderr")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("scores must be finite numbers")
        return v

    @model_validator(mode="after")
    def _scored_has_value(self) -> "EvaluationIn":
        if self.status == "scored" and self.value is None:
            raise ValueError("a scored evaluation needs a value")
        return self


class EvaluationRecord(Record):
    id: int
    model_id: int | None
    base_model_id: int | None
    domain: str
    task: str
    metric: str
    value: float | None
    stderr: float | None
    n_samples: int
    status: str
    skip_reason: str | None = None
    stamp: dict[str, Any]
    stamp_hash: str
    delta_base: float | None = None
    delta_parent: float | None = None
    executed_by: ExecutedBy
    created_at: datetime


class EventRecord(Record):
    id: int
    model_id: int | None
    kind: str
    payload: dict[str, Any]
    actor_id: int | None = None
    created_at: datetime


class FeedbackRecord(Record):
    id: int
    model_id: int
    user_id: int
    username: str | None = None
    thumbs_up: bool
    comment: str | None = None
    created_at: datetime
    updated_at: datetime


class JobRecord(Record):
    id: int
    owner_id: int
    owner: str | None = None
    kind: str
    notebook: str
    parameters: dict[str, Any]
    resources: dict[str, Any]
    executor: str
    external_id: str | None = None
    state: JobState
    model_id: int | None = None
    error: str | None = None
    log_path: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


class EvaluationRequestRecord(Record):
    """A run waiting for (or given) its platform evaluation; ``lease_token`` is the holder's proof."""

    id: int
    model_id: int
    state: Literal["queued", "running", "done", "failed"]
    attempts: int
    worker: str | None = None
    lease_token: str | None = None
    lease_expires_at: datetime | None = None
    error: str | None = None
    created_at: datetime
    claimed_at: datetime | None = None
    finished_at: datetime | None = None


class NotebookRunRecord(Record):
    id: int
    job_id: int | None
    model_id: int | None
    notebook: str
    parameters: dict[str, Any]
    archive_hash: str
    succeeded: bool
    template: str | None = None
    template_version: str | None = None
    rerun_of: int | None = None
    created_at: datetime


class CapabilityFlagIn(BaseModel):
    domain: str
    task: str
    reference: Literal["base", "parent", "peers"]
    delta: float
    relative: float | None = None
    z: float
    p_value: float
    q_value: float
    peer_percentile: float | None = None
    sentence: str


class CapabilityFlagRecord(Record):
    id: int
    model_id: int
    domain: str
    task: str
    reference: str
    delta: float
    relative: float | None = None
    z: float
    p_value: float
    q_value: float
    peer_percentile: float | None = None
    sentence: str
    created_at: datetime


class LeaderboardRow(BaseModel):
    rank: int
    model_id: int
    slug: str
    name: str
    owner: str
    domain: str
    base_model_key: str
    base_family: str
    task: str
    metric: str
    value: float
    stderr: float | None
    n_samples: int
    stamp_hash: str
    training_outcome: Outcome | None
    parent_model_id: int | None
