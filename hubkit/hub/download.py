"""Downloads: a model's adapter, merged model or model card, streamed by the service from the
archive by the hash recorded on the run (``hubkit.service.routes.bundles``).

Folders come out as a tar named after the model's slug, never after anything
else a user typed. The model card is written from the run record
(``hubkit.hub.card``: the catalog's licence, the platform's scores as the
Hub's ``model-index``), so it always says what is known now.

Pages link to the service's streaming route (:func:`download_url`) for every
model a visitor may see. A private model's owner gets the same link with a
short-lived ticket (:func:`ticket_url`), since the browser holds no token for
the service; nothing is ever built in the page's kernel, whatever its size.

A guided user chooses between the adapter alone and the complete model (the
base with the adapter merged in). The owner may have the complete model made
once (``hubkit.export.save_merged``); anyone else gets it only where the base's
licence allows handing merged weights on (``hubkit.export.check_merged_download``,
the rule exports and pushes follow too).
"""
from __future__ import annotations

from dataclasses import dataclass

from hubkit.errors import PermissionDenied
from hubkit.store import Store
from hubkit.store.records import RunRecord


@dataclass(frozen=True)
class BundleKind:
    artifact: str  # key in the run's ``artifacts`` (an archived folder) that must exist
    label: str


# kind → where it comes from; the order is the order of the download buttons
BUNDLES: dict[str, BundleKind] = {
    "adapter": BundleKind("adapter", "Adapter only (small, needs the base)"),
    "merged": BundleKind("merged", "Complete model (merged, larger)"),
    "model_card": BundleKind("adapter", "Model card"),
}
# bundle kind → the service's name for it (``GET /v1/runs/{id}/download/{part}``)
SERVICE_PARTS = {"adapter": "adapter", "merged": "merged", "model_card": "card"}
SERVICE_PREFIX = "/services/hubkit"  # the hub serves the hubkit service here, on the pages' own origin


def available_downloads(run: RunRecord) -> tuple[str, ...]:
    return tuple(kind for kind, spec in BUNDLES.items() if run.artifacts.get(spec.artifact))


@dataclass(frozen=True)
class MergedOffer:
    """What ``viewer`` may do about a model's complete (merged) download."""

    ready: bool  # made and archived: a link can be given
    can_prepare: bool  # not made yet, and the viewer (its owner) may have it made
    refusal: str | None = None  # why it is not offered (the licence's sentence), else None


def merged_offer(*, store: Store, run: RunRecord, viewer: str | None) -> MergedOffer:
    """Whether the complete model is there for ``viewer``, can be made by them, or is refused and why."""
    from hubkit.export import check_merged_download

    if not run.artifacts.get("adapter") and not run.artifacts.get("merged"):
        return MergedOffer(ready=False, can_prepare=False)
    try:
        check_merged_download(store=store, run=run, viewer=viewer)
    except PermissionDenied as exc:
        return MergedOffer(ready=False, can_prepare=False, refusal=exc.message)
    ready = bool(run.artifacts.get("merged"))
    return MergedOffer(ready=ready, can_prepare=not ready and viewer == run.owner)


def route_url(*, run: RunRecord, route: str, service_url: str | None = None) -> str:
    """Where a browser fetches ``route`` (``download/adapter``, ``exports/gguf/f16``...) of ``run``,
    streamed by the service (any size, constant memory)."""
    from hubkit.config import load_settings

    base = (service_url if service_url is not None else load_settings().service_url) or SERVICE_PREFIX
    return f"{base.rstrip('/')}/v1/runs/{run.id}/{route}"


def download_url(*, run: RunRecord, kind: str, service_url: str | None = None) -> str:
    """Where a browser downloads ``kind`` of ``run``."""
    return route_url(run=run, route=f"download/{SERVICE_PARTS[kind]}", service_url=service_url)


def ticket_url(*, store: Store, run: RunRecord, kind: str | None = None, route: str | None = None,
               viewer: str | None, service_url: str | None = None) -> str:
    """A link to ``kind`` (or any ``route``) of a model only ``viewer`` may see: the same streaming
    route plus a ticket that stands for ``viewer`` there for a few minutes (``hubkit.tickets``)."""
    route = route or f"download/{SERVICE_PARTS[str(kind)]}"
    ticket = store.download_ticket(run.id, route, viewer=viewer)
    return f"{route_url(run=run, route=route, service_url=service_url)}?ticket={ticket}"


def export_link(*, store: Store, run: RunRecord, fmt: str, quantization: str, viewer: str | None,
                service_url: str | None = None) -> str:
    """The link to an export of ``run``: plain for a model others see, with a ticket for a private one."""
    route = f"exports/{fmt}/{quantization}"
    if run.visibility.value != "private":
        return route_url(run=run, route=route, service_url=service_url)
    return ticket_url(store=store, run=run, route=route, viewer=viewer, service_url=service_url)


def card_text(*, store: Store, run: RunRecord) -> str:
    """The model card (README.md) of ``run`` as it stands: licence from the catalog, scores as ``model-index``."""
    from hubkit.hub.card import build_card

    base = store.get_base_model(run.base_model_id)
    dataset = store.get_dataset(run.dataset_id) if run.dataset_id is not None else None
    return str(build_card(run=run, base=base, merged=False, dataset=dataset))
