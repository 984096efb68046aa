"""LoRA fine-tuning that records every attempt, whatever its outcome.

Public API (keyword-only):

- `TrainSpec`, `DatasetRef`, `field_help()`: every knob with its help and bounds.
- `list_presets()`, `load_preset(name)`, `spec_from_preset(name, **choices)`.
- `preflight(spec, *, device=None, ...) -> PreflightReport`: memory, time, warnings.
- `run(spec, *, store, owner, ...) -> TrainResult`; `resume(run_id, *, store, owner)`.
- `Progress`: the callback protocol apps implement (``on_step``, ``on_status``).

The spec and presets import without torch, so apps and ``hubkit --help`` stay
quick; the training parts load on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

from hubkit.train.presets import Preset, list_presets, load_preset, preset_names, spec_from_preset
from hubkit.train.spec import DatasetRef, TrainSpec, field_help

_LAZY = {
    "run": "hubkit.train.runner",
    "resume": "hubkit.train.runner",
    "TrainResult": "hubkit.train.runner",
    "preflight": "hubkit.train.preflight",
    "PreflightReport": "hubkit.train.preflight",
    "Progress": "hubkit.train.recorder",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hubkit.train' has no attribute {name!r}")


__all__ = ["DatasetRef", "PreflightReport", "Preset", "Progress", "TrainResult", "TrainSpec", "field_help",
           "list_presets", "load_preset", "preflight", "preset_names", "resume", "run", "spec_from_preset"]
