"""The local Ray head starts wherever the caller's folder is, however deep (Ray's sockets are not)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit.jobs.rayhead import start_local_head

pytestmark = pytest.mark.slow


def test_a_head_under_a_deep_folder_takes_jobs_and_leaves_no_files(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    deep = tmp_path / ("d" * 60) / ("e" * 60)  # a session's sockets here would pass 107 bytes
    deep.mkdir(parents=True)
    head = start_local_head(temp_dir=deep, cpus=1)
    try:
        session = head.temp_dir
        assert len(str(session / "session_2026-12-04_22-04-03_577827_18588/sockets/dash_MetricsHead")) <= 107
        assert session.resolve() in {link.resolve() for link in deep.glob("attempt-*/ray-session")}
    finally:
        head.stop()
    assert not session.exists()
