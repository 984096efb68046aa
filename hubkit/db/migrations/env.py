"""Alembic environment: runs on the connection hubkit hands it."""
from __future__ import annotations

from alembic import context

from hubkit.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs plain `alembic`
    from hubkit.config import load_settings
    from hubkit.db.engine import get_engine

    connection = get_engine(load_settings().database_url).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
