"""Every preset file parses against TrainSpec and explains what it trades."""
from __future__ import annotations

import pytest

from hubkit.errors import NotFound
from hubkit.train import TrainSpec, list_presets, load_preset, preset_names, spec_from_preset

CHOICES = {"base_model": "llama3-standin", "dataset": {"example": "math"}, "domain": "math"}


def test_the_three_guided_presets_exist_fastest_first() -> None:
    assert preset_names()[:3] == ["quick", "balanced", "thorough"]


@pytest.mark.parametrize("name", preset_names())
def test_each_preset_is_a_valid_spec_with_one_line_of_trades(name: str) -> None:
    preset = load_preset(name)
    assert preset.trades and "\n" not in preset.trades.strip()
    spec = spec_from_preset(name, **CHOICES)
    for key, value in preset.settings.items():
        assert getattr(spec, key) == value, key
    assert set(preset.settings) <= set(TrainSpec.model_fields)


def test_presets_differ_in_effort() -> None:
    quick, balanced, thorough = (spec_from_preset(n, **CHOICES) for n in ("quick", "balanced", "thorough"))
    assert quick.lora_r < balanced.lora_r < thorough.lora_r
    assert quick.num_epochs < balanced.num_epochs < thorough.num_epochs


def test_choices_override_the_preset() -> None:
    assert spec_from_preset("quick", **CHOICES, lora_r=2).lora_r == 2
    assert len(list_presets()) == len(preset_names())


def test_unknown_preset() -> None:
    with pytest.raises(NotFound, match="quick"):
        load_preset("fastest")


def test_a_preset_spec_can_carry_the_models_name():
    spec = spec_from_preset("quick", base_model="llama3-standin", name="My sums",
                            dataset={"example": "math"})
    assert spec.name == "My sums" and spec.lora_r == 8
