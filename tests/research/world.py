"""A small but varied run database, written through the Store like the platform does.

Every kind of record the research layer reads appears at least once: successes
with scores on several domains, a fork chain, a diverged run with NaN in its
curve, a partial run, a lost run, an early stop, a thumbs-down, a private run,
derived and tainted datasets.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from hubkit.store import LocalStore
from hubkit.store.records import EvaluationIn

STAMP = {"harness": "lm-eval 0.4.13", "shots": 0, "limit": 200, "batch_size": 8}
DOMAINS = ("math", "code", "translation", "reading")
TASKS = {"math": "mw_math", "code": "mw_code", "translation": "mw_translation", "reading": "mw_reading"}


def fingerprint(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def score(store: LocalStore, *, model_id: int | None = None, base: str | None = None, domain: str,
          value: float, stderr: float = 0.02, n: int = 200) -> None:
    store.record_evaluation(
        evaluation=EvaluationIn(domain=domain, task=TASKS[domain], metric="acc", value=value, stderr=stderr,
                                n_samples=n, stamp=STAMP),
        model_id=model_id, base_model=base)


def curve(n: int, *, start: float = 2.5, end: float = 1.0, evals: bool = True) -> list[dict]:
    points = []
    for i in range(n):
        loss = start + (end - start) * i / max(n - 1, 1)
        point = {"step": (i + 1) * 10, "epoch": (i + 1) / n, "loss": loss, "lr": 2e-4, "grad_norm": 1.0}
        if evals and i % 5 == 4:
            point["eval_loss"] = loss + 0.1
        points.append(point)
    return points


@dataclass
class World:
    store: LocalStore
    ids: dict[str, int] = field(default_factory=dict)
    datasets: dict[str, int] = field(default_factory=dict)


def build_world(url: str) -> World:
    store = LocalStore(url)
    world = World(store)
    for user, role in (("alice", "developer"), ("bob", "casual"), ("carol", "researcher"), ("root", "admin")):
        store.ensure_user(user, role=role)
    store.upsert_base_model(key="llama3-standin", family="llama3", hf_id="meta-llama/Meta-Llama-3-8B",
                            architecture="LlamaForCausalLM", licence="llama3", is_standin=True)
    store.upsert_base_model(key="qwen2-standin", family="qwen2", hf_id="Qwen/Qwen2-0.5B",
                            architecture="Qwen2ForCausalLM", licence="apache-2.0", is_standin=True)
    for base in ("llama3-standin", "qwen2-standin"):
        for domain in DOMAINS:
            score(store, base=base, domain=domain, value=0.40)

    # shared examples (no owner) that several users train on; bob's own derived dataset stays his
    raw = store.register_dataset(owner=None, name="math raw", fingerprint=fingerprint("raw"),
                                 format="instruction", n_rows=800)
    clean = store.register_dataset(owner=None, name="math clean", fingerprint=fingerprint("clean"),
                                   format="instruction", n_rows=600, parent_dataset_id=raw.id)
    more = store.register_dataset(owner="bob", name="math more", fingerprint=fingerprint("more"),
                                  format="instruction", n_rows=3000, parent_dataset_id=clean.id)
    other = store.register_dataset(owner=None, name="phrases", fingerprint=fingerprint("phrases"),
                                   format="prompt_completion", n_rows=150)
    world.datasets.update(raw=raw.id, clean=clean.id, more=more.id, other=other.id)

    def run(key: str, *, owner: str = "alice", domain: str = "math", base: str = "llama3-standin",
            dataset: str = "clean", lr: float = 2e-4, r: int = 16, visibility: str = "public",
            parent: str | None = None, relation: str = "fork", hardware: dict | None = None) -> int:
        config = {"learning_rate": lr, "lora": {"r": r, "alpha": 2 * r, "target_modules": ["q_proj", "v_proj"]},
                  "epochs": 2, "preset": "balanced", "gradient_checkpointing": False}
        if parent is None:
            rec = store.create_run(owner=owner, name=key, domain=domain, base_model=base,
                                   dataset_id=world.datasets[dataset], config=config, seed=1, visibility=visibility,
                                   hardware=hardware or {"kind": "cpu", "index": None, "precision": "fp32"})
        else:
            rec = store.fork_run(world.ids[parent], owner=owner, name=key, relation=relation, domain=domain,
                                 dataset_id=world.datasets[dataset], config=config, seed=2, visibility=visibility)
        world.ids[key] = rec.id
        return rec.id

    # A good math model whose translation rose too, and its fork chain.
    good = run("math-good")
    store.append_points(good, curve(20))
    store.finish_run(good, outcome="success")
    for domain, value in (("math", 0.70), ("code", 0.41), ("translation", 0.55), ("reading", 0.39)):
        score(store, model_id=good, domain=domain, value=value)
    child = run("math-child", parent="math-good", dataset="more", owner="bob")
    store.append_points(child, curve(10, start=1.2, end=0.9))
    store.finish_run(child, outcome="success")
    for domain, value in (("math", 0.74), ("code", 0.40), ("translation", 0.56), ("reading", 0.40)):
        score(store, model_id=child, domain=domain, value=value)
    grandchild = run("math-grandchild", parent="math-child", owner="bob", relation="continue")
    store.append_points(grandchild, curve(10, start=0.9, end=0.8))
    store.finish_run(grandchild, outcome="success")
    score(store, model_id=grandchild, domain="math", value=0.30)  # worse than the base: a regression

    # Diverged at high learning rate: NaN in the curve.
    diverged = run("math-diverged", lr=5e-2)
    points = curve(6)
    points += [{"step": 70, "epoch": 0.7, "loss": 40.0, "lr": 5e-2, "grad_norm": 900.0},
               {"step": 80, "epoch": 0.8, "loss": math.nan, "lr": 5e-2, "grad_norm": math.inf}]
    store.append_points(diverged, points)
    store.finish_run(diverged, outcome="failure", failure_class="divergence",
                     failure_message="The loss became NaN at step 80.")

    # Partial: stopped by its time budget.
    partial = run("translation-partial", domain="translation", dataset="other", base="qwen2-standin", r=8)
    store.append_points(partial, curve(8, start=3.0, end=2.2))
    store.finish_run(partial, outcome="partial", failure_class="time_budget", failure_message="Time budget reached.")

    # Out of memory, private.
    oom = run("code-oom", domain="code", dataset="other", visibility="private", r=64,
              hardware={"kind": "cuda", "index": 1, "name": "NVIDIA H200", "precision": "bf16"})
    store.finish_run(oom, outcome="failure", failure_class="oom", failure_message="CUDA out of memory.")

    # Early stop without improvement: eval loss never got better than its first value.
    stalled = run("reading-stalled", domain="reading", dataset="other", base="qwen2-standin")
    flat = [{"step": (i + 1) * 10, "epoch": i / 10, "loss": 2.0 - 0.01 * i, "lr": 1e-4, "grad_norm": 1.0,
             **({"eval_loss": 2.0 + 0.02 * i} if i % 2 else {})} for i in range(12)]
    store.append_points(stalled, flat)
    store.record_event(stalled, "early_stop", {"step": 120, "improved": False, "checks": 3})
    store.finish_run(stalled, outcome="failure", failure_class="early_stop_no_improvement",
                     failure_message="Training stopped early: the loss on held-back data never improved in 3 checks.")

    # Stopped early after improving: an exhibit, but a success.
    improved = run("reading-improved", domain="reading", dataset="other", base="qwen2-standin")
    store.append_points(improved, curve(12))
    store.record_event(improved, "early_stop", {"step": 120, "improved": True, "checks": 3})
    store.finish_run(improved, outcome="success")

    # An exception, recorded the way training records it.
    crashed = run("code-crashed", domain="code", dataset="other", base="qwen2-standin", lr=1e-4, r=8)
    store.append_points(crashed, curve(2))
    store.finish_run(crashed, outcome="failure", failure_class="exception",
                     failure_message="Training stopped with an error: ValueError: tokenizer returned no tokens")

    # Fine, but users disliked it.
    disliked = run("translation-disliked", domain="translation", dataset="other", owner="bob")
    store.append_points(disliked, curve(10))
    store.finish_run(disliked, outcome="success")
    score(store, model_id=disliked, domain="translation", value=0.45)
    store.record_feedback(disliked, user="alice", thumbs_up=False, comment="Outputs gibberish.")
    store.record_feedback(disliked, user="carol", thumbs_up=False)
    store.record_feedback(disliked, user="root", thumbs_up=True)  # 2 of 3 voters: a majority down
    store.record_feedback(good, user="bob", thumbs_up=True, comment="Nice!")

    # Killed: heartbeats stopped; the reaper marks it lost.
    lost = run("math-lost", owner="bob")
    store.append_points(lost, curve(3))
    store.reap(stale_after_s=-1)
    assert store.get_run(lost).failure_class == "lost"
    return world
