"""Before pressing Train: will it fit, how long will it take, is anything off?

Memory is estimated from the parts that take it: the frozen weights, the
adapter with its gradients and optimizer state, the activations of one
micro-batch (the per-layer formula of Korthikanti et al., 2022, scaled to the
precision, or one layer's input per layer with gradient checkpointing) and the
logits. Time per step is measured with a few real training steps on the
device when ``measure`` is on (the default), otherwise estimated from FLOPs
(about 4 × parameters per token for LoRA: forward, plus backward through the
activations only); ``time_method`` says which.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from hubkit.archive import Archive, open_archive
from hubkit.data import tokenize_for_causal_lm
from hubkit.errors import ValidationError
from hubkit.store.base import Store
from hubkit.train import hardware as hw
from hubkit.train import lora
from hubkit.train import quantization as quant
from hubkit.train.failures import free_device_memory
from hubkit.train.models import check_chat_template, default_targets, family_of, load_base
from hubkit.train.spec import TrainSpec

# Sustained training throughput assumed by the FLOPs estimate (floating-point operations per second).
ASSUMED_FLOPS = {"cpu": 5e9, "cuda": 5e13}
OPTIMIZER_STATES = {"adamw_torch": 2, "adafactor": 1, "sgd": 0, "adagrad": 1}
_SAMPLE_ROWS = 2000
_TINY_DATASET = 50


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int
    adapter: int
    """Adapter weights and their gradients (fp32)."""
    optimizer: int
    activations: int
    logits: int

    @property
    def total(self) -> int:
        return int(1.1 * (self.weights + self.adapter + self.optimizer + self.activations + self.logits))


@dataclass(frozen=True)
class PreflightReport:
    base_model: str
    device: str
    precision: str
    parameters: int
    trainable_parameters: int
    memory: MemoryEstimate
    available_memory: int
    fits: bool
    train_rows: int
    validation_rows: int
    tokens_per_epoch: int
    steps_per_epoch: int
    total_steps: int
    seconds_per_step: float
    seconds_per_epoch: float
    total_seconds: float
    time_method: str
    """"measured" (timed training steps on this device) or "flops" (an estimate)."""
    warnings: list[str] = field(default_factory=list)
    sentence: str = ""

    @property
    def estimated_peak_memory(self) -> int:
        return self.memory.total


def human_duration(seconds: float) -> str:
    if seconds < 1.5:
        return "about a second"
    if seconds < 90:
        return f"about {round(seconds)} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def estimate_memory(*, config: Any, parameters: int, trainable: int, spec: TrainSpec, precision: str,
                    seq_len: int, quantized: int = 0) -> MemoryEstimate:
    """``quantized`` of the ``parameters`` are linear weights that ``spec.quantization`` shrinks;
    with a quantized base, peft keeps the remaining weights (norms, embeddings) in fp32."""
    width = 4 if precision == "fp32" else 2
    hidden = int(config.hidden_size)
    layers = int(config.num_hidden_layers)
    heads = int(config.num_attention_heads)
    vocab = int(config.vocab_size)
    b, s = spec.batch_size, seq_len
    scale = width / 2  # the formula counts 16-bit activations
    if spec.gradient_checkpointing:
        per_layer = s * b * hidden * width
        activations = int(layers * per_layer + s * b * hidden * (34 + 5 * heads * s / hidden) * scale)
    else:
        activations = int(layers * s * b * hidden * (34 + 5 * heads * s / hidden) * scale)
    if spec.quantization == "none":
        weights = parameters * width
    else:
        weights = int(quantized * quant.BYTES_PER_WEIGHT[spec.quantization] + (parameters - quantized) * 4)
    return MemoryEstimate(
        weights=weights,
        adapter=trainable * 4 * 2,
        optimizer=trainable * 4 * OPTIMIZER_STATES.get(spec.optimizer, 2),
        activations=activations,
        logits=b * s * vocab * 4 * 3,
    )


def _loaded_quantized(model: torch.nn.Module) -> tuple[int, int]:
    """(weights a bitsandbytes load quantized, how many of them its packed tensors' sizes miss):
    a 4-bit tensor holds two weights per byte, so its ``numel`` counts half of them."""
    total = missed = 0
    for param in model.parameters():
        if type(param).__name__ == "Params4bit":
            total += 2 * param.numel()
            missed += param.numel()
        elif param.dtype == torch.int8:
            total += param.numel()
    return total, missed


def _measure_step(model: torch.nn.Module, *, spec: TrainSpec, seq_len: int, vocab: int,
                  device: hw.DeviceInfo, steps: int = 2) -> float:
    """Seconds per optimizer step, timed on random tokens after one warm-up step."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-9)
    generator = torch.Generator().manual_seed(spec.seed)
    ids = torch.randint(0, vocab, (spec.batch_size, seq_len), generator=generator).to(device.torch_device)
    model.train()
    timings = []
    for i in range(steps + 1):
        start = time.perf_counter()
        for _ in range(spec.gradient_accumulation):
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.kind == "cuda":
            torch.cuda.synchronize()
        if i:
            timings.append(time.perf_counter() - start)
    return sum(timings) / len(timings)


def preflight(spec: TrainSpec, *, device: str | hw.DeviceInfo | None = None, store: Store | None = None,
              archive: Archive | None = None, measure: bool = True) -> PreflightReport:
    """Estimate memory and time for ``spec`` on ``device`` and list what looks wrong.

    ``device`` is a name ("cpu", "cuda:0"), None for the best one here, or a
    `DeviceInfo` describing another machine (then time comes from FLOPs). A
    dataset given by id needs ``store``; nothing is recorded."""
    from hubkit.train import inputs

    described = isinstance(device, hw.DeviceInfo)
    dev = device if isinstance(device, hw.DeviceInfo) else hw.detect_device(device)
    precision = hw.resolve_precision(spec.precision, dev)
    measure = measure and not described  # a described device cannot be timed
    quant.check(spec.quantization, dev, loads_here=not described)
    warnings: list[str] = []
    model, tokenizer = load_base(spec.base_model, **(
        {"dtype": hw.torch_dtype(precision)} if described
        else {**hw.load_arguments(dev, precision), **quant.load_arguments(spec.quantization, precision)}))
    if described:  # loaded unquantized: count the weights a quantized load would shrink
        quantized = quant.quantized_parameters(model) if spec.quantization != "none" else 0
    else:
        quantized = 0  # counted on the quantized model below
        model = quant.prepare(model, quantization=spec.quantization,
                              gradient_checkpointing=spec.gradient_checkpointing)
    targets = spec.target_modules or default_targets(family_of(spec.base_model), mlp=spec.target_mlp)
    lora.check_targets(targets, model, architecture=type(model).__name__)
    peft_model = lora.attach(model, spec, targets)
    parameters, trainable = lora.count_parameters(peft_model)
    parameters -= trainable
    if spec.quantization != "none" and not described:
        quantized, missed = _loaded_quantized(peft_model)
        parameters += missed

    if spec.dataset.dataset_id is not None:
        if store is None:
            raise ValidationError("Checking a stored dataset needs the store.", field="dataset.dataset_id")
        prepared = inputs.from_stored(store.get_dataset(spec.dataset.dataset_id),
                                      archive=archive or open_archive())
    else:
        prepared = inputs.prepare(spec.dataset, seed=spec.seed)
    split = prepared.train_validation_split(validation_fraction=spec.validation_fraction, seed=spec.seed)
    sample = split.train.select(range(min(len(split.train), _SAMPLE_ROWS)))
    tokenized = tokenize_for_causal_lm(dataset=sample, fmt=prepared.format, tokenizer=tokenizer,
                                       max_seq_len=spec.max_seq_len)
    lengths = [len(ids) for ids in tokenized.dataset["input_ids"]] or [1]
    rows = len(split.train)
    tokens = int(sum(lengths) * rows / max(1, len(sample)))
    per_step = spec.batch_size * spec.gradient_accumulation
    if spec.packing:
        seq_len = spec.max_seq_len if tokens >= spec.max_seq_len else max(lengths)
        steps_per_epoch = max(1, math.ceil(math.ceil(tokens / spec.max_seq_len) / per_step))
    else:
        seq_len = max(lengths)
        steps_per_epoch = max(1, math.ceil(rows / per_step))
    total_steps = spec.max_steps or max(1, math.ceil(steps_per_epoch * (spec.num_epochs or 1)))

    memory = estimate_memory(config=model.config, parameters=parameters, trainable=trainable, spec=spec,
                             precision=precision, seq_len=seq_len, quantized=quantized)
    fits = memory.total <= dev.available_memory
    if measure:
        seconds_per_step = _measure_step(peft_model, spec=spec, seq_len=seq_len,
                                         vocab=int(model.config.vocab_size), device=dev)
        method = "measured"
    else:
        factor = 6 if spec.gradient_checkpointing else 4
        seconds_per_step = factor * parameters * spec.batch_size * seq_len * spec.gradient_accumulation \
            / ASSUMED_FLOPS[dev.kind]
        method = "flops"
    del peft_model, model
    free_device_memory()
    seconds_per_epoch = seconds_per_step * steps_per_epoch
    total_seconds = seconds_per_step * total_steps

    if not fits:
        warnings.append(f"This needs about {human_bytes(memory.total)} but only "
                        f"{human_bytes(dev.available_memory)} is free: lower the batch size or the "
                        "maximum sequence length, or turn on gradient checkpointing.")
    warnings.extend(check_chat_template(tokenizer))
    if rows < _TINY_DATASET:
        warnings.append(f"Only {rows} training examples: the model will learn little and scores will be noisy.")
    if tokenized.truncation.rows_truncated:
        warnings.append(tokenized.truncation.sentence)
    if spec.early_stopping_patience and len(split.validation) < 5:
        warnings.append(f"Only {len(split.validation)} held-back examples: early stopping will be erratic.")
    if spec.max_steps and spec.num_epochs and spec.max_steps < steps_per_epoch * spec.num_epochs / 4:
        warnings.append(f"{spec.max_steps} steps cover less than a quarter of the requested epochs.")

    verdict = "fits this machine" if fits else "does not fit this machine"
    sentence = f"{human_duration(total_seconds).capitalize()}, {verdict}."
    return PreflightReport(
        base_model=spec.base_model, device=dev.torch_device, precision=precision, parameters=parameters,
        trainable_parameters=trainable, memory=memory, available_memory=dev.available_memory, fits=fits,
        train_rows=rows, validation_rows=len(split.validation), tokens_per_epoch=tokens,
        steps_per_epoch=steps_per_epoch, total_steps=total_steps, seconds_per_step=seconds_per_step,
        seconds_per_epoch=seconds_per_epoch, total_seconds=total_seconds, time_method=method,
        warnings=warnings, sentence=sentence)
