"""The per-board stamp counts (``board_stamps``), kept in step with the evaluations they count.

A board ranks current, scored, platform-run evaluations of models. Recording an
evaluation adds one such score and may supersede one under the same stamp;
both change the counts in the same transaction, with an atomic upsert, so
concurrent writers never lose an increment.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hubkit.db import models as m

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def suite_of(stamp: Mapping[str, Any]) -> str:
    """The suite a stamp names; one from before stamps named their suite is offline's."""
    named = stamp.get("suite")
    return "offline" if named is None else str(named)


def ranked(session: Session, owner_filter: Any, *, task: str, digest: str) -> Counter[str]:
    """How many scores a board ranks among the current evaluations of ``owner_filter`` on ``task`` under
    ``digest``, by domain: what recording a newer one supersedes."""
    E = m.Evaluation
    rows = session.execute(
        select(E.domain, func.count()).where(
            owner_filter, E.task == task, E.stamp_hash == digest, E.is_current.is_(True), E.status == "scored",
            E.executed_by == m.ExecutedBy.platform, E.model_id.is_not(None))
        .group_by(E.domain))
    return Counter({domain: n for domain, n in rows})


def change(session: Session, counts: Counter[str], *, task: str, digest: str, suite: str) -> None:
    """Add ``counts`` (by domain, negative to take away) to the boards' counts of ``digest``."""
    table = m.BoardStamp.__table__
    insert = _INSERT[session.get_bind().dialect.name]
    for domain, n in counts.items():
        if n == 0:
            continue
        stmt = insert(table).values(domain=domain, task=task, stamp_hash=digest, suite=suite, scores=n)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.domain, table.c.task, table.c.stamp_hash],
            set_={"scores": table.c.scores + stmt.excluded.scores}))


def _on_board(domain: str, suite: str | None) -> Any:
    S = m.BoardStamp
    cond = and_(S.domain == domain, S.scores > 0)
    return cond if suite is None else and_(cond, S.suite == suite)


def most_common_task(session: Session, *, domain: str, suite: str | None) -> str | None:
    """The task with the most scores on the domain's board (ties: the first by name)."""
    S = m.BoardStamp
    return session.scalar(select(S.task).where(_on_board(domain, suite)).group_by(S.task)
                          .order_by(func.sum(S.scores).desc(), S.task).limit(1))


def most_common_stamp(session: Session, *, domain: str, task: str, suite: str | None) -> str | None:
    """The stamp with the most scores on the task's board (ties: the first by hash)."""
    S = m.BoardStamp
    return session.scalar(select(S.stamp_hash).where(_on_board(domain, suite), S.task == task)
                          .order_by(S.scores.desc(), S.stamp_hash).limit(1))


def ranks(session: Session, *, domain: str, task: str, digest: str, suite: str) -> bool:
    """Whether the task's board holds scores under ``digest`` in ``suite``."""
    S = m.BoardStamp
    return session.scalar(select(S.scores).where(_on_board(domain, suite), S.task == task,
                                                 S.stamp_hash == digest)) is not None
