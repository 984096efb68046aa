"""The ``local`` executor: worker subprocesses on this machine.

At most ``HUBKIT_MAX_CONCURRENT_JOBS`` run at once (counted from the job table,
so workers started before a restart count too); GPU jobs get whole devices
from ``HUBKIT_GPU_SLOTS``. Each worker runs in its own session, so it outlives
the process that started it; cancel sends SIGTERM to the worker's process
group, then SIGKILL after the grace period. A monitor thread reaps finished
children and starts queued jobs as room frees up: each child's exit wakes it
(and ``wait``) at once, with a slow poll only for workers of another process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hubkit import accounts
from hubkit.config import Settings
from hubkit.errors import ConfigError, JobError
from hubkit.jobs import isolation, tokens
from hubkit.jobs.executors import slots
from hubkit.jobs.executors.base import Executor, External, Resources
from hubkit.jobs.paths import job_dir
from hubkit.store import Store
from hubkit.store.records import JobRecord

_PREFIX = "pid:"


class LocalExecutor(Executor):
    name = "local"
    claims_at_launch = True

    def __init__(self, *, store: Store, settings: Settings) -> None:
        super().__init__(store=store, settings=settings)
        self.slots = slots.parse_slots(settings.gpu_slots)
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.RLock()
        self._monitor: threading.Thread | None = None
        self._closed = threading.Event()
        self._wake = threading.Event()  # a child ended, or close() was called

    # --- hooks ------------------------------------------------------------------
    def check_resources(self, resources: Resources) -> None:
        if resources.gpus > len(self.slots):
            have = f"only {len(self.slots)} GPU slot(s)" if self.slots else "no GPU slots (HUBKIT_GPU_SLOTS)"
            raise JobError(f"This job asks for {resources.gpus} GPU(s) but this machine has {have}.")

    def _can_start(self, job: JobRecord, active: list[JobRecord]) -> bool:
        if len(active) >= self.settings.max_concurrent_jobs:
            return False
        wanted = int(job.resources.get("gpus", 0))
        return wanted == 0 or slots.assign(self.slots, self._held(active), wanted) is not None

    def _held(self, active: list[JobRecord]) -> list[str]:
        held: list[str] = []
        for job in active:
            marker = job_dir(self.settings, job.id) / "gpus"
            if marker.exists():
                held += [s for s in marker.read_text(encoding="utf-8").split(",") if s]
        return held

    def _launch(self, job: JobRecord, env: dict[str, str], log_file: Path) -> str:
        if self.slots:
            wanted = int(job.resources.get("gpus", 0))
            assigned = slots.assign(self.slots, self._held(self.active_jobs()), wanted) or []
            (job_dir(self.settings, job.id) / "gpus").write_text(",".join(assigned), encoding="utf-8")
            env["CUDA_VISIBLE_DEVICES"] = slots.visible_devices(assigned)
        # the log may hold what a notebook printed (a token, a path): only the platform reads it
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hubkit.jobs.worker", str(job.id)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **env}, cwd=job_dir(self.settings, job.id), start_new_session=True)
        with self._lock:
            self._children[job.id] = proc
        threading.Thread(target=self._await_exit, args=(proc,), name=f"hubkit-job-{job.id}-exit",
                         daemon=True).start()
        self._ensure_monitor()
        return f"{_PREFIX}{proc.pid}"

    def _await_exit(self, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        self._wake.set()

    def _pause(self, job: JobRecord) -> None:
        """Return as soon as this process's worker for ``job`` exits (it has written the final state)."""
        with self._lock:
            child = self._children.get(job.id)
        if child is None:
            super()._pause(job)
            return
        try:
            child.wait(timeout=self.poll_interval_s)
        except subprocess.TimeoutExpired:
            pass

    def _external_state(self, external_id: str) -> External:
        pid = int(external_id.removeprefix(_PREFIX))
        with self._lock:
            child = next((p for p in self._children.values() if p.pid == pid), None)
        if child is not None:
            return External.running if child.poll() is None else External.ended
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return External.ended
        # a reused pid belongs to another program: that worker is gone
        return External.running if b"hubkit.jobs.worker" in cmdline else External.ended

    def _stop(self, external_id: str, *, grace_s: float) -> None:
        """SIGTERM lets the worker pass the cancellation to its kernel; SIGKILL ends what is left."""
        pid = int(external_id.removeprefix(_PREFIX))
        if self._external_state(external_id) is External.ended:
            return
        groups = _process_groups(pid)  # the worker's and its kernel's (which has its own session)
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self._external_state(external_id) is not External.ended:
            time.sleep(0.1)
        for group in groups | _process_groups(pid):
            _signal(group, signal.SIGKILL)
        with self._lock:
            child = next((p for p in self._children.values() if p.pid == pid), None)
        if child is not None:
            child.wait()

    def dispatch(self) -> list[int]:
        started = super().dispatch()
        if self._has_queued():
            self._ensure_monitor()  # room may free up later (also from workers of an earlier process)
        return started

    # --- monitor ------------------------------------------------------------------
    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._monitor is None or not self._monitor.is_alive():
                self._monitor = threading.Thread(target=self._watch, name="hubkit-local-executor", daemon=True)
                self._monitor.start()

    def _watch(self) -> None:
        """Reap finished children and start queued jobs until nothing is left to watch."""
        while not self._closed.is_set():
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()
            if self._closed.is_set():
                return
            with self._lock:
                ended = {jid: p for jid, p in self._children.items() if p.poll() is not None}
                for jid in ended:
                    del self._children[jid]
            for jid in ended:
                self.settle(self.store.get_job(jid))
            started = self.dispatch()
            with self._lock:
                if not self._children and not started and not self._has_queued():
                    self._monitor = None
                    return

    def _has_queued(self) -> bool:
        return any(j.executor == self.name for j in self.store.list_jobs(states=["queued"], limit=10_000))

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        with self._lock:
            monitor = self._monitor
        if monitor is not None and monitor is not threading.current_thread():
            monitor.join(timeout=5)
        with self._lock:
            for proc in self._children.values():
                proc.poll()  # collect exit codes; running workers keep going on their own


def _process_groups(pid: int) -> set[int]:
    """Process groups of ``pid`` and all its descendants (read from /proc)."""
    groups: set[int] = set()
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            groups.add(os.getpgid(current))
        except ProcessLookupError:
            continue
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending += [int(c) for c in children.read_text().split()]
            except OSError:
                continue
    return groups


def _signal(group: int, sig: signal.Signals) -> None:
    if group == os.getpgid(0):
        return  # never our own group
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalUserExecutor(LocalExecutor):
    """``local-as-user``: as ``local``, but each job's kernel runs as its owner's system account.

    The worker stays the platform's (it records the job); the notebook's code
    runs as the owner with only a job token and the service URL (see
    ``hubkit.jobs.isolation``). Needs root, to create accounts and switch to them.
    """

    name = "local-as-user"
    runs_as_owner = True

    def __init__(self, *, store: Store, settings: Settings) -> None:
        if not accounts.can_switch_users():
            raise ConfigError(
                "The local-as-user executor runs each job as its owner's account, which needs the platform "
                "to run as root. On a machine with one user, choose the single-user executor (HUBKIT_EXECUTOR=local).")
        private = accounts.private_folder_on_path(Path(sys.executable))
        if private is not None:
            raise ConfigError(
                f"Users' accounts cannot run this Python ({sys.executable}): {private} is private. Install "
                f"Python where every account can run it, or let accounts pass through (chmod o+x {private}).")
        super().__init__(store=store, settings=settings)

    def worker_environment(self, job: JobRecord) -> dict[str, str]:
        env = super().worker_environment(job)
        account = accounts.ensure(job.owner or "")
        isolation.lock_down_home(self.settings)
        isolation.prepare_folder(self.settings, job.id, account)
        run_as = isolation.RunAs(account=account, token=tokens.mint(self.settings, job.id),
                                 service_url=self.job_service_url())
        env.update(isolation.worker_variables(run_as))
        return env
