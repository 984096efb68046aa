"""Use cases behind the hub's pages: browse, profiles, leaderboards, sharing, demos.

Every function is keyword-only over a :class:`~hubkit.store.Store` and returns
typed results; the Voilà pages render them and never query the store
themselves. ``open_session()`` decides, once, which store an app uses and whom
it acts for.
"""
from __future__ import annotations

from hubkit.hub.browse import SORTS, BrowsePage, BrowseQuery, ModelSummary, browse
from hubkit.hub.building import (
    BaseChoice,
    Goal,
    JobProgress,
    TrainingJob,
    UploadCheck,
    base_choices,
    check_upload,
    goals,
    open_in_lab,
    save_upload,
    submit_training,
)
from hubkit.hub.compare import DomainVerdict, Paired, ResultSummary, Verdict, summarise
from hubkit.hub.demo import DemoModel, Sampling, demo_model, stream_generation
from hubkit.hub.download import (
    BUNDLES,
    MergedOffer,
    available_downloads,
    download_url,
    export_link,
    merged_offer,
    ticket_url,
)
from hubkit.hub.leaderboards import (
    METHODS,
    NO_STANDARD_SCORES,
    SUITE_WORDS,
    Board,
    BoardQuery,
    board_domains,
    board_suites,
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
    "BUNDLES",
    "METHODS",
    "NO_STANDARD_SCORES",
    "SORTS",
    "SUITE_WORDS",
    "VISIBILITY_WORDS",
    "AppSession",
    "BaseChoice",
    "Board",
    "BoardQuery",
    "BrowsePage",
    "BrowseQuery",
    "DemoModel",
    "DomainVerdict",
    "FeedbackSummary",
    "ForkPlan",
    "Goal",
    "Headline",
    "JobProgress",
    "Lineage",
    "MergedOffer",
    "ModelRef",
    "ModelSummary",
    "Paired",
    "Profile",
    "ResultSummary",
    "Sampling",
    "ScoreLine",
    "TrainingJob",
    "UploadCheck",
    "Verdict",
    "available_downloads",
    "base_choices",
    "board_domains",
    "board_suites",
    "board_tasks",
    "browse",
    "check_upload",
    "curve_of",
    "demo_model",
    "download_url",
    "export_link",
    "fork_plan",
    "give_feedback",
    "goals",
    "leaderboard",
    "merged_offer",
    "model_profile",
    "open_in_lab",
    "open_session",
    "publish",
    "save_upload",
    "score_lines",
    "set_visibility",
    "stream_generation",
    "submit_training",
    "summarise",
    "ticket_url",
]
