"""Following a builder job through the store: what the page says at each stage.

The job rows, runs and points are real store records, moved on here the way
a worker and a training run move them (the full path, with a real worker and
real training, is the slow builder test and the browser test).
"""
from __future__ import annotations

import json

import pytest

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.errors import NotFound
from hubkit.hub import AppSession, open_in_lab
from hubkit.hub.building import TrainingJob, train_parameters
from hubkit.store import LocalStore
from hubkit.store.records import RunRecord
from tests.fixtures.db import seed_minimal


@pytest.fixture
def job_store(settings) -> LocalStore:
    store = LocalStore(settings.database_url)
    seed_minimal(store)
    return store


def new_job(store: LocalStore, **parameters: object) -> int:
    return store.create_job(owner="alice", kind="train", notebook="train", parameters=parameters).id


def training_job(store: LocalStore) -> tuple[TrainingJob, int, RunRecord]:
    """A job a worker has claimed, whose notebook has created its run: as the page first follows it."""
    job_id = new_job(store)
    follow = TrainingJob(session=AppSession(store=store, user="alice"), job_id=job_id)
    store.claim_job(job_id)
    run = store.create_run(owner="alice", name="x", domain="math", base_model="llama3-standin")
    store.update_job(job_id, model_id=run.id)
    return follow, job_id, run


def test_a_job_from_queue_to_trained(job_store):
    session = AppSession(store=job_store, user="alice")
    job_id = new_job(job_store)
    follow = TrainingJob(session=session, job_id=job_id, evaluate=False, expected_steps=4)
    seen = follow.poll()
    assert (seen.stage, seen.final) == ("queued", False) and f"job {job_id}" in seen.sentence
    assert job_store.claim_job(job_id)
    assert follow.poll().sentence == "Starting the training notebook."
    run = job_store.create_run(owner="alice", name="<b>sums</b>", domain="math", base_model="llama3-standin",
                               config={"max_steps": 4})
    job_store.update_job(job_id, model_id=run.id)  # the notebook says which run it made, as soon as it exists
    seen = follow.poll()
    assert (seen.stage, seen.run_id, seen.sentence) == ("training", run.id, "Loading the model and the data.")
    job_store.append_points(run.id, [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.0}])
    seen = follow.poll()
    assert (seen.step, seen.total_steps, seen.fraction) == (2, 4, 0.5)
    assert seen.sentence == "Step 2 of 4: loss 2.000" and [p["step"] for p in seen.points] == [1, 2]
    job_store.append_points(run.id, [{"step": 3, "loss": float("nan")}])
    assert follow.poll().points[-1]["step"] == 3  # the curve grows with every point the run logs
    job_store.append_points(run.id, [{"step": 4, "loss": 1.5}])
    job_store.finish_run(run.id, outcome="success", artifacts={"adapter": "0" * 64})
    job_store.update_job(job_id, state="succeeded")
    seen = follow.poll()
    assert (seen.stage, seen.final, seen.ok, seen.slug, seen.fraction) == ("done", True, True, run.slug, 1.0)
    assert len(seen.points) == 4
    assert follow.poll() is seen  # nothing changes after the end


def test_a_failed_run_says_why(job_store):
    follow, job_id, run = training_job(job_store)
    job_store.finish_run(run.id, outcome="failure", failure_class="divergence",
                         failure_message="Training diverged: the loss became NaN.")
    job_store.update_job(job_id, state="failed", error="Cell 9 failed: RuntimeError: Training failed")
    seen = follow.poll()
    assert (seen.stage, seen.final, seen.ok) == ("failed", True, False)
    assert seen.sentence == "Training diverged: the loss became NaN."  # the run's words before the job's


def test_a_job_that_never_made_a_run(job_store):
    follow = TrainingJob(session=AppSession(store=job_store, user="alice"), job_id=(job_id := new_job(job_store)))
    job_store.claim_job(job_id)
    job_store.update_job(job_id, state="failed", error="The notebook could not run: kernel died")
    seen = follow.poll()
    assert (seen.stage, seen.sentence, seen.slug) == ("failed", "The notebook could not run: kernel died", None)


def test_stop_waits_for_the_run_to_save_what_it_learnt(job_store):
    follow, job_id, run = training_job(job_store)
    job_store.append_points(run.id, [{"step": 1, "loss": 2.5}])
    follow.stop(grace_s=0)  # no worker to signal: the job is recorded cancelled
    assert job_store.get_job(job_id).state.value == "cancelled"
    seen = follow.poll()
    assert (seen.stage, seen.final) == ("stopped", False) and seen.sentence.startswith("Stopping")
    job_store.finish_run(run.id, outcome="partial", failure_class="cancelled",
                         failure_message="Training was cancelled at step 1; what was learnt is kept.")
    seen = follow.poll()
    assert (seen.stage, seen.final, seen.slug) == ("stopped", True, run.slug)
    assert seen.sentence.startswith("Training was cancelled at step 1")


def test_the_notebook_gets_the_whole_spec_and_the_parent():
    from hubkit.train import TrainSpec, spec_from_preset

    spec = spec_from_preset("quick", base_model="llama3-standin", domain="math",
                            dataset={"example": "math", "example_rows": 40})
    spec.use_dora = True
    params = train_parameters(spec, parent_model_id=7)
    assert params["parent_model_id"] == 7
    assert TrainSpec.parse(json.loads(json.dumps(params["spec"]))) == spec


def test_open_in_lab_copies_the_executed_notebook(job_store, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBKIT_LAB_ROOT", str(tmp_path / "lab"))
    session = AppSession(store=job_store, user="alice")
    run = job_store.create_run(owner="alice", name="x", domain="math", base_model="llama3-standin")
    with pytest.raises(NotFound, match="has no executed notebook"):
        open_in_lab(session=session, run=run.id)
    executed = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    job_store.add_artifacts(run.id, {"notebook": open_archive(namespace=NOTEBOOKS).put_bytes(executed)})
    url = open_in_lab(session=session, run=run.slug)
    assert url == f"/hub/user-redirect/lab/tree/hubkit-runs/{run.slug}.ipynb"
    assert (tmp_path / "lab" / "hubkit-runs" / f"{run.slug}.ipynb").read_bytes() == executed
    with pytest.raises(NotFound):  # someone else's private run
        open_in_lab(session=AppSession(store=job_store, user="bob"), run=run.id)


def test_after_training_the_page_only_watches_the_platforms_evaluation(job_store):
    from hubkit.store.records import EvaluationIn

    follow, job_id, run = training_job(job_store)
    job_store.finish_run(run.id, outcome="success", artifacts={"adapter": "0" * 64})
    job_store.update_job(job_id, state="succeeded")
    seen = follow.poll()
    assert (seen.stage, seen.final) == ("evaluating", False) and "waiting for its turn" in seen.sentence
    assert [j.id for j in job_store.list_jobs(owner="alice")] == [job_id]  # the page submitted nothing
    claim = job_store.claim_evaluation(worker="platform", lease_s=60)  # the platform's worker takes it
    assert claim is not None and claim.model_id == run.id
    assert follow.poll().sentence == "Training finished. Checking the new model on every domain."
    job_store.complete_evaluation(claim, [EvaluationIn(domain="math", task="mw_math", metric="acc", value=0.5)])
    seen = follow.poll()
    assert (seen.stage, seen.final, seen.ok, seen.error) == ("done", True, True, None)


def test_an_evaluation_given_up_by_the_platform_is_said_in_words(job_store):
    follow, job_id, run = training_job(job_store)
    job_store.finish_run(run.id, outcome="success", artifacts={"adapter": "0" * 64})
    job_store.update_job(job_id, state="succeeded")
    claim = job_store.claim_evaluation(worker="platform", lease_s=60)
    job_store.fail_evaluation(claim, error="The stand-in has not been built yet.", retry=False)
    seen = follow.poll()
    assert seen.final and seen.error == "The stand-in has not been built yet."
    assert seen.sentence.startswith("Training finished, but checking the new model did not")
