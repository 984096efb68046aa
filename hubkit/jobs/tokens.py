"""Job tokens: the one credential a job's user code holds.

When an executor runs a job's kernel as its owner, the kernel gets a token
that the hubkit service accepts as that owner, for that job only, while the
job is queued or running. The token is ``hkjob-<job id>-<secret>``; only its
sha256 is kept, in the job's private folder, which user code cannot read.
Ending the job ends the token, so a leaked token is worth nothing afterwards.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

from hubkit.config import Settings
from hubkit.jobs.paths import job_dir

PREFIX = "hkjob-"
_FORM = re.compile(r"^hkjob-([1-9][0-9]{0,9})-([A-Za-z0-9_-]{32,128})$")
_FILE = "token.sha256"
LIVE_STATES = frozenset({"queued", "running"})


def mint(settings: Settings, job_id: int) -> str:
    """A fresh token for job ``job_id``; a second call replaces the first (a relaunch)."""
    token = f"{PREFIX}{int(job_id)}-{secrets.token_urlsafe(32)}"
    path = job_dir(settings, job_id) / _FILE
    staging = path.with_suffix(".tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_digest(token))
    staging.replace(path)
    return token


def job_of(settings: Settings, token: str) -> int | None:
    """The job a token was minted for, or None when it is not a job token or does not match."""
    match = _FORM.match(token)
    if match is None:
        return None
    job_id = int(match.group(1))
    path = settings.home.resolve() / "jobs" / str(job_id) / _FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return job_id if hmac.compare_digest(kept, _digest(token)) else None


def looks_like_job_token(token: str) -> bool:
    return token.startswith(PREFIX)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
