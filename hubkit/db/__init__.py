"""Run database: schema, engines and migrations."""
from hubkit.db.engine import dispose_engines, get_engine, write_engine
from hubkit.db.migrate import downgrade, upgrade

__all__ = ["dispose_engines", "downgrade", "get_engine", "upgrade", "write_engine"]
