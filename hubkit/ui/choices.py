"""Options for the pickers, read from the registries (never listed by hand)."""
from __future__ import annotations

from hubkit.evaluate import DOMAINS
from hubkit.store import Store


def domain_options(*, any_label: str | None = None) -> list[tuple[str, str | None]]:
    """(title, name) for every evaluation domain, optionally led by an "any" choice."""
    options: list[tuple[str, str | None]] = [(d.title, d.name) for d in DOMAINS.values()]
    return ([(any_label, None)] if any_label else []) + options


def family_options(store: Store, *, any_label: str = "Any base") -> list[tuple[str, str | None]]:
    families = sorted({b.family for b in store.list_base_models()})
    return [(any_label, None)] + [(f, f) for f in families]
