"""Everything a model's profile page shows, gathered in one call.

The page never queries the store itself: it renders a :class:`Profile`. What
the viewer may not see (a private ancestor, someone else's private child) is
left out exactly as the store leaves it out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubkit.errors import NotFound
from hubkit.hub.compare import ResultSummary, summarise
from hubkit.hub.download import available_downloads
from hubkit.hub.scores import ScoreLine, score_lines
from hubkit.store import Store
from hubkit.store.records import BaseModelRecord, CapabilityFlagRecord, DatasetRecord, RunRecord

MAX_ANCESTORS = 50  # a deeper chain is cut (and says so) rather than walked forever


@dataclass(frozen=True)
class ModelRef:
    id: int
    slug: str
    name: str
    owner: str | None
    outcome: str | None
    relation: str | None = None

    @classmethod
    def of(cls, run: RunRecord) -> ModelRef:
        return cls(id=run.id, slug=run.slug, name=run.name, owner=run.owner,
                   outcome=run.training_outcome.value if run.training_outcome else None,
                   relation=run.parent_relation)


@dataclass(frozen=True)
class Comment:
    author: str | None
    thumbs_up: bool
    text: str
    created_at: datetime
    mine: bool


@dataclass(frozen=True)
class FeedbackSummary:
    up: int
    down: int
    comments: tuple[Comment, ...]
    mine: bool | None = None  # the viewer's own thumbs (None: no feedback yet)


@dataclass(frozen=True)
class Lineage:
    ancestors: tuple[ModelRef, ...]  # the root first, the direct parent last
    children: tuple[ModelRef, ...]
    hidden_ancestor: bool = False  # the chain continues into a model the viewer cannot see


@dataclass(frozen=True)
class Profile:
    run: RunRecord
    base: BaseModelRecord
    dataset: DatasetRecord | None
    lineage: Lineage
    scores: list[ScoreLine]
    vs_base: ResultSummary
    vs_parent: ResultSummary | None
    curve: list[dict[str, Any]]
    flags: list[CapabilityFlagRecord]
    feedback: FeedbackSummary
    downloads: tuple[str, ...]
    is_owner: bool
    config: dict[str, Any] = field(default_factory=dict)
    prediction: str | None = None
    """How far the real result was from the advisor's prediction at launch (None: nothing was predicted)."""

    @property
    def parent(self) -> ModelRef | None:
        return self.lineage.ancestors[-1] if self.lineage.ancestors else None


def _lineage(store: Store, run: RunRecord, viewer: str) -> tuple[Lineage, RunRecord | None]:
    ancestors: list[ModelRef] = []
    parent_run: RunRecord | None = None
    seen = {run.id}
    current = run
    hidden = False
    while current.parent_model_id is not None and len(ancestors) < MAX_ANCESTORS:
        if current.parent_model_id in seen:
            break
        try:
            current = store.get_run(current.parent_model_id, viewer=viewer)
        except NotFound:
            hidden = True
            break
        seen.add(current.id)
        if parent_run is None:
            parent_run = current
        ancestors.append(ModelRef.of(current))
    children = tuple(ModelRef.of(c) for c in store.children(run.id, viewer=viewer))
    return Lineage(ancestors=tuple(reversed(ancestors)), children=children, hidden_ancestor=hidden), parent_run


def _feedback(store: Store, run: RunRecord, viewer: str) -> FeedbackSummary:
    rows = store.list_feedback(run.id)
    me = None
    if viewer:
        try:
            me = store.get_user(viewer).id
        except NotFound:
            me = None
    mine = next((f.thumbs_up for f in rows if f.user_id == me), None)
    comments = tuple(
        Comment(author=f.username, thumbs_up=f.thumbs_up, text=f.comment, created_at=f.updated_at, mine=f.user_id == me)
        for f in sorted(rows, key=lambda f: f.updated_at, reverse=True) if f.comment
    )
    return FeedbackSummary(up=sum(f.thumbs_up for f in rows), down=sum(not f.thumbs_up for f in rows),
                           comments=comments, mine=mine)


def curve_of(store: Store, run: RunRecord) -> list[dict[str, Any]]:
    """The materialised curve once finished; the live points while running."""
    if run.loss_curve_data is not None:
        return list(run.loss_curve_data)
    return store.loss_points(run.id)


def model_profile(*, store: Store, model: int | str, viewer: str) -> Profile:
    """The profile of ``model`` (id or slug) as ``viewer`` may see it; NotFound otherwise."""
    from hubkit.hub.advice import prediction_check

    run = store.get_run(model, viewer=viewer)
    base = store.get_base_model(run.base_model_id)
    lineage, parent_run = _lineage(store, run, viewer)
    lines = score_lines(run.benchmark_scores, base_scores=base.benchmark_scores,
                        parent_scores=parent_run.benchmark_scores if parent_run else None)
    vs_base = summarise([p for p in (s.paired("base") for s in lines) if p], reference="its base model")
    vs_parent = None
    if parent_run is not None:
        vs_parent = summarise([p for p in (s.paired("parent") for s in lines) if p], reference="its parent")
    dataset = store.get_dataset(run.dataset_id) if run.dataset_id is not None else None
    return Profile(
        run=run, base=base, dataset=dataset, lineage=lineage, scores=lines, vs_base=vs_base,
        vs_parent=vs_parent, curve=curve_of(store, run), flags=store.list_capability_flags(run.id),
        feedback=_feedback(store, run, viewer), downloads=available_downloads(run),
        is_owner=bool(viewer) and run.owner == viewer, config=dict(run.config),
        prediction=prediction_check(store=store, run=run),
    )
