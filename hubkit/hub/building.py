"""The guided builder's steps: goal, base model, data, preset, estimate, train, results.

Each step is one function the builder page calls; none of them shows
anything. Training is a notebook job: ``submit_training`` submits
``notebooks/train.ipynb`` through :mod:`hubkit.jobs` (the configured executor,
``local`` by default) and returns a :class:`TrainingJob`, which the page polls:
each :meth:`TrainingJob.poll` reads the job and the run's logged points from
the store and says where things stand. The page only watches: a run that
ends with an adapter is scored on every domain by the platform's evaluation
worker (``hubkit.evaluate.worker``) whether or not the page is still open,
and the page shows that evaluation's progress from the run's events. The executed notebook is archived with
the run; :func:`open_in_lab` puts a copy where JupyterLab can open it.
"""
from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubkit.archive import NOTEBOOKS, Archive, open_archive
from hubkit.errors import Conflict, DataValidationError, HubkitError, NotFound, PermissionDenied
from hubkit.hub.session import AppSession
from hubkit.store import LocalStore
from hubkit.store.records import DatasetRecord

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class Goal:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class BaseChoice:
    key: str
    label: str
    family: str
    parameters: int
    licence: str
    good_at: str
    is_standin: bool
    available: bool  # registered in this hub and its weights are on this machine


@dataclass(frozen=True)
class UploadCheck:
    """A validated upload (``rows`` to preview), or the problems that stop it (``problems``)."""

    filename: str
    data: bytes = field(repr=False)
    rows: list[dict[str, Any]] = field(default_factory=list)
    n_rows: int = 0
    format: str | None = None
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def goals() -> list[Goal]:
    from hubkit.evaluate import DOMAINS

    return [Goal(d.name, d.title, d.description) for d in DOMAINS.values()]


def _weights_here(info: Any) -> bool:
    """A stand-in is built; a real model's files are in the local Hugging Face cache (never fetched)."""
    if info.is_standin:
        return bool(info.built)
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(info.hf_id, "config.json"), str)


def base_choices(*, session: AppSession) -> list[BaseChoice]:
    """Every catalog base model, stand-ins first, marked when this hub cannot train on it."""
    from hubkit.catalog import list_base_models

    registered = {b.key for b in session.store.list_base_models()}
    return [BaseChoice(key=b.key, label=b.label, family=b.family, parameters=b.parameters, licence=b.licence,
                       good_at=b.good_at, is_standin=b.is_standin,
                       available=b.key in registered and _weights_here(b))
            for b in list_base_models()]


def check_upload(*, data: bytes, filename: str) -> UploadCheck:
    """Validate an uploaded file without recording anything."""
    from hubkit.data import prepare_upload

    try:
        prepared = prepare_upload(data=data, filename=filename)
    except DataValidationError as exc:
        problems: Sequence[DataValidationError] = getattr(exc, "problems", None) or [exc]
        total = getattr(exc, "total", len(problems))
        return UploadCheck(filename=filename, data=data, problems=[p.message for p in problems],
                           more_problems=max(0, total - len(problems)))
    except HubkitError as exc:  # an unsafe file name, a file too large, ...
        return UploadCheck(filename=filename, data=data, problems=[exc.message])
    return UploadCheck(filename=filename, data=data, rows=prepared.preview(PREVIEW_ROWS), n_rows=len(prepared),
                       format=prepared.format)


def save_upload(*, session: AppSession, upload: UploadCheck, name: str | None = None,
                archive: Archive | None = None) -> DatasetRecord:
    """Record a valid upload (once per owner and content) so a run can train on it."""
    if not session.user:
        raise PermissionDenied("Sign in to upload data.")
    if not isinstance(session.store, LocalStore):
        # inside a user's server the service validates, archives and records the bytes
        return session.store.upload_dataset(data=upload.data, filename=upload.filename, name=name)  # type: ignore[attr-defined]
    from hubkit.data import prepare_upload

    prepared = prepare_upload(data=upload.data, filename=upload.filename)
    fields = prepared.record_fields()
    fields["archive_hash"] = (archive or open_archive()).put_bytes(upload.data)
    if name:
        fields["name"] = name
    return session.store.register_dataset(owner=session.user, **fields)


TRAIN_NOTEBOOK = "train"
# Where a run's executed notebook is copied so JupyterLab can open it (the server's root, ``~`` on the hub)
LAB_ROOT_ENV = "HUBKIT_LAB_ROOT"
LAB_URL_ENV = "HUBKIT_LAB_URL"
LAB_URL = "/hub/user-redirect/lab/tree"
LAB_FOLDER = "hubkit-runs"
WAITING_FOR_SCORES = "Training finished. The new model is waiting for its turn to be checked on every domain."
STOP_WAIT_S = 90.0  # after Stop, how long the page waits for the run to save what it learnt
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass(frozen=True)
class JobProgress:
    """One look at a builder job: what the page shows now.

    ``stage`` is ``queued`` → ``training`` → ``evaluating`` → ``done``, or
    ``stopped`` / ``failed``; ``final`` once nothing will change any more.
    ``points`` are every loss point the run has logged so far (from the store).
    """

    stage: str
    sentence: str
    job_id: int
    run_id: int | None = None
    slug: str | None = None
    step: int | None = None
    total_steps: int | None = None
    loss: float | str | None = None
    points: tuple[dict[str, Any], ...] = ()
    final: bool = False
    ok: bool = False
    error: str | None = None

    @property
    def fraction(self) -> float | None:
        if self.stage == "done":
            return 1.0
        if self.step is None or not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)


def _loss_words(loss: float | str | None) -> str:
    """``: loss 1.234``; the store gives a non-finite loss as text ("nan", "inf")."""
    if loss is None:
        return ""
    return f": loss {loss:.3f}" if isinstance(loss, float | int) and math.isfinite(loss) else f": loss {loss}"


class TrainingJob:
    """A training job submitted by the builder, followed by polling the store.

    ``poll()`` is cheap (a few small queries) and safe to call from a timer
    thread; after training it follows the platform's evaluation of the run
    (``evaluate=False`` stops following at the end of training). ``stop()``
    cancels the training job: training stops at its next step and the run
    ends ``partial`` with what it learnt (the platform still scores it).
    """

    def __init__(self, *, session: AppSession, job_id: int, evaluate: bool = True,
                 expected_steps: int | None = None) -> None:
        self.session = session
        self.job_id = job_id
        self.evaluate = evaluate
        self.expected_steps = expected_steps
        self.stop_requested = False
        self._stopped_at: float | None = None
        self._lock = threading.RLock()
        self._last: JobProgress | None = None
        self._points: tuple[dict[str, Any], ...] = ()

    @property
    def last(self) -> JobProgress | None:
        return self._last

    def poll(self) -> JobProgress:
        with self._lock:
            if self._last is not None and self._last.final:
                return self._last
            self._last = self._look()
            return self._last

    def _look(self) -> JobProgress:
        from hubkit import jobs

        store = self.session.store
        if self._last is not None and self._last.stage == "evaluating":
            return self._evaluating(store.list_events(self._last.run_id))
        st = jobs.status(self.job_id, store=store)
        run_id = st.run_id
        if run_id is not None and (st.step is None or not self._points or
                                   self._points[-1].get("step") != st.step or st.final):
            self._points = tuple(store.loss_points(run_id))
        total = st.total_steps or self.expected_steps
        base = {"job_id": self.job_id, "run_id": run_id, "step": st.step, "total_steps": total, "loss": st.loss,
                "points": self._points}
        if st.state == "queued":
            return JobProgress("queued", f"Waiting for a free place to train (job {self.job_id}).", **base)
        if st.state == "running":
            if run_id is None:
                return JobProgress("queued", "Starting the training notebook.", **base)
            if st.step is None:
                return JobProgress("training", "Loading the model and the data.", **base)
            of = f" of {total}" if total else ""
            return JobProgress("training", f"Step {st.step}{of}{_loss_words(st.loss)}", **base)
        # the training job has ended: what became of the run?
        run = store.get_run(run_id, viewer=self.session.viewer) if run_id is not None else None
        base["slug"] = run.slug if run is not None else None
        if st.state == "cancelled" or (run is not None and run.training_outcome is not None
                                       and run.training_outcome.value == "partial"):
            waited = time.monotonic() - self._stopped_at if self._stopped_at is not None else 0.0
            if run is not None and run.status.value != "finished" and waited < STOP_WAIT_S:
                return JobProgress("stopped", "Stopping: saving what was learnt so far.", **base)
            said = run.failure_message if run is not None and run.failure_message else "Training was stopped."
            return JobProgress("stopped", said, final=True, **base)
        if st.state != "succeeded" or run is None or run.training_outcome is None or \
                run.training_outcome.value != "success":
            said = (run.failure_message if run is not None and run.failure_message else None) or st.error or \
                "The training job ended without a model."
            return JobProgress("failed", said, final=True, error=said, **base)
        if not self.evaluate or self.stop_requested or not run.artifacts.get("adapter"):
            return JobProgress("done", "Training finished.", final=True, ok=True, **base)
        self._last = JobProgress("evaluating", WAITING_FOR_SCORES, **base)
        return self._evaluating(store.list_events(run.id))

    def _evaluating(self, events: Sequence[Any]) -> JobProgress:
        """Where the platform's evaluation of the run stands, from the run's latest evaluation event."""
        assert self._last is not None
        base = {k: getattr(self._last, k) for k in ("job_id", "run_id", "slug", "step", "total_steps", "loss")}
        base["points"] = self._points
        for event in reversed(events):
            if event.kind == "evaluation_finished":
                return JobProgress("done", "Training finished and the new model was checked on every domain.",
                                   final=True, ok=True, **base)
            if event.kind == "evaluation_failed" and event.payload.get("final"):
                why = str(event.payload.get("message") or "the evaluation failed")
                return JobProgress("done", f"Training finished, but checking the new model did not: {why}",
                                   final=True, ok=True, error=why, **base)
            if event.kind == "evaluation_started":
                return JobProgress("evaluating", "Training finished. Checking the new model on every domain.",
                                   **base)
        return JobProgress("evaluating", WAITING_FOR_SCORES, **base)

    def stop(self, *, grace_s: float = 15.0) -> None:
        """Cancel the training job (blocks up to ``grace_s``; call it off the page's thread)."""
        from hubkit import jobs

        self.stop_requested = True
        self._stopped_at = time.monotonic()
        try:
            jobs.cancel(self.job_id, grace_s=grace_s, store=self.session.store)
        except Conflict:
            pass  # it had already ended


def train_parameters(spec: Any, *, parent_model_id: int | None = None,
                     advice: dict[str, Any] | None = None) -> dict[str, Any]:
    """The training notebook's parameters for a checked ``TrainSpec``: the whole spec, the parent of a fork,
    and the advisor's prediction shown before launch (kept with the run)."""
    params: dict[str, Any] = {"spec": spec.model_dump(mode="json", exclude_none=True),
                              "parent_model_id": parent_model_id}
    if advice:
        params["advice"] = advice
    return params


def expected_steps(spec: Any, *, store: Any) -> int | None:
    """How many steps training will take (for the progress bar), when the pre-flight check can tell."""
    if getattr(spec, "max_steps", None):
        return int(spec.max_steps)
    try:
        from hubkit.train import preflight

        return int(preflight(spec, store=store, measure=False).total_steps)
    except HubkitError:
        return None


def default_resources() -> dict[str, int]:
    """One CPU, and one GPU where the executor hands GPUs out (``HUBKIT_GPU_SLOTS``)."""
    from hubkit.config import load_settings

    return {"cpus": 1, "gpus": 1 if load_settings().gpu_slots.strip() else 0}


def submit_training(*, session: AppSession, spec: Any, parent_model_id: int | None = None,
                    evaluate: bool = True, resources: dict[str, Any] | None = None,
                    advice: dict[str, Any] | None = None) -> TrainingJob:
    """Submit ``notebooks/train.ipynb`` for ``spec`` (a ``TrainSpec``) as the session's user.

    A fork passes ``parent_model_id``: the notebook trains from the parent's
    adapter and records the lineage. Parameters are checked before anything is
    queued (a ``ValidationError`` in plain words). ``evaluate`` follows the
    platform's evaluation after training (it happens either way). ``advice`` is the advisor's
    payload the person saw (``hub.advice.LaunchAdvice.payload()``); the notebook keeps it with the run.
    """
    if not session.user:
        raise PermissionDenied("Sign in to train a model.")
    from hubkit import jobs

    job = jobs.submit(notebook=TRAIN_NOTEBOOK,
                      parameters=train_parameters(spec, parent_model_id=parent_model_id, advice=advice),
                      owner=session.user, resources=resources or default_resources(), store=session.store)
    return TrainingJob(session=session, job_id=job.id, evaluate=evaluate,
                       expected_steps=expected_steps(spec, store=session.store))


def lab_root() -> Path:
    return Path(os.environ.get(LAB_ROOT_ENV) or Path.home())


def open_in_lab(*, session: AppSession, run: int | str, archive: Archive | None = None) -> str:
    """Copy run ``run``'s executed notebook (from the archive, hash checked) into the JupyterLab
    root and return the link that opens it. ``NotFound`` when the run has no notebook."""
    record = session.store.get_run(run, viewer=session.viewer)
    digest = record.artifacts.get("notebook")
    if not digest:
        raise NotFound(f"The run {record.slug} has no executed notebook.")
    if not _SLUG.match(record.slug):
        raise NotFound(f"The run {record.slug!r} has no notebook file name.")
    dest = lab_root() / LAB_FOLDER / f"{record.slug}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes((archive or open_archive(namespace=NOTEBOOKS)).get_bytes(str(digest)))
    return f"{os.environ.get(LAB_URL_ENV) or LAB_URL}/{LAB_FOLDER}/{record.slug}.ipynb"
