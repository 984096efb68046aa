"""Notebook jobs: what running a training as a job costs, and the local executor under load.

    .venv/bin/python bench/bench_jobs.py [--steps 24] [--rounds 2] [--jobs 24] [--only overhead|throughput]

1. Overhead: the same LoRA training (about 30 s on this machine) run as
   ``python -c "hubkit.train.run(...)"`` in a fresh process, and as a job of
   ``notebooks/train.ipynb`` (worker process, Papermill, kernel, pre-flight,
   plot, archived notebook), both timed end to end from the same starting
   point; rounds alternate so load drifts hit both. Ratio target: <= 1.10.
2. Throughput: many short notebook jobs on the local executor (2 at a time)
   while two busy-loop processes keep both cores busy. Every job must end
   ``succeeded``; queue latency is the time from submit to start.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubkit import jobs
from hubkit.bootstrap import init_platform
from hubkit.catalog import RECIPE_VERSION, build_standins
from hubkit.config import Settings, load_settings
from hubkit.store import LocalStore

POINTS = REPO / "tests" / "jobs" / "notebooks" / "points.ipynb"
DIRECT = """
import hubkit.train as train
from hubkit.store import open_store
spec = train.spec_from_preset("quick", base_model="llama3-standin", domain="math", max_steps={steps},
    dataset={{"example": "math", "example_rows": 64}}, learning_rate=0.0003, lora_r=8, lora_alpha=16.0,
    batch_size=4, max_seq_len=128, seed={seed})
result = train.run(spec, store=open_store(), owner="bench", executed_by="platform")
assert result.outcome == "success", result.message
"""


def prepare_home(root: Path, **overrides: object) -> tuple[Settings, LocalStore]:
    """A fresh hub with the stand-ins (built once into the shared test cache) and the catalog registered."""
    cache = REPO / ".hubkit-test-cache" / f"standins-v{RECIPE_VERSION}"
    build_standins(home=cache)
    (root / "models").mkdir(parents=True, exist_ok=True)
    link = root / "models" / "standins"
    if not link.exists():
        link.symlink_to(cache / "models" / "standins", target_is_directory=True)
    os.environ["HUBKIT_HOME"] = str(root)
    os.environ.pop("HUBKIT_DB_URL", None)
    settings = load_settings(**overrides)
    store = init_platform(settings=settings)
    store.ensure_user("bench", role="developer")
    return settings, store


def children_cpu() -> float:
    """CPU seconds of every finished child process (the worker's kernel is counted in the worker)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reaped(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "State:\tZ" in status.read_text()


def overhead(steps: int, rounds: int) -> None:
    """Wall and CPU seconds of each way, rounds alternating; CPU is the steadier figure here."""
    root = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    settings, store = prepare_home(root)
    wall: dict[str, list[float]] = {"direct": [], "job": []}
    cpu: dict[str, list[float]] = {"direct": [], "job": []}
    for i in range(rounds):
        t, c = time.perf_counter(), children_cpu()
        subprocess.run([sys.executable, "-c", DIRECT.format(steps=steps, seed=i)], check=True,
                       env=dict(os.environ), capture_output=True)
        wall["direct"].append(time.perf_counter() - t)
        cpu["direct"].append(children_cpu() - c)
        t, c = time.perf_counter(), children_cpu()
        job = jobs.submit(notebook="train", parameters={"max_steps": steps, "example_rows": 64, "seed": i},
                          owner="bench", store=store, settings=settings)
        job = jobs.wait(job.id, store=store, settings=settings)
        wall["job"].append(time.perf_counter() - t)
        pid = int(job.external_id.removeprefix("pid:"))
        while not _reaped(pid) or children_cpu() == c:  # the monitor collects the worker's usage
            time.sleep(0.05)
        cpu["job"].append(children_cpu() - c)
        assert job.state.value == "succeeded", job.error
        trained = store.get_run(job.model_id).duration_s
        print(f"  round {i + 1}: direct {wall['direct'][-1]:.1f} s wall / {cpu['direct'][-1]:.1f} s CPU, "
              f"job {wall['job'][-1]:.1f} s wall / {cpu['job'][-1]:.1f} s CPU "
              f"(training inside the job {trained:.1f} s)", flush=True)
    for label, figures in (("wall", wall), ("CPU", cpu)):
        d, j = statistics.median(figures["direct"]), statistics.median(figures["job"])
        print(f"overhead ({label}): {steps}-step training, median of {rounds}: direct {d:.1f} s, "
              f"notebook job {j:.1f} s, ratio job/direct = {j / d:.3f} (target <= 1.10)")
    jobs.shutdown()


def throughput(n_jobs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-jobs-load-"))
    settings, store = prepare_home(root, max_concurrent_jobs=2)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        t = time.perf_counter()
        queued = [jobs.submit(notebook=str(POINTS), parameters={"n_points": 3, "seed": i}, owner="bench",
                              store=store, settings=settings) for i in range(n_jobs)]
        done = [jobs.wait(job.id, store=store, settings=settings) for job in queued]
        wall = time.perf_counter() - t
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    states = {s: sum(j.state.value == s for j in done) for s in {j.state.value for j in done}}
    waits = sorted((j.started_at - j.created_at).total_seconds() for j in done)
    runs = sorted((j.finished_at - j.started_at).total_seconds() for j in done)
    linked = sum(len(store.list_notebook_runs(job_id=j.id)) == 1 for j in done)
    print(f"throughput: {n_jobs} short jobs, 2 at a time, both cores busy: {states}, "
          f"{linked}/{n_jobs} notebooks archived and linked, {wall:.1f} s in all "
          f"({n_jobs / wall * 60:.1f} jobs/min)")
    print(f"  queue latency (submit to start): p50 {statistics.median(waits):.1f} s, "
          f"p95 {waits[int(0.95 * (len(waits) - 1))]:.1f} s, max {waits[-1]:.1f} s; "
          f"first job started after {waits[0]:.2f} s")
    print(f"  one job start to end: p50 {statistics.median(runs):.1f} s, max {runs[-1]:.1f} s")
    starts = sorted(j.started_at for j in done)
    ends = sorted(j.finished_at for j in done)
    handover = sorted((start - ends[k]).total_seconds() for k, start in enumerate(starts[2:]))
    print(f"  slot hand-over (a job ends -> the next queued one starts): p50 {statistics.median(handover):.2f} s, "
          f"max {handover[-1]:.2f} s")
    jobs.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24, help="training steps (about 30 s here)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--only", choices=["overhead", "throughput"], help="run one of the two parts")
    args = parser.parse_args()
    if args.only != "throughput":
        overhead(args.steps, args.rounds)
    if args.only != "overhead":
        throughput(args.jobs)


if __name__ == "__main__":
    main()
