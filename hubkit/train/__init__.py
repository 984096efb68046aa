"""LoRA fine-tuning that records every attempt, whatever its outcome.

Public API (keyword-only):

- `TrainSpec`, `DatasetRef`, `field_help()`: every knob with its help and bounds.
- `list_presets()`, `load_preset(name)`, `spec_from_preset(preset_name, /, **choices)`.
- `preflight(spec, *, device=None, ...) -> PreflightReport`: memory, time, warnings.
- `run(spec, *, store, owner, ...) -> TrainResult`; `resume(run_id, *, store, owner)`.
- `Progress`: the callback protocol apps implement (``on_step``, ``on_status``).

Names load on first use, so the spec and presets (pydantic, YAML) can be read
by the command line and the apps without importing torch and transformers.
"""
from __future__ import annotations

from hubkit._lazy import lazy_exports

_HOMES = {
    "PreflightReport": "estimate", "preflight": "estimate",
    "Preset": "presets", "list_presets": "presets", "load_preset": "presets", "preset_names": "presets",
    "spec_from_preset": "presets",
    "Progress": "recorder",
    "TrainResult": "runner", "resume": "runner", "run": "runner",
    "DatasetRef": "spec", "TrainSpec": "spec", "field_help": "spec",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
