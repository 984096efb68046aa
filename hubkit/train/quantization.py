"""QLoRA: the frozen base loaded 4-bit or 8-bit by bitsandbytes, the adapter trained on top.

transformers' ``BitsAndBytesConfig`` quantizes the base's linear layers as it
loads them (4-bit: NF4 with double quantization, computing at the training
precision, as the QLoRA paper does); peft's ``prepare_model_for_kbit_training``
readies the quantized model for training. bitsandbytes quantizes on NVIDIA GPUs
only, so a quantized run on a CPU is refused before anything is recorded, in the
same way as fp16 on a CPU.
"""
from __future__ import annotations

import importlib.util
from typing import Any

import torch

from hubkit.errors import MissingExtra, ValidationError
from hubkit.train.hardware import DeviceInfo, torch_dtype

BITS = {"none": None, "8bit": 8, "4bit": 4}
# Bytes per quantized weight: NF4 is half a byte plus its block constants (one fp8 per 64 weights,
# and one fp32 per 256 blocks with double quantization); int8 is a byte plus one fp32 per row.
BYTES_PER_WEIGHT = {"4bit": 0.5 + 1 / 64 + 4 / (64 * 256), "8bit": 1.0}


def check(quantization: str, device: DeviceInfo, *, loads_here: bool = True) -> None:
    """Refuse a quantized load that cannot happen on ``device``, in a sentence a casual user follows
    (``loads_here``: the model is loaded on this machine, so bitsandbytes must be installed here)."""
    if quantization == "none":
        return
    if device.kind != "cuda":
        raise ValidationError(
            f"Quantization ({quantization}) needs an NVIDIA GPU, and this run would train on the CPU. "
            "Set quantization to none to train here, or run it on a machine with a GPU.",
            field="quantization")
    if loads_here and importlib.util.find_spec("bitsandbytes") is None:
        raise MissingExtra("bitsandbytes (4-bit and 8-bit loading)", "qlora")


def load_arguments(quantization: str, precision: str) -> dict[str, Any]:
    """What ``from_pretrained`` gets for ``quantization`` (nothing for "none")."""
    if quantization == "none":
        return {}
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True)}
    return {"quantization_config": BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch_dtype(precision))}


def prepare(model: torch.nn.Module, *, quantization: str, gradient_checkpointing: bool) -> torch.nn.Module:
    """peft's preparation of a quantized base for training (norms in fp32, input gradients on)."""
    if quantization == "none":
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(
        model, use_gradient_checkpointing=gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if gradient_checkpointing else None)


def quantized_parameters(model: torch.nn.Module) -> int:
    """Weights bitsandbytes would quantize: those of the linear layers other than the output head."""
    total = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name and name.rsplit(".", 1)[-1] != "lm_head":
            total += module.weight.numel()
    return total
