"""Publishing, feedback and fork plans: what a page does on a person's behalf.

Every function names who acts; a visitor without a login cannot write, and the
store decides ownership. A fork is trained by the builder from a
:class:`ForkPlan`; its parent is the model the person opened, passed to the
training run's fork path, never typed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubkit.errors import PermissionDenied
from hubkit.hub.profile import ModelRef
from hubkit.store import Store
from hubkit.store.records import FeedbackRecord, RunRecord

VISIBILITY_WORDS = {
    "public": "Everyone can find it on the hub.",
    "unlisted": "Anyone with the link can open it; it is not listed.",
    "private": "Only you can see it.",
}


def _signed_in(user: str | None, doing: str) -> str:
    if not user:
        raise PermissionDenied(f"Sign in to {doing}.")
    return user


def set_visibility(*, store: Store, model: int | str, user: str | None, visibility: str) -> RunRecord:
    """Change who can see a model (only its owner may)."""
    actor = _signed_in(user, "change who can see a model")
    run = store.get_run(model, viewer=actor)
    return store.set_visibility(run.id, visibility, actor=actor)


def publish(*, store: Store, model: int | str, user: str | None) -> RunRecord:
    """Make a model public: listed on the hub and ranked on the leaderboards."""
    return set_visibility(store=store, model=model, user=user, visibility="public")


def give_feedback(*, store: Store, model: int | str, user: str | None, thumbs_up: bool,
                  comment: str | None = None) -> FeedbackRecord:
    """Thumbs up or down with an optional comment; a second vote replaces the first."""
    actor = _signed_in(user, "give feedback")
    run = store.get_run(model, viewer=actor)
    text = (comment or "").strip() or None
    return store.record_feedback(run.id, user=actor, thumbs_up=bool(thumbs_up), comment=text)


@dataclass(frozen=True)
class ForkPlan:
    """What the builder is prefilled with when a person forks a model."""

    parent: ModelRef
    base_model: str
    domain: str
    dataset_id: int | None
    settings: dict[str, Any] = field(default_factory=dict)


def fork_plan(*, store: Store, model: int | str, viewer: str) -> ForkPlan:
    """The parent's base, goal and settings, for the builder to start from."""
    run = store.get_run(model, viewer=viewer)
    return ForkPlan(parent=ModelRef.of(run), base_model=run.base_model_key or "", domain=run.domain,
                    dataset_id=run.dataset_id, settings=dict(run.config))
