"""What a notebook knows about the job running it.

The same notebook runs as a platform job (under Papermill, started by
``hubkit.jobs``) and interactively in JupyterLab. The worker tells the kernel
about the job through environment variables and, for what it learns from the
job row after the kernel has started (owner, template), a small JSON file in
the job's folder; :func:`current` reads them and falls back to harmless
defaults when a person runs the notebook by hand, so notebooks never branch on
where they run. By hand, a template still records
its name and version: Jupyter tells the kernel its notebook's path
(``JPY_SESSION_NAME``) and the metadata is read from there.
"""
from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the kernel imports this module first thing: keep it light
    from hubkit.store import Store
    from hubkit.store.records import RunRecord

ENV_JOB_ID = "HUBKIT_JOB_ID"
ENV_OWNER = "HUBKIT_JOB_OWNER"
ENV_CANCEL_FILE = "HUBKIT_JOB_CANCEL_FILE"
ENV_RUNS_FILE = "HUBKIT_JOB_RUNS_FILE"
ENV_TEMPLATE = "HUBKIT_TEMPLATE"
ENV_TEMPLATE_VERSION = "HUBKIT_TEMPLATE_VERSION"
ENV_CONTEXT_FILE = "HUBKIT_JOB_CONTEXT_FILE"
ENV_AS_OWNER = "HUBKIT_JOB_AS_OWNER"  # "1": the kernel runs as the job's owner (see hubkit.jobs.isolation)


# Command-line options of a job's kernel. Showing a plotly figure imports nbformat, whose
# jsonschema compiles an optional IRI grammar on import (about 2 s of CPU, longer than a
# short training); no notebook schema uses it, so a job's kernel starts without it.
KERNEL_ARGUMENTS = ["--IPKernelApp.exec_lines=import sys; sys.modules.setdefault('rfc3987_syntax', None)"]


def kernel_environment(job_id: int, folder: Path) -> dict[str, str]:
    """What a job's kernel is started with: its id and the files it shares with its worker."""
    return {
        ENV_JOB_ID: str(int(job_id)),
        ENV_CANCEL_FILE: str(folder / "cancel"),
        ENV_RUNS_FILE: str(folder / "runs"),
        ENV_CONTEXT_FILE: str(folder / "context.json"),
    }


def write_context(folder: Path, *, owner: str, template: str | None, template_version: str | None) -> None:
    """The job facts the worker reads from the job row, for the kernel (written before any cell runs)."""
    target = folder / "context.json"
    staging = target.with_suffix(".tmp")
    staging.write_text(json.dumps({"owner": owner, "template": template, "template_version": template_version}),
                       encoding="utf-8")
    staging.replace(target)


def _context_file() -> dict[str, str | None]:
    path = os.environ.get(ENV_CONTEXT_FILE, "").strip()
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: (str(v) if v else None) for k, v in data.items()} if isinstance(data, dict) else {}


@dataclass(frozen=True)
class JobContext:
    """The job a kernel serves (``job_id`` is None when run by hand)."""

    job_id: int | None
    owner: str
    template: str | None
    template_version: str | None
    cancel_file: Path | None
    runs_file: Path | None
    as_owner: bool = False
    """True when this kernel runs as the job's owner, with only the owner's job token."""

    @property
    def is_job(self) -> bool:
        return self.job_id is not None

    @property
    def executed_by(self) -> str:
        """The platform's own jobs are the platform's runs; code run as its owner, or by hand, is the user's."""
        return "platform" if self.is_job and not self.as_owner else "user"

    def cancelled(self) -> bool:
        """True once the job was asked to stop; training loops poll this between steps."""
        return self.cancel_file is not None and self.cancel_file.exists()

    def report_run(self, run_id: int, *, store: Store) -> None:
        """Tell the platform which run this notebook created, so its archived copy is linked to it.

        The job row names the run from then on, so ``hubkit jobs list`` and
        progress displays follow its loss curve while it trains. A notebook may
        train several runs (a sweep); each one reported gets the archived
        notebook linked to it; reporting the same run twice changes nothing.
        """
        if self.job_id is None:
            return
        if self.runs_file is not None and int(run_id) in reported_runs(self.runs_file):
            return
        if not self.as_owner:  # else the worker names the run on the job row when it reads the runs file
            store.update_job(self.job_id, model_id=run_id)
        if self.runs_file is not None:
            with open(self.runs_file, "a", encoding="utf-8") as fh:
                fh.write(f"{int(run_id)}\n")

    def reporter(self, store: Store) -> Callable[[RunRecord], None]:
        """``train.run(..., on_record=job.reporter(store))``: report the run the moment it is created."""
        return lambda record: self.report_run(record.id, store=store)


def reported_runs(path: Path) -> list[int]:
    """Run ids a runs file lists, first report first (a missing file lists none)."""
    try:
        words = path.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return []
    seen: list[int] = []
    for word in words:
        if word.isdigit() and int(word) not in seen:
            seen.append(int(word))
    return seen


def _template_of_open_notebook() -> tuple[str | None, str | None]:
    """Name and version of the template open in Jupyter, when this kernel serves one."""
    path = Path(os.environ.get("JPY_SESSION_NAME", ""))
    if path.suffix != ".ipynb" or not path.is_file():
        return None, None
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("hubkit", {})
    except (OSError, ValueError):
        return None, None
    if not meta.get("template") or not meta.get("name"):
        return None, None
    return str(meta["name"]), str(meta.get("version") or "") or None


def current() -> JobContext:
    """The job context of this process, read from the environment (and context file) the worker set."""
    raw_id = os.environ.get(ENV_JOB_ID, "").strip()
    cancel = os.environ.get(ENV_CANCEL_FILE, "").strip()
    runs = os.environ.get(ENV_RUNS_FILE, "").strip()
    shared = _context_file()
    owner = (shared.get("owner") or os.environ.get(ENV_OWNER) or os.environ.get("JUPYTERHUB_USER")
             or getpass.getuser()).strip()
    template = shared.get("template") or os.environ.get(ENV_TEMPLATE) or None
    version = shared.get("template_version") or os.environ.get(ENV_TEMPLATE_VERSION) or None
    if not raw_id:
        template, version = _template_of_open_notebook()
    return JobContext(
        job_id=int(raw_id) if raw_id else None,
        owner=owner,
        template=template,
        template_version=version,
        cancel_file=Path(cancel) if cancel else None,
        runs_file=Path(runs) if runs else None,
        as_owner=os.environ.get(ENV_AS_OWNER, "") == "1",
    )
