"""Every process the platform starts, followed so that stopping it stops them all.

JupyterHub starts the proxy and its managed services in sessions of their
own, and the service starts job workers in theirs, so a signal to the hub's
process group leaves them running (holding port 8000). :class:`ProcessTree`
remembers every descendant of the hub as it appears (a process whose parent
died is still remembered), and :meth:`ProcessTree.stop` asks the hub to stop,
then every remembered process, then kills what is left, all within a deadline.
A process is known by its pid *and* start time, so a reused pid is never hit.

:func:`explain_leftovers` is the other half: before a start, a port still held
or a pid file of a live process from an unclean stop is named in a sentence.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from hubkit.errors import ConfigError


@dataclass(frozen=True)
class TreeUsage:
    """What a process and its descendants hold now: kernels alive, memory, CPU seconds used so far."""

    kernels: int
    rss_bytes: int
    cpu_s: float


def tree_usage(pid: int) -> TreeUsage:
    """Kernels, memory and CPU of ``pid``'s whole tree: what the public pages' kernel cap and idle
    culler keep in check (a process that ends while it is read is skipped)."""
    root = psutil.Process(pid)
    kernels, rss, cpu = 0, 0, 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            kernels += "ipykernel_launcher" in " ".join(proc.cmdline())
            rss += proc.memory_info().rss
            times = proc.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            continue
    return TreeUsage(kernels=kernels, rss_bytes=rss, cpu_s=cpu)


class ProcessTree:
    """The descendants of ``root_pid``, sampled every ``interval_s`` while the platform runs."""

    def __init__(self, root_pid: int, *, interval_s: float = 1.0) -> None:
        self.root = psutil.Process(root_pid)
        self._known: dict[tuple[int, float], psutil.Process] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._interval = interval_s
        self._thread = threading.Thread(target=self._follow, name="hubkit-process-tree", daemon=True)

    def start(self) -> ProcessTree:
        self.sample()
        self._thread.start()
        return self

    def sample(self) -> None:
        """Remember the descendants alive now (and theirs), from one pass over the process table."""
        children: dict[int, list[psutil.Process]] = {}
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"], []).append(proc)
        with self._lock:
            roots = [self.root, *(p for p in self._known.values() if _alive(p))]
        pending = [p.pid for p in roots]
        found: list[psutil.Process] = []
        while pending:
            for child in children.get(pending.pop(), []):
                found.append(child)
                pending.append(child.pid)
        with self._lock:
            for proc in found:
                try:
                    self._known.setdefault((proc.pid, proc.create_time()), proc)
                except psutil.Error:
                    continue

    def alive(self) -> list[psutil.Process]:
        with self._lock:
            known = list(self._known.values())
        return [p for p in [self.root, *known] if _alive(p)]

    def _follow(self) -> None:
        while not self._halt.wait(self._interval):
            self.sample()

    def stop(self, *, deadline_s: float = 8.0, hub_grace_s: float = 3.0) -> list[int]:
        """Stop the hub, then everything it started; returns the pids that survived (none, normally)."""
        self.sample()
        self._halt.set()
        end = time.monotonic() + deadline_s
        _signal([self.root], signal.SIGTERM)
        _wait([self.root], min(end, time.monotonic() + hub_grace_s))
        self.sample()  # what the hub started while stopping
        rest = self.alive()
        _signal(rest, signal.SIGTERM)
        _wait(rest, end - 1.0)
        rest = self.alive()
        _signal(rest, signal.SIGKILL)
        _wait(rest, end)
        return [p.pid for p in self.alive()]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal(procs: Iterable[psutil.Process], sig: signal.Signals) -> None:
    for proc in procs:
        try:
            proc.send_signal(sig)
        except psutil.Error:
            continue


def _wait(procs: list[psutil.Process], until: float) -> None:
    pending = [p for p in procs if _alive(p)]
    while pending and time.monotonic() < until:
        psutil.wait_procs(pending, timeout=max(0.0, min(0.2, until - time.monotonic())))
        pending = [p for p in pending if _alive(p)]


def port_holder(port: int) -> psutil.Process | None:
    """The process listening on loopback or all interfaces at ``port``, if any."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            try:
                return psutil.Process(conn.pid) if conn.pid else None
            except psutil.Error:
                return None
    return None


def _describe(proc: psutil.Process) -> str:
    try:
        cmd = " ".join(proc.cmdline()[:3]) or proc.name()
    except psutil.Error:
        cmd = "an exited process"
    return f"process {proc.pid} ({cmd})"


def explain_leftovers(*, ports: dict[str, int], pid_files: Iterable[Path]) -> None:
    """Refuse to start, in one sentence per leftover, when an earlier start did not stop cleanly."""
    problems = []
    for path in pid_files:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if psutil.pid_exists(pid):
            problems.append(f"{path.name} names {_describe(psutil.Process(pid))}, still running from an earlier "
                            f"start (stop it with `kill {pid}`)")
        else:
            path.unlink(missing_ok=True)  # a stale file from an unclean stop: nothing holds it
    for what, port in ports.items():
        holder = port_holder(port)
        if holder is not None:
            problems.append(f"port {port} ({what}) is held by {_describe(holder)}, probably left over from an "
                            f"earlier start that did not stop cleanly (stop it with `kill {holder.pid}`)")
        elif holder is None and bound(port):
            problems.append(f"port {port} ({what}) is in use by another program")
    if problems:
        raise ConfigError("The hub cannot start: " + "; ".join(problems) + ".")


def bound(port: int) -> bool:
    """Whether something holds ``port`` on loopback (a port left in TIME_WAIT counts as free)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
