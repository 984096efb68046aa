"""Schema migrations through Alembic, callable from code and the CLI."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hubkit.db.engine import write_engine
from hubkit.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_CURRENT: set[str] = set()  # databases this process has seen at the head revision
_PG_MIGRATION_LOCK = 0x6875626B  # one migrating process at a time on PostgreSQL ("hubk")


def create_database(url: str) -> bool:
    """Create the PostgreSQL database ``url`` names when the server does not have it yet
    (the demo's ``DB=postgresql``); True when it was created. SQLite creates its file itself."""
    from sqlalchemy import create_engine, text

    target = make_url(url)
    if target.get_backend_name() != "postgresql" or not target.database:
        return False
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": target.database}).first():
                return False
            quoted = conn.dialect.identifier_preparer.quote(target.database)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
            return True
    finally:
        server.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if new)."""
    cfg = _config()
    with write_engine(url).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(url: str, revision: str = "base") -> None:
    _CURRENT.discard(url)
    cfg = _config()
    with write_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(url: str) -> str | None:
    with write_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def ensure_current(url: str) -> None:
    """Create or migrate the database on its first use in this process, whichever door opened it.

    Where that is impossible (unreachable server, read-only file, a schema
    newer than this hubkit) a ``ConfigError`` says in a sentence what to do;
    a raw SQL error never reaches the person.
    """
    if url in _CURRENT:
        return
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        current = current_revision(url)
        if current != head_revision():
            known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
            if current is not None and current not in known:
                raise ConfigError(f"The run database at {shown} was created by a newer hubkit (schema {current}); "
                                  "upgrade hubkit to use it.")
            upgrade(url)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise ConfigError(f"The run database at {shown} could not be opened or brought up to date ({reason}). "
                          "Check that it is reachable and writable, then run 'hubkit init'.",
                          detail=str(exc)) from exc
    _CURRENT.add(url)
