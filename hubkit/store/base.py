"""The Store contract: the only way anything writes to the run database.

Invariants live here and in the implementations, never in callers:
``parent_model_id`` is set only by :meth:`Store.fork_run`; an outcome is set
once; loss points only grow; the curve is materialised into
``loss_curve_data`` when a run finishes (also by :meth:`Store.reap`).

``actor`` is the username on whose behalf a call is made; ``None`` means the
platform itself (workers, the service after it has authorised the request).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from hubkit.store.records import (
    BaseModelRecord,
    CapabilityFlagIn,
    CapabilityFlagRecord,
    DatasetRecord,
    EvaluationIn,
    EvaluationRecord,
    EventRecord,
    FeedbackRecord,
    JobRecord,
    LeaderboardRow,
    LossPointIn,
    NotebookRunRecord,
    RunRecord,
    UserRecord,
)

PointLike = LossPointIn | Mapping[str, Any]


class Store(ABC):
    # --- users and catalog -------------------------------------------------
    @abstractmethod
    def ensure_user(self, username: str, *, role: str = "casual", display_name: str | None = None) -> UserRecord:
        """Create the user if new; an existing user keeps their role."""

    @abstractmethod
    def get_user(self, username: str) -> UserRecord: ...

    @abstractmethod
    def upsert_base_model(self, *, key: str, family: str, hf_id: str, architecture: str, licence: str,
                          parameters: int | None = None, is_standin: bool = False,
                          info: Mapping[str, Any] | None = None) -> BaseModelRecord: ...

    @abstractmethod
    def get_base_model(self, key_or_id: str | int) -> BaseModelRecord: ...

    @abstractmethod
    def list_base_models(self) -> list[BaseModelRecord]: ...

    # --- datasets ------------------------------------------------------------
    @abstractmethod
    def register_dataset(self, *, owner: str | None, name: str, fingerprint: str, format: str,
                         n_rows: int, stats: Mapping[str, Any] | None = None, source: str | None = None,
                         archive_hash: str | None = None, parent_dataset_id: int | None = None,
                         licence: str | None = None, item_hashes: Sequence[str] = ()) -> DatasetRecord:
        """Record a validated dataset; the same owner and fingerprint return the existing row."""

    @abstractmethod
    def get_dataset(self, dataset_id: int, *, viewer: str | None = None) -> DatasetRecord:
        """``viewer`` as for runs: None sees all; else shared examples, own datasets (all for
        researchers and admins). A dataset hidden from ``viewer`` raises ``NotFound``."""

    @abstractmethod
    def list_datasets(self, *, viewer: str | None = None) -> list[DatasetRecord]: ...

    @abstractmethod
    def dataset_item_hashes(self, dataset_id: int) -> set[str]: ...

    @abstractmethod
    def taint_dataset(self, dataset_id: int, *, reason: str, actor: str | None = None) -> DatasetRecord: ...

    # --- runs ----------------------------------------------------------------
    @abstractmethod
    def create_run(self, *, owner: str, name: str, domain: str, base_model: str | int,
                   dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                   seed: int | None = None, executed_by: str = "platform", visibility: str = "private",
                   hardware: Mapping[str, Any] | None = None, versions: Mapping[str, Any] | None = None,
                   description: str | None = None, template: str | None = None,
                   template_version: str | None = None) -> RunRecord:
        """A new attempt trained from a base model: ``parent_model_id`` stays NULL."""

    @abstractmethod
    def fork_run(self, parent_id: int, *, owner: str, name: str, relation: str = "fork",
                 dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                 domain: str | None = None, seed: int | None = None, executed_by: str = "platform",
                 visibility: str = "private", hardware: Mapping[str, Any] | None = None,
                 versions: Mapping[str, Any] | None = None, description: str | None = None,
                 template: str | None = None, template_version: str | None = None) -> RunRecord:
        """A new attempt starting from ``parent_id`` (fork, continue or resume)."""

    @abstractmethod
    def append_points(self, run_id: int, points: Sequence[PointLike]) -> int:
        """Append logged points (and count as a heartbeat); returns how many were stored."""

    @abstractmethod
    def heartbeat(self, run_id: int) -> None: ...

    @abstractmethod
    def finish_run(self, run_id: int, *, outcome: str, failure_class: str | None = None,
                   failure_message: str | None = None, artifacts: Mapping[str, Any] | None = None) -> RunRecord:
        """Set the outcome once and materialise the curve."""

    @abstractmethod
    def add_artifacts(self, run_id: int, artifacts: Mapping[str, Any]) -> RunRecord:
        """Add artifact hashes; an existing key is never overwritten."""

    @abstractmethod
    def download_ticket(self, run_id: int, route: str, *, viewer: str | None = None) -> str:
        """A short-lived ticket (``hubkit.tickets``) that lets a browser stream ``route`` of a run
        ``viewer`` may see; NotFound, as for a missing run, otherwise."""

    @abstractmethod
    def record_event(self, run_id: int | None, kind: str, payload: Mapping[str, Any] | None = None,
                     *, actor: str | None = None) -> EventRecord: ...

    @abstractmethod
    def set_visibility(self, run_id: int, visibility: str, *, actor: str | None = None) -> RunRecord: ...

    @abstractmethod
    def reap(self, *, stale_after_s: float) -> list[int]:
        """Mark running runs whose heartbeat stopped as ``failure``/``lost``; return their ids."""

    # --- evaluation, feedback, flags -----------------------------------------
    @abstractmethod
    def record_evaluation(self, *, evaluation: EvaluationIn, model_id: int | None = None,
                          base_model: str | int | None = None, executed_by: str = "platform") -> EvaluationRecord:
        """One task run on a model (or a base model's baseline); updates ``benchmark_scores``."""

    @abstractmethod
    def record_feedback(self, run_id: int, *, user: str, thumbs_up: bool, comment: str | None = None) -> FeedbackRecord: ...

    @abstractmethod
    def replace_capability_flags(self, run_id: int, flags: Sequence[CapabilityFlagIn]) -> list[CapabilityFlagRecord]: ...

    def replace_capability_flags_many(
        self, flags_by_run: Mapping[int, Sequence[CapabilityFlagIn]]
    ) -> dict[int, list[CapabilityFlagRecord]]:
        """Replace the flags of many runs; SQL stores do it in one transaction."""
        return {run_id: self.replace_capability_flags(run_id, flags) for run_id, flags in flags_by_run.items()}

    # --- jobs ----------------------------------------------------------------
    @abstractmethod
    def create_job(self, *, owner: str, kind: str, notebook: str, parameters: Mapping[str, Any],
                   resources: Mapping[str, Any] | None = None, executor: str = "local") -> JobRecord: ...

    @abstractmethod
    def update_job(self, job_id: int, *, state: str | None = None, external_id: str | None = None,
                   model_id: int | None = None, error: str | None = None, log_path: str | None = None,
                   heartbeat: bool = False) -> JobRecord:
        """Move a job on; a job in a final state never changes state again."""

    @abstractmethod
    def claim_job(self, job_id: int) -> bool:
        """Move a queued job to running; True for exactly one caller."""

    @abstractmethod
    def get_job(self, job_id: int) -> JobRecord: ...

    @abstractmethod
    def list_jobs(self, *, owner: str | None = None, states: Sequence[str] | None = None, limit: int = 100) -> list[JobRecord]: ...

    @abstractmethod
    def record_notebook_run(self, *, notebook: str, parameters: Mapping[str, Any], archive_hash: str,
                            succeeded: bool, job_id: int | None = None, model_id: int | None = None,
                            template: str | None = None, template_version: str | None = None,
                            rerun_of: int | None = None) -> NotebookRunRecord: ...

    # --- queries ---------------------------------------------------------------
    @abstractmethod
    def get_run(self, run_id_or_slug: int | str, *, viewer: str | None = None) -> RunRecord:
        """A private run of someone else raises NotFound, exactly like a missing one."""

    @abstractmethod
    def list_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                  outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                  base_family: str | None = None, order: str = "newest", summary: bool = False,
                  limit: int = 100, offset: int = 0) -> list[RunRecord]:
        """Runs the viewer may see, newest first; ``summary`` leaves out curve and config."""

    @abstractmethod
    def count_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                   outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                   base_family: str | None = None) -> int:
        """How many runs ``list_runs`` would page through with the same filters."""

    @abstractmethod
    def children(self, run_id: int, *, viewer: str | None = None) -> list[RunRecord]: ...

    @abstractmethod
    def loss_points(self, run_id: int) -> list[dict[str, Any]]: ...

    @abstractmethod
    def list_evaluations(self, *, model_id: int | None = None, base_model: str | int | None = None) -> list[EvaluationRecord]: ...

    @abstractmethod
    def list_events(self, run_id: int) -> list[EventRecord]: ...

    @abstractmethod
    def list_feedback(self, run_id: int) -> list[FeedbackRecord]: ...

    @abstractmethod
    def list_capability_flags(self, run_id: int | None = None) -> list[CapabilityFlagRecord]: ...

    @abstractmethod
    def list_notebook_runs(self, *, model_id: int | None = None, job_id: int | None = None,
                           rerun_of: int | None = None, archive_hash: str | None = None) -> list[NotebookRunRecord]: ...

    @abstractmethod
    def get_notebook_run(self, notebook_run_id: int) -> NotebookRunRecord: ...

    @abstractmethod
    def leaderboard(self, *, domain: str, task: str | None = None, stamp_hash: str | None = None,
                    base_family: str | None = None, suite: str | None = None, ascending: bool = False,
                    limit: int = 50, offset: int = 0) -> list[LeaderboardRow]:
        """Public, platform-scored models ranked on one task under one stamp.

        ``suite`` (``offline`` or ``standard``) keeps the board to the scores whose stamp names
        that suite, so the task picked when none is named is one of its tasks."""

    @abstractmethod
    def leaderboard_stamps(self, *, domain: str, task: str, base_family: str | None = None,
                           suite: str | None = None) -> list[tuple[str, int]]:
        """Every stamp the task was scored under (in ``suite``, if given), with how many models
        ``leaderboard`` ranks under it."""
