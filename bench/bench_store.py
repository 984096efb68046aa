"""Run-database benchmark: leaderboard latency and research.runs() at 100,000 runs; hubkit vs MLflow.

    .venv/bin/python bench/bench_store.py [--runs 100000] [--mlflow-runs 10000] [--keep DIR]

Synthetic runs (realistic TrainSpec configs, 8 domains of scores, 100-point
curves) are bulk-loaded into SQLite (a temp file) and PostgreSQL (a throwaway
schema in database ``test``). Then, side by side in one run, the same
``--mlflow-runs`` runs are logged into MLflow (SQLite backend) and read back
with ``mlflow.search_runs`` against ``hubkit.research.runs()``.
Wall-clock and process CPU seconds are both printed: CPU time is the fairer
figure on a shared machine.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_runs import DOMAINS, TASKS, populate

from hubkit import research
from hubkit.db import dispose_engines
from hubkit.store import LocalStore

PG_ADMIN = os.environ.get("HUBKIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float, object]:
    """Median wall seconds, median process CPU seconds, last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def leaderboard_p50(url: str, *, choose_stamp: bool, n: int = 30) -> tuple[float, float, int]:
    """p50/p90 ms of Store.leaderboard over the 8 domains; the stamp given (as a page that knows
    it does) or left for the store to choose (the most common one)."""
    store = LocalStore(url)
    stamps = {d: None if choose_stamp else store.leaderboard_stamps(domain=d, task=TASKS[d])[0][0] for d in DOMAINS}
    store.leaderboard(domain="math", task=TASKS["math"], stamp_hash=stamps["math"], limit=50)  # warm
    times = []
    rows = []
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)]
        t = time.perf_counter()
        rows = store.leaderboard(domain=domain, task=TASKS[domain], stamp_hash=stamps[domain], limit=50)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.9)] * 1000, len(rows)


def pg_schema() -> tuple[str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        dispose_engines()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return f"{PG_ADMIN}?options=-csearch_path%3D{schema}", drop


def backend_figures(name: str, url: str, n_runs: int) -> dict[str, float]:
    t = time.perf_counter()
    data = populate(url, n_runs)
    load_s = time.perf_counter() - t
    print(f"[{name}] loaded {data.n_runs:,} runs, {data.n_evaluations:,} evaluations, {data.n_points:,} loss points "
          f"in {load_s:.0f} s")
    for choose in (False, True):
        p50, p90, rows = leaderboard_p50(url, choose_stamp=choose)
        how = "stamp chosen by the store" if choose else "stamp given"
        print(f"[{name}] leaderboard top 50 (public, with base model and owner; {how}): p50 {p50:.1f} ms, "
              f"p90 {p90:.1f} ms ({rows} rows)  target <= 50 ms: {'met' if p50 <= 50 else 'MISSED'}")
    wall, cpu, frame = timed(lambda: research.runs(url=url))
    print(f"[{name}] research.runs() -> {frame.shape[0]:,} x {frame.shape[1]} DataFrame: {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU  target <= 3 s: {'met' if wall <= 3 else 'MISSED (wall)'}")
    return {"runs_wall": wall, "runs_cpu": cpu}


def mlflow_side_by_side(n_runs: int, workdir: Path) -> None:
    import logging

    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    url = f"sqlite:///{workdir / 'hubkit-side.db'}"
    populate(url, n_runs)
    frame = research.runs(url=url)
    curves = research.curves(url=url)
    by_model = {k: g for k, g in curves.groupby("model_id")}
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    client = MlflowClient()
    experiment = client.create_experiment("side-by-side")
    params = [c for c in frame.columns if c.startswith("config.")]
    scores = [c for c in frame.columns if c.startswith("score.")]
    tags = ["domain", "base_model", "base_family", "training_outcome", "failure_class", "owner", "visibility"]
    t = time.perf_counter()
    for i, values in enumerate(frame.to_dict("records")):
        run = client.create_run(experiment, tags={"mlflow.runName": str(values["name"])})
        now = int(time.time() * 1000)
        metrics = [Metric(s, float(values[s]), now, 0) for s in scores if math.isfinite(values[s])]
        points = by_model.get(values["model_id"])
        if points is not None:
            metrics += [Metric("loss", float(v), now, int(s)) for s, v in zip(points["step"], points["loss"], strict=True)
                        if math.isfinite(v)]
        client.log_batch(run.info.run_id, metrics=metrics,
                         params=[Param(p, str(values[p])[:500]) for p in params],
                         tags=[RunTag(k, str(values[k])) for k in tags])
        client.set_terminated(run.info.run_id)
        if (i + 1) % 1000 == 0:
            print(f"  mlflow: logged {i + 1:,} runs ({time.perf_counter() - t:.0f} s)", flush=True)
    log_s = time.perf_counter() - t
    m_wall, m_cpu, runs_df = timed(lambda: mlflow.search_runs(experiment_ids=[experiment], max_results=100_000),
                                   repeat=1)
    h_wall, h_cpu, hub_df = timed(lambda: research.runs(url=url))
    print(f"[mlflow] logged {n_runs:,} runs ({len(params)} params, {len(scores)} metrics, 100-point loss history, "
          f"{len(tags)} tags) in {log_s:.0f} s")
    print(f"[side by side] mlflow.search_runs -> {runs_df.shape}: {m_wall:.2f} s wall ({m_cpu:.2f} s CPU); "
          f"hubkit.research.runs() -> {hub_df.shape}: {h_wall:.2f} s wall ({h_cpu:.2f} s CPU)")
    print(f"[side by side] hubkit is {m_wall / h_wall:.1f}x faster (wall), {m_cpu / h_cpu:.1f}x (CPU); "
          f"target >= 10x: {'met' if m_wall / h_wall >= 10 else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--mlflow-runs", type=int, default=10_000)
    parser.add_argument("--skip", choices=["sqlite", "postgresql", "mlflow"], action="append", default=[])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="hubkit-bench-") as tmp:
        work = Path(tmp)
        if "sqlite" not in args.skip:
            backend_figures("sqlite", f"sqlite:///{work / 'runs.db'}", args.runs)
        if "postgresql" not in args.skip:
            url, drop = pg_schema()
            try:
                backend_figures("postgresql", url, args.runs)
            finally:
                drop()
        if "mlflow" not in args.skip:
            mlflow_side_by_side(args.mlflow_runs, work)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
