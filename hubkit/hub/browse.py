"""Browsing and searching the hub: filters, sorting, pages.

The store filters (domain, base family, outcome, text), counts and pages by
date, leaving curves and configs out. Sorting by score reads every matching
summary in batches: scores of different domains are different tasks, so "best
score" is most meaningful with a domain chosen.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from hubkit.hub.scores import Headline, headline
from hubkit.store import Store
from hubkit.store.records import RunRecord

Sort = Literal["newest", "oldest", "score"]
SORTS: dict[str, str] = {"newest": "Newest first", "oldest": "Oldest first", "score": "Best score first"}
BATCH = 200


@dataclass(frozen=True)
class BrowseQuery:
    search: str = ""
    domain: str | None = None
    base_family: str | None = None
    outcome: str | None = None
    sort: Sort = "newest"
    page: int = 0
    page_size: int = 20


@dataclass(frozen=True)
class ModelSummary:
    id: int
    slug: str
    name: str
    description: str
    owner: str | None
    domain: str
    base_model_key: str | None
    base_family: str | None
    is_standin: bool
    outcome: str | None
    visibility: str
    parent_model_id: int | None
    created_at: datetime
    score: Headline | None


@dataclass(frozen=True)
class BrowsePage:
    query: BrowseQuery
    items: list[ModelSummary]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    @property
    def has_next(self) -> bool:
        return (self.query.page + 1) * self.query.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.query.page > 0


def _filters(q: BrowseQuery) -> dict[str, str | None]:
    return {"domain": q.domain, "outcome": q.outcome, "search": q.search or None, "base_family": q.base_family}


def _every(store: Store, q: BrowseQuery, viewer: str) -> Iterator[RunRecord]:
    offset = 0
    while True:
        batch = store.list_runs(viewer=viewer, **_filters(q), summary=True, limit=BATCH, offset=offset)
        yield from batch
        if len(batch) < BATCH:
            return
        offset += BATCH


def browse(*, store: Store, viewer: str, query: BrowseQuery = BrowseQuery()) -> BrowsePage:
    """One page of the models ``viewer`` may see, filtered and sorted as asked."""
    bases = {b.id: b for b in store.list_base_models()}

    def summary(run: RunRecord) -> ModelSummary:
        base = bases.get(run.base_model_id)
        return ModelSummary(
            id=run.id, slug=run.slug, name=run.name, description=run.description or "", owner=run.owner,
            domain=run.domain, base_model_key=run.base_model_key, base_family=base.family if base else None,
            is_standin=bool(base and base.is_standin),
            outcome=run.training_outcome.value if run.training_outcome else None,
            visibility=run.visibility.value, parent_model_id=run.parent_model_id, created_at=run.created_at,
            score=headline(run.benchmark_scores, run.domain))

    total = store.count_runs(viewer=viewer, **_filters(query))
    start = query.page * query.page_size
    if query.sort in ("newest", "oldest"):
        runs = store.list_runs(viewer=viewer, **_filters(query), order=query.sort, summary=True,
                               limit=query.page_size, offset=start)
        items = [summary(r) for r in runs]
    else:
        every = sorted((summary(r) for r in _every(store, query, viewer)),
                       key=lambda s: (s.score is None, -(s.score.value if s.score else 0.0), -s.id))
        items = every[start:start + query.page_size]
    return BrowsePage(query=query, items=items, total=total)
