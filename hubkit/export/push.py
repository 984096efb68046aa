"""Push a model to a Hugging Face repo with the owner's own token, and record where it went.

``prepare_push`` lays out the folder that would be sent (the adapter at the
top, the merged model under ``merged/`` and a GGUF file when chosen, and a
``README.md`` card the Hub parses: base model and relation, licence, public
datasets, tags, the platform's scores as ``model-index`` results). It makes
no network call, so everything up to the upload is tested offline.
``push_model`` checks the token can write to the repo, uploads with
``huggingface_hub``, and records a ``push`` event with the repo's URL. The
token is read from the argument or ``HF_TOKEN`` only: it is never stored,
logged or put in an event or error message.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubkit.archive import Archive, open_archive
from hubkit.catalog.licences import check_merged_redistribution
from hubkit.errors import ExportError, PermissionDenied
from hubkit.store import Store
from hubkit.store.records import RunRecord

EVENT = "push"
CARD = "README.md"


@dataclass(frozen=True)
class PushPlan:
    """What a push would send: the folder and the files in it, card first."""

    run: RunRecord
    repo_id: str
    folder: Path
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    url: str
    commit: str | None
    files: list[str]
    event_id: int


def check_repo_id(repo_id: str) -> str:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ExportError(f"{repo_id!r} is not a Hugging Face repo id; write it as owner/name.") from None
    if "/" not in repo_id:
        raise ExportError(f"Write the repo as owner/name (for example you/{repo_id}), so it is clear whose it is.")
    return repo_id


def prepare_push(*, store: Store, model: int | str, viewer: str, repo_id: str, work: Path,
                 merged: bool = False, gguf: str | None = None, archive: Archive | None = None,
                 source_url: str | None = None, progress: Callable[[str], None] | None = None) -> PushPlan:
    """Lay out the folder a push would send, in ``work`` (nothing is sent)."""
    from hubkit.export.api import check_request, export_model
    from hubkit.hub.card import build_card

    check_repo_id(repo_id)
    run = store.get_run(model, viewer=viewer)
    if run.owner != viewer:
        raise PermissionDenied("Only the owner of this model can push it to the Hugging Face Hub.")
    check_request(run=run, fmt="gguf-adapter", quantization="f16", viewer=viewer)  # it has an adapter
    base = store.get_base_model(run.base_model_id)
    if merged or gguf:
        check_merged_redistribution(base.licence, what="a merged model (or a GGUF of it)")
    archive = archive or open_archive()
    folder = work / "push"
    shutil.rmtree(folder, ignore_errors=True)
    archive.get_dir(str(run.artifacts["adapter"]), folder)
    (folder / CARD).unlink(missing_ok=True)  # replaced by the Hub card below
    if merged:
        if run.artifacts.get("merged"):
            archive.get_dir(str(run.artifacts["merged"]), folder / "merged")
        else:
            raise ExportError(f"The model {run.name!r} was trained without a merged copy; push the adapter, "
                              "or a GGUF file, which is merged on export.")
        (folder / "merged" / CARD).unlink(missing_ok=True)
    if gguf:
        result = export_model(store=store, model=run.id, viewer=viewer, fmt="gguf", quantization=gguf,
                              archive=archive, progress=progress)
        archive.get_to_file(result.sha256, folder / result.filename)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    dataset = store.get_dataset(run.dataset_id) if run.dataset_id is not None else None
    card = build_card(run=run, base=base, merged=False, dataset=dataset, source_url=source_url,
                      tags=["gguf"] if gguf else (), files=files)
    card.save(folder / CARD)
    return PushPlan(run=run, repo_id=repo_id, folder=folder, files=[CARD, *files])


def _token(token: str | None) -> str:
    value = token or os.environ.get("HF_TOKEN", "")
    if not value.strip():
        raise ExportError("Pushing to the Hugging Face Hub needs your access token: set HF_TOKEN to a token with "
                          "write access (huggingface.co/settings/tokens). It is used for this push only.")
    return value.strip()


def _check_can_write(api: Any, repo_id: str) -> None:
    """Refuse a read-only token, or a namespace the token's user cannot write to, before uploading."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        me = api.whoami()
    except HfHubHTTPError as exc:
        raise ExportError("The Hugging Face Hub did not accept your token; check HF_TOKEN.",
                          detail=f"whoami: HTTP {getattr(exc.response, 'status_code', '?')}") from None
    access = (me.get("auth") or {}).get("accessToken") or {}
    if access.get("role") == "read":
        raise ExportError(f"Your Hugging Face token is read-only, so it cannot write to {repo_id}; "
                          "make a token with write access.")
    namespace = repo_id.split("/", 1)[0]
    writable = {me.get("name")} | {o.get("name") for o in me.get("orgs") or []
                                   if (o.get("roleInOrg") or "write") in ("admin", "write", "contributor")}
    if access.get("role") != "fineGrained" and namespace not in writable:
        raise ExportError(f"Your Hugging Face token cannot write to {repo_id}: it belongs to {me.get('name')!r}, "
                          f"who may not write under {namespace!r}.")


def push_model(*, store: Store, model: int | str, viewer: str, repo_id: str, work: Path,
               token: str | None = None, merged: bool = False, gguf: str | None = None, private: bool = True,
               archive: Archive | None = None, source_url: str | None = None, endpoint: str | None = None,
               progress: Callable[[str], None] | None = None) -> PushResult:
    """Send the prepared folder to ``repo_id`` and record a ``push`` event with the repo's URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    say = progress or (lambda _msg: None)
    secret = _token(token)
    plan = prepare_push(store=store, model=model, viewer=viewer, repo_id=repo_id, work=work, merged=merged,
                        gguf=gguf, archive=archive, source_url=source_url, progress=progress)
    api = HfApi(endpoint=endpoint, token=secret)
    say("checking the token")
    _check_can_write(api, repo_id)
    try:
        say(f"creating {repo_id}")
        repo = api.create_repo(repo_id, private=private, exist_ok=True)
        say(f"uploading {len(plan.files)} files")
        commit = api.upload_folder(repo_id=repo_id, folder_path=plan.folder,
                                   commit_message=f"{plan.run.name}: pushed from the AI Model Hub")
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (401, 403):
            raise ExportError(f"Your Hugging Face token cannot write to {repo_id}.",
                              detail=f"HTTP {status}") from None
        raise ExportError(f"The Hugging Face Hub refused the push to {repo_id}.", detail=f"HTTP {status}") from None
    url = str(getattr(repo, "url", None) or f"https://huggingface.co/{repo_id}")
    oid = getattr(commit, "oid", None)
    event = store.record_event(plan.run.id, EVENT, {
        "repo_id": repo_id, "url": url, "commit": oid, "files": plan.files, "merged": merged, "gguf": gguf,
        "private": private}, actor=viewer)
    return PushResult(repo_id=repo_id, url=url, commit=oid, files=plan.files, event_id=event.id)


def hub_url(*, store: Store, model: int | str, viewer: str | None) -> str | None:
    """The Hub URL of the model's latest push, as recorded on the run."""
    run = store.get_run(model, viewer=viewer)
    pushes = [e for e in store.list_events(run.id) if e.kind == EVENT]
    return str(pushes[-1].payload["url"]) if pushes else None
