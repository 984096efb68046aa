"""Run-database benchmark: leaderboard latency and research.runs() at 100,000 runs; hubkit vs MLflow.

    .venv/bin/python bench/bench_store.py [--runs 100000] [--mlflow-runs 10000] [--keep DIR]
        [--skip sqlite|postgresql|mlflow ...] [--only leaderboard|runs]

Synthetic runs (realistic TrainSpec configs, 8 domains of scores, 100-point
curves) are bulk-loaded into SQLite (a temp file) and PostgreSQL (a throwaway
schema in database ``test``); with ``--keep DIR`` the SQLite file stays in DIR
and the PostgreSQL schema ``hubkit_bench_<runs>_stamps5`` (the data's shape) stays, and a later run with
the same ``--keep`` reuses them when they hold exactly ``--runs`` runs. Then, side by side in one run, the same
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
from synthetic_runs import DOMAINS, STAMP_VARIANTS, STANDARD_TASKS, TASKS, populate

from hubkit import research
from hubkit.db import dispose_engines, upgrade
from hubkit.store import LocalStore

# Names the synthetic data's shape in kept databases' names, so a kept set from an older generator
# (one stamp per board) is never reused as if it were this one.
GENERATION = f"stamps{len(STAMP_VARIANTS)}"
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


def suite_of(task: str) -> str:
    return "standard" if task in STANDARD_TASKS else "offline"


def leaderboard_p50(url: str, *, choose_stamp: bool, in_suite: bool = False, n: int = 30) -> tuple[float, float, int]:
    """p50/p90 ms of Store.leaderboard over the 8 domains; the stamp given (as a page that knows
    it does) or left for the store to choose (the most common one), within the task's suite as the
    leaderboard page asks or over every stamp of the task."""
    store = LocalStore(url)
    stamps = {d: None if choose_stamp else store.leaderboard_stamps(domain=d, task=TASKS[d])[0][0] for d in DOMAINS}
    suites = {d: suite_of(TASKS[d]) if in_suite else None for d in DOMAINS}

    def board(domain: str) -> list:
        return store.leaderboard(domain=domain, task=TASKS[domain], stamp_hash=stamps[domain], suite=suites[domain],
                                 limit=50)

    board("math")  # warm
    times = []
    rows = []
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)]
        t = time.perf_counter()
        rows = board(domain)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.9)] * 1000, len(rows)


def pg_schema(keep: str | None = None) -> tuple[str, Callable[[], None]]:
    """A throwaway schema, or with ``keep`` a named one that outlives the run."""
    schema = keep or f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    def drop() -> None:
        dispose_engines()
        if keep is None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return f"{PG_ADMIN}?options=-csearch_path%3D{schema}", drop


def existing_runs(url: str) -> int:
    """How many runs a kept database holds (0 when it has no schema yet)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM models").scalar_one())
    except sa.exc.DBAPIError:
        return 0
    finally:
        engine.dispose()


def backend_figures(name: str, url: str, n_runs: int, *, reuse: bool = False,
                    only: str | None = None) -> dict[str, float]:
    if reuse and existing_runs(url) == n_runs:
        t = time.perf_counter()
        upgrade(url)  # a kept database from before a migration gets it, as a deployment would
        print(f"[{name}] reusing the kept database of {n_runs:,} runs (brought to the current schema in "
              f"{time.perf_counter() - t:.1f} s)")
    else:
        if reuse and existing_runs(url):
            raise SystemExit(f"[{name}] the kept database holds another number of runs; remove it first")
        t = time.perf_counter()
        data = populate(url, n_runs)
        load_s = time.perf_counter() - t
        print(f"[{name}] loaded {data.n_runs:,} runs, {data.n_evaluations:,} evaluations, {data.n_points:,} loss points "
              f"in {load_s:.0f} s")
    print(f"[{name}] load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f}")
    if only in (None, "leaderboard"):
        counts = LocalStore(url).leaderboard_stamps(domain="math", task=TASKS["math"])
        print(f"[{name}] the math board has {len(counts)} stamps; public scores under each: "
              f"{', '.join(f'{n:,}' for _, n in counts)}")
    modes = ((False, False), (True, False), (True, True))
    for choose, in_suite in modes if only in (None, "leaderboard") else ():
        p50, p90, rows = leaderboard_p50(url, choose_stamp=choose, in_suite=in_suite)
        how = ("stamp given" if not choose else
               "stamp chosen by the store within the task's suite" if in_suite else "stamp chosen by the store")
        print(f"[{name}] leaderboard top 50 (public, with base model and owner; {how}): p50 {p50:.1f} ms, "
              f"p90 {p90:.1f} ms ({rows} rows)  target <= 50 ms: {'met' if p50 <= 50 else 'MISSED'}")
    if only == "leaderboard":
        return {}
    research.runs(url=url)  # warm: connections, the database's page cache
    wall, cpu, frame = timed(lambda: research.runs(url=url), repeat=5)
    print(f"[{name}] research.runs() -> {frame.shape[0]:,} x {frame.shape[1]} DataFrame: {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU (median of 5)  target <= 3 s: {'met' if wall <= 3 else 'MISSED (wall)'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    return {"runs_wall": wall, "runs_cpu": cpu}


def mlflow_side_by_side(n_runs: int, workdir: Path, *, reuse: bool = False) -> None:
    """Log the same runs into MLflow (one ``log_batch`` per run: params, the score metrics, the loss
    history as metric steps, tags) and read both back into a DataFrame, alternating, 3 times each."""
    import logging

    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    url = f"sqlite:///{workdir / f'hubkit-side-{n_runs}.db'}"
    mlflow.set_tracking_uri(f"sqlite:///{workdir / f'mlflow-{n_runs}.db'}")
    client = MlflowClient()
    name = "side-by-side"
    found = client.get_experiment_by_name(name) if reuse else None
    if found is not None and existing_runs(url) == n_runs and len(
            client.search_runs([found.experiment_id], max_results=n_runs + 1)) == n_runs:
        experiment = found.experiment_id
        print(f"[mlflow] reusing the kept MLflow store and hubkit database of {n_runs:,} runs")
    else:
        if found is not None or existing_runs(url):
            raise SystemExit(f"[mlflow] {workdir} holds an unfinished side-by-side set; remove its files first")
        populate(url, n_runs)
        frame = research.runs(url=url)
        curves = research.curves(url=url)
        by_model = {k: g for k, g in curves.groupby("model_id")}
        experiment = client.create_experiment(name)
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
                metrics += [Metric("loss", float(v), now, int(s))
                            for s, v in zip(points["step"], points["loss"], strict=True) if math.isfinite(v)]
            client.log_batch(run.info.run_id, metrics=metrics,
                             params=[Param(p, str(values[p])[:500]) for p in params],
                             tags=[RunTag(k, str(values[k])) for k in tags])
            client.set_terminated(run.info.run_id)
            if (i + 1) % 1000 == 0:
                print(f"  mlflow: logged {i + 1:,} runs ({time.perf_counter() - t:.0f} s)", flush=True)
        log_s = time.perf_counter() - t
        print(f"[mlflow] logged {n_runs:,} runs ({len(params)} params, {len(scores)} metrics, up to 100-point loss "
              f"history as metric steps, {len(tags)} tags; one log_batch per run) in {log_s:.0f} s "
              f"({log_s / n_runs * 1000:.0f} ms per run)")
    print(f"[side by side] load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f}")
    m_times, h_times = [], []
    runs_df = hub_df = None
    for _ in range(3):
        m_wall, m_cpu, runs_df = timed(
            lambda: mlflow.search_runs(experiment_ids=[experiment], max_results=100_000), repeat=1)
        m_times.append((m_wall, m_cpu))
        h_wall, h_cpu, hub_df = timed(lambda: research.runs(url=url), repeat=1)
        h_times.append((h_wall, h_cpu))
    m_wall, m_cpu = (statistics.median(x) for x in zip(*m_times, strict=True))
    h_wall, h_cpu = (statistics.median(x) for x in zip(*h_times, strict=True))
    print(f"[side by side] mlflow.search_runs -> {runs_df.shape}: {m_wall:.2f} s wall ({m_cpu:.2f} s CPU); "
          f"hubkit.research.runs() -> {hub_df.shape}: {h_wall:.2f} s wall ({h_cpu:.2f} s CPU); medians of 3, "
          f"alternating")
    print(f"[side by side] hubkit is {m_wall / h_wall:.1f}x faster (wall), {m_cpu / h_cpu:.1f}x (CPU); "
          f"target >= 10x: {'met' if m_wall / h_wall >= 10 else 'MISSED'}; load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--mlflow-runs", type=int, default=10_000)
    parser.add_argument("--skip", choices=["sqlite", "postgresql", "mlflow"], action="append", default=[])
    parser.add_argument("--only", choices=["leaderboard", "runs"], help="measure only this on the backends")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the generated 100k databases (and reuse them on the next run)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="hubkit-bench-") as tmp:
        work = Path(tmp)
        kept = args.keep
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)
        if "sqlite" not in args.skip:
            db = (kept or work) / (f"runs-{args.runs}-{GENERATION}.db" if kept else "runs.db")
            backend_figures("sqlite", f"sqlite:///{db}", args.runs, reuse=kept is not None, only=args.only)
        if "postgresql" not in args.skip:
            url, drop = pg_schema(f"hubkit_bench_{args.runs}_{GENERATION}" if kept else None)
            try:
                backend_figures("postgresql", url, args.runs, reuse=kept is not None, only=args.only)
            finally:
                drop()
        if "mlflow" not in args.skip:
            mlflow_side_by_side(args.mlflow_runs, kept or work, reuse=kept is not None)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
