"""Run one job to the end, inside the worker process, and always leave a record.

Reads top to bottom like papermill's ``execute_notebook``: claim the job
(unless the executor claimed it when it launched the worker) →
tell the kernel who it works for → execute with Papermill (the output is
written even when a cell fails) → archive the executed notebook by hash →
link it to every run the notebook reported → set the job's final state.
A heartbeat thread keeps the job alive in the store and passes a
cancellation on to the kernel through a marker file.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from hubkit.archive import open_archive
from hubkit.config import Settings, load_settings
from hubkit.errors import Conflict, HubkitError
from hubkit.jobs import context, notebooks
from hubkit.jobs.paths import job_dir, rerun_of_kind
from hubkit.store import Store, open_store

log = logging.getLogger("hubkit.jobs")
KERNEL = "python3"


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
    def __init__(self, store: Store, job_id: int, interval: float, cancel_file: Path) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.store, self.job_id, self.interval, self.cancel_file = store, job_id, interval, cancel_file
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                job = self.store.update_job(self.job_id, heartbeat=True)
            except Exception:
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)
                continue
            if job.state.value == "cancelled":
                self.cancel_file.touch()


def run_job(job_id: int, *, settings: Settings | None = None, store: Store | None = None,
            kernel: Any | None = None) -> JobOutcome:
    """Execute job ``job_id``; called by ``python -m hubkit.jobs.worker`` under every executor.

    ``kernel``: a kernel manager already started for this job (see the worker);
    the caller shuts it down. Without one, Papermill starts and stops its own.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    settings = settings or load_settings()
    store = store or open_store(settings=settings)
    job = store.get_job(job_id)
    claimed = job.state.value == "running" or (job.state.value == "queued" and store.claim_job(job_id))
    if not claimed:  # cancelled before it started, or another worker has it
        return JobOutcome(job_id, store.get_job(job_id).state.value, None, [], job.error)

    folder = job_dir(settings, job_id)
    output = folder / "output.ipynb"
    cancel_file = folder / "cancel"
    runs_file = folder / "runs"
    try:
        source = notebooks.resolve(job.notebook, settings=settings)
    except HubkitError as exc:  # e.g. a template deleted, or an archived notebook damaged since submit
        store.update_job(job_id, state="failed", error=exc.message)
        return JobOutcome(job_id, "failed", None, [], exc.message)
    context.write_context(folder, owner=job.owner or "", template=source.template,
                          template_version=source.template_version)
    os.environ.update(context.kernel_environment(job_id, folder))  # for a kernel Papermill starts itself

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        cancel_file.touch()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    beat = _Heartbeat(open_store(settings=settings), job_id, heartbeat_interval(settings), cancel_file)
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
    digest = open_archive(settings.archive_root).put_file(archived)
    run_ids = context.reported_runs(runs_file)
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


def _link_artifact(store: Store, run_id: int, digest: str) -> None:
    try:
        store.add_artifacts(run_id, {"notebook": digest})
    except HubkitError:
        log.warning("could not link notebook %s to run %s", digest, run_id, exc_info=True)

