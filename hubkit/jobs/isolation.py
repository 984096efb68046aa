"""A job's kernel as its owner: own account, own token, nothing of the platform's.

The worker process is the platform's (it claims the job, beats its heart,
archives the executed notebook, records the outcome); the kernel, where the
notebook's code runs, is the owner's. The executor prepares the job's folder
and mints a job token at launch; the worker starts the kernel as the owner's
account with an environment built from nothing: the job token as
``JUPYTERHUB_API_TOKEN``, the service URL, the owner's own ``HUBKIT_HOME``
and the read-only models folder. The database URL, the hub's tokens and the
platform's settings never reach it.

On disk: the platform's home is ``0711`` (passable, not listable), everything
in it is private to the platform except the models (readable) and the job
folders; a job folder belongs to the platform with the owner's group
(``0750``: the owner reads the context and the cancel marker), and holds a
``work`` folder and a ``runs`` file that are the owner's.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubkit import accounts
from hubkit.config import Settings
from hubkit.jobs import context
from hubkit.jobs.paths import job_dir

ENV_ACCOUNT = "HUBKIT_JOB_RUN_AS"
ENV_TOKEN = "HUBKIT_JOB_TOKEN"
ENV_SERVICE = "HUBKIT_JOB_KERNEL_SERVICE_URL"
# Kept from the worker's environment: where programs are, offline flags, thread counts.
KERNEL_PASSED = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
                 "TRANSFORMERS_NO_ADVISORY_WARNINGS", "TOKENIZERS_PARALLELISM", "OMP_NUM_THREADS",
                 "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES")
_PUBLIC = frozenset({"models", "jobs"})


@dataclass(frozen=True)
class RunAs:
    """Who a job's kernel runs as, and with which credential."""

    account: accounts.Account
    token: str
    service_url: str


def worker_variables(run_as: RunAs) -> dict[str, str]:
    """What the executor adds to the worker's environment so the worker starts the kernel as the owner."""
    return {ENV_ACCOUNT: run_as.account.hub_name, ENV_TOKEN: run_as.token, ENV_SERVICE: run_as.service_url}


def take_from_environment() -> RunAs | None:
    """In the worker: whom to run the kernel as (the variables are removed from this process)."""
    name = os.environ.pop(ENV_ACCOUNT, "")
    token = os.environ.pop(ENV_TOKEN, "")
    service = os.environ.pop(ENV_SERVICE, "")
    if not name:
        return None
    account = accounts.lookup(name)
    if account is None:
        raise RuntimeError(f"the system account for {name!r} does not exist")
    return RunAs(account=account, token=token, service_url=service)


def lock_down_home(settings: Settings) -> None:
    """The platform's home: passable, with the database, archive, hub state and logs private."""
    home = settings.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)
    for entry in home.iterdir():
        if entry.name in _PUBLIC or entry.is_symlink():
            continue
        entry.chmod(0o700 if entry.is_dir() else 0o600)
    (home / "jobs").mkdir(exist_ok=True)
    (home / "jobs").chmod(0o711)
    share_models(settings.models_dir)
    if settings.database_url.startswith("sqlite:///"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))):
            if path.exists():
                path.chmod(0o600)


def share_models(models: Path) -> None:
    """Base-model weights are read by user code (safetensors writes its files owner-only)."""
    for root, _, files in os.walk(models, followlinks=True):
        folder = Path(root)
        folder.chmod(folder.stat().st_mode | 0o555)
        for name in files:
            path = folder / name
            mode = path.stat().st_mode
            if mode & 0o444 != 0o444:
                path.chmod(mode | 0o444)


def prepare_folder(settings: Settings, job_id: int, account: accounts.Account) -> Path:
    """The job's folder as the module docstring describes it; returns the owner's work folder."""
    folder = job_dir(settings, job_id)
    os.chown(folder, 0, account.gid)
    folder.chmod(0o750)
    work = folder / "work"
    work.mkdir(exist_ok=True)
    os.chown(work, account.uid, account.gid)
    work.chmod(0o700)
    runs = folder / "runs"
    runs.touch()
    os.chown(runs, account.uid, account.gid)
    runs.chmod(0o600)
    return work


def kernel_environment(run_as: RunAs, *, job_id: int, folder: Path, settings: Settings) -> dict[str, str]:
    """Everything the owner's kernel gets (and nothing else)."""
    env = {name: os.environ[name] for name in KERNEL_PASSED if name in os.environ}
    home = run_as.account.home
    env.update({
        "HOME": str(home), "USER": run_as.account.name, "LOGNAME": run_as.account.name, "SHELL": "/bin/sh",
        "JUPYTERHUB_USER": run_as.account.hub_name,
        "JUPYTERHUB_API_TOKEN": run_as.token,
        "HUBKIT_SERVICE_URL": run_as.service_url,
        "HUBKIT_HOME": str(home / ".hubkit"),
        "HUBKIT_MODELS_HOME": str(settings.models_dir.resolve()),
        context.ENV_AS_OWNER: "1",
    })
    env.update(context.kernel_environment(job_id, folder))
    return env


def start_kernel(run_as: RunAs, *, job_id: int, settings: Settings, kernel_name: str,
                 extra_arguments: list[str]) -> Any:
    """Start the job's kernel as the owner; raises if it cannot (never falls back to the platform)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    folder = job_dir(settings, job_id)
    account = run_as.account
    connection = folder / "kernel.json"
    # written here, then handed to the owner: the kernel reads its ports and key from it
    km = AsyncKernelManager(kernel_name=kernel_name, connection_file=str(connection), cache_ports=False)
    km.write_connection_file()
    os.chown(connection, account.uid, account.gid)
    if stat.S_IMODE(connection.stat().st_mode) != 0o600:
        connection.chmod(0o600)
    run_sync(km.start_kernel)(
        cwd=str(folder / "work"), env=kernel_environment(run_as, job_id=job_id, folder=folder, settings=settings),
        extra_arguments=extra_arguments, user=account.uid, group=account.gid, extra_groups=[], umask=0o077)
    return km
