"""Streaming every logged training point to the store, without slowing training down.

`PointWriter` hands points to the store from a background thread as soon as
they are logged (a point waits at most for the previous write), and
heartbeats while nothing is logged. `RunRecorder` is the `TrainerCallback`
that turns HF's logs into points and decides when a run must stop: cancel,
time budget, divergence of the raw loss, early stopping.
"""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from hubkit.store.base import Store
from hubkit.train.guard import Divergence, DivergenceGuard

log = logging.getLogger(__name__)

_TICK = object()


class Progress(Protocol):
    """What apps implement to follow a run (the CLI wraps tqdm in one)."""

    def on_step(self, step: int, total: int, point: dict[str, Any]) -> None: ...

    def on_status(self, text: str) -> None: ...


class PointWriter:
    """Sends points to ``store.append_points`` from one background thread.

    Writes are at least ``min_interval_s`` apart: when steps are faster than
    that, the points logged meanwhile travel together, so the database sees a
    few transactions a second however fast training is. A failed write keeps
    its points and is retried on the next round, so a store hiccup delays
    points but never drops them; ``close`` flushes synchronously and raises if
    the store still refuses.
    """

    def __init__(self, store: Store, run_id: int, *, heartbeat_s: float = 15.0,
                 min_interval_s: float = 0.25) -> None:
        self.store = store
        self.run_id = run_id
        self.heartbeat_s = heartbeat_s
        self.min_interval_s = min_interval_s
        self._last_send = 0.0
        self.sent = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._loop, name=f"hubkit-points-{run_id}", daemon=True)
        self._thread.start()

    def put(self, point: dict[str, Any]) -> None:
        self._queue.put(point)

    def _collect(self, item: object) -> bool:
        """Move ``item`` and everything queued behind it to pending; True once told to stop."""
        stop = False
        while True:
            if item is None:
                stop = True
            elif isinstance(item, dict):
                self._pending.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return stop

    def _send(self) -> None:
        self._last_send = time.monotonic()
        if not self._pending:
            self.store.heartbeat(self.run_id)
            return
        batch = list(self._pending)
        self.store.append_points(self.run_id, batch)
        del self._pending[: len(batch)]
        self.sent += len(batch)

    def _loop(self) -> None:
        stop = False
        while not stop:
            try:
                item: object = self._queue.get(timeout=self.heartbeat_s)
            except queue.Empty:
                item = _TICK
            stop = self._collect(item)
            wait = self._last_send + self.min_interval_s - time.monotonic()
            if not stop and wait > 0:
                time.sleep(wait)
                stop = self._collect(_TICK)
            if stop:
                return  # close() sends the rest itself, so a refusal reaches the caller
            try:
                self._send()
            except Exception:
                log.warning("could not send points for run %s; will retry", self.run_id, exc_info=True)
                time.sleep(0.2)

    def close(self, *, attempts: int = 5) -> None:
        """Stop the thread and send whatever is left, retrying a few times (then raising)."""
        self._queue.put(None)
        self._thread.join(timeout=60)
        self._collect(_TICK)
        for attempt in range(attempts):
            if not self._pending:
                return
            try:
                self._send()
            except Exception:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.1 * 2**attempt)


def point_from_logs(step: int, logs: dict[str, Any]) -> dict[str, Any] | None:
    """HF log dict → a store point; None for logs that carry no loss (e.g. the final summary)."""
    if "loss" not in logs and "eval_loss" not in logs:
        return None
    point: dict[str, Any] = {"step": int(step)}
    for key, name in (("epoch", "epoch"), ("loss", "loss"), ("learning_rate", "lr"),
                      ("grad_norm", "grad_norm"), ("eval_loss", "eval_loss")):
        value = logs.get(key)
        if value is not None:
            point[name] = float(value)
    return point


@dataclass
class StopReason:
    kind: str
    """divergence / cancelled / time_budget / early_stop"""
    step: int
    detail: str = ""
    improved: bool = True
    """For early stops: whether the held-back loss ever beat its first value."""
    checks: int = 0


class RunRecorder(TrainerCallback):
    """Records points, watches for the reasons to stop, and says which one fired first."""

    def __init__(self, *, writer: PointWriter, guard: DivergenceGuard, raw_loss: Callable[[], float | None],
                 cancel: Callable[[], bool], time_budget_s: float | None, patience: int, threshold: float,
                 progress: Progress | None = None) -> None:
        self.writer = writer
        self.guard = guard
        self.raw_loss = raw_loss
        self.cancel = cancel
        self.time_budget_s = time_budget_s
        self.patience = patience
        self.threshold = threshold
        self.progress = progress
        self.stop: StopReason | None = None
        self.points = 0
        self._started = time.monotonic()
        self._first_eval: float | None = None
        self._best_eval: float | None = None
        self._evals = 0
        self._since_best = 0

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _halt(self, control: TrainerControl, reason: StopReason, *, save: bool) -> None:
        if self.stop is None:
            self.stop = reason
        control.should_training_stop = True
        control.should_log = True  # the last point is recorded even between logging steps
        control.should_save = save
        control.should_evaluate = False

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> None:
        self._started = time.monotonic()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    **kwargs: Any) -> TrainerControl:
        step = state.global_step
        loss = self.raw_loss()
        tripped: Divergence | None = self.guard.observe(step, loss) if loss is not None else None
        if tripped is not None:
            # A diverged model is not worth keeping: the last complete checkpoint stays the last good one.
            self._halt(control, StopReason("divergence", step, tripped.reason), save=False)
        elif self.cancel():
            self._halt(control, StopReason("cancelled", step), save=True)
        elif self.time_budget_s is not None and self.elapsed() >= self.time_budget_s:
            self._halt(control, StopReason("time_budget", step), save=True)
        return control

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    metrics: dict[str, float] | None = None, **kwargs: Any) -> TrainerControl:
        value = (metrics or {}).get("eval_loss")
        if value is None or not self.patience or not math.isfinite(value):
            return control
        self._evals += 1
        if self._first_eval is None:
            self._first_eval = self._best_eval = value
            return control
        assert self._best_eval is not None
        if value < self._best_eval - self.threshold:
            self._best_eval = value
            self._since_best = 0
        else:
            self._since_best += 1
        if self._since_best >= self.patience and self.stop is None:
            improved = self._best_eval < self._first_eval
            self._halt(control, StopReason("early_stop", state.global_step,
                                           f"no improvement in {self.patience} checks",
                                           improved=improved, checks=self._evals), save=True)
        return control

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        point = point_from_logs(state.global_step, logs or {})
        if point is None:
            return
        self.writer.put(point)
        self.points += 1
        if self.progress is not None:
            self.progress.on_step(state.global_step, state.max_steps, point)
