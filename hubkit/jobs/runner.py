"""Run one job to the end, inside the worker process, and always leave a record.

Reads top to bottom like papermill's ``execute_notebook``: claim the job
(unless the executor claimed it when it launched the worker) →
tell the kernel who it works for → execute with Papermill (the output is
written even when a cell fails) → archive the executed notebook by hash →
link it to every run the notebook reported → set the job's final state.
A heartbeat thread keeps the job alive in the store and passes a
cancellation on to the kernel through a marker file.

A worker on the platform's machine records straight into the run database.
A worker that holds only its job's token (Ray) does the same bookkeeping
through the service: its store is an ``ApiStore``, and it reads the job's
notebook and archives the executed copy through ``/v1/jobs/{id}/notebook``.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.config import Settings, load_settings
from hubkit.errors import Conflict, HubkitError
from hubkit.jobs import context, notebooks
from hubkit.jobs.paths import job_dir, rerun_of_kind
from hubkit.store import Store, open_store
from hubkit.store.api import ApiStore
from hubkit.store.records import JobRecord

log = logging.getLogger("hubkit.jobs")
KERNEL = "python3"
_RUNS_POLL_S = 0.5


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    state: str
    archive_hash: str | None
    run_ids: list[int]
    error: str | None


def heartbeat_interval(settings: Settings) -> float:
    """Beat several times per timeout so one slow write never looks like a death."""
    return max(0.5, min(10.0, settings.heartbeat_timeout_s / 6))


class _Heartbeat(threading.Thread):
    """Beats every ``interval``; between beats, names newly reported runs on the job row."""

    def __init__(self, store: Store, job: JobRecord, interval: float, folder: Path) -> None:
        super().__init__(name=f"heartbeat-{job.id}", daemon=True)
        self.store, self.job, self.interval, self.folder = store, job, interval, folder
        self.halt = threading.Event()
        self._seen: set[int] = set()

    def run(self) -> None:
        next_beat = time.monotonic() + self.interval
        while not self.halt.wait(min(_RUNS_POLL_S, self.interval)):
            self._name_runs()
            if time.monotonic() < next_beat:
                continue
            next_beat = time.monotonic() + self.interval
            try:
                job = self.store.update_job(self.job.id, heartbeat=True)
            except Exception:
                log.warning("heartbeat for job %s failed", self.job.id, exc_info=True)
                continue
            if job.state.value == "cancelled":
                (self.folder / "cancel").touch()

    def _name_runs(self) -> None:
        new = [r for r in context.reported_runs(self.folder / "runs") if r not in self._seen]
        if not new:
            return
        self._seen.update(new)
        fresh = owned_runs(self.store, self.job, new)
        if not fresh:
            return
        try:
            self.store.update_job(self.job.id, model_id=fresh[-1])
        except Exception:
            log.warning("could not name run %s on job %s", fresh[-1], self.job.id, exc_info=True)


def owned_runs(store: Store, job: JobRecord, reported: list[int]) -> list[int]:
    """The reported runs that belong to the job's owner (a kernel may write anything in its runs file)."""
    found = []
    for run_id in reported:
        try:
            if store.get_run(run_id).owner == job.owner:
                found.append(run_id)
                continue
        except HubkitError:
            pass
        log.warning("job %s reported run %s, which is not its owner's; ignored", job.id, run_id)
    return found


def run_job(job_id: int, *, settings: Settings | None = None, store: Store | None = None,
            kernel: Any | None = None, as_owner: bool = False, folder: Path | None = None) -> JobOutcome:
    """Execute job ``job_id``; called by ``python -m hubkit.jobs.worker`` under every executor.

    ``kernel``: a kernel manager already started for this job (see the worker);
    the caller shuts it down. Without one, Papermill starts and stops its own,
    unless ``as_owner`` (the kernel had to run as the job's owner): then the job fails.
    ``folder``: where the job's files go (default: the job's folder in the platform's home).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    settings = settings or load_settings()
    store = store or open_store(settings=settings)
    job = store.get_job(job_id)
    claimed = job.state.value == "running" or (job.state.value == "queued" and store.claim_job(job_id))
    if not claimed:  # cancelled before it started, or another worker has it
        return JobOutcome(job_id, store.get_job(job_id).state.value, None, [], job.error)

    folder = folder or job_dir(settings, job_id)
    output = folder / "output.ipynb"
    cancel_file = folder / "cancel"
    runs_file = folder / "runs"
    try:
        source = _notebook(job, store=store, settings=settings, folder=folder)
    except HubkitError as exc:  # e.g. a template deleted, or an archived notebook damaged since submit
        store.update_job(job_id, state="failed", error=exc.message)
        return JobOutcome(job_id, "failed", None, [], exc.message)
    if as_owner and kernel is None:
        error = "The job's kernel could not be started as its owner's account; see the job's log."
        store.update_job(job_id, state="failed", error=error)
        return JobOutcome(job_id, "failed", None, [], error)
    context.write_context(folder, owner=job.owner or "", template=source.template,
                          template_version=source.template_version)
    os.environ.update(context.kernel_environment(job_id, folder))  # for a kernel Papermill starts itself

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        cancel_file.touch()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    beat = _Heartbeat(open_store(settings=settings), job, heartbeat_interval(settings), folder)
    beat.start()
    error: str | None = None
    try:
        # Papermill rewrites the output around every cell (about 5 ms each here), so a kernel
        # that dies mid-run still leaves the cells it ran to archive.
        papermill.execute_notebook(
            str(source.path), str(output), parameters=job.parameters, kernel_name=KERNEL,
            progress_bar=False, log_output=True, cwd=str(folder), extra_arguments=context.KERNEL_ARGUMENTS,
            shutdown_kernel="immediate",  # nothing is left to wait for: the notebook has ended
            **({"km": kernel} if kernel is not None else {}))
    except PapermillExecutionError as exc:
        error = f"Cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a kernel that died or never started is a job failure too
        error = f"The notebook could not run: {type(exc).__name__}: {exc}"
    finally:
        beat.halt.set()
        beat.join()
        signal.signal(signal.SIGTERM, previous)

    archived = output if output.exists() else source.path
    digest = _archive(job_id, archived, store=store, settings=settings)
    run_ids = owned_runs(store, job, context.reported_runs(runs_file))
    cancelled = cancel_file.exists() or store.get_job(job_id).state.value == "cancelled"
    for run_id in run_ids or [None]:
        store.record_notebook_run(
            notebook=job.notebook, parameters=job.parameters, archive_hash=digest,
            succeeded=error is None and not cancelled, job_id=job_id, model_id=run_id,
            template=source.template, template_version=source.template_version,
            rerun_of=rerun_of_kind(job.kind))
        if run_id is not None:
            _link_artifact(store, run_id, digest)
    state = "cancelled" if cancelled else ("failed" if error else "succeeded")
    try:
        store.update_job(job_id, state=state, error=error,
                         model_id=run_ids[-1] if run_ids else None)
    except Conflict:
        pass  # cancelled by its owner while it ran: that final state stands
    return JobOutcome(job_id, state, digest, run_ids, error)


def _notebook(job: JobRecord, *, store: Store, settings: Settings, folder: Path) -> notebooks.NotebookSource:
    """The job's notebook: where the platform keeps it, or through the service for a worker holding a token."""
    if isinstance(store, ApiStore):
        path = folder / "source.ipynb"
        path.write_bytes(store.job_notebook(job.id))
        return notebooks.load(path, ref=job.notebook)
    return notebooks.resolve(job.notebook, settings=settings)


def _archive(job_id: int, path: Path, *, store: Store, settings: Settings) -> str:
    """Archive the executed notebook among the executed notebooks; returns its hash."""
    if isinstance(store, ApiStore):
        return store.archive_executed(job_id, path.read_bytes())
    return open_archive(settings.archive_root, namespace=NOTEBOOKS).put_file(path)


def _link_artifact(store: Store, run_id: int, digest: str) -> None:
    try:
        store.add_artifacts(run_id, {"notebook": digest})
    except HubkitError:
        log.warning("could not link notebook %s to run %s", digest, run_id, exc_info=True)

