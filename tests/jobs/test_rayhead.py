"""The local Ray head's session files sit in a short folder, whatever the caller's folder: Ray's Unix
sockets may not pass 107 bytes, and under pytest's deep temp folder the dashboard's did, so the head ran
without its Jobs API. (The Ray executor tests start the real head under pytest's folder.)"""
from __future__ import annotations

from pathlib import Path

from hubkit.jobs.rayhead import _session_root, head_arguments

SOCKET = "session_2026-12-04_22-04-03_577827_18588/sockets/dash_MetricsHead"  # the longest Ray makes


def test_session_files_go_to_a_short_folder_linked_from_a_deep_one(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    assert len(str(deep / SOCKET)) > 107  # where Ray would fail
    session = _session_root(deep)
    try:
        assert len(str(session / SOCKET)) <= 107
        assert (deep / "ray-session").resolve() == session.resolve()
        args = head_arguments(cpus=1, port=1, dashboard_port=2, client_port=3, temp_dir=session)
        assert f"--temp-dir={session}" in args
    finally:
        session.rmdir()
