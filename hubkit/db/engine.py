"""Engines with the settings each backend needs to keep records safe.

SQLite: WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for write
transactions (a deferred transaction that reads then writes can still fail with
``SQLITE_BUSY``). PostgreSQL: JSONB columns; writers retry serialization
failures and deadlocks.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from hubkit.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "hubkit_write"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


_ENGINES: dict[str, Engine] = {}


def _build_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigError(
                "PostgreSQL URLs must use the psycopg 3 driver: postgresql+psycopg://user@host/db"
            )
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise ConfigError(
        f"Unsupported database URL {parsed.render_as_string(hide_password=True)}: "
        "use sqlite:/// or postgresql+psycopg://"
    )


def get_engine(url: str) -> Engine:
    """One engine per URL per process (pools are per process)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = _build_engine(url)
    return engine


def write_engine(url: str) -> Engine:
    """The same pool, with write transactions taking the lock up front on SQLite."""
    return get_engine(url).execution_options(**{WRITE_OPTION: True})


def dispose_engines() -> None:
    """Close pools, e.g. after ``fork()`` or between tests."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
