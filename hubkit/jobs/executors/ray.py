"""The ``ray`` executor: one Ray job per hubkit job, through the Ray Jobs API.

Ray does the queueing and placement: each job asks for
``entrypoint_num_cpus`` / ``entrypoint_num_gpus`` from its resources and
waits in Ray (our job stays ``queued``) until a node has room. Cancellation
is first recorded in the store, which the worker's heartbeat notices and
passes to the kernel; ``stop_job`` follows if the worker has not ended within
the grace period. Ray is an optional extra.

A Ray cluster is other machines, and everything in a Ray job (the worker and
the notebook's code alike) runs as the same account there: the runtime
environment carries the job's token (``hkjob-``, the owner's for this job
only, see ``hubkit.jobs.tokens``), the service's URL and the few settings
below, never the database URL, the archive, a hub or service token or the
cookie secret. The worker records the job through the service with that token.
"""
from __future__ import annotations

import os
import secrets
import shlex
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from hubkit.errors import JobError, MissingExtra
from hubkit.jobs import context, tokens
from hubkit.jobs.executors.base import PASSED_THROUGH, Executor, External
from hubkit.store.records import JobRecord

_ENDED = {"SUCCEEDED", "FAILED", "STOPPED"}
# The settings a Ray job gets: none names a credential, the database or the platform's files.
SHARED_SETTINGS = ("device", "eval_limit", "heartbeat_timeout_s", "ray_train_address", "train_gpus_per_worker")


class RayExecutor(Executor):
    name = "ray"
    poll_interval_s = 0.5
    runs_as_owner = True

    @cached_property
    def client(self) -> Any:
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError as exc:
            raise MissingExtra("Ray", "ray") from exc
        try:
            return JobSubmissionClient(self.settings.ray_address)
        except Exception as exc:
            raise JobError(f"The Ray cluster at {self.settings.ray_address} cannot be reached.",
                           detail=str(exc)) from exc

    def worker_environment(self, job: JobRecord) -> dict[str, str]:
        """The job's token and the service's URL, the shared settings and nothing of the platform's."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        for name in SHARED_SETTINGS:
            value = getattr(self.settings, name)
            env[f"HUBKIT_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        env.update({
            "HUBKIT_SERVICE_URL": self.job_service_url(),
            "JUPYTERHUB_API_TOKEN": tokens.mint(self.settings, job.id, winds_down=True),
            "JUPYTERHUB_USER": job.owner or "",
            "HUBKIT_MODELS_HOME": str(self.settings.models_dir.resolve()),
            context.ENV_AS_OWNER: "1",
        })
        return env

    def _launch(self, job: JobRecord, env: dict[str, str], log_file: Path) -> str:
        resources = job.resources
        gpus = int(resources.get("gpus", 0))
        return self.client.submit_job(
            entrypoint=shlex.join([sys.executable, "-m", "hubkit.jobs.worker", str(job.id)]),
            submission_id=f"hubkit-job-{job.id}-{secrets.token_hex(4)}",
            runtime_env={"env_vars": env},
            entrypoint_num_cpus=float(resources.get("cpus", 1.0)),
            entrypoint_num_gpus=gpus or None,
            metadata={"hubkit_job_id": str(job.id)},
        )

    def _external_state(self, external_id: str) -> External:
        status = str(self.client.get_job_status(external_id).value)
        if status in _ENDED:
            return External.ended
        return External.pending if status == "PENDING" else External.running

    def _stop(self, external_id: str, *, grace_s: float) -> None:
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self._external_state(external_id) is not External.ended:
            time.sleep(self.poll_interval_s)
        if self._external_state(external_id) is not External.ended:
            self.client.stop_job(external_id)

    def _read_logs(self, job: JobRecord) -> str:
        if job.external_id is None:
            return ""
        return str(self.client.get_job_logs(job.external_id))
