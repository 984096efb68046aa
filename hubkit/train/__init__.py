"""LoRA fine-tuning that records every attempt, whatever its outcome.

Public API (keyword-only):

- `TrainSpec`, `DatasetRef`, `field_help()`: every knob with its help and bounds.
- `list_presets()`, `load_preset(name)`, `spec_from_preset(preset_name, /, **choices)`.
- `preflight(spec, *, device=None, ...) -> PreflightReport`: memory, time, warnings.
- `run(spec, *, store, owner, ...) -> TrainResult`; `resume(run_id, *, store, owner)`.
- `Progress`: the callback protocol apps implement (``on_step``, ``on_status``).
"""
from __future__ import annotations

from hubkit.train.preflight import PreflightReport, preflight
from hubkit.train.presets import Preset, list_presets, load_preset, preset_names, spec_from_preset
from hubkit.train.recorder import Progress
from hubkit.train.runner import TrainResult, resume, run
from hubkit.train.spec import DatasetRef, TrainSpec, field_help

__all__ = ["DatasetRef", "PreflightReport", "Preset", "Progress", "TrainResult", "TrainSpec", "field_help",
           "list_presets", "load_preset", "preflight", "preset_names", "resume", "run", "spec_from_preset"]
