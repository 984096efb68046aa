"""The platform's evaluation queue: a request per finished run, claimed under a lease, scored once."""
from __future__ import annotations

import threading
import time

import pytest

from hubkit.store import LocalStore
from hubkit.store.records import EvaluationIn
from tests.fixtures.db import seed_minimal

ADAPTER = {"adapter": "a" * 64}
SCORE = EvaluationIn(domain="math", task="mw_math", metric="acc", value=0.5, stderr=0.1, n_samples=4,
                     stamp={"harness": "test"})


@pytest.fixture
def local(db_url: str) -> LocalStore:
    store = LocalStore(db_url)
    seed_minimal(store)
    return store


def _finished(store: LocalStore, name: str = "m", **kw) -> int:  # type: ignore[no-untyped-def]
    run = store.create_run(owner="alice", name=name, domain="math", base_model="llama3-standin")
    store.finish_run(run.id, outcome=kw.pop("outcome", "success"), artifacts=kw.pop("artifacts", ADAPTER), **kw)
    return run.id


def test_the_request_is_written_with_the_outcome_and_only_for_runs_with_an_adapter(local: LocalStore) -> None:
    scored = _finished(local)
    bare = _finished(local, "bare", outcome="failure", failure_class="divergence", artifacts=None)
    assert local.evaluation_request(scored).state == "queued"
    assert local.evaluation_request(bare) is None
    running = local.create_run(owner="alice", name="late", domain="math", base_model="llama3-standin")
    local.add_artifacts(running.id, ADAPTER)  # a checkpoint's adapter while running asks for nothing yet
    assert local.evaluation_request(running.id) is None
    assert local.reap(stale_after_s=-1) == [running.id]  # lost, but with a last good adapter
    assert local.evaluation_request(running.id).state == "queued"


def test_a_claim_is_exclusive_and_scores_land_once_with_done(local: LocalStore) -> None:
    run_id = _finished(local)
    claim = local.claim_evaluation(worker="w1", lease_s=60)
    assert claim is not None and claim.model_id == run_id and claim.attempts == 1
    assert local.claim_evaluation(worker="w2", lease_s=60) is None  # held
    assert local.renew_evaluation(claim, lease_s=60)
    assert local.complete_evaluation(claim, [SCORE])
    assert not local.complete_evaluation(claim, [SCORE])  # a second completion records nothing
    assert len(local.list_evaluations(model_id=run_id)) == 1
    assert local.evaluation_request(run_id).state == "done"
    assert local.get_run(run_id).evaluated_at is not None
    assert local.claim_evaluation(worker="w2", lease_s=60) is None


def test_an_expired_lease_passes_to_another_worker_and_the_first_is_refused(local: LocalStore) -> None:
    run_id = _finished(local)
    dead = local.claim_evaluation(worker="dies", lease_s=0.2)
    time.sleep(0.4)
    taker = local.claim_evaluation(worker="retries", lease_s=60)
    assert taker is not None and taker.model_id == run_id and taker.attempts == 2
    assert not local.renew_evaluation(dead, lease_s=60)
    assert not local.complete_evaluation(dead, [SCORE])  # the dead worker's late scores are refused
    assert local.complete_evaluation(taker, [SCORE])
    assert len(local.list_evaluations(model_id=run_id)) == 1
    kinds = [e.kind for e in local.list_events(run_id)]
    assert kinds.count("evaluation_started") == 2 and kinds.count("evaluation_finished") == 1


def test_a_failed_evaluation_is_retried_then_given_up(local: LocalStore) -> None:
    run_id = _finished(local)
    for attempt in (1, 2):
        claim = local.claim_evaluation(worker="w", lease_s=60, max_attempts=2)
        assert claim is not None and claim.attempts == attempt
        assert local.fail_evaluation(claim, error="boom", retry=attempt < 2)
    assert local.claim_evaluation(worker="w", lease_s=60, max_attempts=2) is None
    request = local.evaluation_request(run_id)
    assert request.state == "failed" and request.error == "boom"
    last = [e for e in local.list_events(run_id) if e.kind == "evaluation_failed"][-1]
    assert last.payload == {"message": "boom", "final": True}


def test_racing_claimers_each_get_a_different_request(local: LocalStore) -> None:
    ids = {_finished(local, f"m{i}") for i in range(6)}
    barrier = threading.Barrier(6)
    got: list[int | None] = []

    def claim() -> None:
        store = LocalStore(local.url)
        barrier.wait()
        c = store.claim_evaluation(worker=threading.current_thread().name, lease_s=60)
        got.append(c.model_id if c else None)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(g for g in got if g is not None) == sorted(ids)
