"""The platform notebooks and templates as jobs on the stand-ins (slow: real LoRA training)."""
from __future__ import annotations

import pytest

from hubkit import jobs
from hubkit.errors import NotFound, ValidationError
from tests.jobs.conftest import JobHub
from tests.jobs.helpers import archived_notebook, outputs_text, wait_until


@pytest.mark.parametrize("params,field,words", [
    ({"learning_rate": -1}, "learning_rate", "Learning rate ('learning_rate') must be greater than 0; you gave -1."),
    ({"learning_rate": "fast"}, "learning_rate", "must be a number"),
    ({"base_model": "llama9-giant"}, "base_model", "There is no base model 'llama9-giant'"),
    ({"preset": "turbo"}, "preset", "There is no preset 'turbo'; choose one of: quick"),
    ({"lora_r": 0}, "lora_r", "greater than or equal to 1"),
    ({"example_rows": 3}, "example_rows", "greater than or equal to 8"),
])
def test_train_notebook_refuses_bad_settings_before_queueing(job_hub: JobHub, params: dict, field: str,
                                                             words: str) -> None:
    with pytest.raises(ValidationError) as err:
        jobs.submit(notebook="train", parameters=params, owner="alice", store=job_hub.store,
                    settings=job_hub.settings)
    assert err.value.field == field
    assert words in err.value.message
    assert job_hub.store.list_jobs() == []


def test_evaluate_notebook_refuses_an_unknown_run(job_hub: JobHub) -> None:
    # the one id check answers before the notebook's own, as it would for another user's private run
    with pytest.raises(NotFound, match="There is no model 99"):
        jobs.submit(notebook="evaluate", parameters={"run_id": 99}, owner="alice", store=job_hub.store,
                    settings=job_hub.settings)


@pytest.mark.slow
def test_template_job_is_recorded_with_its_version_and_reruns_identically(train_hub: JobHub) -> None:
    hub = train_hub
    first = jobs.submit(notebook="template:first-finetune", parameters={"max_steps": 3, "seed": 11},
                        owner="alice", store=hub.store, settings=hub.settings)
    first = jobs.wait(first.id, timeout_s=600, store=hub.store, settings=hub.settings)
    assert first.state.value == "succeeded", first.error
    run = hub.store.get_run(first.model_id)
    assert (run.template, run.template_version, run.executed_by.value) == ("first-finetune", "1", "platform")
    assert run.training_outcome.value == "success" and run.artifacts["adapter"]
    (original,) = hub.store.list_notebook_runs(job_id=first.id)
    assert (original.template, original.template_version) == ("first-finetune", "1")

    again = jobs.rerun(first.model_id, owner="alice", store=hub.store, settings=hub.settings)
    again = jobs.wait(again.id, timeout_s=600, store=hub.store, settings=hub.settings)
    assert again.state.value == "succeeded", again.error
    repeat = hub.store.get_run(again.model_id)
    assert repeat.id != run.id and repeat.config == run.config
    assert repeat.loss_curve_data == run.loss_curve_data  # same seed on the CPU: the same curve
    (nb_rerun,) = hub.store.list_notebook_runs(job_id=again.id)
    assert nb_rerun.rerun_of == original.id and nb_rerun.template == "first-finetune"


@pytest.mark.slow
def test_running_job_names_its_run_at_once_and_cancel_ends_it_partial(train_hub: JobHub) -> None:
    hub = train_hub
    job = jobs.submit(notebook="train", parameters={"max_steps": 2000, "example_rows": 64}, owner="alice",
                      store=hub.store, settings=hub.settings)
    wait_until(lambda: jobs.status(job.id, store=hub.store, settings=hub.settings).run_id is not None
               or hub.store.get_job(job.id).error, timeout_s=600, what="the job to name its run")
    early = jobs.status(job.id, store=hub.store, settings=hub.settings)
    (run,) = hub.store.list_runs(owner="alice")
    run_id = run.id
    # named while it runs, long before train.run returns
    assert (early.state, early.final, early.run_id, early.total_steps) == ("running", False, run_id, 2000)
    wait_until(lambda: (jobs.status(job.id, store=hub.store, settings=hub.settings).step or 0) >= 2,
               timeout_s=600, what="two training steps")
    st = jobs.status(job.id, store=hub.store, settings=hub.settings)
    assert st.state == "running" and st.run_id == run_id and isinstance(st.loss, float)
    job = jobs.cancel(job.id, grace_s=60, store=hub.store, settings=hub.settings)
    assert job.state.value == "cancelled" and job.model_id == run_id
    run = hub.store.get_run(run_id)
    assert run.training_outcome.value == "partial"
    assert 2 <= max(p["step"] for p in run.loss_curve_data) < 2000
    assert "partial" in outputs_text(archived_notebook(hub.store, hub.settings, job))
    assert jobs.status(job.id, store=hub.store, settings=hub.settings).final
