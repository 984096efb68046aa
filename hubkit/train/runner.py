"""`run`: one training attempt from spec to record, read top to bottom.

validate → data → run row → model (+ parent adapter) → tokens → Trainer →
train → classify → artifacts → finish. Once the row exists, every path out of
here (success, divergence, OOM, exception, cancel, time budget, SIGTERM,
Ctrl-C) ends in ``store.finish_run`` with an honest outcome; only a hard kill
skips it, and then the heartbeat stops and the reaper records the run as lost
with every point already streamed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import PrinterCallback, Trainer, TrainingArguments, set_seed

from hubkit.archive import Archive, open_archive
from hubkit.catalog import catalog_key, registered_base
from hubkit.config import load_settings
from hubkit.data import IGNORE_INDEX, tokenize_for_causal_lm
from hubkit.errors import TrainingError, ValidationError
from hubkit.store import LocalStore
from hubkit.store.base import Store
from hubkit.store.records import BaseModelRecord, RunRecord
from hubkit.train import artifacts as art
from hubkit.train import distributed, failures, inputs, lora
from hubkit.train import hardware as hw
from hubkit.train import quantization as quant
from hubkit.train.checkpoints import (
    ArchivedCheckpoint,
    CheckpointRecorder,
    latest_archived,
    restore,
)
from hubkit.train.guard import DivergenceGuard
from hubkit.train.models import default_targets, load_base
from hubkit.train.packing import pack
from hubkit.train.recorder import PointWriter, Progress, RunRecorder, StopReason
from hubkit.train.spec import TrainSpec

RELATIONS = ("fork", "continue", "resume")
Cancel = threading.Event | Callable[[], bool] | None


@dataclass
class TrainResult:
    run_id: int
    slug: str
    outcome: str
    failure_class: str | None
    message: str | None
    steps: int
    final_loss: float | None
    final_eval_loss: float | None
    artifacts: dict[str, str]
    output_dir: Path
    adapter_dir: Path | None
    merged_dir: Path | None
    train_seconds: float
    """Seconds in the training loop, checkpoints included (loading, data and final artifacts excluded)."""
    train_tokens: int
    """Tokens (padding excluded) in the batches trained on."""
    spec: TrainSpec
    model: Any = field(default=None, repr=False)
    """The trained PEFT model, still in memory (for a demo or a notebook)."""
    tokenizer: Any = field(default=None, repr=False)
    error: BaseException | None = field(default=None, repr=False)
    """The exception behind an ``exception`` / ``oom`` outcome, for a developer's traceback."""

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


class RecordingTrainer(Trainer):
    """A `Trainer` that keeps the raw loss of each step (HF only logs interval averages)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._raw: torch.Tensor | None = None
        self.tokens = 0

    def training_step(self, model: torch.nn.Module, inputs: dict[str, Any],
                      num_items_in_batch: Any = None) -> torch.Tensor:
        self.tokens += int(inputs["attention_mask"].sum())
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._raw = loss if self._raw is None else self._raw + loss
        return loss

    def pop_raw_loss(self) -> float | None:
        raw, self._raw = self._raw, None
        return None if raw is None else float(raw)


def collate(pad_id: int) -> Callable[[list[dict[str, list[int]]]], dict[str, torch.Tensor]]:
    """Right-pad a batch; padded labels are ignored by the loss."""

    def fn(rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        longest = max(len(r["input_ids"]) for r in rows)

        def padded(key: str, fill: int) -> torch.Tensor:
            return torch.tensor([r[key] + [fill] * (longest - len(r[key])) for r in rows], dtype=torch.long)

        return {"input_ids": padded("input_ids", pad_id), "attention_mask": padded("attention_mask", 0),
                "labels": padded("labels", IGNORE_INDEX)}

    return fn


def _cancel_check(cancel: Cancel, flag: threading.Event) -> Callable[[], bool]:
    if cancel is None:
        return flag.is_set
    if isinstance(cancel, threading.Event):
        return lambda: flag.is_set() or cancel.is_set()
    return lambda: flag.is_set() or bool(cancel())


@contextlib.contextmanager
def _sigterm_as_cancel() -> Iterator[threading.Event]:
    """SIGTERM (a job being stopped) cancels the run cleanly instead of killing it mid-write."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, previous)


def _open_record(spec: TrainSpec, *, store: Store, owner: str, data: inputs.TrainingData,
                 parent: RunRecord | None, relation: str | None, executed_by: str,
                 hardware: dict[str, Any], versions: dict[str, str], template: str | None,
                 template_version: str | None) -> RunRecord:
    common: dict[str, Any] = {
        "owner": owner, "name": spec.display_name, "dataset_id": data.record.id,
        "config": spec.model_dump(mode="json"), "seed": spec.seed, "executed_by": executed_by,
        "visibility": spec.visibility, "hardware": hardware, "versions": versions,
        "description": spec.description or None, "template": template, "template_version": template_version}
    if parent is None:
        return store.create_run(domain=spec.domain, base_model=spec.base_model, **common)
    return store.fork_run(parent.id, relation=relation or "fork", domain=spec.domain, **common)


def _parent_adapter(parent: RunRecord, *, archive: Archive) -> Path:
    """The parent's archived adapter, unpacked once into a cache keyed by its hash."""
    digest = parent.artifacts.get("adapter")
    if not digest:
        raise ValidationError(f"The model {parent.slug} has no adapter to start from.", field="parent_model_id")
    folder = load_settings().home / "cache" / "adapters" / str(digest)
    if not (folder / "adapter_config.json").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        staging = archive.get_dir(str(digest), folder.with_name(f".{digest}.{os.getpid()}"))
        try:
            staging.rename(folder)
        except OSError:  # another run unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _prepare_model(spec: TrainSpec, *, parent_adapter: Path | None, device: hw.DeviceInfo, precision: str,
                   architecture: str, family: str) -> tuple[PeftModel, Any]:
    """Base model with a fresh adapter, or with the parent's adapter to train further."""
    model, tokenizer = load_base(spec.base_model, **hw.load_arguments(device, precision),
                                 **quant.load_arguments(spec.quantization, precision))
    model = quant.prepare(model, quantization=spec.quantization, gradient_checkpointing=spec.gradient_checkpointing)
    set_seed(spec.seed)
    if parent_adapter is not None:
        return PeftModel.from_pretrained(model, str(parent_adapter), is_trainable=True), tokenizer
    targets = spec.target_modules or default_targets(family, mlp=spec.target_mlp)
    lora.check_targets(targets, model, architecture=architecture)
    return lora.attach(model, spec, targets), tokenizer


def training_kwargs(spec: TrainSpec, *, out: Path, has_validation: bool, device: hw.DeviceInfo,
                    precision: str) -> dict[str, Any]:
    """Everything ``TrainingArguments`` gets, as plain data (checked for GPUs on a CPU-only machine)."""
    return dict(
        output_dir=str(out),
        per_device_train_batch_size=spec.batch_size // spec.workers,  # the global batch stays the spec's
        per_device_eval_batch_size=spec.batch_size // spec.workers,
        gradient_accumulation_steps=spec.gradient_accumulation,
        num_train_epochs=spec.num_epochs or 1.0,
        max_steps=spec.max_steps or -1,
        learning_rate=spec.learning_rate,
        lr_scheduler_type=spec.lr_scheduler,
        warmup_steps=spec.warmup_steps or spec.warmup_ratio,
        weight_decay=spec.weight_decay,
        max_grad_norm=spec.max_grad_norm,
        optim=spec.optimizer,
        seed=spec.seed,
        data_seed=spec.seed,
        logging_strategy="steps",
        logging_steps=spec.logging_steps,
        logging_first_step=True,
        logging_nan_inf_filter=False,  # NaN must reach the record, not be hidden
        eval_strategy="steps" if has_validation else "no",
        eval_steps=spec.eval_interval,
        eval_on_start=has_validation,
        save_strategy="steps",
        save_steps=spec.checkpoint_interval,
        save_total_limit=2,
        activation_checkpointing=spec.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if spec.gradient_checkpointing else None,
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        **hw.trainer_arguments(device, precision),
    )


def _classify(stop: StopReason | None, exc: BaseException | None, *, budget: float | None,
              step: int) -> failures.Outcome:
    if exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return failures.cancelled(step)
        return failures.from_exception(exc)
    if stop is None:
        return failures.Outcome("success")
    if stop.kind == "divergence":
        return failures.divergence(stop.detail)
    if stop.kind == "cancelled":
        return failures.cancelled(stop.step)
    if stop.kind == "time_budget":
        return failures.time_budget(stop.step, budget or 0.0)
    if not stop.improved:
        return failures.early_stop_no_improvement(stop.checks)
    return failures.Outcome("success", None, f"Stopped early at step {stop.step}: {stop.detail}.")


def _event_for(outcome: failures.Outcome, stop: StopReason | None) -> tuple[str, dict[str, Any]] | None:
    if stop is not None and stop.kind == "early_stop":
        return "early_stop", {"step": stop.step, "improved": stop.improved, "checks": stop.checks}
    kinds = {"divergence": "divergence", "oom": "oom", "cancelled": "cancel", "time_budget": "time_budget"}
    if outcome.failure_class in kinds:
        payload: dict[str, Any] = {"message": outcome.message}
        if stop is not None:
            payload["step"] = stop.step
        return kinds[outcome.failure_class], payload
    return None


def _resume_point(parent: RunRecord) -> ArchivedCheckpoint:
    checkpoint = latest_archived(parent.artifacts)
    if checkpoint is None:
        raise ValidationError(f"The run {parent.slug} left no complete checkpoint to resume from; "
                              "start it again or fork it instead.", field="parent_model_id")
    return checkpoint


def _last(history: list[dict[str, Any]], key: str) -> float | None:
    for entry in reversed(history):
        if key in entry:
            return float(entry[key])
    return None


@dataclass
class _Attempt:
    """What one attempt is about, settled before its row exists."""

    spec: TrainSpec
    store: Store
    archive: Archive
    base: BaseModelRecord
    data: inputs.TrainingData
    device: hw.DeviceInfo
    precision: str
    parent: RunRecord | None
    relation: str | None
    say: Callable[[str], None]


@dataclass
class _Training:
    """What the training phase left behind, however it ended."""

    recorder: RunRecorder | None = None
    trainer: RecordingTrainer | None = None
    remote: distributed.Outcome | None = None
    """What rank 0 handed back, when the run trained on several workers."""
    model: PeftModel | None = None
    tokenizer: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        if self.remote is not None:
            return self.remote.steps
        return self.trainer.state.global_step if self.trainer is not None else 0

    @property
    def history(self) -> list[dict[str, Any]]:
        if self.remote is not None:
            return self.remote.history
        return self.trainer.state.log_history if self.trainer is not None else []

    @property
    def tokens(self) -> int:
        if self.remote is not None:
            return self.remote.tokens
        return self.trainer.tokens if self.trainer is not None else 0

    @property
    def stop(self) -> StopReason | None:
        if self.remote is not None:
            return self.remote.stop
        return self.recorder.stop if self.recorder is not None else None


def datasets_for(spec: TrainSpec, data: inputs.TrainingData, tokenizer: Any) -> tuple[Any, Any]:
    """Tokenized (and packed) training and validation sets; no validation set when the share is 0."""
    split = data.prepared.train_validation_split(validation_fraction=spec.validation_fraction,
                                                  seed=spec.seed)
    sets = []
    for rows in (split.train, split.validation):
        if not len(rows):
            sets.append(None)
            continue
        tokens = tokenize_for_causal_lm(dataset=rows, fmt=data.prepared.format, tokenizer=tokenizer,
                                        max_seq_len=spec.max_seq_len).dataset
        sets.append(pack(tokens, max_seq_len=spec.max_seq_len) if spec.packing else tokens)
    train, valid = sets
    if train is None or not len(train):
        raise TrainingError("No training row has anything to learn within the maximum sequence length; "
                            "raise max_seq_len or shorten the prompts.")
    return train, valid


def run(spec: TrainSpec | Mapping[str, Any], *, store: Store, owner: str, executed_by: str = "platform",
        parent_model_id: int | None = None, relation: str | None = None, progress: Progress | None = None,
        cancel: Cancel = None, output_dir: Path | None = None, template: str | None = None,
        template_version: str | None = None, device: str | None = None,
        archive: Archive | None = None, on_record: Callable[[RunRecord], None] | None = None) -> TrainResult:
    """Train one LoRA adapter and record the attempt, whatever happens.

    ``parent_model_id`` + ``relation`` ("fork", "continue", "resume") start from
    another run: its adapter (fork / continue) or its last complete checkpoint
    (resume). Invalid input raises before anything is recorded. ``on_record``
    is called with the new run row as soon as it exists, before the model loads
    (a job tells the platform which run it follows); if it raises, the attempt
    is recorded as failed like any other error.
    """
    spec = spec if isinstance(spec, TrainSpec) else TrainSpec.parse(dict(spec))
    if (parent_model_id is None) != (relation is None) or (relation and relation not in RELATIONS):
        raise ValidationError("Starting from another model needs both its id and how: fork, continue "
                              "or resume.", field="relation")
    say = progress.on_status if progress is not None else (lambda text: None)
    archive = archive or open_archive()
    dev = hw.detect_device(device)
    precision = hw.resolve_precision(spec.precision, dev)
    quant.check(spec.quantization, dev)
    parent = store.get_run(parent_model_id, viewer=owner) if parent_model_id is not None else None
    if parent is not None and parent.base_model_key and catalog_key(spec.base_model) != parent.base_model_key:
        raise ValidationError(
            f"The model {parent.slug} was trained on {parent.base_model_key}, so a model started from it "
            f"trains on {parent.base_model_key} too; set base_model to {parent.base_model_key!r} "
            f"instead of {spec.base_model!r}.", field="base_model")
    if isinstance(store, LocalStore):
        store.ensure_user(owner)  # a fresh local database: its first run's owner
    base = registered_base(store, spec.base_model)
    checkpoint = _resume_point(parent) if parent is not None and relation == "resume" else None
    parent_adapter = None
    if parent is not None and relation in ("fork", "continue"):
        # The adapter fixes the LoRA settings: record what is really trained, not what was asked.
        parent_adapter = _parent_adapter(parent, archive=archive)
        spec = spec.model_copy(update=lora.settings_from_folder(parent_adapter))
    say("Checking the data")
    data = inputs.resolve(spec.dataset, store=store, owner=owner, archive=archive, seed=spec.seed)
    a = _Attempt(spec=spec, store=store, archive=archive, base=base, data=data, device=dev,
                 precision=precision, parent=parent, relation=relation, say=say)

    joined = spec.workers > 1 and distributed.connect(load_settings())
    try:
        record = _open_record(spec, store=store, owner=owner, data=data, parent=parent, relation=relation,
                              executed_by=executed_by, hardware=hw.hardware_record(dev, precision),
                              versions=hw.versions_record(), template=template,
                              template_version=template_version)
        work = Path(output_dir) if output_dir else load_settings().home / "runs" / record.slug
        writer = PointWriter(store, record.id)
        t = _Training()
        try:
            with _sigterm_as_cancel() as terminated:
                if on_record is not None:
                    on_record(record)
                work.mkdir(parents=True, exist_ok=True)
                if checkpoint is not None:
                    store.record_event(record.id, "checkpoint_restored", {
                        "from_run": parent.id if parent else None, "from_step": checkpoint.step,
                        "checkpoint": checkpoint.digest})
                train_phase = _train_on_workers if spec.workers > 1 else _train_here
                train_phase(a, t, record=record, writer=writer, work=work, checkpoint=checkpoint,
                            parent_adapter=parent_adapter, progress=progress,
                            cancel=_cancel_check(cancel, terminated))
        except BaseException as exc:  # noqa: BLE001 - every way out is recorded below
            t.error = exc
        return _finish(a, t, record=record, writer=writer, work=work)
    finally:
        if joined:
            distributed.disconnect()


def _train_here(a: _Attempt, t: _Training, *, record: RunRecord, writer: PointWriter, work: Path,
                checkpoint: ArchivedCheckpoint | None, parent_adapter: Path | None, progress: Progress | None,
                cancel: Callable[[], bool]) -> None:
    """The training phase in this process: model, tokens, `Trainer`, train."""
    spec = a.spec
    a.say(f"Loading {spec.base_model}")
    t.model, t.tokenizer = _prepare_model(spec, parent_adapter=parent_adapter, device=a.device,
                                          precision=a.precision, architecture=a.base.architecture,
                                          family=a.base.family)
    a.say(f"Preparing {len(a.data.prepared)} rows of {a.data.prepared.format} data")
    train, valid = datasets_for(spec, a.data, t.tokenizer)
    pad_id = t.tokenizer.pad_token_id if t.tokenizer.pad_token_id is not None else t.tokenizer.eos_token_id
    t.recorder = RunRecorder(
        writer=writer, guard=DivergenceGuard(factor=spec.divergence_factor), raw_loss=lambda: None,
        cancel=cancel, time_budget_s=spec.time_budget_s, patience=spec.early_stopping_patience,
        threshold=spec.early_stopping_threshold, progress=progress)
    t.trainer = RecordingTrainer(
        model=t.model, args=TrainingArguments(**training_kwargs(
            spec, out=work / "checkpoints", has_validation=valid is not None, device=a.device,
            precision=a.precision)),
        train_dataset=train, eval_dataset=valid, data_collator=collate(pad_id),
        callbacks=[t.recorder, CheckpointRecorder(store=a.store, run_id=record.id, archive=a.archive)])
    t.recorder.raw_loss = t.trainer.pop_raw_loss
    t.trainer.remove_callback(PrinterCallback)  # progress goes to the Progress hook, not stdout
    resume_dir = restore(checkpoint, archive=a.archive, dest=work / "resume-from") if checkpoint else None
    a.say("Training")
    started = time.monotonic()
    try:
        t.trainer.train(resume_from_checkpoint=str(resume_dir) if resume_dir else None)
    finally:
        t.seconds = time.monotonic() - started


def _train_on_workers(a: _Attempt, t: _Training, *, record: RunRecord, writer: PointWriter, work: Path,
                      checkpoint: ArchivedCheckpoint | None, parent_adapter: Path | None,
                      progress: Progress | None, cancel: Callable[[], bool]) -> None:
    """The training phase on Ray Train workers; this process then loads the adapter rank 0 handed back.

    Rank 0 streams the points itself, so ``progress`` hears only the phases, not each step.
    """
    dist = distributed
    a.say(f"Training on {a.spec.workers} workers")
    job = dist.Job(spec=a.spec, data=a.data, base=a.base, store=a.store, archive=a.archive, run_id=record.id,
                   work=work.resolve(), checkpoint=checkpoint, parent=a.parent, relation=a.relation,
                   gpus_per_worker=load_settings().train_gpus_per_worker)
    started = time.monotonic()
    try:
        t.remote = dist.train(job, cancel=cancel)
    finally:
        t.seconds = time.monotonic() - started
    a.say("Loading the trained adapter")
    t.model, t.tokenizer = _prepare_model(a.spec, parent_adapter=t.remote.adapter_dir, device=a.device,
                                          precision=a.precision, architecture=a.base.architecture,
                                          family=a.base.family)


def _finish(a: _Attempt, t: _Training, *, record: RunRecord, writer: PointWriter, work: Path) -> TrainResult:
    """Save what is worth keeping, flush the points, and set the outcome (exactly once)."""
    stop = t.stop
    outcome = _classify(stop, t.error, budget=a.spec.time_budget_s, step=t.steps)
    error = t.error
    artifacts: dict[str, str] = {}
    adapter_dir = merged_dir = None
    keep = t.model is not None and (outcome.outcome == "success" or outcome.failure_class in
                                    ("cancelled", "time_budget"))
    try:
        if keep:
            a.say("Saving the adapter")
            facts = art.CardFacts(
                spec=a.spec, base_hf_id=a.base.hf_id, base_key=a.base.key, is_standin=a.base.is_standin,
                dataset_name=a.data.name, dataset_fingerprint=a.data.prepared.fingerprint,
                run_slug=record.slug, outcome=outcome.outcome, failure_class=outcome.failure_class,
                final_loss=_last(t.history, "loss"), final_eval_loss=_last(t.history, "eval_loss"),
                steps=t.steps, parent_slug=a.parent.slug if a.parent else None, relation=a.relation)
            adapter_dir = work / "adapter"
            t.model.save_pretrained(str(adapter_dir), safe_serialization=True)
            t.tokenizer.save_pretrained(str(adapter_dir))
            art.describe_folder(adapter_dir, facts, merged=False)
            artifacts["adapter"] = a.archive.put_dir(adapter_dir)
            if a.spec.merge_after and outcome.outcome == "success":
                a.say("Saving the merged model")
                merged_dir = _save_merged(a.spec, adapter_dir=adapter_dir, dest=work / "merged", facts=facts,
                                          device=a.device, precision=a.precision)
                artifacts["merged"] = a.archive.put_dir(merged_dir)
    except BaseException as exc:  # noqa: BLE001 - saving failed: the run is still recorded
        outcome, error = failures.from_exception(exc), error or exc
    try:
        writer.close()  # only now: its heartbeat keeps the run alive through a long save
        event = _event_for(outcome, stop)
        if event is not None:
            a.store.record_event(record.id, event[0], event[1])
    except BaseException as exc:  # noqa: BLE001 - the outcome is still set below
        if outcome.outcome != "failure":
            outcome = failures.from_exception(exc)
        error = error or exc
    finally:
        final = a.store.finish_run(record.id, outcome=outcome.outcome, failure_class=outcome.failure_class,
                                   failure_message=outcome.message, artifacts=artifacts or None)
    # Checkpoints live on in the archive; the local copies would only fill the disk.
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    shutil.rmtree(work / "resume-from", ignore_errors=True)
    shutil.rmtree(work / "ray", ignore_errors=True)
    if outcome.failure_class == "oom":
        failures.free_device_memory()
    a.say(f"Finished: {outcome.outcome}" + (f" ({outcome.failure_class})" if outcome.failure_class else ""))
    return TrainResult(
        run_id=record.id, slug=record.slug, outcome=outcome.outcome, failure_class=outcome.failure_class,
        message=outcome.message, steps=t.steps, final_loss=_last(t.history, "loss"),
        final_eval_loss=_last(t.history, "eval_loss"),
        artifacts={k: str(v) for k, v in final.artifacts.items()}, output_dir=work, adapter_dir=adapter_dir,
        merged_dir=merged_dir, train_seconds=t.seconds, train_tokens=t.tokens,
        spec=a.spec, model=t.model if outcome.outcome != "failure" else None, tokenizer=t.tokenizer,
        error=error)


def _save_merged(spec: TrainSpec, *, adapter_dir: Path, dest: Path, facts: art.CardFacts,
                 device: hw.DeviceInfo, precision: str) -> Path:
    """A fresh base with the saved adapter merged in (the trained model stays a PEFT model)."""
    model, tokenizer = load_base(spec.base_model, **hw.load_arguments(device, precision))
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(dest), safe_serialization=True)
    tokenizer.save_pretrained(str(dest))
    art.describe_folder(dest, facts, merged=True)
    return dest


def resume(run_id: int, *, store: Store, owner: str, changes: Mapping[str, Any] | None = None,
           **kwargs: Any) -> TrainResult:
    """Resume a killed, cancelled or time-limited run from its last complete checkpoint.

    The new attempt is a child row (relation "resume") with the parent's settings
    and data, except for ``changes`` (say, a longer ``max_steps`` or time budget);
    its curve continues from the checkpoint's step.
    """
    parent = store.get_run(run_id, viewer=owner)
    _resume_point(parent)
    settings = {**parent.config, **dict(changes or {})}
    if parent.dataset_id is not None:
        settings["dataset"] = {"dataset_id": parent.dataset_id}
    spec = TrainSpec.parse(settings, source=f"run {parent.slug}")
    return run(spec, store=store, owner=owner, parent_model_id=parent.id, relation="resume", **kwargs)
