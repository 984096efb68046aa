"""POST /v1/advice: the builder's advice over HTTP, for signed-in callers, never about others' data."""
from __future__ import annotations

import json

from hubkit.catalog import base_model_records

SPEC = {"base_model": "llama3-standin", "domain": "math", "dataset": {"example": "math", "example_rows": 64},
        "lora_r": 8, "lora_alpha": 16, "max_steps": 16, "batch_size": 4, "max_seq_len": 128, "learning_rate": 50.0}


def test_advice_for_a_spec_and_refusals(svc):
    for row in base_model_records():
        svc.local.upsert_base_model(**row)
    r = svc.http("alice").post("/v1/advice", json={"spec": SPEC, "recommend": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["failure_risk"] >= 0.5 and body["failure_class"] == "divergence" and body["recommendation"] is None
    assert body["similar"] and body["domain"] == "math"
    assert svc.http().post("/v1/advice", json={"spec": SPEC}).status_code == 401  # visitors get nothing
    bad = svc.http("alice").post("/v1/advice", json={"spec": {**SPEC, "learning_rate": 500}})
    assert bad.status_code == 422 and "Learning rate" in bad.json()["error"]
    rows = b"".join(json.dumps({"instruction": f"{i}+{i}?", "response": str(2 * i)}).encode() + b"\n"
                    for i in range(30))
    up = svc.http("bob").put("/v1/datasets/upload", content=rows, params={"filename": "b.jsonl"},
                             headers={"Content-Type": "application/octet-stream"})
    assert up.status_code == 201, up.text
    theirs = {**SPEC, "dataset": {"dataset_id": up.json()["dataset"]["id"]}}
    assert svc.http("alice").post("/v1/advice", json={"spec": theirs}).status_code == 404  # bob's data stays his
