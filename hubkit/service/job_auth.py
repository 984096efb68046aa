"""Job tokens at the service's door: a job's kernel acts as the job's owner, nothing more.

Wraps whatever authenticator the service uses (the hub, or the demo's token
table): a ``hkjob-`` token is checked against the job's kept hash and the
job's state (queued or running, see ``hubkit.jobs.tokens.is_live``), and
answers as the job's owner with the owner's recorded role, bound to that one
job (``Identity.job``); every other token goes to the wrapped authenticator.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from hubkit.config import Settings
from hubkit.errors import NotFound
from hubkit.jobs import tokens
from hubkit.service.auth import Authenticator, Identity
from hubkit.store import Store


class JobTokenAuthenticator(Authenticator):
    def __init__(self, inner: Authenticator, *, settings: Settings, store: Store) -> None:
        self.inner = inner
        self.settings = settings
        self.store = store

    async def identify(self, token: str) -> Identity | None:
        if not tokens.looks_like_job_token(token):
            return await self.inner.identify(token)
        return await run_in_threadpool(self._job_owner, token)

    def _job_owner(self, token: str) -> Identity | None:
        grant = tokens.check(self.settings, token)
        if grant is None:
            return None
        try:
            job = self.store.get_job(grant.job_id)
            if not tokens.is_live(grant, job) or not job.owner:
                return None
            user = self.store.get_user(job.owner)
        except NotFound:
            return None
        return Identity(kind="user", name=user.username, role=user.role.value, job=job.id)
