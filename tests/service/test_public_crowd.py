"""Public pages hold a crowd: a real public-pages server (Voilà, preheated pool, kernel cap, idle culler).

200 visitors one after the other, then 20 at once. Each visit is a full page
render: the page's notebook runs in a kernel of the visit's own and the HTML is
streamed until Voilà's last cell. Most visitors leave the way a browser tab does
(the page's goodbye to ``voila/api/shutdown/<kernel>``, with its ``_xsrf``
cookie); the last few of the 200 and every tenth of the 20 leave silently, as a
crawler does, and their kernels are left to the idle culler. Live kernels stay
within pool plus cap, every visit renders or gets the busy page, and once the silent visitors' kernels are culled the
server's memory (its process tree) is back within 10% of where it started, and
Voilà's request info for the visits that ended is let go. A visitor who knows
another visitor's kernel id can neither read, shut down nor connect to that kernel.

The page is a one-cell notebook so that 220 kernel starts fit in minutes; the
real profile page under the same crowd is bench/bench_public_pages.py.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from hubkit.errors import ConfigError
from hubkit.service.processes import tree_usage
from hubkit.service.public_pages import BUSY_STATUS, PublicPages
from hubkit.service.server import free_port

REPO = Path(__file__).resolve().parents[2]
POOL, CAP, IDLE_S = 1, 4, 15
BASE = "/services/public/"  # where the hub serves them
MARK = "rendered for this visit by kernel"
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">\s*(\{.*?\})\s*</script>', re.DOTALL)


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    peak: int = 0
    watching: bool = True

    def kernels(self) -> int:
        return tree_usage(self.process.pid).kernels

    def rss(self) -> int:
        return tree_usage(self.process.pid).rss_bytes

    def quiet(self) -> bool:
        """No kernel is still running its first cells (the tree used under 0.1 s of CPU in a second)."""
        before = tree_usage(self.process.pid).cpu_s
        time.sleep(1)
        return tree_usage(self.process.pid).cpu_s - before < 0.1

    def watch(self) -> None:
        while self.watching:
            self.peak = max(self.peak, self.kernels())
            time.sleep(0.05)


def _wait_for(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("crowd")
    pages = root / "pages"
    pages.mkdir()
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"import os\nprint('{MARK}', os.getpid())")])
    page.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(page, pages / "page.ipynb")
    env = {**os.environ, "HUBKIT_HOME": str(root / "home"), "HUBKIT_PUBLIC_PAGES": "1", "OMP_NUM_THREADS": "1",
           "HUBKIT_PUBLIC_KERNEL_CAP": str(CAP), "HUBKIT_PUBLIC_KERNEL_IDLE_S": str(IDLE_S)}
    port = free_port()
    log = root / "pages.log"
    # as the hub starts the public pages (hub_config.services), with the apps' voila.json
    process = subprocess.Popen(
        [sys.executable, "-m", "hubkit.service.public_pages", str(pages), "--no-browser", f"--port={port}",
         f"--base_url={BASE}",
         "--Voila.ip=127.0.0.1", f"--Voila.config_file_paths={REPO / 'voila_apps'}",
         f"--VoilaConfiguration.default_pool_size={POOL}", "--VoilaKernelManager.fill_delay=0",
         "--Voila.log_level=DEBUG"],  # DEBUG: how much request info Voilà holds, at each visit
        cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    running = Server(url=f"http://127.0.0.1:{port}{BASE.rstrip('/')}", process=process, log=log)
    try:
        _wait_for(lambda: "is filled" in log.read_text() or process.poll() is not None, 120, "the pool")
        assert process.poll() is None, log.read_text()[-3000:]
        yield running
    finally:
        running.watching = False
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def visit(server: Server, *, goodbye: bool) -> str:
    """One visitor: the whole page, then (like a closing tab) the goodbye. Returns 'rendered' or 'busy'."""
    with httpx.Client(timeout=180) as client:
        page = client.get(f"{server.url}/voila/render/page.ipynb")
        assert "Traceback" not in page.text
        if page.status_code == BUSY_STATUS:
            assert page.headers["Retry-After"].isdigit()
            assert "Busy, try again in a moment" in page.text and page.headers["content-type"].startswith("text/html")
            return "busy"
        assert page.status_code == 200, page.text[:500]
        # the notebook ran for this visit (its output is in the page) and the page was streamed to its end
        assert MARK in page.text and "window.voila_finish()" in page.text
        if goodbye:
            kernel = json.loads(CONFIG.search(page.text).group(1))["kernelId"]
            # the page's cookie stays under the pages' path, apart from the hub's own _xsrf under /hub/
            (xsrf,) = [c for c in client.cookies.jar if c.name == "_xsrf"]
            assert xsrf.path == BASE
            bye = client.post(f"{server.url}/voila/api/shutdown/{kernel}", data={"_xsrf": xsrf.value})
            assert bye.status_code == 204, bye.text
        return "rendered"


@pytest.mark.slow
def test_a_crowd_gets_pages_or_the_busy_page_and_leaves_no_kernels_behind(server: Server) -> None:
    _wait_for(lambda: server.kernels() == POOL and server.quiet(), 60, "the pool alone, preheated")
    start_rss = server.rss()
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()

    # one at a time, everyone says goodbye but the last CAP - 1 visitors, who leave their kernels to the
    # idle culler: how many render must not depend on how fast the visits come
    one_by_one = [visit(server, goodbye=i < 200 - (CAP - 1)) for i in range(200)]
    with ThreadPoolExecutor(max_workers=20) as crowd:
        at_once = list(crowd.map(lambda i: visit(server, goodbye=i % 10 != 9), range(20)))
    after = server.kernels()
    server.watching = False
    watcher.join()

    assert set(one_by_one) | set(at_once) <= {"rendered", "busy"}
    # one at a time, a visitor who said goodbye frees its kernel, so the cap is never reached
    assert one_by_one.count("rendered") >= 180, one_by_one
    assert "busy" in at_once and "rendered" in at_once, at_once  # 20 at once is past the cap of 4
    assert after <= POOL + CAP, after
    # while the crowd comes and goes, a leaving visitor's kernel process can take a moment to exit
    # after the pool has already started its replacement: one such process at most
    assert server.peak <= POOL + CAP + 1, server.peak
    # the silent visitors' kernels are culled once idle; the pool is refilled
    _wait_for(lambda: server.kernels() == POOL and server.quiet(), IDLE_S + 60, "the idle kernels to be culled")
    end_rss = server.rss()
    assert abs(end_rss - start_rss) <= 0.10 * start_rss, (start_rss, end_rss)
    assert "due to" in server.log.read_text() and "seconds of inactivity" in server.log.read_text()
    # the page never reads its query string, so plain Voilà would hold one visit's request info per visit
    held = [int(n) for n in re.findall(r"Request info held for (\d+) kernels", server.log.read_text())]
    assert len(held) >= 220 and max(held) <= CAP, held


def _render(server: Server, client: httpx.Client) -> str:
    page = client.get(f"{server.url}/voila/render/page.ipynb")
    assert page.status_code == 200, page.status_code
    return json.loads(CONFIG.search(page.text).group(1))["kernelId"]


@contextmanager
def _pages(server: Server) -> Iterator[Callable[[str, httpx.Client], int]]:
    """Open a kernel's channels websocket as a client (with its cookies) and hold it open, as a page in a
    browser tab does (so the idle culler leaves the kernel alone): 101, or the refusal's status."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sockets = []

    def open_page(kernel: str, client: httpx.Client) -> int:
        cookies = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        url = f"{server.url.replace('http', 'ws', 1)}/api/kernels/{kernel}/channels?session_id={len(sockets)}"

        async def connect() -> int:
            try:
                sockets.append(await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies})))
            except HTTPClientError as refused:
                return refused.code
            return 101

        return asyncio.run_coroutine_threadsafe(connect(), loop).result(timeout=60)

    try:
        yield open_page
    finally:
        for socket in sockets:
            loop.call_soon_threadsafe(socket.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@pytest.mark.slow
def test_a_visitor_reaches_no_kernel_but_their_own(server: Server) -> None:
    _wait_for(lambda: server.kernels() == POOL, IDLE_S + 60, "the pool alone")
    visitors = [httpx.Client(timeout=180) for _ in range(CAP - 1)]
    attacker = httpx.Client(timeout=180)
    try:
        with _pages(server) as open_page:
            # each page connects to its own kernel as soon as it is drawn, the widgets' way; the attacker
            # visits too, so they have a page, cookies and _xsrf of their own
            kernels = []
            for client in [*visitors, attacker]:
                kernel = _render(server, client)
                assert open_page(kernel, client) == 101
                kernels.append(kernel)
            *kernels, own = kernels
            xsrf = {"X-XSRFToken": attacker.cookies.get("_xsrf", path=BASE) or ""}
            assert attacker.get(f"{server.url}/api/kernels", headers=xsrf).status_code == 404  # no listing
            for kernel in kernels:  # every other visitor's kernel id, as if leaked
                api = f"{server.url}/api/kernels/{kernel}"
                assert attacker.get(api).status_code == 403
                assert attacker.delete(api, headers=xsrf).status_code == 403
                assert attacker.post(f"{api}/interrupt", headers=xsrf).status_code == 404
                assert attacker.post(f"{api}/restart", headers=xsrf).status_code == 404
                bye = attacker.post(f"{server.url}/voila/api/shutdown/{kernel}", data={"_xsrf": xsrf["X-XSRFToken"]})
                assert bye.status_code == 403
                assert open_page(kernel, attacker) == 403
            # a forged cookie for a victim's kernel is not the server's signature
            attacker.cookies.set(f"hubkit-visit-{kernels[0]}", kernels[0], path=BASE)
            assert attacker.get(f"{server.url}/api/kernels/{kernels[0]}").status_code == 403
            # every kernel still serves its own visitor: nothing was shut down
            for client, kernel in [*zip(visitors, kernels), (attacker, own)]:
                assert client.get(f"{server.url}/api/kernels/{kernel}").status_code == 200
            for client, kernel in [*zip(visitors, kernels), (attacker, own)]:
                xsrf_value = client.cookies.get("_xsrf", path=BASE)
                bye = client.post(f"{server.url}/voila/api/shutdown/{kernel}", data={"_xsrf": xsrf_value})
                assert bye.status_code == 204
                assert f"hubkit-visit-{kernel}" not in [c.name for c in client.cookies.jar]  # let go with the kernel
    finally:
        for client in [*visitors, attacker]:
            client.close()
    _wait_for(lambda: server.kernels() == POOL, 60, "the visitors' kernels to be shut down")


def _message(msg_type: str, content: dict) -> str:
    """A client's shell message in the kernel websocket's JSON form."""
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": uuid.uuid4().hex, "username": "visitor",
              "date": "2026-01-01T00:00:00Z", "version": "5.3"}
    return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                       "channel": "shell"})


def test_code_sent_down_a_visitors_own_kernel_socket_is_never_run(server: Server, tmp_path: Path) -> None:
    """A visitor may talk to their own kernel only as the page's widgets do; code smuggled in as a message
    is dropped, while the widgets' messages still get answers on the same socket."""
    planted = tmp_path / "planted"
    with httpx.Client(timeout=180) as client:
        kernel = _render(server, client)
        cookies = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        url = f"{server.url.replace('http', 'ws', 1)}/api/kernels/{kernel}/channels?session_id=smuggler"

        async def talk() -> list[str]:
            socket = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies}))
            try:
                for code in (f"open({str(planted)!r}, 'w').write('ran')", "import os; os.system('true')"):
                    await socket.write_message(_message("execute_request", {
                        "code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}))
                await socket.write_message(_message("kernel_info_request", {}))
                seen: list[str] = []
                while "kernel_info_reply" not in seen:
                    raw = await asyncio.wait_for(socket.read_message(), timeout=60)
                    assert raw is not None, "the kernel socket closed"
                    seen.append(json.loads(raw)["header"]["msg_type"])
                return seen
            finally:
                socket.close()

        seen = asyncio.run(talk())
        (xsrf,) = [c.value for c in client.cookies.jar if c.name == "_xsrf"]
        assert client.post(f"{server.url}/voila/api/shutdown/{kernel}", data={"_xsrf": xsrf}).status_code == 204
    # the kernel answered the widgets' kind of message after the two code messages, so they were read first
    assert "execute_reply" not in seen and "execute_input" not in seen, seen
    assert not planted.exists()


@pytest.mark.parametrize("name", ["HUBKIT_PUBLIC_KERNEL_CAP", "HUBKIT_PUBLIC_KERNEL_IDLE_S"])
def test_a_cap_or_idle_time_below_one_is_refused_before_the_server_starts(monkeypatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ConfigError, match=name):
        PublicPages().initialize([])
