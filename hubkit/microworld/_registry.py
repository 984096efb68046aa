"""The domain registry: one entry per generated domain.

A domain is a small bundle of functions (sample an item, name its canonical
key, render it as prompt/response). Adding a domain is one module that calls
``DOMAINS.register``; nothing else lists domain names.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hubkit.errors import Conflict, NotFound

Item = dict[str, Any]


@dataclass(frozen=True)
class Domain:
    """A generated domain and how its items look."""

    name: str
    description: str
    item_format: str
    fields: tuple[str, ...]
    sample: Callable[[random.Random], Item]
    key: Callable[[Item], str]
    render: Callable[[Item], tuple[str, str]]


class DomainRegistry(Mapping[str, Domain]):
    """Name → domain; refuses duplicates so two modules cannot silently collide."""

    def __init__(self) -> None:
        self._domains: dict[str, Domain] = {}

    def register(self, domain: Domain) -> Domain:
        if domain.name in self._domains:
            raise Conflict(f"A micro-world domain named {domain.name!r} already exists.")
        self._domains[domain.name] = domain
        return domain

    def __getitem__(self, name: str) -> Domain:
        try:
            return self._domains[name]
        except KeyError:
            known = ", ".join(sorted(self._domains))
            raise NotFound(
                f"There is no micro-world domain called {name!r}. Known domains: {known}."
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains)

    def __len__(self) -> int:
        return len(self._domains)


DOMAINS = DomainRegistry()
