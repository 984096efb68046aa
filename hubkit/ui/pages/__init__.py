"""One function per Voilà app; each takes the app session and returns the page widget.

The notebooks in ``voila_apps/`` call these and nothing else, so every page can
be built and tested without a browser.
"""
from __future__ import annotations

from hubkit.hub.session import AppSession, open_session
from hubkit.ui.pages.builder import BuilderPage, builder_page
from hubkit.ui.pages.hub import HubPage, hub_page
from hubkit.ui.pages.leaderboards import LeaderboardsPage, leaderboards_page
from hubkit.ui.pages.model import ModelPage, model_page, prepare_model_page
from hubkit.ui.pages.research import (
    GenealogyPage,
    MuseumPage,
    ObservatoryPage,
    genealogy_page,
    museum_page,
    observatory_page,
)
from hubkit.ui.widgets import query_params

__all__ = [
    "AppSession", "BuilderPage", "GenealogyPage", "HubPage", "LeaderboardsPage", "ModelPage", "MuseumPage",
    "ObservatoryPage", "builder_page", "genealogy_page", "hub_page", "leaderboards_page", "model_page",
    "museum_page", "observatory_page", "open_session", "prepare_model_page", "query_params",
]
