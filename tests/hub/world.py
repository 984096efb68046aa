"""A small, hand-built hub for the apps' tests: written only through the Store.

Two base families with baselines, a public math model that is much better at
math, the same at code and slightly worse at translation, a public fork of it,
a private model, a failed run and a model whose name is an HTML injection.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hubkit.store import Store
from hubkit.store.records import EvaluationIn, RunRecord

STAMP = {"harness": "0.4.13", "task_version": 1, "shots": 0, "limit": 200, "batch_size": 8}
OTHER_STAMP = {**STAMP, "shots": 5}
XSS_NAME = "<img src=x onerror=alert(1)>"

BASELINE = {  # domain → (task, metric, value, stderr)
    "math": ("mw_math", "exact_match", 0.20, 0.02),
    "code": ("mw_code", "pass@1", 0.30, 0.02),
    "translation": ("mw_translation", "chrf", 50.0, 1.0),
}


@dataclass(frozen=True)
class World:
    math_model: RunRecord
    fork: RunRecord
    private: RunRecord
    failed: RunRecord
    xss: RunRecord


def _evaluate(store: Store, values: dict[str, tuple[float, float]], *, model_id: int | None = None,
              base_model: str | None = None, stamp: dict | None = None) -> None:
    for domain, (value, stderr) in values.items():
        task, metric, _, _ = BASELINE[domain]
        store.record_evaluation(
            evaluation=EvaluationIn(domain=domain, task=task, metric=metric, value=value, stderr=stderr,
                                    n_samples=200, stamp=stamp or STAMP),
            model_id=model_id, base_model=base_model)


def _curve(steps: int, *, start: float = 3.0, nan_at: int | None = None) -> list[dict]:
    points = []
    for step in range(1, steps + 1):
        loss = start * math.exp(-step / (steps / 2)) + 0.4
        point = {"step": step, "epoch": step / steps, "loss": loss, "lr": 2e-4, "grad_norm": 1.0}
        if step % 5 == 0:
            point["eval_loss"] = loss + 0.1
        if nan_at is not None and step >= nan_at:
            point["loss"] = float("nan")
        points.append(point)
    return points


def _finished(store: Store, run: RunRecord, *, steps: int = 20, outcome: str = "success", **kw) -> RunRecord:
    store.append_points(run.id, _curve(steps, nan_at=kw.pop("nan_at", None)))
    return store.finish_run(run.id, outcome=outcome, **kw)


def build_world(store: Store) -> World:
    """Seed ``store`` (which already has users alice, bob, root and ``llama3-standin``)."""
    store.upsert_base_model(key="qwen2-standin", family="qwen2", hf_id="Qwen/Qwen2-0.5B",
                            architecture="Qwen2ForCausalLM", licence="apache-2.0", parameters=900_000,
                            is_standin=True)
    baseline = {d: (v, se) for d, (_, _, v, se) in BASELINE.items()}
    _evaluate(store, baseline, base_model="llama3-standin")
    _evaluate(store, baseline, base_model="qwen2-standin")

    ds = store.register_dataset(owner="alice", name="Tiny sums <b>v1</b>", fingerprint="f" * 64,
                                format="instruction", n_rows=120, stats={"rows": 120, "tokens": 4800},
                                source="upload", licence="cc-by-4.0")
    math_model = store.create_run(owner="alice", name="Math whiz", domain="math", base_model="llama3-standin",
                                  dataset_id=ds.id, config={"learning_rate": 2e-4, "lora_r": 16},
                                  visibility="public", description="Adds small numbers.")
    math_model = _finished(store, math_model)
    _evaluate(store, {"math": (0.32, 0.02), "code": (0.31, 0.02), "translation": (47.0, 1.0)},
              model_id=math_model.id)

    fork = store.fork_run(math_model.id, owner="bob", name="Math whiz plus", visibility="public")
    fork = _finished(store, fork)
    _evaluate(store, {"math": (0.40, 0.02), "code": (0.30, 0.02), "translation": (47.0, 1.0)},
              model_id=fork.id)

    private = store.create_run(owner="bob", name="Bob's secret", domain="code", base_model="qwen2-standin")
    private = _finished(store, private)
    _evaluate(store, {"math": (0.10, 0.02), "code": (0.90, 0.02), "translation": (50.0, 1.0)},
              model_id=private.id)

    failed = store.create_run(owner="alice", name="Too hot", domain="math", base_model="qwen2-standin",
                              config={"learning_rate": 5.0}, visibility="public")
    failed = _finished(store, failed, steps=10, outcome="failure", nan_at=7, failure_class="divergence",
                       failure_message="The loss became NaN at step 7.")

    xss = store.create_run(owner="bob", name=XSS_NAME, domain="math", base_model="qwen2-standin",
                           visibility="public", description=XSS_NAME)
    xss = _finished(store, xss)
    _evaluate(store, {"math": (0.25, 0.02)}, model_id=xss.id)
    _evaluate(store, {"math": (0.99, 0.01)}, model_id=xss.id, stamp=OTHER_STAMP)
    store.record_feedback(math_model.id, user="bob", thumbs_up=True, comment=XSS_NAME)
    store.record_feedback(math_model.id, user="root", thumbs_up=False, comment="Needs more data.")
    return World(math_model=store.get_run(math_model.id), fork=store.get_run(fork.id),
                 private=store.get_run(private.id), failed=store.get_run(failed.id), xss=store.get_run(xss.id))
