"""Tokens never reach a log: query values are redacted, log files are the owner's only."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hubkit.config import load_settings
from hubkit.db import upgrade
from hubkit.service.hub_process import open_private_log
from hubkit.service.server import free_port, redact_query


def test_query_values_are_redacted_and_names_kept():
    assert redact_query("/v1/me?token=abc&x=1") == "/v1/me?token=[redacted]&x=[redacted]"
    assert redact_query("/v1/runs") == "/v1/runs"


def test_the_service_access_log_holds_no_token_and_only_its_owner_reads_it(tmp_path: Path):
    settings = load_settings(home=tmp_path / "home")
    upgrade(settings.database_url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "HUBKIT_"))}
    env.update(HUBKIT_HOME=str(settings.home), HUBKIT_DEMO_TOKENS="good-token=alice:developer",
               HUBKIT_SERVICE_BIND=f"http://127.0.0.1:{port}", PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    log_path = tmp_path / "service.log"
    log_path.write_text("")
    log_path.chmod(0o644)  # an older, world-readable log is tightened when reopened
    with open_private_log(log_path) as log:
        proc = subprocess.Popen([sys.executable, "-m", "hubkit.service"], env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, log_path.read_text()
                time.sleep(0.3)
        assert httpx.get(f"{url}/v1/me?token=SEKRET-ONE").status_code == 401
        assert httpx.get(f"{url}/v1/runs?search=x&access_token=SEKRET-TWO").status_code == 401
        assert httpx.get(f"{url}/v1/me", headers={"Authorization": "token good-token"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log_path.read_text()
    assert "/v1/me?token=[redacted]" in text and "access_token=[redacted]" in text, text
    assert "SEKRET" not in text and "good-token" not in text
    assert log_path.stat().st_mode & 0o777 == 0o600
