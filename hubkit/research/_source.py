"""Where research reads come from: a database URL, a store, or the settings.

Research code reads the run database directly (one SQL query per frame is what
makes 100,000 runs load in seconds); every write still goes through the Store.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from hubkit.config import load_settings
from hubkit.db import get_engine
from hubkit.errors import ConfigError

if TYPE_CHECKING:
    from hubkit.store import Store


def database_url(*, url: str | None = None, store: Store | None = None) -> str:
    """The run-database URL to read: explicit ``url``, else the store's, else the settings'."""
    if url:
        return url
    if store is not None:
        store_url = getattr(store, "url", None)
        if not store_url or not str(store_url).startswith(("sqlite", "postgresql")):
            raise ConfigError(
                "Research frames read the run database directly; this store talks to the service over HTTP.",
                detail="pass url= with a database URL, or use a LocalStore",
            )
        return str(store_url)
    return load_settings().database_url


def engine_for(*, url: str | None = None, store: Store | None = None) -> Engine:
    return get_engine(database_url(url=url, store=store))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def json_key(engine: Engine, column: str, key: str) -> str:
    """SQL that yields one top-level key of a JSON column as text on both backends."""
    return f"({column} ->> '{key}')" if is_postgres(engine) else f"json_extract({column}, '$.{key}')"


def json_text(engine: Engine, column: str) -> str:
    """SQL that yields a JSON column as text on both backends (parsed in one pass in Python)."""
    return f"CAST({column} AS TEXT)" if is_postgres(engine) else column
