"""Leaderboards: one board per domain and task, ranked only within one stamp.

Two scores are comparable only when they were produced under the same
reproducibility stamp (suite, harness and task version, shots, limit,
device, ...), so a board is (suite, domain, task, stamp). The offline
micro-world suite is always run and is the default; the standard suite's
boards exist once some model was scored on the published benchmarks. The most used stamp is the default; the others
are offered, each with how many models it ranks. A board where every model
is within two standard errors of what guessing scores is marked as having no
signal: its order is noise. Boards page through the
store in either order and never load more than the page they show, except
with a training-method filter, which the store cannot apply.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hubkit.evaluate.domains import DOMAINS, chance_level
from hubkit.store import Store
from hubkit.store.records import LeaderboardRow

Order = Literal["best", "worst"]
Method = Literal["any", "base", "fork"]
METHODS: dict[str, str] = {"any": "Any method", "base": "Trained from a base model", "fork": "Forked from another model"}
SCAN = 500  # the store's largest page
SUITE_WORDS: dict[str, str] = {"offline": "Offline micro-world suite",
                               "standard": "Standard benchmarks (GSM8K, HumanEval, MMLU, ARC, WMT, reading)"}
NO_STANDARD_SCORES = ("No standard-suite scores yet: run `hubkit eval fetch-data` on a machine with internet, "
                      "and the next evaluations score the published benchmarks too.")


@dataclass(frozen=True)
class BoardQuery:
    domain: str
    suite: str = "offline"
    task: str | None = None
    stamp_hash: str | None = None
    base_family: str | None = None
    method: Method = "any"
    order: Order = "best"
    page: int = 0
    page_size: int = 25


@dataclass(frozen=True)
class StampChoice:
    stamp_hash: str
    models: int


@dataclass(frozen=True)
class Board:
    query: BoardQuery
    task: str | None
    tasks: list[str]
    stamps: list[StampChoice]
    stamp_hash: str | None
    stamp: dict[str, Any] = field(default_factory=dict)
    rows: list[LeaderboardRow] = field(default_factory=list)
    has_next: bool = False
    total: int = 0  # models ranked under this stamp (before the method filter)
    chance: float | None = None  # what guessing scores on this task (None: no fixed guessing score)
    no_signal: bool = False  # every model ranked is within two standard errors of chance

    @property
    def has_previous(self) -> bool:
        return self.query.page > 0

    @property
    def empty(self) -> bool:
        return not self.rows


def board_domains(*, store: Store) -> list[str]:
    """Domains with at least one baseline or model score, for the board picker."""
    domains: set[str] = set()
    for base in store.list_base_models():
        domains.update(base.benchmark_scores)
    return sorted(domains)


def board_suites(*, store: Store) -> list[str]:
    """The suites with a board to show: the offline suite always, the standard one once a model has a score on it."""
    standard = any(store.leaderboard(domain=d, suite="standard", limit=1) for d in DOMAINS)
    return ["offline", "standard"] if standard else ["offline"]


def _suite_of(entry: dict[str, Any]) -> str:
    """The suite a score's stamp names (a stamp from before stamps named it is offline, the only suite then)."""
    return str((entry.get("stamp") or {}).get("suite") or "offline")


def board_tasks(*, store: Store, domain: str, suite: str = "offline") -> list[str]:
    """The tasks of ``suite`` the base models were scored on in ``domain``, for the task picker."""
    declared = {t.name for t in DOMAINS[domain].tasks(suite)} if domain in DOMAINS else set()
    tasks: set[str] = set()
    for base in store.list_base_models():
        for task, entry in (base.benchmark_scores.get(domain) or {}).items():
            if task in declared or _suite_of(entry) == suite:
                tasks.add(task)
    return sorted(tasks)


def _matches(row: LeaderboardRow, q: BoardQuery) -> bool:
    if q.method == "base":
        return row.parent_model_id is None
    if q.method == "fork":
        return row.parent_model_id is not None
    return True


def _page(store: Store, q: BoardQuery, task: str, digest: str, total: int) -> tuple[list[LeaderboardRow], bool]:
    start, size = q.page * q.page_size, q.page_size
    ascending = q.order == "worst"
    if q.method == "any":
        rows = store.leaderboard(domain=q.domain, task=task, stamp_hash=digest, base_family=q.base_family,
                                 ascending=ascending, limit=size, offset=start)
        if ascending:  # the store numbers positions; the rank is still counted from the best
            rows = [r.model_copy(update={"rank": total - r.rank + 1}) for r in rows]
        return rows, start + size < total
    # The training method is not a store filter: walk the board in the store's largest pages.
    kept: list[LeaderboardRow] = []
    offset = 0
    while len(kept) <= start + size:
        batch = store.leaderboard(domain=q.domain, task=task, stamp_hash=digest, base_family=q.base_family,
                                  ascending=ascending, limit=SCAN, offset=offset)
        for r in batch:
            if _matches(r, q):
                kept.append(r.model_copy(update={"rank": total - r.rank + 1}) if ascending else r)
        if len(batch) < SCAN:
            break
        offset += SCAN
    window = kept[start:start + size + 1]
    return window[:size], len(window) > size


def within_noise_of_chance(row: LeaderboardRow, chance: float) -> bool:
    """Whether a score is within two standard errors of chance (no standard error: equal to it)."""
    return abs(row.value - chance) <= 2 * (row.stderr or 0.0) + 1e-12


def _no_signal(store: Store, q: BoardQuery, task: str, digest: str, chance: float | None) -> bool:
    """Every model on the board within noise of chance; reads pages only until one is not."""
    if chance is None:
        return False
    offset = 0
    while True:
        batch = store.leaderboard(domain=q.domain, task=task, stamp_hash=digest, base_family=q.base_family,
                                  limit=SCAN, offset=offset)
        if not all(within_noise_of_chance(r, chance) for r in batch):
            return False
        if len(batch) < SCAN:
            return offset + len(batch) > 0
        offset += SCAN


def leaderboard(*, store: Store, query: BoardQuery) -> Board:
    """One page of one board (empty when nothing is ranked under the chosen settings)."""
    tasks = board_tasks(store=store, domain=query.domain, suite=query.suite)
    task = query.task
    if task is None:
        first = store.leaderboard(domain=query.domain, suite=query.suite, limit=1)
        task = first[0].task if first else (tasks[0] if tasks else None)
    if task is None:
        return Board(query=query, task=None, tasks=tasks, stamps=[], stamp_hash=None)
    if task not in tasks:
        tasks = sorted({*tasks, task})
    stamps = [StampChoice(h, n) for h, n in
              store.leaderboard_stamps(domain=query.domain, task=task, base_family=query.base_family,
                                       suite=query.suite)]
    digest = query.stamp_hash or (stamps[0].stamp_hash if stamps else None)
    if digest is None or digest not in {s.stamp_hash for s in stamps}:
        # nothing ranked under these settings (e.g. that stamp has no model of the chosen family)
        return Board(query=query, task=task, tasks=tasks, stamps=stamps, stamp_hash=digest)
    total = next((c.models for c in stamps if c.stamp_hash == digest), 0)
    rows, has_next = _page(store, query, task, digest, total)
    stamp: dict[str, Any] = {}
    if rows:
        entry = (store.get_run(rows[0].model_id).benchmark_scores.get(query.domain) or {}).get(task) or {}
        if entry.get("stamp_hash") == digest:
            stamp = dict(entry.get("stamp") or {})
    chance = chance_level(domain=query.domain, task=task)
    return Board(query=query, task=task, tasks=tasks, stamps=stamps, stamp_hash=digest, stamp=stamp,
                 rows=rows, has_next=has_next, total=total, chance=chance,
                 no_signal=_no_signal(store, query, task, digest, chance))
