"""Stopping stops everything: `hubkit serve hub` after SIGINT or SIGTERM leaves no process and no port.

JupyterHub starts the proxy and the services in sessions of their own; the
public pages keep a preheated kernel. After the signal, every one of them is
gone and every port is free within 10 s. A leftover from an unclean stop is
named on the next start.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hubkit.errors import ConfigError
from hubkit.service.hub_config import platform_ports
from hubkit.service.hub_process import hub_environment
from hubkit.service.processes import bound, explain_leftovers, port_holder
from hubkit.service.server import free_port


def _env(home: Path) -> dict[str, str]:
    env = hub_environment({
        "HUBKIT_HOME": str(home), "HUBKIT_HUB_URL": f"http://127.0.0.1:{free_port()}",
        "HUBKIT_HUB_API_PORT": str(free_port()), "HUBKIT_PROXY_API_PORT": str(free_port()),
        "HUBKIT_SERVICE_PORT": str(free_port()), "HUBKIT_PUBLIC_PORT": str(free_port()),
        "HUBKIT_PUBLIC_POOL_SIZE": "1", "HUBKIT_SPAWNER": "single-user", "HUBKIT_ADMIN_PASSWORD": "not-used-9876",
    })
    for name in ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_SERVICE_URL", "JUPYTERHUB_API_URL"):
        env.pop(name, None)
    return env


def _wait_for(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _tree(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _names(procs: list[psutil.Process]) -> str:
    text = []
    for p in procs:
        try:
            text.append(" ".join(p.cmdline()))
        except psutil.Error:
            continue
    return "\n".join(text)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_every_process_and_frees_every_port(tmp_path: Path, sig: signal.Signals) -> None:
    env = _env(tmp_path / "home")
    ports = platform_ports(env)
    # started as a shell starts a background command (`make demo &` in a script): SIGINT ignored,
    # which the platform must override, or Ctrl-C and `kill -INT` would do nothing
    serve = subprocess.Popen([sys.executable, "-m", "hubkit.cli", "serve", "hub"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    started: list[psutil.Process] = []
    try:
        _wait_for(lambda: all(port_holder(p) for p in ports.values()), 300, "the hub and its services")
        # the public pages' preheated kernel is up too
        _wait_for(lambda: "ipykernel_launcher" in _names(_tree(serve.pid)), 120, "the public pages' kernel")
        started = _tree(serve.pid)
        assert "configurable-http-proxy" in _names(started) and "voila" in _names(started)
        t0 = time.monotonic()
        os.kill(serve.pid, sig)
        while [p for p in started if _running(p)] or any(bound(p) for p in ports.values()):
            assert time.monotonic() - t0 < 30, f"still running: {_names([p for p in started if _running(p)])}"
            time.sleep(0.1)
        took = time.monotonic() - t0
        serve.wait(timeout=30)
    finally:
        # only what this hub started: the test session's other children (its Ray head) are not ours
        leftovers = [p for p in started if _running(p)]
        if serve.poll() is None:
            with contextlib.suppress(psutil.Error):
                leftovers += _tree(serve.pid)
            serve.kill()
        for proc in leftovers:
            with contextlib.suppress(psutil.Error):
                proc.kill()
    assert took <= 10.0, f"stopping took {took:.1f} s"
    output = serve.stdout.read().decode(errors="replace") if serve.stdout else ""
    assert "Could not stop" not in output


def test_a_leftover_from_an_unclean_stop_is_named_on_the_next_start(tmp_path: Path) -> None:
    port = free_port()
    squatter = subprocess.Popen([sys.executable, "-c", (
        f"import socket, time; s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)")])
    pid_file = tmp_path / "jupyterhub.pid"
    pid_file.write_text(str(squatter.pid))
    gone = tmp_path / "proxy.pid"
    gone.write_text("999999")  # a process long gone: the file is only cleared
    try:
        _wait_for(lambda: port_holder(port) is not None, 20, "the squatter to listen")
        with pytest.raises(ConfigError) as err:
            explain_leftovers(ports={"the hub's public address": port}, pid_files=[pid_file, gone])
    finally:
        squatter.kill()
        squatter.wait()
    message = err.value.message
    assert f"port {port} (the hub's public address) is held by process {squatter.pid}" in message
    assert "earlier start that did not stop cleanly" in message and f"kill {squatter.pid}" in message
    assert "jupyterhub.pid names process" in message
    assert not gone.exists()
    explain_leftovers(ports={"the hub's public address": port}, pid_files=[gone])  # all clear now
