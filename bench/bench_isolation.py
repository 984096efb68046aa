"""What running a job as its owner costs: the uid switch, the job token and the service in between.

    sudo .venv/bin/python bench/bench_isolation.py [--rounds 6]

The same short notebook (``tests/jobs/notebooks/probe.ipynb``: create a run,
log a point, finish it, store an artefact) is submitted as a job and waited
for, two ways, in alternating order within each round so load drifts hit
both alike:

- ``platform``: the ``local`` executor, today's single-user path: the kernel
  runs as the platform's account and writes the database and archive itself;
- ``as-owner``: the ``local-as-user`` executor: the kernel runs as the
  owner's system account (created before the first round), with a job token,
  and records everything through the hubkit service (a real uvicorn server
  on loopback) and stores its artefact through ``/v1/archive``.

Reported: wall time from submit to the job's final state, per path (median
and spread), and the paired per-round difference (median). Target: at most
0.5 s more per job. Needs root (and a Python every account can run).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubkit import accounts, jobs
from hubkit.config import load_settings
from hubkit.db import upgrade
from hubkit.service import BackgroundServer, StaticTokenAuthenticator, create_app
from hubkit.store import LocalStore

PROBE = str(REPO / "tests" / "jobs" / "notebooks" / "probe.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if not accounts.can_switch_users():
        sys.exit("run as root: the as-owner path switches to the owner's account")
    base = Path(tempfile.mkdtemp(prefix="hubkit-bench-isolation-"))
    base.chmod(0o711)
    home = base / "home"
    platform = load_settings(home=home, db_url="", archive_url="", service_url="", executor="local")
    upgrade(platform.database_url)
    store = LocalStore(platform.database_url)
    store.ensure_user("bench", role="developer")
    store.upsert_base_model(key="llama3-standin", family="llama3", hf_id="meta-llama/Meta-Llama-3-8B",
                            architecture="LlamaForCausalLM", licence="llama3", parameters=1_000_000, is_standin=True)
    server = BackgroundServer(create_app(platform, store, StaticTokenAuthenticator({}), prefix="/services/hubkit"))
    url = server.start() + "/services/hubkit"
    owner = load_settings(home=home, db_url="", archive_url="", service_url="", executor="local-as-user",
                          job_service_url=url)
    accounts.ensure("bench")
    paths = {"platform": platform, "as-owner": owner}
    times: dict[str, list[float]] = {name: [] for name in paths}

    def one(name: str) -> float:
        settings = paths[name]
        t0 = time.perf_counter()
        job = jobs.submit(notebook=PROBE, parameters={}, owner="bench", store=store, settings=settings)
        job = jobs.wait(job.id, timeout_s=300, store=store, settings=settings)
        took = time.perf_counter() - t0
        if job.state.value != "succeeded":
            sys.exit(f"{name} job {job.id} {job.state.value}: {job.error}")
        return took

    one("platform"), one("as-owner")  # warm the page cache for both paths
    for r in range(args.rounds):
        order = ["platform", "as-owner"] if r % 2 == 0 else ["as-owner", "platform"]
        for name in order:
            times[name].append(one(name))
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in paths), flush=True)
    jobs.shutdown()
    server.stop()

    diffs = [b - a for a, b in zip(times["platform"], times["as-owner"], strict=True)]
    print(f"\njob start to end, {args.rounds} rounds (median, min-max):")
    for name, values in times.items():
        print(f"  {name:9} {statistics.median(values):6.2f} s  ({min(values):.2f}-{max(values):.2f})")
    extra = statistics.median(diffs)
    print(f"  as-owner - platform, paired: median {extra:+.2f} s (min {min(diffs):+.2f}, max {max(diffs):+.2f}); "
          f"target <= +0.50 s: {'met' if extra <= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
