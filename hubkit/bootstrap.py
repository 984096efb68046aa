"""Bring a platform up: database at the current schema, catalog rows, stand-ins.

Every face (``hubkit init``, ``make demo``, the seeding, the service) starts
the same way, so a fresh machine and a long-running one agree on what exists.
"""
from __future__ import annotations

from collections.abc import Callable

from hubkit.config import Settings, load_settings
from hubkit.db import upgrade
from hubkit.db.migrate import create_database
from hubkit.store import LocalStore


def register_catalog(store: LocalStore, *, settings: Settings | None = None) -> int:
    """Upsert every catalog base model (stand-ins and real ids) into ``base_models``."""
    from hubkit.catalog import base_model_records

    settings = settings or load_settings()
    rows = base_model_records(home=settings.home)
    for row in rows:
        store.upsert_base_model(**row)
    return len(rows)


def init_platform(*, settings: Settings | None = None, build_models: bool = False,
                  on_build: Callable[..., None] | None = None) -> LocalStore:
    """Migrate the run database, register the catalog and optionally build the stand-ins."""
    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    create_database(settings.database_url)
    upgrade(settings.database_url)
    if build_models:
        from hubkit.catalog import build_standins

        build_standins(home=settings.home, progress=on_build)
    store = LocalStore(settings.database_url)
    register_catalog(store, settings=settings)
    return store
