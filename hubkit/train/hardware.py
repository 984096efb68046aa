"""The machine a run trains on: device, memory, precision and the arguments they imply.

The GPU decisions are pure functions of a `DeviceInfo`, so they are tested on
a CPU-only machine by describing a GPU instead of having one.
"""
from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from typing import Any

import psutil
import torch

from hubkit.devices import choose_device
from hubkit.errors import ValidationError


@dataclass(frozen=True)
class DeviceInfo:
    kind: str
    """"cpu" or "cuda"."""
    name: str
    total_memory: int
    available_memory: int
    bf16_supported: bool = False
    index: int | None = None

    @property
    def torch_device(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


def detect_device(device: str | None = None) -> DeviceInfo:
    """The device to train on: the one asked for, else ``HUBKIT_DEVICE`` (auto: the first GPU, else the CPU)."""
    choice = choose_device(device)
    if choice.kind == "cuda":
        index = choice.index or 0
        free, total = torch.cuda.mem_get_info(index)
        return DeviceInfo(kind="cuda", index=index, name=torch.cuda.get_device_name(index),
                          total_memory=int(total), available_memory=int(free),
                          bf16_supported=bool(torch.cuda.is_bf16_supported()))
    mem = psutil.virtual_memory()
    return DeviceInfo(kind="cpu", name=platform.processor() or platform.machine(),
                      total_memory=int(mem.total), available_memory=int(mem.available))


def resolve_precision(requested: str, device: DeviceInfo) -> str:
    """"auto" → fp32 on CPU, bf16 on GPUs that support it, fp16 on the others."""
    if device.kind == "cpu":
        if requested == "fp16":
            raise ValidationError("fp16 training needs a GPU; use fp32 or bf16 on the CPU.", field="precision")
        return "fp32" if requested == "auto" else requested
    if requested == "auto":
        return "bf16" if device.bf16_supported else "fp16"
    return requested


def torch_dtype(precision: str) -> torch.dtype:
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def load_arguments(device: DeviceInfo, precision: str) -> dict[str, Any]:
    """Keyword arguments for loading the base model.

    fp16 training keeps the base in fp16 but PEFT casts the adapter to fp32,
    which the fp16 gradient scaler needs; bf16 needs no scaler.
    """
    args: dict[str, Any] = {"dtype": torch_dtype(precision)}
    if device.kind == "cuda":
        args["device_map"] = {"": device.index or 0}
    return args


def trainer_arguments(device: DeviceInfo, precision: str) -> dict[str, Any]:
    """The device-dependent part of ``TrainingArguments``."""
    return {
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "use_cpu": device.kind == "cpu",
        "dataloader_pin_memory": device.kind == "cuda",
    }


def hardware_record(device: DeviceInfo, precision: str) -> dict[str, Any]:
    """What the run row says about the machine."""
    return {
        **asdict(device),
        "precision": precision,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu_count": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "platform": platform.platform(),
    }


def versions_record() -> dict[str, str]:
    import accelerate
    import datasets
    import peft
    import transformers

    from hubkit import __version__ as hubkit_version

    return {
        "hubkit": hubkit_version,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "accelerate": accelerate.__version__,
        "datasets": datasets.__version__,
        "cuda": torch.version.cuda or "",
    }
