"""Run a recorded notebook again: the archived notebook, with the same parameters.

The rerun executes the exact notebook that produced the run (read back from
the archive, hash verified), not whatever ``notebooks/`` holds today, and its
``notebook_runs`` row points at the one it repeats (``rerun_of``).
"""
from __future__ import annotations

from hubkit.config import Settings, load_settings
from hubkit.errors import NotFound
from hubkit.jobs.api import submit
from hubkit.jobs.paths import rerun_kind
from hubkit.store import Store, open_store
from hubkit.store.records import JobRecord


def rerun(run_id: int, *, owner: str, store: Store | None = None, settings: Settings | None = None) -> JobRecord:
    """Queue a new job repeating the notebook that made run ``run_id``; the new run is ``owner``'s."""
    settings = settings or load_settings()
    store = store or open_store(settings.database_url, settings=settings)
    run = store.get_run(run_id, viewer=owner)
    made_by = store.list_notebook_runs(model_id=run.id)
    if not made_by:
        raise NotFound(f"Run {run.slug} was not made by a notebook job, so there is nothing to run again.")
    original = made_by[-1]
    resources = store.get_job(original.job_id).resources if original.job_id is not None else None
    return submit(notebook=f"archive:{original.archive_hash}", parameters=original.parameters, owner=owner,
                  resources=resources, store=store, settings=settings, kind=rerun_kind(original.id))
