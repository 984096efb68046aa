"""While the demo seeds its example models, the hub page says how far it has got."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from hubkit.config import Settings
from hubkit.hub import AppSession
from hubkit.seed import STATUS_FILE, seeding_status
from hubkit.ui.pages import hub_page
from tests.ui.helpers import html_of


def _status(settings: Settings, **data) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / STATUS_FILE).write_text(json.dumps(data), encoding="utf-8")


def test_the_hub_page_shows_seeding_in_progress(hub_store, settings: Settings):
    assert "seeding" not in html_of(hub_page(AppSession(store=hub_store)))
    _status(settings, done=3, total=10, finished=False, pid=os.getpid())
    assert "seeding 4 of 10" in html_of(hub_page(AppSession(store=hub_store)))
    _status(settings, done=10, total=10, finished=True, pid=os.getpid())
    assert "seeding" not in html_of(hub_page(AppSession(store=hub_store)))


def test_a_seeding_whose_process_is_gone_is_not_shown(settings: Settings):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    _status(settings, done=2, total=10, finished=False, pid=int(gone.stdout))
    assert seeding_status(settings=settings) is None
