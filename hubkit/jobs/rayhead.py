"""A Ray head on this machine, reachable from this machine only.

Tests, benchmarks and a one-machine demo start their Ray head through here, so
every one of them uses loopback: the node's address is 127.0.0.1
(``--node-ip-address``), so its processes talk to each other over loopback and
the Ray client server listens there; the dashboard with its Jobs API listens on
127.0.0.1 too. Ray 2.60's GCS and raylet gRPC servers still listen on every
interface (Ray has no setting for it). A cluster's head is started by its
operator (docs/operations.md).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hubkit.errors import JobError, MissingExtra

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on loopback."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _ray_command() -> str:
    beside = Path(sys.executable).parent / "ray"
    found = str(beside) if beside.exists() else shutil.which("ray")
    if found is None:
        raise MissingExtra("Ray", "ray")
    return found


@dataclass
class LocalHead:
    """A running local head: ``address`` is its Jobs API, ``gcs_address`` what ``ray.init`` joins,
    ``client_port`` its Ray client server.

    The head runs under ``ray start --block`` in a session of its own: its SIGTERM handler
    stops the head's processes, and the session's group catches any it missed; no other
    Ray head on the machine is touched (``ray stop`` would stop them all).
    """

    address: str
    gcs_address: str
    client_port: int
    temp_dir: Path  # Ray's own session folder (short, see _session_root)
    process: subprocess.Popen[bytes]

    def stop(self, *, timeout_s: float = 60) -> None:
        """Stop this head and its workers, then whatever of its session is left, and its files."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout_s)
        # The head leads its own session: a process it started that outlived it is still in it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=timeout_s)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _session_root(beside: Path) -> Path:
    """A short folder for Ray's session files, linked from ``beside``.

    Ray puts Unix sockets under ``<temp-dir>/session_<date>_<pid>/sockets/``, and a socket path
    may not exceed 107 bytes: under a test's or a home's deep folder, the dashboard's
    ``dash_MetricsHead`` socket does, and the dashboard never starts (the head then takes no jobs).
    """
    root = Path(tempfile.mkdtemp(prefix="hkray-"))
    link = beside / "ray-session"
    link.unlink(missing_ok=True)
    link.symlink_to(root, target_is_directory=True)
    return root


def head_arguments(*, cpus: int, gpus: int = 0, port: int, dashboard_port: int, client_port: int,
                   temp_dir: Path) -> list[str]:
    """``ray start`` arguments for a head bound to loopback, held by this process until stopped."""
    return ["start", "--head", "--block", f"--node-ip-address={LOOPBACK}", f"--port={port}",
            f"--num-cpus={cpus}", f"--num-gpus={gpus}",
            "--include-dashboard=true", f"--dashboard-host={LOOPBACK}", f"--dashboard-port={dashboard_port}",
            f"--ray-client-server-port={client_port}", "--disable-usage-stats", f"--temp-dir={temp_dir}"]


def start_local_head(*, temp_dir: Path, cpus: int = 2, gpus: int = 0, timeout_s: float = 180,
                     attempts: int = 2) -> LocalHead:
    """Start a head on loopback ports that are free now; returns once it takes jobs.

    Ray gives its raylet a fixed 30 s to register; on a busy machine a start can fail there,
    or the head can stay up without its dashboard. Either way that head is stopped and a
    fresh one started on new ports (``attempts`` in all); the last failure carries the tail
    of the head's own logs, so a failed start explains itself."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(temp_dir=temp_dir / f"attempt-{attempt}", cpus=cpus, gpus=gpus,
                               timeout_s=timeout_s)
        except _StartFailed as failed:
            if attempt == attempts:
                raise JobError(f"{failed.message} Its logs end with:\n{failed.detail}",
                               detail=failed.detail) from failed
    raise AssertionError("unreachable")


class _StartFailed(JobError):
    """The head exited during start-up, or stayed up without ever taking a job."""


def _start_once(*, temp_dir: Path, cpus: int, gpus: int, timeout_s: float) -> LocalHead:
    temp_dir.mkdir(parents=True, exist_ok=True)
    port, dashboard, client = free_port(), free_port(), free_port()
    # Ray gives its dashboard 60 s to start; a busy shared machine can need longer. On Linux Ray
    # replaces a loopback --node-ip-address by the machine's external address unless the node is
    # declared single-machine (the switch Ray flips itself on macOS and Windows).
    env = {"RAY_DASHBOARD_STARTUP_TIMEOUT_S": str(int(timeout_s)), **os.environ,
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_agent_register_timeout_ms": str(int(timeout_s * 1000))}
    session = _session_root(temp_dir)
    args = head_arguments(cpus=cpus, gpus=gpus, port=port, dashboard_port=dashboard, client_port=client,
                          temp_dir=session)
    log = temp_dir / "ray-start.log"
    with log.open("wb") as out:
        process = subprocess.Popen([_ray_command(), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    head = LocalHead(address=f"http://{LOOPBACK}:{dashboard}", gcs_address=f"{LOOPBACK}:{port}",
                     client_port=client, temp_dir=session, process=process)
    try:
        _wait_for_jobs_api(head, timeout_s=timeout_s, log=log)
    except BaseException:
        head.stop()
        raise
    return head


def _log_tail(head: LocalHead, log: Path, *, chars: int = 1500) -> str:
    """The end of ``ray start``'s output and of the dashboard's, its agent's and the raylet's logs:
    where a failed start says why."""
    parts = []
    logs = ("dashboard.log", "dashboard_agent.log", "raylet.err")
    for path in [log, *sorted(p for name in logs for p in head.temp_dir.glob(f"session_*/logs/{name}"))]:
        if path.exists() and not path.is_symlink():
            text = path.read_text(encoding="utf-8", errors="replace")[-chars:]
            parts.append(f"--- {path.name}\n{text}")
    return "\n".join(parts) or "(no log written)"


def _wait_for_jobs_api(head: LocalHead, *, timeout_s: float, log: Path) -> None:
    """Wait until the head takes jobs: its Jobs API answers and its job agent has registered.

    The API answers before the agent exists; a submission then fails with "No available
    agent", so readiness is a first, empty job accepted.
    """
    from ray.job_submission import JobSubmissionClient

    deadline = time.monotonic() + timeout_s
    while True:
        if head.process.poll() is not None:
            raise _StartFailed("The local Ray head did not start.", detail=_log_tail(head, log))
        try:
            JobSubmissionClient(head.address).submit_job(entrypoint="true", entrypoint_num_cpus=0,
                                                         metadata={"hubkit": "head-ready"})
            return
        except Exception as exc:  # not up yet; give up at the deadline
            if time.monotonic() > deadline:
                raise _StartFailed(f"The local Ray head at {head.address} did not take jobs within "
                                   f"{timeout_s:.0f} s ({type(exc).__name__}).",
                                   detail=_log_tail(head, log)) from exc
            time.sleep(1)
