"""Executors by name: ``HUBKIT_EXECUTOR`` picks one, adding one is one registry entry.

Entries are ``"module:Class"`` strings resolved on first use, so an optional
backend (Ray) is imported only when it is chosen.
"""
from __future__ import annotations

import importlib

from hubkit.config import Settings
from hubkit.errors import ConfigError
from hubkit.jobs.executors.base import Executor, External, Recovery, Resources, is_final
from hubkit.store import Store


class ExecutorRegistry:
    def __init__(self, entries: dict[str, str] | None = None) -> None:
        self._entries: dict[str, str] = {}
        for name, target in (entries or {}).items():
            self.register(name, target)

    def register(self, name: str, target: str) -> None:
        if name in self._entries:
            raise ConfigError(f"An executor called {name!r} is already registered.")
        self._entries[name] = target

    def names(self) -> list[str]:
        return sorted(self._entries)

    def resolve(self, name: str) -> type[Executor]:
        if name not in self._entries:
            raise ConfigError(f"There is no executor {name!r}; choose one of: {', '.join(self.names())}.")
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)


EXECUTORS = ExecutorRegistry({
    "local": "hubkit.jobs.executors.local:LocalExecutor",
    "local-as-user": "hubkit.jobs.executors.local:LocalUserExecutor",
    "ray": "hubkit.jobs.executors.ray:RayExecutor",
})


def create_executor(*, store: Store, settings: Settings, name: str | None = None,
                    registry: ExecutorRegistry = EXECUTORS) -> Executor:
    """A new executor of the configured kind (``settings.executor`` unless ``name`` is given)."""
    return registry.resolve(name or settings.executor)(store=store, settings=settings)


__all__ = ["EXECUTORS", "Executor", "ExecutorRegistry", "External", "Recovery", "Resources",
           "create_executor", "is_final"]
