"""Use cases behind the hub's pages: browse, profiles, leaderboards, sharing, demos.

Every function is keyword-only over a :class:`~hubkit.store.Store` and returns
typed results; the Voilà pages render them and never query the store
themselves. ``open_session()`` decides, once, which store an app uses and whom
it acts for.
"""
from __future__ import annotations

from hubkit.hub.browse import SORTS, BrowsePage, BrowseQuery, ModelSummary, browse
from hubkit.hub.compare import DomainVerdict, Paired, ResultSummary, Verdict, summarise
from hubkit.hub.download import BUNDLES, Bundle, available_downloads, download_bundle
from hubkit.hub.leaderboards import (
    METHODS,
    Board,
    BoardQuery,
    board_domains,
    board_tasks,
    leaderboard,
)
from hubkit.hub.profile import FeedbackSummary, Lineage, ModelRef, Profile, curve_of, model_profile
from hubkit.hub.scores import Headline, ScoreLine, score_lines
from hubkit.hub.session import AppSession, open_session
from hubkit.hub.sharing import (
    VISIBILITY_WORDS,
    ForkPlan,
    fork_plan,
    give_feedback,
    publish,
    set_visibility,
)

__all__ = [
    "BUNDLES", "METHODS", "SORTS", "VISIBILITY_WORDS",
    "AppSession", "Board", "BoardQuery", "BrowsePage", "BrowseQuery", "Bundle", "DomainVerdict",
    "FeedbackSummary", "ForkPlan", "Headline", "Lineage", "ModelRef", "ModelSummary", "Paired", "Profile",
    "ResultSummary", "ScoreLine", "Verdict",
    "available_downloads", "board_domains", "board_tasks", "browse", "curve_of", "download_bundle", "fork_plan", "give_feedback", "leaderboard", "model_profile", "open_session", "publish", "score_lines",
    "set_visibility", "summarise",
]
