"""Guided presets (quick / balanced / thorough) stored as YAML next to this module.

A preset is a partial `TrainSpec` plus one plain line on what it trades; the
person still picks the base model, the data and the goal.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from hubkit.errors import NotFound, ValidationError
from hubkit.train.spec import TrainSpec

_PACKAGE = "hubkit.train.presets"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    trades: str
    """One plain-language line on what this preset gives up for what."""
    settings: dict[str, Any]


def _folder() -> Any:
    return resources.files("hubkit.train") / "presets"


def preset_names() -> list[str]:
    """Preset names in the order they are shown (fastest first)."""
    found = {p.name.removesuffix(".yaml") for p in _folder().iterdir() if p.name.endswith(".yaml")}
    order = ["quick", "balanced", "thorough"]
    return [n for n in order if n in found] + sorted(found - set(order))


def load_preset(name: str) -> Preset:
    if name not in preset_names():
        raise NotFound(f"There is no preset called {name!r}; choose one of {', '.join(preset_names())}.")
    path = _folder() / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(data) - {"title", "trades", "settings"}
    if unknown or not data.get("trades") or not isinstance(data.get("settings"), dict):
        raise ValidationError(f"The preset file {name}.yaml is malformed.", field=name,
                              detail=f"needs title, trades and settings; unknown keys: {sorted(unknown)}")
    return Preset(name=name, title=str(data.get("title", name.title())), trades=str(data["trades"]),
                  settings=dict(data["settings"]))


def list_presets() -> list[Preset]:
    return [load_preset(n) for n in preset_names()]


def spec_from_preset(preset_name: str, /, **choices: Any) -> TrainSpec:
    """A full spec: the preset's settings, then the person's ``choices`` (base model, dataset, name, ...)."""
    preset = load_preset(preset_name)
    return TrainSpec.parse({**preset.settings, **choices}, source=f"preset {preset_name!r}")
