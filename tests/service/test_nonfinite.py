"""NaN and infinities through the API follow LocalStore's one rule: kept, as "nan", "inf", "-inf"."""
from __future__ import annotations

import math

import pytest


def _curve_through_local(svc):
    run = svc.local.create_run(owner="alice", name="local", domain="math", base_model="llama3-standin")
    svc.local.append_points(run.id, [{"step": 1, "loss": math.nan, "grad_norm": math.inf},
                                     {"step": 2, "loss": -math.inf, "epoch": 0.5}])
    return svc.local.finish_run(run.id, outcome="failure", failure_class="diverged").loss_curve_data


# the ways a client can spell a non-finite number: Python's json (bare NaN / Infinity tokens),
# the documented strings, and a literal too large for a float
BODIES = {
    "tokens": '{"points": [{"step": 1, "loss": NaN, "grad_norm": Infinity}, '
              '{"step": 2, "loss": -Infinity, "epoch": 0.5}]}',
    "strings": '{"points": [{"step": 1, "loss": "nan", "grad_norm": "inf"}, '
               '{"step": 2, "loss": "-inf", "epoch": 0.5}]}',
    "overflow": '{"points": [{"step": 1, "loss": NaN, "grad_norm": 1e999}, '
                '{"step": 2, "loss": -1e999, "epoch": 0.5}]}',
}


@pytest.mark.parametrize("spelling", list(BODIES))
def test_points_posted_through_the_api_are_kept_as_localstore_keeps_them(svc, spelling):
    expected = _curve_through_local(svc)
    assert [p["loss"] for p in expected] == ["nan", "-inf"] and expected[0]["grad_norm"] == "inf"
    run = svc.api_store("alice").create_run(owner="alice", name="api", domain="math", base_model="llama3-standin")
    http = svc.http("alice")
    r = http.post(f"/v1/runs/{run.id}/points", content=BODIES[spelling], headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    live = http.get(f"/v1/runs/{run.id}/points")
    assert live.status_code == 200 and [p["loss"] for p in live.json()] == ["nan", "-inf"]
    done = http.post(f"/v1/runs/{run.id}/finish", json={"outcome": "failure", "failure_class": "diverged"})
    assert done.status_code == 200 and done.json()["loss_curve_data"] == expected
    assert svc.local.get_run(run.id).loss_curve_data == expected


def test_the_api_store_sends_python_floats_the_same_way(svc):
    expected = _curve_through_local(svc)
    alice = svc.api_store("alice")
    run = alice.create_run(owner="alice", name="api", domain="math", base_model="llama3-standin",
                           config={"lr": math.nan})
    alice.append_points(run.id, [{"step": 1, "loss": math.nan, "grad_norm": math.inf},
                                 {"step": 2, "loss": -math.inf, "epoch": 0.5}])
    assert alice.finish_run(run.id, outcome="failure", failure_class="diverged").loss_curve_data == expected
    assert svc.local.get_run(run.id).config == {"lr": "nan"}


def test_scores_must_be_finite_through_the_api_as_in_localstore(svc):
    run = svc.local.create_run(owner="alice", name="m", domain="math", base_model="llama3-standin")
    body = ('{"model_id": %d, "evaluation": {"domain": "math", "task": "t", "metric": "acc", "value": NaN}}'
            % run.id)
    r = svc.http("platform").post("/v1/evaluations", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and svc.local.list_evaluations(model_id=run.id) == []
