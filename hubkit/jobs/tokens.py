"""Job tokens: the one credential a job's user code holds.

When an executor runs a job's kernel as its owner, the kernel gets a token
that the hubkit service accepts as that owner, for that job only, while the
job is queued or running. The token is ``hkjob-<job id>-<secret>``; only its
sha256 is kept, in the job's private folder, which user code cannot read.
Ending the job ends the token, so a leaked token is worth nothing afterwards.

A token minted with ``winds_down`` (the Ray executor's: there the worker,
which records the job, holds the token too) also outlives a cancellation for
:data:`WIND_DOWN_S`, so the worker can archive what the notebook did and the
run can end ``partial``; the worker's final state spends it at once.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hubkit.config import Settings
from hubkit.jobs.paths import job_dir
from hubkit.store.records import JobRecord

PREFIX = "hkjob-"
_FORM = re.compile(r"^hkjob-([1-9][0-9]{0,9})-([A-Za-z0-9_-]{32,128})$")
_FILE = "token.sha256"
_WINDS_DOWN = "winds-down"
LIVE_STATES = frozenset({"queued", "running"})
WIND_DOWN_S = 120.0


@dataclass(frozen=True)
class Grant:
    """What a valid token was minted for."""

    job_id: int
    winds_down: bool


def mint(settings: Settings, job_id: int, *, winds_down: bool = False) -> str:
    """A fresh token for job ``job_id``; a second call replaces the first (a relaunch)."""
    token = f"{PREFIX}{int(job_id)}-{secrets.token_urlsafe(32)}"
    path = job_dir(settings, job_id) / _FILE
    staging = path.with_suffix(".tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_digest(token) + (f"\n{_WINDS_DOWN}" if winds_down else ""))
    staging.replace(path)
    return token


def check(settings: Settings, token: str) -> Grant | None:
    """What ``token`` was minted for, or None when it is not a job token, does not match or was spent."""
    match = _FORM.match(token)
    if match is None:
        return None
    job_id = int(match.group(1))
    try:
        kept = _file(settings, job_id).read_text(encoding="utf-8").split()
    except OSError:
        return None
    if not kept or not hmac.compare_digest(kept[0], _digest(token)):
        return None
    return Grant(job_id=job_id, winds_down=_WINDS_DOWN in kept[1:])


def is_live(grant: Grant, job: JobRecord, *, now: datetime | None = None) -> bool:
    """Queued or running; or, for a token that winds down, cancelled less than ``WIND_DOWN_S`` ago."""
    if job.id != grant.job_id:
        return False
    if job.state.value in LIVE_STATES:
        return True
    if not (grant.winds_down and job.state.value == "cancelled" and job.finished_at is not None):
        return False
    finished = job.finished_at if job.finished_at.tzinfo else job.finished_at.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - finished < timedelta(seconds=WIND_DOWN_S)


def revoke(settings: Settings, job_id: int) -> None:
    """Spend job ``job_id``'s token (its worker reported the end)."""
    _file(settings, job_id).unlink(missing_ok=True)


def _file(settings: Settings, job_id: int) -> Path:
    return settings.home.resolve() / "jobs" / str(int(job_id)) / _FILE


def looks_like_job_token(token: str) -> bool:
    return token.startswith(PREFIX)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
