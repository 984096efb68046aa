"""The prediction shown before launch is kept with the run, and the profile compares it with reality."""
from __future__ import annotations

from hubkit.catalog import base_model_records
from hubkit.hub.advice import launch_advice, launch_recorder, prediction_check, stored_advice
from hubkit.hub.profile import model_profile
from hubkit.store import LocalStore

SPEC = {"base_model": "llama3-standin", "domain": "math", "dataset": {"example": "math", "example_rows": 64},
        "lora_r": 8, "lora_alpha": 16, "max_steps": 16, "batch_size": 4, "max_seq_len": 128, "learning_rate": 50.0}


def test_the_prediction_kept_at_launch_is_the_one_shown_and_the_profile_weighs_it(db_url: str):
    store = LocalStore(db_url)
    for row in base_model_records():
        store.upsert_base_model(**row)
    store.ensure_user("carol")
    shown = launch_advice(spec=SPEC, store=store).payload()
    assert shown["failure_risk"] >= 0.5 and shown["recommendation"] is None or shown["recommendation"]["settings"]
    run = store.create_run(owner="carol", name="hot sums", domain="math", base_model="llama3-standin", config=SPEC,
                           visibility="public")
    seen: list[int] = []
    launch_recorder(store, shown, then=lambda record: seen.append(record.id))(run)
    assert seen == [run.id]
    assert stored_advice(store, run.id) == shown  # exactly what was on screen, after the database round trip
    assert "not scored yet" in prediction_check(store=store, run=store.get_run(run.id))
    store.finish_run(run.id, outcome="failure", failure_class="divergence", failure_message="loss blew up")
    sentence = model_profile(store=store, model=run.slug, viewer="carol").prediction
    assert sentence == (f"At launch the advisor gave a {shown['failure_risk']:.0%} chance of failure; "
                        "the run failed (divergence).")
    other = store.create_run(owner="carol", name="no advice", domain="math", base_model="llama3-standin")
    launch_recorder(store, {})(other)  # nothing shown, nothing kept
    assert stored_advice(store, other.id) is None and prediction_check(store=store, run=other) is None
