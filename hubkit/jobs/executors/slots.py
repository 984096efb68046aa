"""GPU slots for the local executor: which devices a job may see.

Each job that asks for GPUs gets whole devices from ``HUBKIT_GPU_SLOTS``
(e.g. ``"0,1"``) that no running job holds, and sees only those through
``CUDA_VISIBLE_DEVICES``. Pure functions, so the rules are tested on a CPU.
"""
from __future__ import annotations

from collections.abc import Iterable

from hubkit.errors import ConfigError


def parse_slots(text: str) -> list[str]:
    """``"0, 1,3"`` → ``["0", "1", "3"]``; a repeated or non-numeric index is a setting error."""
    slots = [part.strip() for part in (text or "").split(",") if part.strip()]
    bad = [s for s in slots if not s.isdigit()]
    if bad or len(set(slots)) != len(slots):
        raise ConfigError(f"HUBKIT_GPU_SLOTS must list distinct GPU indices such as '0,1'; got {text!r}.")
    return slots


def assign(slots: Iterable[str], held: Iterable[str], wanted: int) -> list[str] | None:
    """The first ``wanted`` free slots, or None when there are not enough free right now."""
    taken = set(held)
    free = [s for s in slots if s not in taken]
    if wanted > len(free):
        return None
    return free[:wanted]


def visible_devices(assigned: list[str]) -> str:
    """The ``CUDA_VISIBLE_DEVICES`` value: the assigned slots, or none at all for a CPU job."""
    return ",".join(assigned)
