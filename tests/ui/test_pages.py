"""Page logic without a browser: controls change what the page shows and what is recorded."""
import ipywidgets as W

from hubkit.hub import AppSession
from hubkit.ui.pages import hub_page, leaderboards_page, model_page
from hubkit.ui.pages.model import FeedbackBox, OwnerControls
from hubkit.ui.widgets import PLOTLY_MIME
from tests.hub.world import XSS_NAME
from tests.ui.helpers import find, html_of, outputs_of, walk


def test_hub_page_filters_sorts_and_pages(hub_store, world):
    page = hub_page(AppSession(store=hub_store))
    assert "Math whiz plus" in page.results.value and "Bob&#x27;s secret" not in page.results.value
    assert page.count.value == "4 models"
    page.family.value = "llama3"
    assert page.count.value == "2 models" and "Too hot" not in page.results.value
    page.family.value = ""
    page.search.value = "hot"
    assert page.count.value == "1 model" and "Too hot" in page.results.value
    page.search.value = ""
    page.sort.value = "score"
    first = page.results.value
    assert first.index("&lt;img") < first.index("Math whiz plus") < first.index("Too hot")
    assert page.pager.next.disabled and page.pager.label.value == "page 1 of 1"


def test_hub_page_pages(hub_store, world, monkeypatch):
    monkeypatch.setattr("hubkit.ui.pages.hub.PAGE_SIZE", 3)
    page = hub_page(AppSession(store=hub_store))
    assert not page.pager.next.disabled and page.pager.previous.disabled
    page.pager.next.click()
    assert page.pager.label.value == "page 2 of 2" and page.results.value.count('class="card"') == 1


def test_model_page_sections(hub_store, world):
    page = model_page(AppSession(store=hub_store, user="bob"), world.fork.slug)
    shown = html_of(page)
    assert "Better than its parent at math (+8 points)" in shown
    assert "Forks of this model" in shown and "Fork this model" in shown and "builder.ipynb?fork=" in shown
    figures = [o["data"][PLOTLY_MIME] for o in outputs_of(page)]
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert titles == ["Scores (±1 standard error)", "Across domains (0-100)", "Training loss", "Lineage"]
    bars = figures[0]["data"]
    assert [b["name"] for b in bars] == ["Math whiz plus", "base model", "parent"]
    assert bars[0]["y"] == [30.0, 40.0, 47.0]  # 0-1 metrics drawn as points next to chrF
    assert bars[0]["error_y"]["array"] == [2.0, 2.0, 1.0]
    assert any(isinstance(w, OwnerControls) for w in walk(page))  # bob owns the fork
    alice = model_page(AppSession(store=hub_store, user="alice"), world.fork.slug)
    assert not any(isinstance(w, OwnerControls) for w in walk(alice))


def test_visitor_cannot_write(hub_store, world):
    page = model_page(AppSession(store=hub_store), world.math_model.slug)
    shown = html_of(page)
    assert "Sign in to give feedback." in shown and "Sign in to fork this model." in shown
    assert not any(isinstance(w, W.Textarea) and w.placeholder.startswith("A comment") for w in walk(page))


def test_feedback_from_the_page(hub_store, world):
    page = model_page(AppSession(store=hub_store, user="alice"), world.fork.slug)
    box = find(page, FeedbackBox)
    assert box.thumbs.value is None  # no thumb is chosen for the visitor
    box.comment.value = "only a comment"
    box.send_button.click()
    assert hub_store.list_feedback(world.fork.id) == [] and "Choose thumbs up" in box.feedback.value
    box.thumbs.value = False
    box.comment.value = XSS_NAME
    box.send_button.click()
    (fb,) = hub_store.list_feedback(world.fork.id)
    assert (fb.username, fb.thumbs_up, fb.comment) == ("alice", False, XSS_NAME)
    shown = html_of(page)  # the page re-rendered with the new comment, escaped
    assert "thumbs down: 1" in shown and "&lt;img src=x" in shown and XSS_NAME not in shown


def test_owner_changes_visibility(hub_store, world):
    page = model_page(AppSession(store=hub_store, user="alice"), world.math_model.slug)
    controls = find(page, OwnerControls)
    controls.visibility.value = "unlisted"
    assert controls.explain.value.startswith("Anyone with the link")
    controls.save.click()
    assert hub_store.get_run(world.math_model.id).visibility.value == "unlisted"
    assert "Saved" in controls.feedback.value


def test_missing_and_private_models_say_so(hub_store, world):
    for slug in ("no-such-model", world.private.slug):
        page = model_page(AppSession(store=hub_store, user="alice"), slug)
        assert "There is no model" in html_of(page)
    assert "No model was named" in html_of(model_page(AppSession(store=hub_store), None))


def test_leaderboard_page_orders_filters_and_stamps(hub_store, world):
    page = leaderboards_page(AppSession(store=hub_store), domain="math")

    def order() -> list[str]:
        value = page.table.value
        return sorted(["Math whiz plus", "Math whiz<", "&lt;img"], key=lambda n: value.find(n))

    assert "mw_math" in page.about.value and "shots 0" in page.about.value
    assert order() == ["Math whiz plus", "Math whiz<", "&lt;img"]
    page.order.value = "worst"
    assert order() == ["&lt;img", "Math whiz<", "Math whiz plus"]
    assert len(page.stamp.options) == 3  # "most used" and the two stamps
    page.stamp.value = page.stamp.options[2][1]
    assert "Math whiz" not in page.table.value and "shots 5" in page.about.value
    page.stamp.value = ""
    page.method.value = "fork"
    assert "Math whiz plus" in page.table.value and "Math whiz<" not in page.table.value
    page.domain.value = "reading"
    assert "No model has been scored" in page.table.value


def test_leaderboard_page_keeps_the_two_suites_apart(hub_store, world):
    from hubkit.store.records import EvaluationIn
    from tests.hub.world import STAMP

    page = leaderboards_page(AppSession(store=hub_store), domain="math")
    assert [label for label, _ in page.suite.options] == ["Offline micro-world suite"]
    assert "No standard-suite scores yet: run `hubkit eval fetch-data` on a machine with internet" in html_of(page)
    for run, value in ((world.math_model, 0.61), (world.fork, 0.55)):
        hub_store.record_evaluation(evaluation=EvaluationIn(
            domain="math", task="gsm8k", metric="exact_match", value=value, stderr=0.01, n_samples=1319,
            stamp={**STAMP, "suite": "standard"}), model_id=run.id)

    page = leaderboards_page(AppSession(store=hub_store), domain="math")
    assert page.suite.value == "offline" and len(page.suite.options) == 2
    assert "No standard-suite scores yet" not in html_of(page)
    assert "mw_math" in page.about.value and "gsm8k" not in html_of(page)
    assert "&lt;img" in page.table.value
    page.suite.value = "standard"
    assert "gsm8k" in page.about.value and "suite standard" in page.about.value
    assert "Math whiz<" in page.table.value and "&lt;img" not in page.table.value  # scored offline only
    assert page.table.value.find("Math whiz<") < page.table.value.find("Math whiz plus")
    assert "mw_math" not in [label for label, _ in page.task.options]
    page.domain.value = "code"
    assert "No model has been scored" in page.table.value
    visit = leaderboards_page(AppSession(store=hub_store), domain="math", suite="standard")  # ?suite=standard
    assert "gsm8k" in visit.about.value


def test_every_picker_shows_a_choice(hub_store, world):
    """A Dropdown whose value is None shows an empty box: "any" must be a real option."""
    from hubkit.ui.pages import genealogy_page, museum_page, observatory_page

    session = AppSession(store=hub_store, user="alice")
    for page in (hub_page(session), leaderboards_page(session), model_page(session, world.math_model.slug),
                 museum_page(session), genealogy_page(session), observatory_page(session)):
        for w in walk(page):
            if isinstance(w, W.Dropdown) and w.options:
                assert w.index is not None, (type(page).__name__, w.description)


def test_downloads_of_a_visible_model_link_to_the_service(hub_store, world):
    from hubkit.ui.pages.model import Downloads

    hub_store.add_artifacts(world.math_model.id, {"adapter": "a" * 64})
    page = model_page(AppSession(store=hub_store, user=None), world.math_model.slug)
    (downloads,) = [w for w in walk(page) if isinstance(w, Downloads)]
    shown = html_of(downloads)
    run_id = world.math_model.id
    assert f'href="/services/hubkit/v1/runs/{run_id}/download/adapter"' in shown
    assert f'href="/services/hubkit/v1/runs/{run_id}/download/card"' in shown
    assert "base64" not in shown


def test_a_private_models_owner_gets_a_ticket_link_never_the_bytes_in_the_page(hub_store, world):
    from hubkit.ui.pages.model import Downloads

    hub_store.add_artifacts(world.private.id, {"adapter": "b" * 64})
    page = model_page(AppSession(store=hub_store, user=world.private.owner), world.private.slug)
    (downloads,) = [w for w in walk(page) if isinstance(w, Downloads)]
    assert "href" not in html_of(downloads)  # nothing until the owner asks
    downloads.prepare("adapter")
    shown = html_of(downloads)
    assert f'href="/services/hubkit/v1/runs/{world.private.id}/download/adapter?ticket=' in shown
    assert "base64" not in shown


def _downloads(session, slug):
    from hubkit.ui.pages.model import Downloads

    (downloads,) = [w for w in walk(model_page(session, slug)) if isinstance(w, Downloads)]
    return downloads


def test_the_owner_is_offered_the_complete_model_and_visitors_get_it_once_made(hub_store, world):
    run_id = world.math_model.id
    hub_store.add_artifacts(run_id, {"adapter": "a" * 64})
    owner = _downloads(AppSession(store=hub_store, user="alice"), world.math_model.slug)
    assert "Adapter only (small, needs the base)" in html_of(owner)
    assert owner.merge_button.description == "Prepare: Complete model (merged, larger)"
    assert owner.merge_button in list(walk(owner))
    visitor = _downloads(AppSession(store=hub_store), world.math_model.slug)
    assert visitor.merge_button not in list(walk(visitor)) and "download/merged" not in html_of(visitor)
    hub_store.add_artifacts(run_id, {"merged": "c" * 64})
    visitor = _downloads(AppSession(store=hub_store), world.math_model.slug)
    shown = html_of(visitor)
    assert f'href="/services/hubkit/v1/runs/{run_id}/download/merged"' in shown
    assert "Complete model (merged, larger)" in shown and visitor.merge_button not in list(walk(visitor))


def test_a_licence_that_forbids_merged_weights_keeps_them_with_the_owner(hub_store, world):
    hub_store.upsert_base_model(key="nd-standin", family="nd", hf_id="example/nd", architecture="LlamaForCausalLM",
                                licence="CC-BY-NC-ND-4.0", parameters=1000, is_standin=True)
    run = hub_store.create_run(owner="alice", name="No derivatives", domain="math", base_model="nd-standin",
                               visibility="public")
    hub_store.finish_run(run.id, outcome="success", artifacts={"adapter": "a" * 64, "merged": "d" * 64})
    shown = html_of(_downloads(AppSession(store=hub_store, user="bob"), run.slug))
    assert f"/v1/runs/{run.id}/download/adapter" in shown and "download/merged" not in shown
    assert "does not allow a complete (merged) model to be shared" in shown and "CC-BY-NC-ND-4.0" in shown
    assert f"/v1/runs/{run.id}/download/merged" in html_of(_downloads(AppSession(store=hub_store, user="alice"),
                                                                        run.slug))


def test_a_private_models_owner_can_take_the_complete_model_through_a_ticket(hub_store, world):
    hub_store.add_artifacts(world.private.id, {"adapter": "b" * 64, "merged": "e" * 64})
    downloads = _downloads(AppSession(store=hub_store, user=world.private.owner), world.private.slug)
    labels = [w.description for w in walk(downloads) if isinstance(w, W.Button)]
    assert "Download: Complete model (merged, larger)" in labels and "Download: Adapter only (small, needs the base)" in labels
    downloads.prepare("merged")
    assert f'href="/services/hubkit/v1/runs/{world.private.id}/download/merged?ticket=' in html_of(downloads)


def test_the_builders_results_offer_the_adapter_or_the_complete_model(hub_store, world):
    from hubkit.ui.pages.builder import ResultsPanel
    from hubkit.ui.pages.model import Downloads

    hub_store.add_artifacts(world.math_model.id, {"adapter": "a" * 64})
    panel = ResultsPanel(AppSession(store=hub_store, user="alice"), world.math_model.slug)
    (downloads,) = [w for w in walk(panel) if isinstance(w, Downloads)]
    assert "Adapter only (small, needs the base)" in html_of(downloads)
    assert downloads.merge_button in list(walk(downloads))
