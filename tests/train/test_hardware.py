"""GPU decisions are checked on the CPU by describing a GPU."""
from __future__ import annotations

import pytest
import torch

from hubkit.errors import ValidationError
from hubkit.train import hardware as hw

CPU = hw.DeviceInfo(kind="cpu", name="cpu", total_memory=8 << 30, available_memory=4 << 30)
A100 = hw.DeviceInfo(kind="cuda", index=0, name="A100", total_memory=80 << 30, available_memory=79 << 30,
                     bf16_supported=True)
T4 = hw.DeviceInfo(kind="cuda", index=1, name="T4", total_memory=16 << 30, available_memory=15 << 30,
                   bf16_supported=False)


def test_auto_precision() -> None:
    assert hw.resolve_precision("auto", CPU) == "fp32"
    assert hw.resolve_precision("auto", A100) == "bf16"
    assert hw.resolve_precision("auto", T4) == "fp16"
    assert hw.resolve_precision("fp32", A100) == "fp32"


def test_fp16_on_cpu_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a GPU"):
        hw.resolve_precision("fp16", CPU)


def test_gpu_arguments() -> None:
    assert hw.load_arguments(A100, "bf16") == {"dtype": torch.bfloat16, "device_map": {"": 0}}
    assert hw.load_arguments(T4, "fp16") == {"dtype": torch.float16, "device_map": {"": 1}}
    assert hw.trainer_arguments(A100, "bf16") == {"bf16": True, "fp16": False, "use_cpu": False,
                                                  "dataloader_pin_memory": True}
    assert hw.trainer_arguments(T4, "fp16")["fp16"] is True


def test_cpu_arguments() -> None:
    assert hw.load_arguments(CPU, "fp32") == {"dtype": torch.float32}
    assert hw.trainer_arguments(CPU, "fp32") == {"bf16": False, "fp16": False, "use_cpu": True,
                                                 "dataloader_pin_memory": False}


def test_detected_cpu_and_records() -> None:
    dev = hw.detect_device("cpu")
    assert dev.kind == "cpu" and dev.available_memory > 0
    record = hw.hardware_record(dev, "fp32")
    assert record["cpu_count"] >= 1 and record["precision"] == "fp32"
    versions = hw.versions_record()
    assert versions["torch"] == torch.__version__ and versions["peft"] and versions["transformers"]


def test_trainer_gets_gpu_precision_and_never_hides_nan(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hubkit.train import TrainSpec
    from hubkit.train.runner import training_kwargs

    spec = TrainSpec.parse({"base_model": "llama3-standin", "dataset": {"example": "math"},
                            "gradient_checkpointing": True, "max_steps": 30, "validation_fraction": 0})
    gpu = training_kwargs(spec, out=tmp_path, has_validation=False, device=A100, precision="bf16")
    assert gpu["bf16"] and not gpu["fp16"] and not gpu["use_cpu"]
    assert gpu["activation_checkpointing"] and gpu["activation_checkpointing_kwargs"] == {"use_reentrant": False}
    assert gpu["logging_nan_inf_filter"] is False and gpu["eval_strategy"] == "no" and gpu["max_steps"] == 30
    assert training_kwargs(spec, out=tmp_path, has_validation=True, device=T4, precision="fp16")["fp16"]
    cpu = training_kwargs(spec, out=tmp_path, has_validation=True, device=CPU, precision="fp32")
    assert cpu["use_cpu"] and cpu["eval_strategy"] == "steps" and cpu["eval_on_start"]
