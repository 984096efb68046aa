"""Pre-flight: memory and time before launch, and the warnings a person needs."""
from __future__ import annotations

import pytest

from hubkit.store import LocalStore
from hubkit.train import TrainSpec, preflight
from hubkit.train import hardware as hw
from tests.train.conftest import small_spec

pytestmark = pytest.mark.slow


def test_report_on_this_machine(hub: LocalStore) -> None:
    spec = TrainSpec.parse(small_spec(max_steps=None, num_epochs=2, batch_size=4, validation_fraction=0.1))
    report = preflight(spec)
    assert report.device == "cpu" and report.precision == "fp32" and report.time_method == "measured"
    assert 0 < report.trainable_parameters < report.parameters
    assert report.train_rows == 36 and report.validation_rows == 4
    assert report.steps_per_epoch == 9 and report.total_steps == 18
    assert report.fits and report.estimated_peak_memory < report.available_memory
    assert report.seconds_per_step > 0 and report.total_seconds == pytest.approx(18 * report.seconds_per_step)
    assert report.sentence.endswith("fits this machine.") and report.sentence.startswith("About")
    assert any("Only 36 training examples" in w for w in report.warnings)
    assert not any("chat template" in w for w in report.warnings)  # the stand-ins end turns with EOS


def test_a_described_small_gpu_does_not_fit_and_time_comes_from_flops(hub: LocalStore) -> None:
    tiny_gpu = hw.DeviceInfo(kind="cuda", index=0, name="toy", total_memory=2_000_000,
                             available_memory=1_000_000, bf16_supported=True)
    spec = TrainSpec.parse(small_spec(batch_size=64, max_seq_len=512, packing=True))
    report = preflight(spec, device=tiny_gpu)
    assert report.precision == "bf16" and report.time_method == "flops"
    assert not report.fits and "does not fit" in report.sentence
    assert any("lower the batch size" in w for w in report.warnings)


def test_memory_grows_with_batch_and_sequence_and_checkpointing_saves_it(hub: LocalStore) -> None:
    def peak(**changes: object) -> int:
        return preflight(TrainSpec.parse(small_spec(packing=True, **changes)), measure=False).estimated_peak_memory

    small, bigger_batch = peak(batch_size=2), peak(batch_size=16)
    assert bigger_batch > small
    assert peak(batch_size=16, gradient_checkpointing=True) < bigger_batch
    report = preflight(TrainSpec.parse(small_spec(lora_r=64)), measure=False)
    assert report.memory.optimizer == 2 * 4 * report.trainable_parameters  # AdamW: two fp32 states


def test_truncation_and_missing_eos_are_warned(hub: LocalStore) -> None:
    report = preflight(TrainSpec.parse(small_spec(max_seq_len=16)), measure=False)
    assert any("longer than 16 tokens" in w for w in report.warnings)
