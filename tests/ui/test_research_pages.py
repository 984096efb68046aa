"""The research pages over the seeded hub: public models only, everything linked and escaped."""
from hubkit.hub import AppSession
from hubkit.store.records import CapabilityFlagIn
from hubkit.ui.pages import genealogy_page, museum_page, observatory_page
from hubkit.ui.widgets import PLOTLY_MIME
from tests.hub.world import XSS_NAME
from tests.ui.helpers import html_of, outputs_of


def test_museum_lists_failures_and_opens_an_exhibit(hub_store, world):
    hub_store.record_feedback(world.math_model.id, user="alice", thumbs_up=False, comment="Mine: not good enough.")
    page = museum_page(AppSession(store=hub_store))
    shown = html_of(page)
    assert "Too hot" in shown and "divergence" in shown and "Bob&#x27;s secret" not in shown
    assert "model.ipynb?model=" + world.failed.slug in shown
    assert "not a number from step 7" in page.table.value
    page.pick.value = world.failed.slug
    detail = html_of(page.detail)
    assert "The loss became NaN at step 7." in detail and "learning_rate: 5.0" in detail
    assert outputs_of(page.detail)[0]["data"][PLOTLY_MIME]["layout"]["title"]["text"] == "Training loss"
    page.kind.value = "user_rejected"  # the owner's own thumbs down on Math whiz
    assert "Math whiz" in page.table.value and "Too hot" not in page.table.value


def test_genealogy_focuses_a_model(hub_store, world):
    page = genealogy_page(AppSession(store=hub_store), focus=world.fork.slug)
    about = page.about.value
    assert "Comes from" in about and f"model={world.math_model.slug}" in about
    assert "Tiny sums &lt;b&gt;v1&lt;/b&gt;" in about
    page.focus_picker.value = ""
    assert "public models" in page.about.value and "Bob" not in html_of(page)


def test_observatory_lists_public_flags_only(hub_store, world):
    flag = CapabilityFlagIn(domain="translation", task="mw_translation", reference="base", delta=-3.0, z=-2.5,
                            p_value=0.01, q_value=0.03, sentence=f"{XSS_NAME} translation fell")
    hub_store.replace_capability_flags(world.math_model.id, [flag])
    hub_store.replace_capability_flags(world.private.id, [flag.model_copy(update={"sentence": "secret"})])
    page = observatory_page(AppSession(store=hub_store))
    shown = html_of(page)
    assert "1 flagged change" in shown and "secret" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt; translation fell" in shown and XSS_NAME not in shown
