"""The public pages in a real browser: hub, leaderboards, profiles, the demo, escaping."""
import pytest

from tests.browser.conftest import open_app, screenshot
from tests.hub.world import XSS_NAME

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_hub_lists_and_filters_models(hub, page):
    open_app(page, hub.app("hub"), text="Model hub")
    page.get_by_text("Sum helper").first.wait_for()
    screenshot(page, "hub")
    cards = page.locator(".card .title")
    assert "Math whiz plus" in cards.all_inner_texts()
    page.get_by_placeholder("Search by name").fill("plus")
    page.get_by_text("1 model", exact=True).wait_for()
    assert cards.all_inner_texts() == ["Math whiz plus"]


def test_model_named_like_markup_shows_as_text(hub, page):
    open_app(page, hub.app("hub"), text="Model hub")
    page.get_by_text(XSS_NAME, exact=True).first.wait_for()
    assert page.locator("img[src=x]").count() == 0
    page.get_by_text(XSS_NAME, exact=True).first.click()  # the card's link opens its profile
    page.get_by_role("heading", name=XSS_NAME).wait_for(timeout=90_000)
    assert page.locator("img[src=x]").count() == 0
    screenshot(page, "profile-markup-name")
    assert page.dialogs == []


def test_leaderboard_sorting_and_stamps(hub, page):
    open_app(page, hub.app("leaderboards", "domain=math"), text="Leaderboards")
    rows = page.locator("table.board tr td:nth-child(2)")
    rows.first.wait_for()
    best = rows.all_inner_texts()
    assert best[:2] == ["Math whiz plus", "Math whiz"] and XSS_NAME in best
    screenshot(page, "leaderboards")
    page.get_by_role("button", name="Worst first").click()
    page.wait_for_function("document.querySelector('table.board tr:nth-child(2) td:nth-child(2)')"
                           ".innerText !== 'Math whiz plus'")
    assert rows.all_inner_texts() == list(reversed(best))
    assert page.locator("table.board tr:nth-child(2) td:first-child").inner_text() == str(len(best))
    page.get_by_text("Math whiz plus", exact=True).click()
    page.get_by_role("heading", name="Math whiz plus").wait_for(timeout=90_000)


def test_profile_shows_everything_and_the_demo_generates(hub, page):
    open_app(page, hub.app("model", f"model={hub.trained_slug}"), text="Sum helper")
    for section in ("Scores", "Training", "Lineage", "Dataset", "Configuration", "Download", "Feedback"):
        page.get_by_role("heading", name=section, exact=True).wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_placeholder("Type a prompt").fill("What is 3 + 4?")  # the stand-in continues this one
    page.get_by_role("button", name="Generate").click()
    answer = page.locator(".hk-demo-answer.hk-done pre")
    answer.wait_for(timeout=120_000)
    written = answer.inner_text().strip()
    assert written and written != "(the model stopped without writing anything)"
    base = page.locator(".hk-demo-base.hk-done pre")  # its base's answer, beside it
    base.wait_for(timeout=120_000)
    assert base.inner_text().strip()
    page.get_by_role("heading", name="This model", exact=True).wait_for()
    card = page.locator("a.hk-download", has_text="Model card")  # streamed by the service, not built here
    card.wait_for(timeout=30_000)
    assert card.get_attribute("href").endswith("/download/card")
    screenshot(page, "profile")


@pytest.mark.parametrize(("app", "text", "content"), [
    ("museum", "Failure Museum", "Too hot"),
    ("genealogy", "Dataset Genealogy", "public models"),
    ("observatory", "Capability Observatory", "flagged change"),
])
def test_research_pages_render_with_content(hub, page, app, text, content):
    open_app(page, hub.app(app), text=text)
    page.get_by_text(content).first.wait_for(timeout=60_000)
    if app != "observatory":
        page.locator(".js-plotly-plot").first.wait_for()
    screenshot(page, app)
    assert page.dialogs == []
