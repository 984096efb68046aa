"""Ownership and visibility enforced by the service, whatever a user's kernel sends."""
from __future__ import annotations

import pytest

from hubkit.errors import NotFound, PermissionDenied
from hubkit.store.records import EvaluationIn
from tests.fixtures.service import PLATFORM


@pytest.fixture
def alices_run(svc):
    return svc.api_store("alice").create_run(owner="alice", name="private math", domain="math",
                                             base_model="llama3-standin")


def test_users_records_are_marked_user_and_owned_by_the_token_holder(svc):
    alice = svc.api_store("alice")
    run = alice.create_run(owner="alice", name="m", domain="math", base_model="llama3-standin", executed_by="platform")
    assert run.executed_by.value == "user" and run.owner == "alice"
    with pytest.raises(PermissionDenied):
        alice.create_run(owner="bob", name="m", domain="math", base_model="llama3-standin")
    assert [r.id for r in svc.local.list_runs()] == [run.id]


def test_private_models_answer_404_to_others_and_visitors(svc, alices_run):
    for who in ("bob", None):
        r = svc.http(who).get(f"/v1/runs/{alices_run.id}")
        assert r.status_code == 404 and r.json()["type"] == "NotFound"
        assert svc.http(who).get(f"/v1/runs/{alices_run.id}/points").status_code == 404
        assert alices_run.id not in [x["id"] for x in svc.http(who).get("/v1/runs").json()]
    assert svc.http("root").get(f"/v1/runs/{alices_run.id}").status_code == 200  # admins moderate


WRITES = [
    ("post", "/points", {"points": [{"step": 1, "loss": 1.0}]}),
    ("post", "/heartbeat", None),
    ("post", "/finish", {"outcome": "success"}),
    ("post", "/artifacts", {"artifacts": {"adapter": "a" * 64}}),
    ("post", "/events", {"kind": "note", "payload": {}}),
    ("put", "/visibility", {"visibility": "private"}),
    ("post", "/fork", {"name": "continued", "relation": "continue"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_every_write_refuses_another_users_model(svc, alices_run, method, suffix, body):
    before = svc.local.get_run(alices_run.id)
    events = len(svc.local.list_events(alices_run.id))
    url = f"/v1/runs/{alices_run.id}{suffix}"
    hidden = getattr(svc.http("bob"), method)(url, json=body) if body is not None else getattr(svc.http("bob"), method)(url)
    assert hidden.status_code == 404, hidden.text  # private: its existence does not leak
    svc.local.set_visibility(alices_run.id, "public")
    seen = getattr(svc.http("bob"), method)(url, json=body) if body is not None else getattr(svc.http("bob"), method)(url)
    assert seen.status_code == 403, seen.text  # public: visible, still not bob's to change
    assert svc.http(None).request(method.upper(), url, json=body).status_code == 401
    after = svc.local.get_run(alices_run.id)
    assert (after.status, after.artifacts, after.training_outcome) == (before.status, before.artifacts, None)
    assert svc.local.loss_points(alices_run.id) == []
    assert len(svc.local.list_events(alices_run.id)) == events + 1  # only the publish event


def test_forking_private_models_is_refused_and_public_ones_link_the_parent(svc, alices_run):
    bob = svc.api_store("bob")
    with pytest.raises(NotFound):
        bob.fork_run(alices_run.id, owner="bob", name="sneaky")
    svc.api_store("alice").set_visibility(alices_run.id, "public")
    fork = bob.fork_run(alices_run.id, owner="bob", name="bob's fork", executed_by="platform")
    assert fork.parent_model_id == alices_run.id and fork.owner == "bob" and fork.executed_by.value == "user"


def test_only_platform_workers_write_scores(svc, alices_run):
    svc.local.finish_run(alices_run.id, outcome="success")
    ev = EvaluationIn(domain="math", task="mw_math", metric="acc", value=1.0)
    for who in ("alice", "root"):
        with pytest.raises(PermissionDenied):
            svc.api_store(who).record_evaluation(evaluation=ev, model_id=alices_run.id)
    assert svc.local.list_evaluations(model_id=alices_run.id) == []
    svc.api_store(PLATFORM).record_evaluation(evaluation=ev, model_id=alices_run.id)
    assert len(svc.api_store("alice").list_evaluations(model_id=alices_run.id)) == 1


def test_admins_moderate_visibility_but_do_not_write_runs(svc, alices_run):
    root = svc.api_store("root")
    root.set_visibility(alices_run.id, "public")
    root.set_visibility(alices_run.id, "private")
    assert svc.local.get_run(alices_run.id).visibility.value == "private"
    with pytest.raises(PermissionDenied):
        root.append_points(alices_run.id, [{"step": 1, "loss": 1.0}])


def test_platform_only_operations_refuse_users(svc):
    alice = svc.http("alice")
    assert alice.put("/v1/base-models/x", json={"family": "f", "hf_id": "h", "architecture": "a",
                                                "licence": "l"}).status_code == 403
    assert alice.post("/v1/reap").status_code == 403
    assert alice.post("/v1/jobs/records", json={"owner": "alice", "kind": "train", "notebook": "n",
                                                "parameters": {}}).status_code == 403
    assert alice.post("/v1/events", json={"kind": "x"}).status_code == 403
    run = svc.local.create_run(owner="alice", name="m", domain="math", base_model="llama3-standin")
    assert alice.put(f"/v1/runs/{run.id}/capability-flags", json={"flags": []}).status_code == 403


def test_feedback_is_the_callers_own(svc, alices_run):
    svc.local.set_visibility(alices_run.id, "public")
    bob = svc.api_store("bob")
    with pytest.raises(PermissionDenied):
        bob.record_feedback(alices_run.id, user="alice", thumbs_up=True)
    fb = bob.record_feedback(alices_run.id, user="bob", thumbs_up=False, comment="meh")
    assert fb.user_id == svc.local.get_user("bob").id


def test_jobs_of_others_are_invisible(svc):
    job = svc.local.create_job(owner="alice", kind="train", notebook="notebooks/train.ipynb", parameters={})
    assert svc.http("bob").get(f"/v1/jobs/{job.id}").status_code == 404
    assert svc.http("alice").get(f"/v1/jobs/{job.id}").status_code == 200
    assert svc.http("bob").get("/v1/jobs").json() == []
    assert svc.http("bob").get("/v1/jobs", params={"owner": "alice"}).status_code == 403
