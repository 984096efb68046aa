"""Small helpers shared by the job tests."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.config import Settings
from hubkit.store import LocalStore
from hubkit.store.records import JobRecord


def wait_until(predicate: Callable[[], bool], *, timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def archived_notebook(store: LocalStore, settings, job: JobRecord) -> dict:  # type: ignore[no-untyped-def]
    """The job's archived notebook, read back through the archive (hash verified) and re-hashed here."""
    (nb_run,) = store.list_notebook_runs(job_id=job.id)
    data = open_archive(settings.archive_root, namespace=NOTEBOOKS).get_bytes(nb_run.archive_hash)
    assert hashlib.sha256(data).hexdigest() == nb_run.archive_hash
    return json.loads(data)


def outputs_text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append(out.get("ename", "") + ": " + out.get("evalue", ""))
            parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def worker_pid(job_id: int, settings: Settings) -> int:
    """The pid of ``python -m hubkit.jobs.worker JOB_ID`` working for this hub, whoever launched it.

    Job ids restart at 1 in every test's database, and another test's worker may still be
    running: the worker's ``HUBKIT_HOME`` tells whose it is, or for a worker that records
    through the service (Ray), the service's URL.
    """
    from pathlib import Path

    wanted = [b"hubkit.jobs.worker", str(job_id).encode()]
    marks = {f"HUBKIT_HOME={settings.home.resolve()}".encode()}
    if settings.job_service_url:
        marks.add(f"HUBKIT_SERVICE_URL={settings.job_service_url}".encode())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if (args[-3:-1] == wanted or args[-2:] == wanted) and marks & set((proc / "environ").read_bytes().split(b"\0")):
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no worker process for job {job_id} of {settings.home}")


def freeze(pid: int) -> list[int]:
    """SIGSTOP a worker and its kernel (a hung job: alive, silent); returns the groups stopped."""
    import os
    import signal
    from pathlib import Path

    groups = {os.getpgid(pid)}
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        groups |= {os.getpgid(int(c)) for c in children.read_text().split()}
    for group in groups:
        os.killpg(group, signal.SIGSTOP)
    return sorted(groups)
