"""What the pages link to: the service's streaming routes, and for a private model a ticket for its owner."""
import pytest

from hubkit import tickets
from hubkit.errors import NotFound
from hubkit.hub import available_downloads, download_url, ticket_url
from hubkit.store import ANONYMOUS


def test_downloads_follow_the_artifacts_and_link_to_the_service(hub_store, world):
    hub_store.add_artifacts(world.math_model.id, {"adapter": "a" * 64})
    run = hub_store.get_run(world.math_model.id)
    assert available_downloads(run) == ("adapter", "model_card")
    assert download_url(run=run, kind="model_card", service_url="") == f"/services/hubkit/v1/runs/{run.id}/download/card"


def test_a_private_link_carries_a_ticket_for_its_owner_only(hub_store, world):
    run = world.private
    url = ticket_url(store=hub_store, run=run, kind="adapter", viewer=run.owner, service_url="")
    path, _, query = url.partition("?ticket=")
    assert path == f"/services/hubkit/v1/runs/{run.id}/download/adapter"
    assert tickets.redeem(query, run_id=run.id, route="download/adapter") == run.owner
    for stranger in (ANONYMOUS, "bob" if run.owner != "bob" else "alice"):
        with pytest.raises(NotFound):
            ticket_url(store=hub_store, run=run, kind="adapter", viewer=stranger, service_url="")
