"""HUBKIT_DEVICE: the rules, checked on a CPU-only machine by describing GPUs."""
from __future__ import annotations

import pytest

from hubkit.devices import DeviceChoice, choose_device
from hubkit.errors import ConfigError


@pytest.mark.parametrize("asked,gpus,bf16,expected", [
    ("auto", 0, False, DeviceChoice("cpu")),
    ("auto", 2, True, DeviceChoice("cuda", 0, True)),
    ("cpu", 4, True, DeviceChoice("cpu")),
    ("cuda", 1, False, DeviceChoice("cuda", 0, False)),
    ("cuda:1", 2, True, DeviceChoice("cuda", 1, True)),
    (" CUDA:1 ", 2, True, DeviceChoice("cuda", 1, True)),
])
def test_the_device_asked_for_on_the_machine_there_is(asked: str, gpus: int, bf16: bool,
                                                      expected: DeviceChoice) -> None:
    assert choose_device(asked, gpus=gpus, bf16=bf16) == expected


def test_inference_dtype_follows_the_device() -> None:
    assert DeviceChoice("cpu").dtype_name == "float32"
    assert DeviceChoice("cuda", 0, bf16=True).dtype_name == "bfloat16"
    assert DeviceChoice("cuda", 0, bf16=False).dtype_name == "float16"  # pre-Ampere GPUs
    assert DeviceChoice("cuda", 1).torch_device == "cuda:1"


@pytest.mark.parametrize("asked,gpus,words", [
    ("cuda", 0, "this machine has no GPU"),
    ("cuda:2", 2, "only 2 GPUs (cuda:0 to cuda:1)"),
    ("gpu", 1, "is not a device"),
    ("cpu:1", 1, "is not a device"),
])
def test_a_device_the_machine_lacks_is_refused_in_words(asked: str, gpus: int, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        choose_device(asked, gpus=gpus, bf16=False)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_DEVICE", "cpu")
    assert choose_device(gpus=1, bf16=True) == DeviceChoice("cpu")
    monkeypatch.setenv("HUBKIT_DEVICE", "cuda:3")
    with pytest.raises(ConfigError, match="cuda:3"):
        choose_device(gpus=1, bf16=True)


def test_training_evaluation_and_the_demo_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from hubkit.evaluate.models import ModelSource
    from hubkit.train.hardware import detect_device

    monkeypatch.setenv("HUBKIT_DEVICE", "cpu")
    assert detect_device().kind == "cpu"
    args = ModelSource("base", None, False).model_args(device=choose_device())
    assert (args["device"], args["dtype"]) == ("cpu", "float32")
    args = ModelSource("base", None, False).model_args(device=DeviceChoice("cuda", 1, True))
    assert (args["device"], args["dtype"]) == ("cuda:1", "bfloat16")
