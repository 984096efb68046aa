"""``python -m hubkit.jobs.worker JOB_ID``: the process every executor starts for a job.

The job's kernel is started first thing, so it boots while this process
imports the database layer and Papermill (about a second each way, in
parallel on two cores instead of one after the other); the kernel learns the
job's owner and template from a file the runner writes before any cell runs.

A worker given the service's URL instead of the database (the Ray executor's,
holding only its job's token) works in a private scratch folder of its own,
removed at the end: the cluster's node may not share the platform's disk.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hubkit.config import Settings, load_settings

# Papermill validates notebooks with jsonschema, which compiles an optional URI
# grammar on import (about 1.3 s of CPU per job); no notebook schema uses it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

log = logging.getLogger("hubkit.jobs")
ENV_RUN_AS = "HUBKIT_JOB_RUN_AS"  # hubkit.jobs.isolation.ENV_ACCOUNT, read before that module loads


def workspace(settings: Settings, job_id: int) -> tuple[Path, bool]:
    """The job's folder, and whether it is a scratch folder of this worker's (to remove at the end)."""
    from hubkit.jobs.paths import job_dir

    if not settings.service_url:
        return job_dir(settings, job_id), False
    folder = Path(tempfile.mkdtemp(prefix=f"hubkit-job-{int(job_id)}-"))
    os.environ["HUBKIT_HOME"] = str(folder / "home")  # the kernel's caches and checkpoints
    return folder, True


def start_kernel(job_id: int, folder: Path, settings: Settings) -> Any | None:
    """Start the job's kernel in ``folder`` now; None (Papermill starts one later) if that fails.

    When the executor asked for the kernel to run as the job's owner, it starts as
    that account or not at all (the job then fails; it never runs as the platform).
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    from hubkit.jobs import context, isolation

    run_as = isolation.take_from_environment()
    if run_as is not None:
        try:
            return isolation.start_kernel(run_as, job_id=job_id, settings=settings, kernel_name="python3",
                                          extra_arguments=context.KERNEL_ARGUMENTS)
        except Exception:
            log.exception("could not start the kernel as %s", run_as.account.name)
            return None
    km = AsyncKernelManager(kernel_name="python3")
    try:
        run_sync(km.start_kernel)(cwd=str(folder), env={**os.environ, **context.kernel_environment(job_id, folder)},
                                  extra_arguments=context.KERNEL_ARGUMENTS)
    except Exception:
        log.warning("could not start the kernel early; Papermill will start it", exc_info=True)
        return None
    return km


def stop_kernel(km: Any) -> None:
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        log.debug("kernel shutdown", exc_info=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m hubkit.jobs.worker JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    job_id = int(args[0])
    as_owner = bool(os.environ.get(ENV_RUN_AS))
    settings = load_settings()
    folder, scratch = workspace(settings, job_id)
    kernel = start_kernel(job_id, folder, settings)
    try:
        from hubkit.jobs.runner import run_job

        outcome = run_job(job_id, kernel=kernel, as_owner=as_owner, folder=folder)
    finally:
        if kernel is not None:
            stop_kernel(kernel)
        if scratch:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"job {outcome.job_id} {outcome.state}" + (f": {outcome.error}" if outcome.error else ""), flush=True)
    return 0 if outcome.state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
