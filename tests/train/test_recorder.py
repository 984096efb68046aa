"""The recorder on a real HF Trainer and a real store: points stream while training runs,
and every reason to stop fires at the step it should."""
from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import TrainingArguments

from hubkit.store import LocalStore
from hubkit.train.guard import DivergenceGuard
from hubkit.train.recorder import PointWriter, RunRecorder, point_from_logs
from hubkit.train.runner import RecordingTrainer, collate
from tests.fixtures.db import seed_minimal
from tests.train.tiny import tiny_dataset, tiny_model, tiny_tokenizer


@pytest.fixture
def store(settings) -> LocalStore:  # type: ignore[no-untyped-def]
    local = LocalStore(settings.database_url)
    seed_minimal(local)
    return local


@pytest.fixture(scope="module")
def tok():  # type: ignore[no-untyped-def]
    return tiny_tokenizer()


class Seen:
    """A Progress that remembers what it was told and can act at a given step."""

    def __init__(self, at_step: int | None = None, action=None) -> None:  # type: ignore[no-untyped-def]
        self.points: list[dict] = []
        self.at_step, self.action = at_step, action

    def on_step(self, step: int, total: int, point: dict) -> None:
        self.points.append(point)
        if self.action is not None and step == self.at_step:
            self.action()

    def on_status(self, text: str) -> None:  # pragma: no cover - not used by the recorder
        pass


def _train(tmp_path: Path, store: LocalStore, tok, *, max_steps: int = 12, cancel=lambda: False,  # type: ignore[no-untyped-def]
           budget: float | None = None, progress: Seen | None = None, hook=None):
    run = store.create_run(owner="alice", name="recorder test", domain="math", base_model="llama3-standin")
    model = get_peft_model(tiny_model(tok), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      task_type="CAUSAL_LM"))
    if hook is not None:
        model.base_model.model.model.layers[0].register_forward_hook(hook)
    writer = PointWriter(store, run.id, heartbeat_s=0.5)
    recorder = RunRecorder(writer=writer, guard=DivergenceGuard(), raw_loss=lambda: None, cancel=cancel,
                           time_budget_s=budget, patience=0, threshold=0.0, progress=progress)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=max_steps, per_device_train_batch_size=8,
                             learning_rate=1e-3, logging_steps=1, logging_nan_inf_filter=False, report_to=[],
                             disable_tqdm=True, use_cpu=True, save_strategy="no", seed=0)
    trainer = RecordingTrainer(model=model, args=args, train_dataset=tiny_dataset(tok),
                                data_collator=collate(tok.pad_token_id), callbacks=[recorder])
    recorder.raw_loss = trainer.pop_raw_loss
    trainer.train()
    writer.close()
    return run, recorder, trainer


def test_points_reach_the_store_while_training_runs(tmp_path: Path, store: LocalStore, tok) -> None:  # type: ignore[no-untyped-def]
    stored_during: list[int] = []
    run_holder: dict = {}

    def look() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            count = len(store.loss_points(run_holder["id"]))
            if count >= 5:
                break
            time.sleep(0.02)
        stored_during.append(count)

    original = store.create_run

    def remember(**kw):  # type: ignore[no-untyped-def]
        rec = original(**kw)
        run_holder["id"] = rec.id
        return rec

    store.create_run = remember  # type: ignore[method-assign]
    run, recorder, _ = _train(tmp_path, store, tok, max_steps=10, progress=Seen(at_step=6, action=look))
    assert stored_during and stored_during[0] >= 5  # already in the database at step 6 of 10
    points = store.loss_points(run.id)
    assert [p["step"] for p in points] == list(range(1, 11))
    assert all(p["loss"] is not None and p["lr"] is not None and p["grad_norm"] is not None for p in points)
    assert recorder.stop is None


def test_a_real_nan_stops_training_at_that_step_and_is_recorded(tmp_path: Path, store: LocalStore, tok) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def poison(module, args, output):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] >= 4:  # the 4th forward pass onwards: step 4
            hidden = output[0] if isinstance(output, tuple) else output
            return (hidden * float("nan"),) + tuple(output[1:]) if isinstance(output, tuple) else hidden * float("nan")
        return output

    run, recorder, trainer = _train(tmp_path, store, tok, max_steps=30, hook=poison)
    assert recorder.stop is not None and recorder.stop.kind == "divergence" and recorder.stop.step == 4
    assert trainer.state.global_step == 4
    points = store.loss_points(run.id)
    assert points[-1]["step"] == 4 and points[-1]["loss"] == "nan"  # kept, not filtered
    assert all(isinstance(p["loss"], float) and math.isfinite(p["loss"]) for p in points[:-1])


def test_cancel_stops_at_the_step_it_was_asked(tmp_path: Path, store: LocalStore, tok) -> None:  # type: ignore[no-untyped-def]
    event = threading.Event()
    run, recorder, trainer = _train(tmp_path, store, tok, max_steps=30, cancel=event.is_set,
                                    progress=Seen(at_step=3, action=event.set))
    assert recorder.stop is not None and recorder.stop.kind == "cancelled"
    assert trainer.state.global_step == 4  # asked during step 3's log, honoured at the end of step 4
    assert len(store.loss_points(run.id)) == 4


def test_time_budget(tmp_path: Path, store: LocalStore, tok) -> None:  # type: ignore[no-untyped-def]
    run, recorder, trainer = _train(tmp_path, store, tok, max_steps=500, budget=0.5)
    assert recorder.stop is not None and recorder.stop.kind == "time_budget"
    assert 1 <= trainer.state.global_step < 500
    assert len(store.loss_points(run.id)) == trainer.state.global_step


def test_writer_keeps_points_when_the_store_hiccups(store: LocalStore) -> None:
    run = store.create_run(owner="alice", name="hiccup", domain="math", base_model="llama3-standin")
    fails = {"left": 2}
    real = store.append_points

    def flaky(run_id, points):  # type: ignore[no-untyped-def]
        if fails["left"]:
            fails["left"] -= 1
            raise OSError("database went away for a moment")
        return real(run_id, points)

    store.append_points = flaky  # type: ignore[method-assign]
    writer = PointWriter(store, run.id, heartbeat_s=0.05)
    for step in range(1, 6):
        writer.put({"step": step, "loss": 1.0 / step})
    writer.close()
    assert [p["step"] for p in store.loss_points(run.id)] == [1, 2, 3, 4, 5]


def test_point_from_logs() -> None:
    assert point_from_logs(3, {"loss": 1.5, "learning_rate": 1e-4, "grad_norm": 0.3, "epoch": 0.1}) == {
        "step": 3, "epoch": 0.1, "loss": 1.5, "lr": 1e-4, "grad_norm": 0.3}
    assert point_from_logs(9, {"eval_loss": 2.0, "eval_runtime": 1.0, "epoch": 1.0}) == {
        "step": 9, "epoch": 1.0, "eval_loss": 2.0}
    assert point_from_logs(9, {"train_runtime": 3.0, "train_loss": 1.0}) is None
    assert torch.isnan(torch.tensor(point_from_logs(1, {"loss": float("nan")})["loss"]))


def test_fast_steps_share_transactions(store: LocalStore) -> None:
    run = store.create_run(owner="alice", name="fast", domain="math", base_model="llama3-standin")
    calls: list[int] = []
    real = store.append_points

    def counted(run_id, points):  # type: ignore[no-untyped-def]
        calls.append(len(points))
        return real(run_id, points)

    store.append_points = counted  # type: ignore[method-assign]
    writer = PointWriter(store, run.id, min_interval_s=0.3)
    for step in range(1, 41):
        writer.put({"step": step, "loss": 1.0})
        time.sleep(0.01)  # 100 steps a second
    writer.close()
    assert sum(calls) == 40 and len(calls) <= 6
    assert [p["step"] for p in store.loss_points(run.id)] == list(range(1, 41))
