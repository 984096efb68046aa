"""Public pages benchmark: a public profile page under 1, 5 and 20 visitors at once, then 200 visits.

One real public-pages server (``python -m hubkit.service.public_pages``, as the
hub starts it, with ``voila_apps/voila.json``) over a seeded SQLite hub with one
public, scored model. A visit is one visitor's first full render of the model's
profile page: the request until the last byte of Voilà's page, with every cell
of ``voila_apps/model.ipynb`` executed for that visit in a kernel of its own
(preheated from the pool when one waits). The figures and the table are then
drawn by the browser from the kernel's widgets (bench_apps.py times that part
in Chromium); this one times what a crowd shares: kernels and the CPU.
Each visitor then leaves as a browser tab does (Voilà's goodbye).

Then 200 visits one after the other, every tenth leaving silently (a crawler):
kernels alive and the server's memory (RSS of its process tree: the Voilà
server and its kernels) right after, and once the idle culler has run.

    nice -n 10 .venv/bin/python bench/bench_public_pages.py [--pool 1] [--cap 8] [--visits 200]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apps import free_port, seed

from hubkit.service.processes import tree_usage
from hubkit.service.public_pages import BUSY_STATUS, UNPOOLED

CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">\s*(\{.*?\})\s*</script>', re.DOTALL)
# notebooks in voila_apps/ with a pool of their own (the builder has none on the public pages)
PAGES = len([nb for nb in (REPO / "voila_apps").glob("*.ipynb") if nb.name not in UNPOOLED])


class Server:
    def __init__(self, home: Path, *, pool: int, cap: int, idle_s: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "pages.log"
        env = {**os.environ, "HUBKIT_HOME": str(home), "HUBKIT_PUBLIC_PAGES": "1", "OMP_NUM_THREADS": "1",
               "HUBKIT_PUBLIC_KERNEL_CAP": str(cap), "HUBKIT_PUBLIC_KERNEL_IDLE_S": str(idle_s)}
        self.pool = pool
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hubkit.service.public_pages", str(REPO / "voila_apps"), "--no-browser",
             f"--port={self.port}", "--Voila.ip=127.0.0.1", f"--Voila.config_file_paths={REPO / 'voila_apps'}",
             f"--VoilaConfiguration.default_pool_size={pool}"],
            cwd=REPO, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def kernels(self) -> int:
        return tree_usage(self.process.pid).kernels

    def rss_mb(self) -> float:
        return tree_usage(self.process.pid).rss_bytes / 1e6

    def cpu_s(self) -> float:
        return tree_usage(self.process.pid).cpu_s

    def wait_for_pool(self, timeout_s: float = 600) -> None:
        """Until every page's pool is full, no visitor's kernel is left and the pooled kernels are done
        preheating (Voilà calls a pool filled once its kernels started, while their first cells still run:
        a kernel is about 90 MB then and about 230 MB once the profile page's imports are done)."""
        deadline, settled = time.monotonic() + timeout_s, 0
        while settled < 3:  # 3 s in a row
            used = self.cpu_s()
            time.sleep(1)
            full = self.kernels() == self.pool * PAGES and self.log.read_text().count("is filled") >= PAGES
            settled = settled + 1 if full and self.cpu_s() - used < 0.1 else 0
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the public pages did not settle:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def visit(url: str, *, goodbye: bool = True) -> tuple[str, float]:
    """One visitor's first full render: ('rendered' | 'busy', seconds)."""
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        page = client.get(url)
        elapsed = time.perf_counter() - started
        if page.status_code == BUSY_STATUS:
            return "busy", elapsed
        if page.status_code != 200 or "window.voila_finish()" not in page.text:
            raise RuntimeError(f"visit failed: {page.status_code} {page.text[:300]}")
        if goodbye:
            kernel = json.loads(CONFIG.search(page.text).group(1))["kernelId"]
            base = url.split("/voila/render/")[0]
            client.post(f"{base}/voila/api/shutdown/{kernel}", data={"_xsrf": client.cookies.get("_xsrf", "")})
        return "rendered", elapsed


def at_once(url: str, visitors: int) -> list[tuple[str, float]]:
    with ThreadPoolExecutor(max_workers=visitors) as crowd:
        return list(crowd.map(lambda _: visit(url), range(visitors)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=1, help="preheated kernels per page (HUBKIT_PUBLIC_POOL_SIZE)")
    parser.add_argument("--cap", type=int, default=8, help="HUBKIT_PUBLIC_KERNEL_CAP (the platform's default)")
    parser.add_argument("--idle", type=int, default=30, help="HUBKIT_PUBLIC_KERNEL_IDLE_S")
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each crowd size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        slug = seed(f"sqlite:///{home / 'hubkit.db'}", models=0)
        server = Server(home, pool=args.pool, cap=args.cap, idle_s=args.idle)
        try:
            server.wait_for_pool()
            url = f"{server.url}/voila/render/model.ipynb?model={slug}"
            start_kernels, start_rss = server.kernels(), server.rss_mb()
            print(f"server up: {start_kernels} pooled kernels ({args.pool} per page x {PAGES} pages), "
                  f"{start_rss:.0f} MB; cap {args.cap}", file=sys.stderr)
            rows = []
            for crowd in (1, 5, 20):
                times: dict[str, list[float]] = {"rendered": [], "busy": []}
                for _ in range(args.rounds):
                    for outcome, seconds in at_once(url, crowd):
                        times[outcome].append(seconds)
                    server.wait_for_pool()
                rows.append((crowd, times))
                print(f"  {crowd} at once: {len(times['rendered'])} rendered, {len(times['busy'])} busy",
                      file=sys.stderr)
            started = time.perf_counter()
            outcomes = [visit(url, goodbye=i % 10 != 9)[0] for i in range(args.visits)]
            took = time.perf_counter() - started
            after_kernels, after_rss = server.kernels(), server.rss_mb()
            deadline = time.monotonic() + args.idle + 120
            while server.kernels() > args.pool * PAGES and time.monotonic() < deadline:
                time.sleep(1)
            server.wait_for_pool()
            culled_kernels, culled_rss = server.kernels(), server.rss_mb()
        finally:
            server.stop()
    print(f"\n## Public profile page, first full render (pool {args.pool} per page, cap {args.cap}, "
          f"{args.rounds} rounds each, seconds)")
    print("| visitors at once | p50 | p95 | rendered | busy page (p50) |\n|---|---|---|---|---|")
    for crowd, times in rows:
        done, busy = times["rendered"], times["busy"]
        print(f"| {crowd} | {statistics.median(done):.2f} | {pct(done, 0.95):.2f} | {len(done)} | {len(busy)}"
              + (f" ({statistics.median(busy):.2f})" if busy else "") + " |")
    print(f"\n## {args.visits} visits one after the other (every tenth silent), {took:.0f} s")
    print("| when | kernels alive | RSS of the server's process tree |\n|---|---|---|")
    print(f"| before | {start_kernels} | {start_rss:.0f} MB |")
    print(f"| right after | {after_kernels} | {after_rss:.0f} MB |")
    print(f"| after the idle culler ({args.idle} s) | {culled_kernels} | {culled_rss:.0f} MB "
          f"({(culled_rss - start_rss) / start_rss:+.1%}) |")
    print(f"| visits rendered / busy | {outcomes.count('rendered')} / {outcomes.count('busy')} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
