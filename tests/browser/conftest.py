"""A real Voilà server over a seeded hub, and Debian's Chromium driven by Playwright.

One server per test module: a fresh HUBKIT_HOME (SQLite, archive, stand-ins
linked from the test cache), the hand-built world of ``tests.hub.world`` plus
one model really trained on a stand-in (so the demo and forks have an
adapter). The apps act for ``carol`` (``HUBKIT_APP_USER``). Screenshots go to
``test-artifacts/screenshots/``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER = "carol"


@dataclass(frozen=True)
class Hub:
    url: str
    home: Path
    database_url: str
    trained_slug: str
    world: object

    def app(self, name: str, query: str = "") -> str:
        return f"{self.url}/voila/render/{name}.ipynb" + (f"?{query}" if query else "")

    def store(self):  # type: ignore[no-untyped-def]
        from hubkit.store import LocalStore

        return LocalStore(self.database_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(home: Path) -> tuple[str, object, str]:
    """Seed through the store (and one real training run); returns (db url, world, trained slug)."""
    from hubkit.catalog import base_model_records
    from hubkit.config import load_settings
    from hubkit.db import upgrade
    from hubkit.store import LocalStore
    from hubkit.train import run, spec_from_preset
    from tests.fixtures.db import seed_minimal
    from tests.hub.world import build_world

    settings = load_settings(home=home)
    upgrade(settings.database_url)
    store = LocalStore(settings.database_url)
    seed_minimal(store)
    store.ensure_user(USER)
    for row in base_model_records():
        store.upsert_base_model(**row)
    world = build_world(store)
    spec = spec_from_preset("quick", base_model="llama3-standin", domain="math",
                            dataset={"example": "math", "example_rows": 40, "format": "text"},
                            visibility="public", description="Trained on 40 generated sums.")
    spec.name = "Sum helper"  # a keyword ``name`` would collide with the preset's name
    result = run(spec, store=store, owner="alice")
    assert result.outcome == "success", result.message
    return settings.database_url, world, result.slug


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, standins_home: Path) -> Iterator[Hub]:
    home = tmp_path_factory.mktemp("apps") / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "standins").symlink_to(standins_home / "models" / "standins", target_is_directory=True)
    old = os.environ.get("HUBKIT_HOME")
    os.environ["HUBKIT_HOME"] = str(home)
    try:
        database_url, world, trained = seed(home)
    finally:
        if old is None:
            os.environ.pop("HUBKIT_HOME", None)
        else:
            os.environ["HUBKIT_HOME"] = old
    port = free_port()
    env = {**os.environ, "HUBKIT_HOME": str(home), "HUBKIT_APP_USER": USER, "HUBKIT_EVAL_LIMIT": "4",
           "HUBKIT_LAB_ROOT": str(home / "lab"),
           "OMP_NUM_THREADS": "1", "HUBKIT_DB_URL": database_url}
    env.pop("HUBKIT_PUBLIC_PAGES", None)
    log = open(home / "voila.log", "w")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "voila"), "voila_apps", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--Voila.config_file_paths=voila_apps"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    # the platform's evaluation worker, as the hub runs it beside the apps
    worker = subprocess.Popen([sys.executable, "-m", "hubkit.cli", "serve", "eval-worker"], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Voilà did not start:\n" + (home / "voila.log").read_text()[-3000:])
            time.sleep(0.5)
        yield Hub(url=url, home=home, database_url=database_url, trained_slug=trained, world=world)
    finally:
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    tab.dialogs = []  # any alert() a page manages to run lands here
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    yield tab
    context.close()


def open_app(page, url: str, *, text: str, timeout_s: float = 90) -> None:  # type: ignore[no-untyped-def]
    """Open a Voilà page and wait until ``text`` is on it (kernels may still be warming up)."""
    page.goto(url, timeout=timeout_s * 1000)
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole page (Voilà scrolls inside its own panel, so the viewport is grown to fit)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": max(800, min(int(height) + 40, 12000))})
    page.wait_for_timeout(300)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})
    _trim_blank_bottom(path)
    return path


def _trim_blank_bottom(path: Path) -> None:
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        grey = np.asarray(image.convert("L"))
        inked = np.where(grey.min(axis=1) < 245)[0]
        bottom = min(image.height, int(inked.max()) + 40) if inked.size else image.height
        trimmed = image.crop((0, 0, image.width, bottom))
    trimmed.save(path)
