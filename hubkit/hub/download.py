"""Download bundles: a model's adapter, merged model or model card, read from
the archive by the hash recorded on the run (the archive checks the hash).

Folders come out as a ``.tar.gz`` named after the model's slug, never after
anything else a user typed. The model card is written from the run record
(``hubkit.hub.card``: the catalog's licence, the platform's scores as the
Hub's ``model-index``), so it always says what is known now.

Pages link to the service's streaming route (:func:`download_url`) for every
model a visitor may see; the in-kernel :func:`download_bundle` is for owners
of private models (the browser has no token to show the service).
"""
from __future__ import annotations

import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hubkit.archive import Archive, open_archive
from hubkit.errors import NotFound
from hubkit.store import Store
from hubkit.store.records import RunRecord

CARD_FILE = "README.md"


@dataclass(frozen=True)
class BundleKind:
    artifact: str  # key in the run's ``artifacts`` (an archived folder)
    label: str
    suffix: str
    member: str | None = None  # one file of that folder instead of the whole folder


# kind → where it comes from; the order is the order of the download buttons
BUNDLES: dict[str, BundleKind] = {
    "adapter": BundleKind("adapter", "LoRA adapter", "adapter.tar.gz"),
    "merged": BundleKind("merged", "Merged model", "merged.tar.gz"),
    "model_card": BundleKind("adapter", "Model card", CARD_FILE, member=CARD_FILE),
}
# bundle kind → the service's name for it (``GET /v1/runs/{id}/download/{part}``)
SERVICE_PARTS = {"adapter": "adapter", "merged": "merged", "model_card": "card"}
SERVICE_PREFIX = "/services/hubkit"  # the hub serves the hubkit service here, on the pages' own origin


@dataclass(frozen=True)
class Bundle:
    kind: str
    filename: str
    data: bytes
    sha256: str  # the archived object the bundle was made from


def available_downloads(run: RunRecord) -> tuple[str, ...]:
    return tuple(kind for kind, spec in BUNDLES.items() if run.artifacts.get(spec.artifact))


def download_url(*, run: RunRecord, kind: str, service_url: str | None = None) -> str:
    """Where a browser downloads ``kind`` of ``run``, streamed by the service (any size, constant memory)."""
    from hubkit.config import load_settings

    base = (service_url if service_url is not None else load_settings().service_url) or SERVICE_PREFIX
    return f"{base.rstrip('/')}/v1/runs/{run.id}/download/{SERVICE_PARTS[kind]}"


def card_text(*, store: Store, run: RunRecord) -> str:
    """The model card (README.md) of ``run`` as it stands: licence from the catalog, scores as ``model-index``."""
    from hubkit.hub.card import build_card

    base = store.get_base_model(run.base_model_id)
    dataset = store.get_dataset(run.dataset_id) if run.dataset_id is not None else None
    return str(build_card(run=run, base=base, merged=False, dataset=dataset))


def _targz(folder: Path, top: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            tar.add(path, arcname=f"{top}/{path.relative_to(folder)}")
    return buf.getvalue()


def download_bundle(*, store: Store, model: int | str, kind: str, viewer: str,
                    archive: Archive | None = None) -> Bundle:
    """The bytes of one download for ``viewer`` (NotFound if the model or the artefact is missing)."""
    if kind not in BUNDLES:
        raise NotFound(f"There is no download called {kind!r}; choose one of {', '.join(BUNDLES)}.")
    spec = BUNDLES[kind]
    run = store.get_run(model, viewer=viewer)
    digest = run.artifacts.get(spec.artifact)
    if not digest:
        raise NotFound(f"This model has no {spec.label.lower()} to download.")
    if spec.member == CARD_FILE:
        data = card_text(store=store, run=run).encode("utf-8")
        return Bundle(kind=kind, filename=f"{run.slug}-{spec.suffix}", data=data, sha256=str(digest))
    archive = archive or open_archive()
    with tempfile.TemporaryDirectory() as tmp:
        folder = archive.get_dir(str(digest), Path(tmp) / "unpacked")
        data = _targz(folder, top=f"{run.slug}-{kind}")
    return Bundle(kind=kind, filename=f"{run.slug}-{spec.suffix}", data=data, sha256=str(digest))
