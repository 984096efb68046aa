"""Streaming downloads through the service: loopback throughput and the service's peak memory.

    .venv/bin/python bench/bench_download.py [--mb 300] [--rounds 3]

Starts the hubkit service (its app and uvicorn server, in a process of its own) on a fresh home, archives a
merged model of ``--mb`` MiB of incompressible bytes for a public run, then
downloads it ``--rounds`` times over loopback while sampling the service
process's resident memory every 20 ms. Prints MB/s per round (and the median)
and the service's peak RSS growth over its idle RSS, next to the target
(under 50 MB whatever the size). A whole-file read would grow by the size.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hubkit-bench-download-"))
    os.environ["HUBKIT_HOME"] = str(home)
    os.environ.pop("HUBKIT_DB_URL", None)
    from hubkit.archive import open_archive
    from hubkit.bootstrap import init_platform

    store = init_platform()
    store.ensure_user("alice", role="developer")
    folder = home / "merged"
    folder.mkdir()
    with open(folder / "model.safetensors", "wb") as fh:
        for _ in range(args.mb):
            fh.write(os.urandom(1 << 20))
    digest = open_archive().put_dir(folder)
    (folder / "model.safetensors").unlink()
    run = store.create_run(owner="alice", name="big", domain="math", base_model="llama3-standin")
    store.finish_run(run.id, outcome="success", artifacts={"adapter": digest, "merged": digest})
    store.set_visibility(run.id, "public", actor="alice")
    port = _port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # the real service app and uvicorn server, with a token table instead of a hub (visitors need no token)
    serve = ("from hubkit.service import StaticTokenAuthenticator, create_app; "
             "from hubkit.service.server import serve; "
             f"serve(create_app(auth=StaticTokenAuthenticator({{}}), prefix=''), host='127.0.0.1', port={port})")
    service = subprocess.Popen([sys.executable, "-c", serve], env={**env, "HUBKIT_SERVICE_LOG_LEVEL": "warning"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/v1/runs/{run.id}", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        proc = psutil.Process(service.pid)
        idle = proc.memory_info().rss
        rates, growth = [], []
        for _ in range(args.rounds):
            peak, done = [idle], threading.Event()

            def sample(peak: list[int] = peak, done: threading.Event = done) -> None:
                while not done.wait(0.02):
                    peak[0] = max(peak[0], proc.memory_info().rss)

            sampler = threading.Thread(target=sample)
            sampler.start()
            received, t0 = 0, time.perf_counter()
            with httpx.stream("GET", f"{url}/v1/runs/{run.id}/download/merged", timeout=120) as answer:
                answer.raise_for_status()
                for chunk in answer.iter_raw(1 << 20):
                    received += len(chunk)
            seconds = time.perf_counter() - t0
            done.set()
            sampler.join()
            rates.append(received / 2**20 / seconds)
            growth.append((peak[0] - idle) / 2**20)
            print(f"round: {received / 2**20:.0f} MiB in {seconds:.2f} s = {rates[-1]:.0f} MiB/s; "
                  f"service RSS +{growth[-1]:.1f} MiB over idle {idle / 2**20:.0f} MiB")
        print(f"median {statistics.median(rates):.0f} MiB/s over loopback; service peak RSS growth "
              f"{max(growth):.1f} MiB (target < 50 MiB: {'met' if max(growth) < 50 else 'MISSED'})")
    finally:
        service.terminate()
        service.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
