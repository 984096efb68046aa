"""Request and answer bodies that are not store records themselves.

Answers reuse the store's records (``hubkit.store.records``), so the OpenAPI
schema, the ``ApiStore`` and the ``LocalStore`` speak one shape.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hubkit.store.records import CapabilityFlagIn, DatasetRecord, EvaluationIn, LossPointIn

Visibility = Literal["public", "unlisted", "private"]
Outcome = Literal["success", "failure", "partial"]
Relation = Literal["fork", "continue", "resume"]
Role = Literal["casual", "developer", "educator", "researcher", "admin"]
Json = dict[str, Any]
# bounds of the database columns, checked here so bad input is a 422, never a database error
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Int32 = Annotated[int, Field(ge=-2_147_483_648, le=2_147_483_647)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]


def Text(n: int) -> Any:  # reads like a type in the models below
    return Annotated[str, StringConstraints(max_length=n)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class In(BaseModel):
    """Request bodies: unknown fields and NUL characters are refused (PostgreSQL cannot store NUL)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class Me(BaseModel):
    kind: Literal["user", "platform", "anonymous"]
    name: str
    role: str
    acting_as: str | None = None


class UserIn(In):
    username: Text(64)
    role: Role = "casual"
    display_name: Text(200) | None = None


class BaseModelIn(In):
    family: Text(40)
    hf_id: Text(200)
    architecture: Text(80)
    licence: Text(120)
    parameters: Annotated[int, Field(ge=0, le=2**62)] | None = None
    is_standin: bool = False
    info: Json | None = None


class DatasetIn(In):
    owner: Text(64) | None = None
    name: Text(200)
    fingerprint: Text(64)
    format: Text(32)
    n_rows: Count
    stats: Json | None = None
    source: Text(500) | None = None
    archive_hash: Text(64) | None = None
    parent_dataset_id: Id | None = None
    licence: Text(120) | None = None
    item_hashes: list[Text(64)] = Field(default_factory=list, max_length=1_000_000)


class DatasetUploadOut(BaseModel):
    dataset: DatasetRecord
    content_hash: str
    size_bytes: int
    preview: list[Json]


class TaintIn(In):
    reason: Text(500)


class RunIn(In):
    owner: Text(64) | None = None
    name: Text(200)
    domain: Text(40)
    base_model: Text(120) | Id
    dataset_id: Id | None = None
    config: Json | None = None
    seed: Int32 | None = None
    executed_by: Literal["platform", "user"] = "platform"
    visibility: Visibility = "private"
    hardware: Json | None = None
    versions: Json | None = None
    description: str | None = None
    template: Text(200) | None = None
    template_version: Text(40) | None = None


class ForkIn(In):
    owner: Text(64) | None = None
    name: Text(200)
    relation: Relation = "fork"
    dataset_id: Id | None = None
    config: Json | None = None
    domain: Text(40) | None = None
    seed: Int32 | None = None
    executed_by: Literal["platform", "user"] = "platform"
    visibility: Visibility = "private"
    hardware: Json | None = None
    versions: Json | None = None
    description: str | None = None
    template: Text(200) | None = None
    template_version: Text(40) | None = None


class PointIn(LossPointIn):
    """One logged point; non-finite numbers travel as the strings "nan", "inf", "-inf"."""

    model_config = ConfigDict(extra="forbid")
    step: Count


class PointsIn(In):
    points: list[PointIn] = Field(max_length=10_000)


class Counted(BaseModel):
    count: int


class Stored(BaseModel):
    stored: int


class FinishIn(In):
    outcome: Outcome
    failure_class: Text(40) | None = None
    failure_message: str | None = None
    artifacts: Json | None = None


class ArtifactsIn(In):
    artifacts: Json


class EventIn(In):
    kind: Text(40)
    payload: Json | None = None


class VisibilityIn(In):
    visibility: Visibility


class FeedbackIn(In):
    user: Text(64) | None = None
    thumbs_up: bool
    comment: str | None = None


class Claimed(BaseModel):
    claimed: bool


class EvaluationBody(EvaluationIn):
    model_config = ConfigDict(extra="forbid")
    n_samples: Count = 0
    skip_reason: Text(500) | None = None

    @model_validator(mode="after")
    def _scored_has_value(self) -> EvaluationBody:
        if self.status == "scored" and self.value is None:
            raise ValueError("a scored evaluation needs a value")
        return self


class EvaluationWrite(In):
    evaluation: EvaluationBody
    model_id: Id | None = None
    base_model: Text(120) | Id | None = None
    executed_by: Literal["platform", "user"] = "platform"


class FlagIn(CapabilityFlagIn):
    model_config = ConfigDict(extra="forbid")
    domain: Text(40)
    task: Text(120)


class FlagsIn(In):
    flags: list[FlagIn] = Field(max_length=10_000)


class Reaped(BaseModel):
    reaped: list[int]


class JobRecordIn(In):
    owner: Text(64)
    kind: Text(40)
    notebook: Text(500)
    parameters: Json
    resources: Json | None = None
    executor: Text(20) = "local"


class JobUpdateIn(In):
    state: Literal["queued", "running", "succeeded", "failed", "cancelled", "lost"] | None = None
    external_id: Text(200) | None = None
    model_id: Id | None = None
    error: str | None = None
    log_path: Text(500) | None = None
    heartbeat: bool = False


class JobSubmitIn(In):
    notebook: Text(500)
    parameters: Json = Field(default_factory=dict)
    resources: Json | None = None


class JobLogs(BaseModel):
    job_id: int
    text: str


class NotebookRunIn(In):
    notebook: Text(500)
    parameters: Json
    archive_hash: Text(64)
    succeeded: bool
    job_id: Id | None = None
    model_id: Id | None = None
    template: Text(200) | None = None
    template_version: Text(40) | None = None
    rerun_of: Id | None = None


class StampCount(BaseModel):
    stamp_hash: str
    models: int
