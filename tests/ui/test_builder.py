"""The builder's steps without a browser; one real (tiny) training run on a stand-in."""
import json
import threading
from datetime import UTC, datetime

import ipywidgets as W
import pytest
import yaml

from hubkit.catalog import base_model_records
from hubkit.evaluate.worker import WorkerOptions
from hubkit.evaluate.worker import serve as serve_worker
from hubkit.hub import AppSession
from hubkit.hub.advice import stored_advice
from hubkit.store import LocalStore
from hubkit.ui.pages import builder_page
from tests.ui.helpers import html_of, walk

BAD = b'{"question": "1+1", "answer": "2"}\n{"question": "2+2"}\n{"question": "3+3", "answer": "6"}\n'
GOOD = "".join(json.dumps({"instruction": f"What is {a} + {b}?", "response": str(a + b)}) + "\n"
               for a in range(6) for b in range(4)).encode()


@pytest.fixture
def builder_store(standin_env, settings) -> LocalStore:
    store = LocalStore(settings.database_url)
    store.ensure_user("carol")
    for row in base_model_records():
        store.upsert_base_model(**row)
    return store


def upload(page, data: bytes, name: str) -> None:
    page.data_source.value = "upload"
    page.upload.value = ({"name": name, "type": "", "size": len(data), "content": memoryview(data),
                          "last_modified": datetime.now(UTC)},)


def test_visitors_are_asked_to_sign_in(builder_store):
    assert "Sign in to build a model." in html_of(builder_page(AppSession(store=builder_store)))


def test_cards_label_standins_and_uploads_are_checked(builder_store):
    page = builder_page(AppSession(store=builder_store, user="carol"))
    hidden = [w for w in walk(page) if isinstance(w, W.HTML) and w.layout.display == "none"]
    assert len(hidden) == 1 and "JupyterLab" in hidden[0].value  # only the developer link waits
    assert "offline stand-in" in page.base_cards.value and "licence" in page.base_cards.value
    # stand-ins are built; the real models' weights are not on this machine
    assert {b.key for b in page.bases if b.available} == {b.key for b in page.bases if b.is_standin}
    assert page.base_cards.value.count("Not installed on this hub.") == len(page.bases) - 4
    upload(page, BAD, "sums.jsonl")
    assert "Row 2 has no answer: every row needs both a question and an answer." in page.data_view.value
    page.train_button.click()
    assert "Upload a file that passes the checks first" in page.feedback.value
    upload(page, GOOD, "../sums.jsonl")
    assert "is not allowed: give the file a plain name" in page.data_view.value
    upload(page, GOOD, "<i>sums.jsonl")
    assert "24 rows of instruction data" in page.data_view.value
    assert "What is 0 + 0?" in page.data_view.value and "<i>sums" not in page.data_view.value


def test_developer_mode_round_trips_a_spec(builder_store):
    page = builder_page(AppSession(store=builder_store, user="carol"))
    page.developer.value = True
    form = page.dev_form
    shown = yaml.safe_load(form.yaml_out.value)
    assert shown["base_model"] == page.base_pick.value and shown["lora_r"] == 8  # the quick preset
    form.fields["lora_r"].value = "4"
    form.fields["learning_rate"].value = "3e-4"
    assert yaml.safe_load(form.yaml_out.value)["lora_r"] == 4
    form.fields["lora_r"].value = "0"
    assert "LoRA rank (lora_r)" in form.errors.value
    pasted = {**shown, "lora_r": 32, "use_dora": True, "target_modules": ["q_proj", "v_proj"], "name": "Pasted"}
    form.yaml_in.value = yaml.safe_dump(pasted)
    form.load_button.click()
    assert form.errors.value == ""
    assert yaml.safe_load(form.yaml_out.value) == yaml.safe_load(page.spec().to_yaml())
    assert page.spec().model_dump(mode="json") == yaml.safe_load(yaml.safe_dump(pasted)) | {
        k: v for k, v in page.spec().model_dump(mode="json").items() if k not in pasted}
    form.yaml_in.value = "lora_r: [unclosed"
    form.load_button.click()
    assert "not valid YAML" in form.errors.value


def test_developer_mode_shows_risk_and_gain_as_the_knobs_move(builder_store):
    page = builder_page(AppSession(store=builder_store, user="carol"))
    page.goal.value = "math"
    page.developer.value = True
    form = page.dev_form
    form.fields["learning_rate"].value = "5e-4"
    mild = form.advice.value
    assert "Failure risk" in mild and "expected gain" in mild
    form.fields["learning_rate"].value = "50"
    hot = form.advice.value
    assert hot != mild and 'class="error hk-live-advice"' in hot  # high risk is shown as such
    form.fields["lora_r"].value = "512"
    form.fields["max_steps"].value = "100000"
    assert "close to this setting (I need" in form.advice.value


@pytest.mark.slow
def test_guided_run_from_goal_to_published(builder_store, monkeypatch, tmp_path):
    """Train submits notebooks/train.ipynb as a job (a real worker and kernel), then the evaluation job."""
    from hubkit import jobs

    monkeypatch.setenv("HUBKIT_LAB_ROOT", str(tmp_path / "lab"))
    session = AppSession(store=builder_store, user="carol")
    page = builder_page(session)
    page.poll_s = 0.2
    seen: list[str] = []
    show = page._show
    page._show = lambda p: (seen.append(p.stage), show(p))  # what the person saw, in order
    page.goal.value = "math"
    upload(page, GOOD, "sums.jsonl")
    page.name.value = "Carol's sums"
    stop = threading.Event()  # the platform's evaluation worker: the page itself submits nothing
    worker = threading.Thread(target=serve_worker, args=(builder_store,),
                              kwargs={"options": WorkerOptions(limit=4), "stop": stop, "poll_s": 0.5})
    worker.start()
    try:
        page.train_button.click()
        assert page.job is not None and page.train_button.disabled and not page.stop_button.disabled
        page.follower.join(900)
    finally:
        jobs.shutdown()
        stop.set()
        worker.join()
    assert not page.follower.is_alive()
    assert page.job.last.stage == "done" and page.job.last.ok, page.job.last.sentence
    assert "training" in seen and "evaluating" in seen and seen[-1] == "done"
    run = builder_store.get_run(page.result_slug)
    assert page.shown_advice is not None and "hk-advice" in page.advice.value  # shown before the job started
    assert stored_advice(builder_store, run.id) == page.shown_advice  # and kept with the run as shown
    assert run.training_outcome.value == "success" and run.owner == "carol" and run.visibility.value == "private"
    assert run.executed_by.value == "platform"
    assert set(run.benchmark_scores) >= {"math", "code"}
    assert len(page.progress.points) == len(builder_store.loss_points(run.id)) > 0
    assert page.progress.bar.bar_style == "success"
    (train_job,) = [j for j in builder_store.list_jobs(owner="carol") if j.kind == "train"]
    assert train_job.state.value == "succeeded" and train_job.model_id == run.id
    lab_copy = tmp_path / "lab" / "hubkit-runs" / f"{run.slug}.ipynb"
    assert lab_copy.is_file() and f"hubkit-runs/{run.slug}.ipynb" in page.lab_link.value
    assert f"({run.slug})" in lab_copy.read_text()  # the executed notebook, with its outputs
    results = page.results.children[0]
    assert "its base model" in html_of(results)
    assert results.thumbs.value is None  # nothing chosen for the owner
    results.thumbs.value = False
    results.comment.value = "too small"
    results.send_button.click()
    results.publish_button.click()
    assert builder_store.get_run(run.id).visibility.value == "public"
    (fb,) = builder_store.list_feedback(run.id)
    assert (fb.thumbs_up, fb.comment) == (False, "too small")
    assert builder_store.get_dataset(run.dataset_id).name == "sums.jsonl"
