"""The Model Builder in a real browser: the guided flow, bad uploads, developer mode, forks."""
import json

import pytest
import yaml

from tests.browser.conftest import USER, open_app, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BAD = b'{"question": "1+1", "answer": "2"}\n{"question": "2+2"}\n{"question": "3+3", "answer": "6"}\n'
GOOD = "".join(json.dumps({"instruction": f"What is {a} + {b}?", "response": str(a + b)}) + "\n"
               for a in range(6) for b in range(4)).encode()
TRAINING_S = 600


def upload(page, data: bytes, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Upload a file").click()
    with page.expect_file_chooser() as chooser:  # ipywidgets makes its file input only when asked
        page.get_by_role("button", name="Choose file").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/json", "buffer": data}])


def test_bad_upload_points_at_the_row(hub, page):
    open_app(page, hub.app("builder"), text="Build a model")
    upload(page, BAD, "sums.jsonl")
    page.get_by_text("Row 2 has no answer: every row needs both a question and an answer.").wait_for()
    screenshot(page, "builder-bad-upload")


def test_developer_mode_round_trips_a_spec(hub, page):
    open_app(page, hub.app("builder"), text="Build a model")
    page.get_by_text("Developer mode").click()
    shown = page.locator(".hk-spec-yaml textarea")
    page.wait_for_function("document.querySelector('.hk-spec-yaml textarea').value.includes('lora_r')")
    spec = yaml.safe_load(shown.input_value())
    pasted = {**spec, "lora_r": 32, "learning_rate": 0.001, "use_dora": True, "target_modules": ["q_proj", "v_proj"],
              "name": "Pasted spec"}
    page.get_by_placeholder("Paste a spec (YAML) here").fill(yaml.safe_dump(pasted))
    page.get_by_role("button", name="Load this spec").click()
    page.wait_for_function("document.querySelector('.hk-spec-yaml textarea').value.includes('Pasted spec')")
    assert yaml.safe_load(shown.input_value()) == pasted
    page.get_by_label("LoRA rank").fill("0")
    page.get_by_text("LoRA rank (lora_r)").first.wait_for()  # the plain-language check names the field
    screenshot(page, "builder-developer-mode")


def test_guided_flow_from_goal_to_published_profile(hub, page):
    open_app(page, hub.app("builder"), text="Build a model")
    page.get_by_role("button", name="Math", exact=True).click()
    page.get_by_text("offline stand-in").first.wait_for()
    upload(page, GOOD, "sums.jsonl")
    page.get_by_text("24 rows of instruction data").wait_for()
    page.get_by_role("button", name="Quick", exact=True).click()
    page.get_by_placeholder("A name for your model").fill("Browser sums")
    page.get_by_role("button", name="Estimate time and memory").click()
    page.locator(".hk-estimate").wait_for(timeout=120_000)
    screenshot(page, "builder-ready")
    page.get_by_role("button", name="Train").click()
    # the training notebook runs as a job; the page follows it: status, progress bar, live loss curve
    page.locator(".hk-job-status").wait_for(timeout=60_000)
    page.locator(".hk-live-curve .js-plotly-plot").wait_for(timeout=TRAINING_S * 1000)
    screenshot(page, "builder-training")
    page.locator(".hk-result-sentence").wait_for(timeout=TRAINING_S * 1000)
    assert "its base model" in page.locator(".hk-result-sentence").inner_text()
    assert "every domain" in page.locator(".hk-job-status").inner_text()
    screenshot(page, "builder-results")
    page.get_by_role("button", name="Thumbs up").click()
    page.get_by_placeholder("What did you notice? (optional)").fill("Learns sums")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_text("your feedback is saved").wait_for()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published: everyone can find it on the hub.").wait_for()
    store = hub.store()
    (run,) = [r for r in store.list_runs(owner=USER) if r.name == "Browser sums"]
    assert run.visibility.value == "public" and run.training_outcome.value == "success"
    assert store.list_feedback(run.id)[0].comment == "Learns sums"
    (train_job,) = [j for j in store.list_jobs(owner=USER) if j.kind == "train" and j.model_id == run.id]
    assert train_job.state.value == "succeeded" and run.artifacts.get("notebook")
    page.get_by_text("Developer mode").click()  # the executed notebook, copied where JupyterLab opens it
    lab = page.get_by_role("link", name="Open this run’s notebook in JupyterLab")
    assert lab.get_attribute("href").endswith(f"/lab/tree/hubkit-runs/{run.slug}.ipynb")
    assert (hub.home / "lab" / "hubkit-runs" / f"{run.slug}.ipynb").is_file()
    page.get_by_text("See its public page").click()
    page.get_by_role("heading", name="Browser sums").wait_for(timeout=90_000)
    screenshot(page, "builder-published-profile")


def test_fork_from_a_profile(hub, page):
    open_app(page, hub.app("model", f"model={hub.trained_slug}"), text="Sum helper")
    page.get_by_text("Fork this model").click()
    page.get_by_text("You are forking").wait_for(timeout=90_000)
    page.get_by_placeholder("A name for your model").fill("Forked sums")
    screenshot(page, "builder-fork")
    page.get_by_role("button", name="Train").click()
    page.locator(".hk-result-sentence").wait_for(timeout=TRAINING_S * 1000)
    store = hub.store()
    (run,) = [r for r in store.list_runs(owner=USER) if r.name == "Forked sums"]
    parent = store.get_run(hub.trained_slug)
    assert run.parent_model_id == parent.id and run.parent_relation == "fork"
    assert "its parent" in page.locator(".hk-results").inner_text()
