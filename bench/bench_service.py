"""Service benchmarks, measured side by side in one run (figures go to docs/benchmarks.md "## Service").

1. Loss-point streaming: N concurrent runs each post a point every 100 ms for D seconds through
   ``ApiStore`` (one user token each); every point is counted back from the database, and the
   p50 / p99 latency of the posts is reported: on SQLite with one service worker, then on
   PostgreSQL with ``--pg-workers`` (4) uvicorn workers.
2. Recording one training run (create, P points posted one by one, heartbeats, finish, read back)
   through ``LocalStore`` and through ``ApiStore`` on the same database: time and ratio.

    python bench/bench_service.py [--runs 20] [--seconds 60] [--points 300] [--pg URL] [--pg-workers 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from hubkit.config import load_settings
from hubkit.db import upgrade
from hubkit.service.server import free_port
from hubkit.store import LocalStore, Store
from hubkit.store.api import ApiStore


def _world(home: Path, users: int, db_url: str = "") -> tuple[LocalStore, dict[str, str]]:
    settings = load_settings(home=home, db_url=db_url)
    upgrade(settings.database_url)
    local = LocalStore(settings.database_url)
    local.upsert_base_model(key="llama3-standin", family="llama3", hf_id="meta-llama/Meta-Llama-3-8B",
                            architecture="LlamaForCausalLM", licence="llama3", is_standin=True)
    tokens = {f"user{i}": f"token-{i}-bench" for i in range(users)}
    for name in tokens:
        local.ensure_user(name, role="developer")
    return local, tokens


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at ``admin_url``, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    from hubkit.db import dispose_engines

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextmanager
def service_process(home: Path, tokens: dict[str, str], *, db_url: str = "", workers: int = 1) -> Iterator[str]:
    """The service in its own process(es), as JupyterHub runs it (no GIL shared with the clients)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBKIT_", "JUPYTERHUB_"))}
    if db_url:
        env["HUBKIT_DB_URL"] = db_url
    env.update(HUBKIT_HOME=str(home), HUBKIT_SERVICE_BIND=f"http://127.0.0.1:{port}",
               HUBKIT_SERVICE_WORKERS=str(workers),
               HUBKIT_SERVICE_LOG_LEVEL="warning",
               HUBKIT_DEMO_TOKENS=",".join(f"{t}={u}:developer" for u, t in tokens.items()))
    proc = subprocess.Popen([sys.executable, "-m", "hubkit.service"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # several workers import the service on 2 shared cores
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def streaming(runs: int, seconds: float, *, pg_admin_url: str = "", workers: int = 1) -> dict[str, float]:
    """Concurrent runs streaming points; on SQLite, or on a fresh PostgreSQL schema when
    ``pg_admin_url`` is given; the service with ``workers`` uvicorn workers."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db_url = stack.enter_context(pg_database(pg_admin_url)) if pg_admin_url else ""
        local, tokens = _world(Path(tmp), runs, db_url)
        url = stack.enter_context(service_process(Path(tmp), tokens, db_url=db_url, workers=workers))
        latencies: list[float] = []
        sent = [0] * runs
        errors: list[str] = []
        lock = threading.Lock()
        run_ids: list[int] = []

        def worker(i: int, start: threading.Barrier) -> None:
            name = f"user{i}"
            store = ApiStore(url, token=tokens[name])
            run = store.create_run(owner=name, name=f"stream {i}", domain="math", base_model="llama3-standin")
            with lock:
                run_ids.append(run.id)
            start.wait()
            t_end = time.monotonic() + seconds
            step = 0
            next_at = time.monotonic()
            while time.monotonic() < t_end:
                step += 1
                t0 = time.perf_counter()
                try:
                    store.append_points(run.id, [{"step": step, "loss": 1.0 / step, "lr": 1e-3}])
                    sent[i] += 1
                except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                    errors.append(repr(exc))
                with lock:
                    latencies.append(time.perf_counter() - t0)
                next_at += 0.1
                time.sleep(max(0.0, next_at - time.monotonic()))
            store.close()

        barrier = threading.Barrier(runs)
        threads = [threading.Thread(target=worker, args=(i, barrier)) for i in range(runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = sum(len(local.loss_points(run_id)) for run_id in run_ids)
    lat = sorted(latencies)
    return {"db": "postgresql" if pg_admin_url else "sqlite", "workers": workers,
            "runs": runs, "seconds": seconds, "sent": sum(sent), "stored": stored, "errors": len(errors),
            "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
            "max_ms": 1000 * lat[-1], "points_per_s": sum(sent) / seconds}


def record_one_run(store: Store, points: int) -> float:
    t0 = time.perf_counter()
    run = store.create_run(owner="user0", name="bench", domain="math", base_model="llama3-standin",
                           config={"lr": 1e-3, "r": 8}, executed_by="user")
    for step in range(1, points + 1):
        store.append_points(run.id, [{"step": step, "loss": 1.0 / step, "lr": 1e-3, "grad_norm": 0.5}])
        if step % 50 == 0:
            store.heartbeat(run.id)
    store.finish_run(run.id, outcome="success", artifacts={"adapter": "a" * 64})
    assert len(store.get_run(run.id).loss_curve_data) == points
    return time.perf_counter() - t0


def overhead(points: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, service_process(Path(tmp), _world(Path(tmp), 1)[1]) as url:
        local = LocalStore(load_settings(home=Path(tmp), db_url="").database_url)
        api = ApiStore(url, token="token-0-bench")
        record_one_run(local, 20)  # warm both paths
        record_one_run(api, 20)
        local_s = min(record_one_run(local, points) for _ in range(3))
        api_s = min(record_one_run(api, points) for _ in range(3))
        api.close()
    return {"points": points, "local_s": local_s, "api_s": api_s, "ratio": api_s / local_s,
            "local_ms_per_point": 1000 * local_s / points, "api_ms_per_point": 1000 * api_s / points}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server (a throwaway schema is made there); empty: SQLite only")
    parser.add_argument("--pg-workers", type=int, default=4)
    parser.add_argument("--skip-overhead", action="store_true", help="only the streaming comparison")
    args = parser.parse_args()
    setups = [{"workers": 1}] + ([{"pg_admin_url": args.pg, "workers": args.pg_workers}] if args.pg else [])
    ok = True
    for setup in setups:
        s = streaming(args.runs, args.seconds, **setup)
        ok = ok and s["sent"] == s["stored"] and s["errors"] == 0
        print(f"streaming on {s['db']}, {s['workers']} service worker(s): {s['runs']} runs x 1 point/100 ms "
              f"for {s['seconds']:.0f} s: sent {s['sent']}, stored {s['stored']}, lost {s['sent'] - s['stored']}, "
              f"errors {s['errors']}, {s['points_per_s']:.0f} points/s, p50 {s['p50_ms']:.1f} ms, "
              f"p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms", flush=True)
    if not args.skip_overhead:
        o = overhead(args.points)
        print(f"one run's recording ({o['points']} points posted one by one): LocalStore {o['local_s']:.2f} s "
              f"({o['local_ms_per_point']:.1f} ms/point), ApiStore {o['api_s']:.2f} s "
              f"({o['api_ms_per_point']:.1f} ms/point), ratio ApiStore/LocalStore {o['ratio']:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
