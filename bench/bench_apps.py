"""Apps benchmark: profile-page render time preheated vs not, and a 10,000-model leaderboard.

Two real Voilà servers over the same seeded SQLite hub, side by side in one
run, both with ``voila_apps/voila.json`` (template, extensions): one preheats, one does not.
Chromium (Playwright) opens the same profile page on each, alternately, and
times from navigation to the fully rendered page: the heading, the score
table and the last of the four figures drawn, in the page's own clock, read
once no figure has been drawn for 1.5 s (widgets may draw a figure twice). Then the leaderboard: its use case and its page over
10,000 public scored models, against reading the whole board.

    .venv/bin/python bench/bench_apps.py [--models 10000] [--repeats 5]
    .venv/bin/python bench/bench_apps.py --profile 3   # where the browser spends a profile page's render
"""
from __future__ import annotations

import argparse
import json
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


def start_voila(env: dict[str, str], *, preheat: bool, log: Path,
                apps: Path = REPO / "voila_apps") -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [str(REPO / ".venv" / "bin" / "voila"), str(apps), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1"]
    # both read voila_apps/voila.json (the apps' template and extensions); one turns preheating off
    command += [f"--Voila.config_file_paths={apps}"] + ([] if preheat else ["--VoilaConfiguration.preheat_kernel=False"])
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


# Marks, in the page's own clock (ms since navigation started): the heading, the score table, and
# every plotly figure drawn (a plot with at least one trace in its SVG). Widgets may draw a figure
# more than once (a later copy replaces the first), so the render counts until the last figure
# drawn once the page has settled, not until the first N plots appeared.
RENDER_MARKS = """
(() => {
  const m = {plots: 0, lastPlot: null, heading: null, table: null, text: null};
  const seen = new WeakSet();
  window.__hk = m;
  new MutationObserver(() => {
    const now = performance.now();
    if (m.text && m.heading === null && [...document.querySelectorAll('h1')].some(h => h.textContent.includes(m.text)))
      m.heading = now;
    if (m.table === null && document.querySelector('.hk table')) m.table = now;
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      if (!seen.has(el) && el.querySelector('.main-svg .trace')) { seen.add(el); m.plots += 1; m.lastPlot = now; }
    }
  }).observe(document, {subtree: true, childList: true});
})();
"""
SETTLE_MS = 1500


def render_seconds(browser, url: str, *, figures: int, text: str) -> float:  # type: ignore[no-untyped-def]
    """Navigation until the heading, the score table and every figure are drawn (fresh browser context).

    With ``figures=0`` (the leaderboard) only ``text`` is waited for.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(RENDER_MARKS.replace("text: null", f"text: {text!r}"))
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.get_by_text(text).first.wait_for(timeout=180_000)
    if not figures:
        elapsed = time.perf_counter() - started
        context.close()
        return elapsed
    page.locator(".hk table").first.wait_for(timeout=180_000)
    page.wait_for_function(
        "([n, settle]) => [...document.querySelectorAll('.js-plotly-plot')].filter("
        "e => e.querySelector('.main-svg .trace')).length >= n && performance.now() - window.__hk.lastPlot > settle",
        arg=[figures, SETTLE_MS], timeout=180_000)
    marks = page.evaluate("window.__hk")
    context.close()
    return max(marks["heading"], marks["table"], marks["lastPlot"]) / 1000


MILESTONES = """
(() => {
  const seen = {};
  const mark = (name) => { if (!(name in seen)) seen[name] = performance.now(); };
  window.__hk_marks = seen;
  new MutationObserver(() => {
    if (document.querySelector('.jupyter-widgets')) mark('first widget');
  }).observe(document, {subtree: true, childList: true});
  document.addEventListener('DOMContentLoaded', () => mark('DOMContentLoaded'));
  window.addEventListener('load', () => mark('load'));
})();
"""
# The profile page with its figures left out (empty blocks in their place): what any way of
# drawing the four figures could save at most.
NO_FIGURES = ("import hubkit.ui.pages.model as _model, ipywidgets as _widgets\n"
              "_model.figure_output = lambda fig: _widgets.HTML('<div class=\"hk-no-figure\"></div>')\n")


def profile_render(browser, url: str, *, figures: int, text: str, cpu: bool) -> dict:  # type: ignore[no-untyped-def]
    """One render: its milestones, the big scripts it loaded, and (``cpu``) JavaScript CPU time by script."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(MILESTONES)
    context.add_init_script(RENDER_MARKS.replace("text: null", f"text: {text!r}"))
    page = context.new_page()
    cdp = context.new_cdp_session(page) if cpu else None
    if cdp is not None:
        cdp.send("Profiler.enable")
        cdp.send("Profiler.start")
    page.goto(url, timeout=180_000)
    page.get_by_text(text).first.wait_for(timeout=180_000)
    page.locator(".hk table").first.wait_for(timeout=180_000)
    page.wait_for_function(
        "([n, settle]) => ([...document.querySelectorAll('.js-plotly-plot')].filter("
        "e => e.querySelector('.main-svg .trace')).length + document.querySelectorAll('.hk-no-figure').length) >= n"
        " && performance.now() - (window.__hk.lastPlot || 0) > settle", arg=[figures, SETTLE_MS], timeout=180_000)
    profile = cdp.send("Profiler.stop")["profile"] if cdp is not None else None
    marks = dict(page.evaluate("window.__hk_marks"))
    hk = page.evaluate("window.__hk")
    marks.update({k: hk[k] for k in ("heading", "table") if hk[k] is not None})
    if hk["lastPlot"] is not None:
        marks["last figure drawn"] = hk["lastPlot"]
    marks["HTML received"] = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
    big = page.evaluate("performance.getEntriesByType('resource').filter(r => r.encodedBodySize > 1e6)"
                        ".map(r => [r.name.split('/').pop().split('?')[0], r.encodedBodySize, r.responseEnd])")
    context.close()
    marks["full render"] = max(marks.get("heading", 0), marks.get("table", 0), marks.get("last figure drawn", 0))
    cpu_ms: dict[str, float] = {}
    if profile is not None:
        by_node = {n["id"]: n for n in profile["nodes"]}
        for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
            frame = by_node[node_id]["callFrame"]
            where = frame["url"].rsplit("/", 1)[-1].split("?")[0] or f"({frame['functionName'] or 'program'})"
            cpu_ms[where] = cpu_ms.get(where, 0.0) + delta / 1000
    return {"marks": {k: v / 1000 for k, v in marks.items()}, "big": big, "cpu_ms": cpu_ms}


def report_profiles(all_runs: dict[str, list[dict]]) -> None:
    """Medians of the unprofiled loads; the CPU split of the profiled one (the profiler slows the page)."""
    runs = {name: [r for r in rs if not r["cpu_ms"]] for name, rs in all_runs.items()}
    print("\n## Profile page (preheated): milestones, median seconds since navigation")
    names = list(runs)
    keys = ["HTML received", "DOMContentLoaded", "load", "first widget", "heading", "table", "last figure drawn",
            "full render"]
    print("| milestone | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for key in keys:
        cells = []
        for name in names:
            values = [r["marks"][key] for r in runs[name] if key in r["marks"]]
            cells.append(f"{statistics.median(values):.2f}" if values else "–")
        print(f"| {key} | " + " | ".join(cells) + " |")
    for name in names:
        print(f"{name}: full render " + ", ".join(f"{r['marks']['full render']:.2f}" for r in runs[name]))
        for r in all_runs[name]:
            if r["cpu_ms"]:
                top = sorted(r["cpu_ms"].items(), key=lambda kv: -kv[1])[:6]
                print("  JavaScript CPU (ms, self time by script, one profiled load): "
                      + ", ".join(f"{k} {v:.0f}" for k, v in top))
        big = runs[name][0]["big"]
        print("  scripts over 1 MB: " + ", ".join(f"{n} {size / 1e6:.1f} MB (loaded at {end / 1000:.2f} s)"
                                               for n, size, end in big))


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
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="only profile N preheated renders of the profile page (no board models)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.profile:
        return profile_main(args.profile)

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


def profile_main(loads: int) -> int:
    """The profile page as shipped and with its figures left out, alternately, on one preheated server."""
    import shutil

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        url = f"sqlite:///{home / 'hubkit.db'}"
        os.environ["HUBKIT_HOME"] = str(home)
        slug = seed(url, models=0)
        apps = Path(tmp) / "apps"
        shutil.copytree(REPO / "voila_apps", apps)
        notebook = json.loads((apps / "model.ipynb").read_text())
        notebook["cells"][0]["source"] = NO_FIGURES + "".join(notebook["cells"][0]["source"])
        (apps / "model_no_figures.ipynb").write_text(json.dumps(notebook))
        env = {**os.environ, "HUBKIT_HOME": str(home), "HUBKIT_DB_URL": url, "HUBKIT_PUBLIC_PAGES": "1"}
        server, base = start_voila(env, preheat=True, log=Path(tmp) / "preheated.log", apps=apps)
        variants = {"as shipped": "model", "figures left out": "model_no_figures"}
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                time.sleep(25)  # both pools fill
                for i in range(loads + 1):  # the last round is profiled (the profiler slows the page)
                    for name, nb in variants.items():
                        runs[name].append(profile_render(browser, f"{base}/voila/render/{nb}.ipynb?model={slug}",
                                                         figures=4, text="Bench profile", cpu=i == loads))
                        time.sleep(12)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=60)
    report_profiles(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
