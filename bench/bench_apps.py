"""Apps benchmark: profile-page render time preheated vs not, and a 10,000-model leaderboard.

Two real Voilà servers over the same seeded SQLite hub, side by side in one
run: one with the preheat settings of ``voila_apps/voila.json``, one without.
Chromium (Playwright) opens the same profile page on each, alternately, and
times from navigation to the fully rendered page (heading, score table and
all four figures drawn). Then the leaderboard: its use case and its page over
10,000 public scored models, against reading the whole board.

    .venv/bin/python bench/bench_apps.py [--models 10000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
STAMP = {"harness": "0.4.13", "task_version": 1, "shots": 0, "limit": 100, "batch_size": 8}


def seed(url: str, *, models: int) -> str:
    """A profile-worthy model plus ``models`` public scored models, all written through the store."""
    from hubkit.db import upgrade
    from hubkit.store import LocalStore
    from hubkit.store.records import EvaluationIn

    upgrade(url)
    store = LocalStore(url)
    store.ensure_user("bench")
    store.upsert_base_model(key="llama3-standin", family="llama3", hf_id="local/llama3-standin",
                            architecture="LlamaForCausalLM", licence="Apache-2.0", parameters=300_000,
                            is_standin=True)
    for domain, value in (("math", 0.2), ("code", 0.3), ("translation", 40.0)):
        store.record_evaluation(evaluation=EvaluationIn(domain=domain, task=f"bench_{domain}", metric="acc",
                                                        value=value, stderr=0.02, n_samples=100, stamp=STAMP),
                                base_model="llama3-standin")
    parent = store.create_run(owner="bench", name="Bench parent", domain="math", base_model="llama3-standin",
                              visibility="public", config={"learning_rate": 2e-4, "lora_r": 16})
    store.append_points(parent.id, [{"step": s, "loss": 3 / s, "eval_loss": 3.2 / s if s % 10 == 0 else None}
                                    for s in range(1, 201)])
    store.finish_run(parent.id, outcome="success")
    profile = store.fork_run(parent.id, owner="bench", name="Bench profile", visibility="public",
                             description="The page whose render is timed.")
    store.append_points(profile.id, [{"step": s, "loss": 2 / s} for s in range(1, 201)])
    store.finish_run(profile.id, outcome="success")
    for run, bump in ((parent, 0.05), (profile, 0.1)):
        for domain, value in (("math", 0.2 + bump), ("code", 0.3), ("translation", 39.0)):
            store.record_evaluation(evaluation=EvaluationIn(domain=domain, task=f"bench_{domain}", metric="acc",
                                                            value=value, stderr=0.02, n_samples=100, stamp=STAMP),
                                    model_id=run.id)
    started = time.perf_counter()
    for i in range(models):
        run = store.create_run(owner="bench", name=f"Board model {i:05d}", domain="math",
                               base_model="llama3-standin", visibility="public")
        store.finish_run(run.id, outcome="success")
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task="bench_math", metric="acc",
                                                        value=(i * 7919 % 10_000) / 10_000, stderr=0.02,
                                                        n_samples=100, stamp=STAMP), model_id=run.id)
        if i and i % 1000 == 0:
            print(f"  seeded {i:,} board models ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return profile.slug


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_voila(env: dict[str, str], *, preheat: bool, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [str(REPO / ".venv" / "bin" / "voila"), "voila_apps", "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1"]
    # the preheated server reads voila_apps/voila.json; the other runs with Voilà's defaults
    command += ["--Voila.config_file_paths=voila_apps"] if preheat else ["--VoilaConfiguration.preheat_kernel=False"]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("Voilà did not start:\n" + log.read_text()[-2000:])


def render_seconds(browser, url: str, *, figures: int, text: str) -> float:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.get_by_text(text).first.wait_for(timeout=180_000)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {figures}", timeout=180_000)
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def board_figures(url: str, *, models: int) -> dict[str, float]:
    from hubkit.hub import AppSession, BoardQuery, leaderboard
    from hubkit.store import LocalStore
    from hubkit.ui.pages import leaderboards_page

    store = LocalStore(url)
    out: dict[str, float] = {}

    def timed(name: str, fn) -> object:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = fn()
        out[name] = time.perf_counter() - started
        return result

    first = timed("first page (best first)", lambda: leaderboard(store=store, query=BoardQuery(domain="math")))
    timed("page 200 (best first)", lambda: leaderboard(store=store, query=BoardQuery(domain="math", page=200)))
    timed("first page (worst first)", lambda: leaderboard(store=store, query=BoardQuery(domain="math", order="worst")))
    page = timed("page widget built", lambda: leaderboards_page(AppSession(store=store), domain="math"))
    rows = page.table.value.count("<tr>") - 1  # type: ignore[attr-defined]

    def everything() -> int:
        seen, offset = 0, 0
        while True:
            batch = store.leaderboard(domain="math", task="bench_math", limit=500, offset=offset)
            seen += len(batch)
            if len(batch) < 500:
                return seen
            offset += 500

    total = timed("whole board read (500 per query)", everything)
    out["rows on the page"] = rows
    out["models ranked"] = first.total  # type: ignore[attr-defined]
    out["models read by 'whole board'"] = total  # type: ignore[assignment]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        url = f"sqlite:///{home / 'hubkit.db'}"
        print(f"seeding {args.models:,} models ...", file=sys.stderr)
        os.environ["HUBKIT_HOME"] = str(home)
        slug = seed(url, models=args.models)
        env = {**os.environ, "HUBKIT_HOME": str(home), "HUBKIT_DB_URL": url, "HUBKIT_PUBLIC_PAGES": "1"}
        servers: dict[str, tuple[subprocess.Popen, str]] = {}
        timings: dict[str, list[float]] = {"preheated": [], "not preheated": []}
        try:
            for name in timings:  # a server that started is stopped below, whatever happens next
                servers[name] = start_voila(env, preheat=name == "preheated", log=Path(tmp) / f"{name}.log")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                time.sleep(20)  # let the preheated pool fill before the first request
                for _ in range(args.repeats):
                    for name, (_, base) in servers.items():
                        timings[name].append(render_seconds(browser, f"{base}/voila/render/model.ipynb?model={slug}",
                                                            figures=4, text="Bench profile"))
                    time.sleep(15)  # the pool refills after each use
                board_url = f"{servers['preheated'][1]}/voila/render/leaderboards.ipynb?domain=math"
                board_page = render_seconds(browser, board_url, figures=0, text="Board model")
                browser.close()
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=60)
        board = board_figures(url, models=args.models)

    hot, cold = statistics.median(timings["preheated"]), statistics.median(timings["not preheated"])
    print(f"\n## Profile page, time to first full render (median of {args.repeats}, seconds)")
    print("| server | median | all runs |\n|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"| **not preheated / preheated** | **{cold / hot:.1f}×** | |")
    print(f"\n## Leaderboard over {args.models:,} public models")
    print("| measure | figure |\n|---|---|")
    print(f"| page in the browser (preheated), navigation to rows shown | {board_page:.2f} s |")
    for name, value in board.items():
        shown = f"{value:.3f} s" if isinstance(value, float) else f"{value:,}"
        print(f"| {name} | {shown} |")
    print(f"| whole board read / first page | {board['whole board read (500 per query)'] / board['first page (best first)']:.0f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
