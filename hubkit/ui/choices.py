"""Options for the pickers, read from the registries (never listed by hand).

A Dropdown whose value is None shows nothing selected, so "any" is ``ANY`` (the
empty string) and :func:`chosen` turns it back into None.
"""
from __future__ import annotations

from hubkit.evaluate import DOMAINS
from hubkit.store import Store

ANY = ""


def chosen(value: str | None) -> str | None:
    """A picker's value, with the "any" choice as None."""
    return value or None


def domain_options(*, any_label: str | None = None) -> list[tuple[str, str]]:
    """(title, name) for every evaluation domain, optionally led by an "any" choice."""
    options = [(d.title, d.name) for d in DOMAINS.values()]
    return ([(any_label, ANY)] if any_label else []) + options


def family_options(store: Store, *, any_label: str = "Any base") -> list[tuple[str, str]]:
    families = sorted({b.family for b in store.list_base_models()})
    return [(any_label, ANY)] + [(f, f) for f in families]
