"""The owner's profile exports and pushes: a GGUF made from the page comes back as a streaming link (with a
ticket while the model is private), a push without a token is a sentence, and visitors see no panel."""
from __future__ import annotations

import pytest

from hubkit.export.tools import converter_ready, runtime_ready
from hubkit.hub import AppSession
from hubkit.store import LocalStore
from hubkit.train import run as train_run
from hubkit.ui.pages import model_page
from hubkit.ui.pages.model import TakeItElsewhere
from tests.train.conftest import small_spec
from tests.ui.helpers import html_of, walk

pytestmark = pytest.mark.slow


def _panel(store: LocalStore, slug: str, user: str | None) -> TakeItElsewhere | None:
    found = [w for w in walk(model_page(AppSession(store=store, user=user), slug)) if isinstance(w, TakeItElsewhere)]
    return found[0] if found else None


@pytest.mark.skipif(not (runtime_ready() and converter_ready()),
                    reason="the export extra (llama-cpp-python and its converter) is not installed")
def test_the_owner_exports_from_the_page_and_gets_a_link(hub: LocalStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run = hub.get_run(train_run(small_spec(max_steps=2, validation_fraction=0), store=hub, owner="alice").run_id)
    assert _panel(hub, run.slug, "bob") is None and _panel(hub, run.slug, None) is None  # not theirs
    panel = _panel(hub, run.slug, "alice")
    assert panel is not None
    panel.fmt.value, panel.quant.value = "gguf", "q8_0"
    panel.export()
    shown = html_of(panel)
    assert f"/v1/runs/{run.id}/exports/gguf/q8_0?ticket=" in shown, shown  # private: a ticket for alice
    assert [e.payload["quantization"] for e in hub.list_events(run.id) if e.kind == "export"] == ["q8_0"]

    monkeypatch.delenv("HF_TOKEN", raising=False)
    panel.repo.value, panel.token.value = "alice/sums", ""
    panel.push()
    assert "needs your access token" in html_of(panel)
    panel.token.value = "hf_typedsecret"
    panel.repo.value = "not a repo id"
    panel.push()
    assert panel.token.value == "" and "hf_typedsecret" not in html_of(panel)  # used once, never shown
    assert "owner/name" in html_of(panel)
