"""The executor base: every job's bookkeeping, whatever runs it.

Template method (as papermill's ``Engine`` and JupyterHub's ``Authenticator``
do it): this class decides when a queued job starts, what environment its
worker gets, how a cancellation is recorded, when a silent job is reaped and
how jobs are picked up again after a restart. A subclass only knows how to
launch a worker, ask whether it is still going, stop it and read its logs.
The worker itself (``hubkit.jobs.runner``) records the job's heartbeats,
archives the executed notebook and writes its final state.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from hubkit.config import Settings
from hubkit.errors import ConfigError, Conflict
from hubkit.jobs.paths import log_path
from hubkit.store import Store
from hubkit.store.records import JobRecord

FINAL_STATES = frozenset({"succeeded", "failed", "cancelled", "lost"})
# Environment a worker inherits from the submitting process when set there.
PASSED_THROUGH = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_NO_ADVISORY_WARNINGS",
                  "TOKENIZERS_PARALLELISM", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH")


class Resources(BaseModel):
    """What one job asks for; the executor decides where that is available."""

    model_config = ConfigDict(extra="forbid")

    cpus: float = Field(1.0, gt=0, le=512, description="CPU cores the job needs.")
    gpus: int = Field(0, ge=0, le=64, description="Whole GPUs the job needs.")


class External(str, Enum):
    """What an executor can say about a launched worker."""

    pending = "pending"
    running = "running"
    ended = "ended"


@dataclass(frozen=True)
class Recovery:
    """What :meth:`Executor.recover` did."""

    lost: list[int]
    failed: list[int]
    started: list[int]


def is_final(job: JobRecord) -> bool:
    return job.state.value in FINAL_STATES


class Executor(ABC):
    name: ClassVar[str]
    poll_interval_s: ClassVar[float] = 0.25
    claims_at_launch: ClassVar[bool] = False
    """True when this executor's own queue decides the start (local); else the worker claims the job."""
    runs_as_owner: ClassVar[bool] = False
    """True when a job's code runs as its owner with only the owner's token; False: as the platform (single user)."""

    def __init__(self, *, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._dispatching = threading.Lock()

    # --- hooks ----------------------------------------------------------------
    def check_resources(self, resources: Resources) -> None:
        """Refuse at submit what this executor can never provide (default: anything goes)."""

    @abstractmethod
    def _launch(self, job: JobRecord, env: dict[str, str], log_file: Path) -> str:
        """Start ``python -m hubkit.jobs.worker JOB_ID``; return its external id."""

    @abstractmethod
    def _external_state(self, external_id: str) -> External: ...

    @abstractmethod
    def _stop(self, external_id: str, *, grace_s: float) -> None:
        """Ask the worker to stop, and make sure it has after ``grace_s`` seconds."""

    def _read_logs(self, job: JobRecord) -> str:
        path = Path(job.log_path) if job.log_path else log_path(self.settings, job.id)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def _can_start(self, job: JobRecord, active: list[JobRecord]) -> bool:
        """Whether ``job`` may start now, given the jobs this executor already runs."""
        return True

    # --- bookkeeping ------------------------------------------------------------
    def enqueue(self, job: JobRecord) -> None:
        """A job was queued: start what can start."""
        self.dispatch()

    def dispatch(self) -> list[int]:
        """Start queued jobs, oldest first, while there is room; returns the ids started."""
        with self._dispatching:
            return self._dispatch()

    def _dispatch(self) -> list[int]:
        started: list[int] = []
        queued = [j for j in reversed(self.store.list_jobs(states=["queued"], limit=10_000))
                  if j.executor == self.name]
        active = self.active_jobs()
        for job in queued:
            if job.external_id is not None:
                continue  # launched already; its worker has not marked it running yet
            if not self._can_start(job, active):
                continue
            if self.claims_at_launch and not self.store.claim_job(job.id):
                continue  # another dispatcher took it
            started.append(self._start(job))
            active.append(self.store.get_job(job.id))
        return started

    def _start(self, job: JobRecord) -> int:
        log_file = log_path(self.settings, job.id)
        external_id = self._launch(job, self.worker_environment(job), log_file)
        self.store.update_job(job.id, external_id=external_id, log_path=str(log_file))
        return job.id

    def active_jobs(self) -> list[JobRecord]:
        """Jobs of this executor whose worker is launched and still going."""
        jobs = self.store.list_jobs(states=["queued", "running"], limit=10_000)
        return [j for j in jobs if j.executor == self.name and j.external_id is not None
                and self._external_state(j.external_id) is not External.ended]

    def worker_environment(self, job: JobRecord) -> dict[str, str]:
        """Everything a worker needs to reach the same database, archive and settings."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        for f in dataclasses.fields(Settings):
            value = getattr(self.settings, f.name)
            env[f"HUBKIT_{f.name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        env["HUBKIT_HOME"] = str(self.settings.home.resolve())
        env["HUBKIT_DB_URL"] = self.settings.database_url
        env["HUBKIT_ARCHIVE_URL"] = self.settings.archive_root
        env["HUBKIT_SERVICE_URL"] = ""  # workers are the platform: they write to the database
        return env

    def job_service_url(self) -> str:
        """The hubkit service as a job's code reaches it: ``HUBKIT_JOB_SERVICE_URL``, else the service's own URL."""
        if self.settings.job_service_url:
            return self.settings.job_service_url.rstrip("/")
        served = os.environ.get("JUPYTERHUB_SERVICE_URL", "").rstrip("/")
        if not served:
            raise ConfigError("Jobs that run as their owner record through the hubkit service: set "
                              "HUBKIT_JOB_SERVICE_URL (done for you when JupyterHub starts the service).")
        return served + "/" + os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip("/")

    def settle(self, job: JobRecord) -> JobRecord:
        """Fail a job whose worker ended without writing a final state (crashed, killed)."""
        if is_final(job) or job.external_id is None:
            return job
        if self._external_state(job.external_id) is not External.ended:
            return job
        job = self.store.get_job(job.id)  # the worker may have finished meanwhile
        if is_final(job):
            return job
        tail = self._read_logs(job).strip().splitlines()[-5:]
        error = "The job's process ended without recording a result."
        if tail:
            error += " Last log lines:\n" + "\n".join(tail)
        try:
            return self.store.update_job(job.id, state="failed", error=error)
        except Conflict:
            return self.store.get_job(job.id)

    def wait(self, job_id: int, *, timeout_s: float | None = None,
             on_update: Callable[[JobRecord], None] | None = None) -> JobRecord:
        """Block until the job ends (or ``timeout_s`` passes); ``on_update`` sees every poll."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.settle(self.store.get_job(job_id))
            if on_update is not None:
                on_update(job)
            if is_final(job) or (deadline is not None and time.monotonic() > deadline):
                return job
            self._pause(job)

    def _pause(self, job: JobRecord) -> None:
        """Wait before looking at ``job`` again (an executor that can see its worker end waits for that)."""
        time.sleep(self.poll_interval_s)

    def cancel(self, job_id: int, *, grace_s: float = 15.0) -> JobRecord:
        """Record the cancellation, then stop the worker (a training run ends ``partial``)."""
        job = self.store.get_job(job_id)
        if is_final(job):
            raise Conflict(f"Job {job_id} already ended ({job.state.value}).")
        self.store.update_job(job_id, state="cancelled", error="Cancelled by request.")
        if job.external_id is not None:
            self._stop(job.external_id, grace_s=grace_s)
        return self.store.get_job(job_id)

    def logs(self, job_id: int) -> str:
        return self._read_logs(self.store.get_job(job_id))

    def reap(self) -> list[int]:
        """Mark running jobs whose heartbeat stopped as lost, and their runs as failure/lost."""
        timeout = self.settings.heartbeat_timeout_s
        cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
        lost: list[int] = []
        for job in self.store.list_jobs(states=["running"], limit=10_000):
            beat = job.heartbeat_at or job.started_at or job.created_at
            if job.executor != self.name or beat >= cutoff:
                continue
            try:
                self.store.update_job(job.id, state="lost",
                                      error=f"No heartbeat since {beat.isoformat()}; the worker died or hung.")
            except Conflict:
                continue  # ended on its own meanwhile
            lost.append(job.id)
            # stopped only once recorded: a monitor that sees the worker exit would call it failed
            if job.external_id is not None:
                self._stop(job.external_id, grace_s=0)
        self.store.reap(stale_after_s=timeout)
        return lost

    def recover(self) -> Recovery:
        """After a restart: reap silent jobs, fail dead ones, start the queued ones again."""
        lost = self.reap()
        failed = []
        for job in self.store.list_jobs(states=["queued", "running"], limit=10_000):
            if job.executor == self.name and is_final(self.settle(job)):
                failed.append(job.id)
        return Recovery(lost=lost, failed=failed, started=self.dispatch())

    def close(self) -> None:
        """Release what this object holds; launched workers keep running."""
