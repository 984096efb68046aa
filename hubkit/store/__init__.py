"""The store: the one write path to the run database.

``open_store()`` picks the implementation from the URL scheme: ``sqlite:`` and
``postgresql:`` give a :class:`LocalStore`; ``http:``/``https:`` give the
``ApiStore`` that user kernels use with their own token.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from hubkit.config import Settings, load_settings
from hubkit.errors import ConfigError
from hubkit.store.base import Store
from hubkit.store.local import ANONYMOUS, LocalStore, stamp_hash

# scheme → "module:attribute" of a factory taking (url, settings, token)
STORE_BACKENDS: dict[str, str] = {
    "sqlite": "hubkit.store.local:LocalStore",
    "postgresql": "hubkit.store.local:LocalStore",
    "http": "hubkit.store.api:ApiStore",
    "https": "hubkit.store.api:ApiStore",
}


def _resolve(target: str) -> Callable[..., Store]:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def open_store(url: str | None = None, *, settings: Settings | None = None, token: str | None = None) -> Store:
    """The store for ``url`` (default: the configured service, else the run database)."""
    settings = settings or load_settings()
    url = url or settings.service_url or settings.database_url
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in STORE_BACKENDS:
        raise ConfigError(f"No store for URLs starting with {scheme!r}; use one of {', '.join(STORE_BACKENDS)}.")
    factory = _resolve(STORE_BACKENDS[scheme])
    if factory is LocalStore:
        return LocalStore(url)
    return factory(url, token=token)


__all__ = ["ANONYMOUS", "STORE_BACKENDS", "LocalStore", "Store", "open_store", "stamp_hash"]
