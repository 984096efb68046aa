"""A preheated public page that reads two query parameters renders (Voilà hands the kernel its request once).

The leaderboards page reads ``domain`` and ``suite``: each read used to wait for
Voilà's request info again, and the second wait never ended, so the visit hung.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from hubkit.service.server import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_preheated_page_reads_two_parameters_of_its_own_visit(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    code = "from hubkit.ui.widgets import query_params\nprint('asked for', query_params().get('a'), query_params().get('b'))"
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    page.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(page, pages / "page.ipynb")
    port, log = free_port(), tmp_path / "pages.log"
    env = {**os.environ, "HUBKIT_HOME": str(tmp_path / "home"), "HUBKIT_PUBLIC_PAGES": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hubkit.service.public_pages", str(pages), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", f"--Voila.config_file_paths={REPO / 'voila_apps'}", "--VoilaKernelManager.fill_delay=0"],
        cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "is filled" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        for a, b in [("1", "2"), ("x", "y")]:  # the preheated kernel, then the refilled pool's
            with httpx.Client(timeout=60) as client:
                visit = client.get(f"http://127.0.0.1:{port}/voila/render/page.ipynb?a={a}&b={b}")
            assert visit.status_code == 200 and "window.voila_finish()" in visit.text
            assert f"asked for {a} {b}" in visit.text
            time.sleep(3)
    finally:
        process.terminate()
        process.wait(timeout=30)
