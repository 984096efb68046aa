"""The guided builder's steps: goal, base model, data, preset, estimate, train, results.

Each step is one function the builder page calls; none of them shows
anything. Training runs in a background thread of the kernel and reports
through the ``Progress`` hook (``on_step``/``on_status``); when it ends, the
new model is evaluated on every domain (``hubkit.evaluate.on_run_finished``)
so the person sees results in words.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hubkit.archive import Archive, open_archive
from hubkit.errors import DataValidationError, HubkitError, PermissionDenied
from hubkit.hub.session import AppSession
from hubkit.store import LocalStore
from hubkit.store.records import DatasetRecord

PREVIEW_ROWS = 5
# Items per evaluation task after a guided run; unset means every item (the platform's default).
# A demo or a test on a slow machine sets it to get results in seconds.
EVAL_LIMIT_ENV = "HUBKIT_BUILDER_EVAL_LIMIT"


def default_eval_limit() -> int | None:
    raw = os.environ.get(EVAL_LIMIT_ENV, "").strip()
    return int(raw) if raw else None


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


@dataclass
class Training:
    """A run in progress in this kernel: ``done`` is set when training and evaluation ended."""

    thread: threading.Thread
    cancel: threading.Event
    done: threading.Event
    run_id: int | None = None
    slug: str | None = None
    outcome: str | None = None
    message: str | None = None
    error: str | None = None

    def stop(self) -> None:
        self.cancel.set()


def start_training(*, session: AppSession, spec: Any, progress: Any, parent_model_id: int | None = None,
                   evaluate: bool = True, eval_limit: int | None = None,
                   on_done: Callable[[Training], None] | None = None) -> Training:
    """Train ``spec`` (a ``TrainSpec``) for the session's user, then evaluate the result.

    A fork passes ``parent_model_id``: the training run's fork path records
    the lineage. ``eval_limit`` caps the items per task (quick looks only;
    the platform's own evaluation leaves it unset; default: ``HUBKIT_BUILDER_EVAL_LIMIT``).
    """
    if not session.user:
        raise PermissionDenied("Sign in to train a model.")
    from hubkit import train

    cancel, done = threading.Event(), threading.Event()
    handle = Training(thread=threading.Thread(), cancel=cancel, done=done)

    def work() -> None:
        try:
            result = train.run(spec, store=session.store, owner=session.user or "", progress=progress,
                               cancel=cancel, parent_model_id=parent_model_id,
                               relation="fork" if parent_model_id is not None else None)
            handle.run_id, handle.slug = result.run_id, result.slug
            handle.outcome, handle.message = result.outcome, result.message
            if evaluate and result.artifacts.get("adapter"):
                from hubkit.evaluate import on_run_finished

                progress.on_status("Checking the new model on every domain")
                limit = eval_limit if eval_limit is not None else default_eval_limit()
                on_run_finished(session.store, result.run_id, limit=limit)
        except HubkitError as exc:
            handle.error = exc.message
        except Exception as exc:  # noqa: BLE001 - shown to the person, never lost silently
            handle.error = f"Something went wrong: {type(exc).__name__}: {exc}"
        finally:
            done.set()
            if on_done is not None:
                on_done(handle)

    handle.thread = threading.Thread(target=work, name="hubkit-builder-train", daemon=True)
    handle.thread.start()
    return handle
