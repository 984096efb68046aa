"""Notebook jobs: what running a training as a job costs, and the local executor under load.

    .venv/bin/python bench/bench_jobs.py [--steps 24 400] [--rounds 5] [--jobs 24] [--only overhead|throughput]

1. Overhead: the same LoRA training (15-30 s on this machine) three ways,
   each timed end to end from the same starting point, every round running
   all three in a rotated order so load drifts hit each alike:

   - ``fresh``: ``python -c "hubkit.train.run(...)"`` in a new process: what a
     user's script pays (Python, torch/transformers/peft imports, training);
   - ``in-process``: ``hubkit.train.run(...)`` called in this (warm) process,
     its modules already imported: the training alone;
   - ``job``: ``jobs.submit`` of ``notebooks/train.ipynb`` and ``jobs.wait``:
     worker process, kernel (which pays the same imports as ``fresh``),
     Papermill, pre-flight check, plot, archived notebook, ``notebook_runs`` row.

   The ratio target (<= 1.10) is job / fresh: a job always runs in a new
   process, so the fair comparison is the user's own new process. A ratio
   flatters long trainings, so each run measures a short (24 steps) and a
   long (400 steps) training, reports job / in-process beside job / fresh,
   and holds the job's fixed cost itself (its wall time beyond a fresh
   process, less the difference in their own training times) to a median of
   at most 1.0 s. The ratio
   is taken per round (paired) and its median reported; CPU seconds (of the
   child processes, or of this process for ``in-process``) next to wall time.
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


def _direct_in_process(steps: int, seed: int) -> None:
    exec(DIRECT.format(steps=steps, seed=seed), {})  # noqa: S102 - the same code as the fresh process runs


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def overhead(steps: int, rounds: int) -> None:
    """Wall and CPU seconds of each way, paired per round, order rotated between rounds."""
    root = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    settings, store = prepare_home(root)
    import hubkit.train.runner  # noqa: F401 - in-process means warm: its imports are paid before timing

    wall: dict[str, list[float]] = {"fresh": [], "in-process": [], "job": []}
    cpu: dict[str, list[float]] = {"fresh": [], "in-process": [], "job": []}
    trained: dict[str, list[float]] = {"fresh": [], "in-process": [], "job": []}

    def fresh(seed: int) -> None:
        t, c = time.perf_counter(), children_cpu()
        subprocess.run([sys.executable, "-c", DIRECT.format(steps=steps, seed=seed)], check=True,
                       env=dict(os.environ), capture_output=True)
        wall["fresh"].append(time.perf_counter() - t)
        cpu["fresh"].append(children_cpu() - c)
        trained["fresh"].append(store.list_runs(owner="bench", limit=1)[0].duration_s or 0.0)

    def in_process(seed: int) -> None:
        t, c = time.perf_counter(), self_cpu()
        _direct_in_process(steps, seed)
        wall["in-process"].append(time.perf_counter() - t)
        cpu["in-process"].append(self_cpu() - c)
        trained["in-process"].append(store.list_runs(owner="bench", limit=1)[0].duration_s or 0.0)

    def job(seed: int) -> None:
        t, c = time.perf_counter(), children_cpu()
        record = jobs.submit(notebook="train", parameters={"max_steps": steps, "example_rows": 64, "seed": seed},
                             owner="bench", store=store, settings=settings)
        record = jobs.wait(record.id, store=store, settings=settings)
        wall["job"].append(time.perf_counter() - t)
        pid = int(record.external_id.removeprefix("pid:"))
        while not _reaped(pid) or children_cpu() == c:  # the monitor collects the worker's usage
            time.sleep(0.01)
        cpu["job"].append(children_cpu() - c)
        assert record.state.value == "succeeded", record.error
        trained["job"].append(store.get_run(record.model_id).duration_s or 0.0)

    ways = [("fresh", fresh), ("job", job), ("in-process", in_process)]
    for i in range(rounds):
        order = ways[i % 3:] + ways[:i % 3]
        for _, way in order:
            way(i)
        print(f"  round {i + 1} ({' > '.join(name for name, _ in order)}): " + ", ".join(
            f"{name} {wall[name][-1]:.1f} s wall / {cpu[name][-1]:.1f} s CPU (training {trained[name][-1]:.1f} s)"
            for name in wall) + f"; job/fresh {wall['job'][-1] / wall['fresh'][-1]:.3f}", flush=True)
    med = statistics.median
    for label, figures in (("wall", wall), ("CPU", cpu)):
        paired = [j / d for j, d in zip(figures["job"], figures["fresh"], strict=True)]
        paired_in = [j / d for j, d in zip(figures["job"], figures["in-process"], strict=True)]
        print(f"overhead ({label}): {steps}-step training, {rounds} rounds, medians: fresh process "
              f"{med(figures['fresh']):.1f} s, in-process {med(figures['in-process']):.1f} s, notebook job "
              f"{med(figures['job']):.1f} s; median paired ratio job/fresh = {med(paired):.3f} "
              f"(target <= 1.10; min {min(paired):.3f}, max {max(paired):.3f}), job/in-process = "
              f"{med(paired_in):.3f}")
    fixed = [(w - t) - (wf - tf) for w, t, wf, tf in zip(wall["job"], trained["job"], wall["fresh"],
                                                          trained["fresh"], strict=True)]
    print(f"  job's fixed cost over a fresh process (wall minus its own training time, paired): "
          f"median {med(fixed):.2f} s (target <= 1.0 s: {'met' if med(fixed) <= 1.0 else 'MISSED'}); "
          f"training time itself, medians: fresh {med(trained['fresh']):.1f} s, "
          f"in-process {med(trained['in-process']):.1f} s, job {med(trained['job']):.1f} s")
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
    parser.add_argument("--steps", type=int, nargs="+", default=[24, 400],
                        help="training lengths, each measured in turn (400 steps: 15-30 s of training here)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--only", choices=["overhead", "throughput"], help="run one of the two parts")
    args = parser.parse_args()
    if args.only != "throughput":
        for steps in args.steps:
            overhead(steps, args.rounds)
    if args.only != "overhead":
        throughput(args.jobs)


if __name__ == "__main__":
    main()
