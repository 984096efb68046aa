"""Which device training, evaluation and the demo run on: ``HUBKIT_DEVICE=auto|cpu|cuda[:N]``.

``choose_device`` is a pure function of what is asked and what the machine
has, so the rules are tested on a CPU-only machine by describing a GPU.
Inference (evaluation, the demo) uses bf16 where the GPU supports it, fp16 on
older GPUs and fp32 on the CPU; training picks its precision from the same
device (``hubkit.train.hardware.resolve_precision``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hubkit.errors import ConfigError

_SPEC = re.compile(r"^(auto|cpu|cuda)(?::(\d{1,3}))?$")


@dataclass(frozen=True)
class DeviceChoice:
    kind: str
    """"cpu" or "cuda"."""
    index: int | None = None
    bf16: bool = False

    @property
    def torch_device(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"

    @property
    def dtype_name(self) -> str:
        """The torch dtype name inference loads weights in on this device."""
        if self.kind == "cpu":
            return "float32"
        return "bfloat16" if self.bf16 else "float16"


def parse_device(text: str) -> tuple[str, int | None]:
    """``"cuda:1"`` → ``("cuda", 1)``; anything else than auto, cpu, cuda or cuda:N is refused in words."""
    match = _SPEC.match(text.strip().lower())
    if match is None or (match.group(1) != "cuda" and match.group(2) is not None):
        raise ConfigError(f"HUBKIT_DEVICE={text!r} is not a device: use auto, cpu, cuda or cuda:N (N the GPU number).")
    return match.group(1), int(match.group(2)) if match.group(2) is not None else None


def choose_device(requested: str | None = None, *, gpus: int | None = None,
                  bf16: bool | None = None) -> DeviceChoice:
    """The device for ``requested`` (default ``HUBKIT_DEVICE``) on a machine with ``gpus`` CUDA devices.

    ``auto`` takes the first GPU when there is one, else the CPU. Asking for a
    GPU the machine does not have is an error, never a silent CPU run.
    """
    if requested is None:
        from hubkit.config import load_settings

        requested = load_settings().device
    kind, index = parse_device(requested or "auto")
    if gpus is None or bf16 is None:
        import torch

        gpus = torch.cuda.device_count() if gpus is None else gpus
        if bf16 is None:
            bf16 = bool(gpus and torch.cuda.is_bf16_supported())
    if kind == "cpu" or (kind == "auto" and not gpus):
        return DeviceChoice("cpu")
    index = index or 0
    if index >= gpus:
        have = "no GPU" if not gpus else f"only {gpus} GPU{'s' if gpus > 1 else ''} (cuda:0 to cuda:{gpus - 1})"
        raise ConfigError(f"HUBKIT_DEVICE asks for cuda:{index}, but this machine has {have}. "
                          "Set HUBKIT_DEVICE=auto or cpu.")
    return DeviceChoice("cuda", index, bool(bf16))
