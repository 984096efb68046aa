"""Data-parallel training on Ray Train: the single-worker `Trainer` on every worker, one record.

A run with ``workers > 1`` hands its training phase to a Ray Train
``TorchTrainer``. Every worker builds the same model, data and HF `Trainer` as a
single-worker run (``runner``), with the batch split evenly, and HF trains under
DDP (gloo on CPUs, NCCL on GPUs). Rank 0 alone streams points to the store,
archives checkpoints and hands the adapter back; it also decides every stop
(cancel, time budget, divergence, early stop) and tells the other ranks, so they
all leave the loop at the same step. The caller (``runner.run``) keeps the one
record and sets the one outcome. A worker that dies fails the run at once
(``max_failures=0``): Ray's health check notices the dead process, and a
collective left waiting on it ends at ``COLLECTIVE_TIMEOUT_S``.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    PrinterCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from hubkit.archive import Archive
from hubkit.config import Settings
from hubkit.errors import ConfigError, MissingExtra, TrainingError
from hubkit.store.base import Store
from hubkit.store.records import BaseModelRecord, RunRecord
from hubkit.train import hardware as hw
from hubkit.train import inputs
from hubkit.train.checkpoints import ArchivedCheckpoint, CheckpointRecorder, restore
from hubkit.train.guard import DivergenceGuard
from hubkit.train.recorder import PointWriter, RunRecorder, StopReason
from hubkit.train.spec import TrainSpec

COLLECTIVE_TIMEOUT_S = 300
"""How long a worker waits in one collective (gradient all-reduce, stop broadcast) before it fails."""
SUMMARY = "hubkit-summary.json"
_FORWARDED = ("HUBKIT_", "HF_", "TRANSFORMERS_", "PYTHONPATH")


@dataclass
class Outcome:
    """What rank 0 handed back: the trained adapter and the facts the record needs."""

    adapter_dir: Path | None = None
    steps: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    stop: StopReason | None = None


@dataclass
class Job:
    """Everything a worker needs to train its share (sent to every worker)."""

    spec: TrainSpec
    data: inputs.TrainingData
    base: BaseModelRecord
    store: Store
    archive: Archive
    run_id: int
    work: Path
    checkpoint: ArchivedCheckpoint | None
    parent: RunRecord | None
    relation: str | None
    gpus_per_worker: float
    cancel: Any = None
    """The cancel flag's actor handle (set by `train`)."""


def connect(settings: Settings) -> bool:
    """Join the configured Ray cluster; True when this call joined it (and so leaves it afterwards)."""
    try:
        import ray
    except ImportError:
        raise MissingExtra("Ray", "ray") from None
    if ray.is_initialized():
        return False
    address = settings.ray_train_address or os.environ.get("RAY_ADDRESS", "")
    if not address:
        raise ConfigError("Training with several workers needs a Ray cluster, and none is configured: set "
                          "ray_train_address (HUBKIT_RAY_TRAIN_ADDRESS) to its head's address, host:port, "
                          "or set workers to 1.")
    if address != "auto" and "://" not in address:
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except (OSError, ValueError):
            raise ConfigError(f"The Ray cluster at {address} cannot be reached, so the run cannot train on "
                              "several workers; start the cluster, fix ray_train_address, or set workers to "
                              "1.") from None
        if ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
            _single_machine()
    ray.init(address=address, runtime_env={"env_vars": _forwarded_env()}, log_to_driver=False,
             logging_level="WARNING")
    return True


def _single_machine() -> None:
    """Join a loopback head (``hubkit.jobs.rayhead``) as a one-machine cluster, as the head itself does.

    Otherwise Ray on Linux swaps 127.0.0.1 for the machine's external address, where the head does
    not answer. Ray reads the switch once, when it is imported, so the constant is set as well.
    """
    from ray._private import ray_constants

    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def disconnect() -> None:
    import ray

    ray.shutdown()


def _forwarded_env() -> dict[str, str]:
    """The hub's settings and the offline switches: workers find the same store, archive and models."""
    return {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED)}


def train(job: Job, *, cancel: Callable[[], bool]) -> Outcome:
    """Run the training phase on ``job.spec.workers`` Ray workers; raises what stopped them."""
    import ray
    from ray.train import Checkpoint, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    gpus = job.gpus_per_worker
    scaling = ScalingConfig(num_workers=job.spec.workers, use_gpu=gpus > 0,
                            resources_per_worker={"CPU": 1, **({"GPU": gpus} if gpus else {})})
    flag = _cancel_flag()
    job.cancel = flag
    trainer = TorchTrainer(
        _worker, train_loop_config={"job": job}, scaling_config=scaling,
        torch_config=TorchConfig(backend="nccl" if gpus else "gloo", timeout_s=COLLECTIVE_TIMEOUT_S),
        run_config=RunConfig(name=f"run-{job.run_id}", storage_path=str(job.work / "ray"),
                             failure_config=FailureConfig(max_failures=0),
                             worker_runtime_env={"env_vars": _forwarded_env()}))
    stop_watch = threading.Event()
    watcher = threading.Thread(target=_watch_cancel, args=(cancel, flag, stop_watch), daemon=True)
    watcher.start()
    try:
        result = trainer.fit()
    except Exception as exc:
        raise _plain_failure(exc) from exc
    finally:
        stop_watch.set()
        watcher.join()
        ray.kill(flag)
    checkpoint: Checkpoint | None = result.checkpoint
    if checkpoint is None:
        raise TrainingError("The training workers finished without handing back an adapter.")
    folder = Path(checkpoint.path)
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    stop = StopReason(**summary["stop"]) if summary["stop"] else None
    return Outcome(adapter_dir=folder, steps=summary["steps"], history=summary["history"],
                   tokens=summary["tokens"], stop=stop)


def _watch_cancel(cancel: Callable[[], bool], flag: Any, done: threading.Event) -> None:
    """Pass a cancel (or the job's SIGTERM) on to rank 0, which stops every worker at the next step."""
    while not done.wait(0.5):
        if cancel():
            flag.set.remote()
            return


def _plain_failure(exc: Exception) -> TrainingError | BaseException:
    """A worker's own error as itself (so an OOM stays an OOM); a vanished worker as ``worker_lost``."""
    from ray.exceptions import RayActorError
    from ray.train import TrainingFailedError

    failures = getattr(exc, "worker_failures", None) or {}
    # A dead worker first (Ray's health check finds its actor gone): the others then fail too, on
    # the collective it left.
    for rank, error in sorted(failures.items()):
        if isinstance(getattr(error, "health_check_failure", error), RayActorError):
            return TrainingError(f"Training worker {rank} stopped unexpectedly (its process died), so the "
                                 "run stopped; resume it from its last checkpoint.",
                                 failure_class="worker_lost", detail=str(error)[:2000])
    for error in failures.values():
        cause = getattr(error, "cause", None) or error.__cause__
        return cause if isinstance(cause, BaseException) else error
    if isinstance(exc, TrainingFailedError):
        return TrainingError("The training workers stopped with an error.", failure_class="worker_lost",
                             detail=str(exc)[:2000])
    return exc


def _cancel_flag() -> Any:
    """A one-way switch (a Ray actor) the caller sets and rank 0 reads at every step."""
    import ray

    @ray.remote(num_cpus=0)
    class CancelFlag:
        def __init__(self) -> None:
            self._set = False

        def set(self) -> None:
            self._set = True

        def is_set(self) -> bool:
            return self._set

    return CancelFlag.remote()  # type: ignore[attr-defined]


class SavedEverywhere(TrainerCallback):
    """Rank 0 archives a checkpoint only once every rank has written its part (its RNG state).

    HF lets each rank write ``rng_state_<rank>.pth`` and calls ``on_save`` without waiting; this
    barrier comes before every other callback, so the archived folder is the whole checkpoint.
    """

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                **kwargs: Any) -> None:
        torch.distributed.barrier()


class SharedStop(TrainerCallback):
    """Every rank takes rank 0's decision to stop, log, save or evaluate, so collectives stay paired.

    Rank 0's `RunRecorder` decides alone; without this, the other ranks would train on and wait
    forever in the next gradient all-reduce. Added after every other callback.
    """

    _FLAGS = ("should_training_stop", "should_log", "should_save", "should_evaluate")

    def _share(self, args: TrainingArguments, control: TrainerControl) -> TrainerControl:
        flags = torch.tensor([float(getattr(control, name)) for name in self._FLAGS], device=args.device)
        torch.distributed.broadcast(flags, src=0)
        for name, value in zip(self._FLAGS, flags.tolist(), strict=True):
            setattr(control, name, bool(value))
        return control

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    **kwargs: Any) -> TrainerControl:
        return self._share(args, control)

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    **kwargs: Any) -> TrainerControl:
        return self._share(args, control)


def _worker(config: dict[str, Any]) -> None:
    """One worker's share: the single-worker model, data and `Trainer`, under DDP."""
    import ray
    import ray.train
    from ray.train import Checkpoint

    from hubkit.train import runner

    job: Job = config["job"]
    spec = job.spec
    rank = ray.train.get_context().get_world_rank()
    first = rank == 0
    device = hw.detect_device("cuda" if job.gpus_per_worker else "cpu")
    precision = hw.resolve_precision(spec.precision, device)
    parent_adapter = (runner._parent_adapter(job.parent, archive=job.archive)
                      if job.parent is not None and job.relation in ("fork", "continue") else None)
    model, tokenizer = runner._prepare_model(spec, parent_adapter=parent_adapter, device=device,
                                             precision=precision, architecture=job.base.architecture,
                                             family=job.base.family)
    train, valid = runner.datasets_for(spec, job.data, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    writer = PointWriter(job.store, job.run_id) if first else None
    recorder = None
    callbacks: list[TrainerCallback] = []
    if writer is not None:
        recorder = RunRecorder(
            writer=writer, guard=DivergenceGuard(factor=spec.divergence_factor), raw_loss=lambda: None,
            cancel=lambda: bool(ray.get(job.cancel.is_set.remote())), time_budget_s=spec.time_budget_s,
            patience=spec.early_stopping_patience, threshold=spec.early_stopping_threshold)
        callbacks = [recorder, CheckpointRecorder(store=job.store, run_id=job.run_id, archive=job.archive)]
    trainer = runner.RecordingTrainer(
        model=model, args=TrainingArguments(**runner.training_kwargs(
            spec, out=job.work / "checkpoints", has_validation=valid is not None, device=device,
            precision=precision)),
        train_dataset=train, eval_dataset=valid, data_collator=runner.collate(pad_id),
        callbacks=[SavedEverywhere(), *callbacks, SharedStop()])
    trainer.remove_callback(PrinterCallback)
    if recorder is not None:
        recorder.raw_loss = trainer.pop_raw_loss
    resume_dir = None
    if job.checkpoint is not None:
        # Each rank unpacks its own copy: the workers may be on different machines.
        resume_dir = restore(job.checkpoint, archive=job.archive, dest=job.work / "resume-from" / f"rank-{rank}")
    try:
        trainer.train(resume_from_checkpoint=str(resume_dir) if resume_dir else None)
    finally:
        if writer is not None:
            writer.close()
    tokens = torch.tensor([float(trainer.tokens)], device=trainer.args.device)
    torch.distributed.all_reduce(tokens)
    with tempfile.TemporaryDirectory() as tmp:
        if first:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            summary = {"steps": trainer.state.global_step, "history": trainer.state.log_history,
                       "tokens": int(tokens.item()),
                       "stop": asdict(recorder.stop) if recorder is not None and recorder.stop else None}
            Path(tmp, SUMMARY).write_text(json.dumps(summary), encoding="utf-8")
        ray.train.report({"step": trainer.state.global_step},
                         checkpoint=Checkpoint.from_directory(tmp) if first else None)

