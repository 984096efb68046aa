"""The schema researchers rely on: names, types, migrations and plain SQL access."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from hubkit.db import downgrade, get_engine, upgrade
from hubkit.db.migrate import current_revision, head_revision
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal

TABLES = {"users", "base_models", "datasets", "models", "loss_points", "evaluations", "feedback", "jobs",
          "notebook_runs", "events", "capability_flags", "dataset_items"}


def test_migrations_go_up_and_down_cleanly(empty_db_url):
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()
    assert TABLES <= set(sa.inspect(get_engine(empty_db_url)).get_table_names())
    downgrade(empty_db_url, "base")
    assert current_revision(empty_db_url) is None
    assert not TABLES & set(sa.inspect(get_engine(empty_db_url)).get_table_names())
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()


def test_four_critical_fields_exist_with_their_types(db_url):
    columns = {c["name"]: c for c in sa.inspect(get_engine(db_url)).get_columns("models")}
    json_types = ("JSON", "JSONB")
    assert columns["parent_model_id"]["nullable"] is True
    assert isinstance(columns["parent_model_id"]["type"], sa.Integer)
    assert type(columns["loss_curve_data"]["type"]).__name__ in json_types
    assert type(columns["benchmark_scores"]["type"]).__name__ in json_types
    assert columns["training_outcome"]["nullable"] is True
    fks = sa.inspect(get_engine(db_url)).get_foreign_keys("models")
    assert any(fk["constrained_columns"] == ["parent_model_id"] and fk["referred_table"] == "models" for fk in fks)
    if db_url.startswith("postgresql"):
        assert type(columns["benchmark_scores"]["type"]).__name__ == "JSONB"


def test_training_outcome_only_accepts_the_three_outcomes(db_url):
    store = LocalStore(db_url)
    seed_minimal(store)
    run = store.create_run(owner="alice", name="x", domain="math", base_model="llama3-standin")
    with pytest.raises(sa.exc.IntegrityError), get_engine(db_url).begin() as conn:
        conn.execute(sa.text("update models set training_outcome='great' where id=:i"), {"i": run.id})


def test_loss_points_are_append_only_in_the_database_itself(db_url):
    store = LocalStore(db_url)
    seed_minimal(store)
    run = store.create_run(owner="alice", name="x", domain="math", base_model="llama3-standin")
    store.append_points(run.id, [{"step": 1, "loss": 1.0}])
    for statement in ("update loss_points set loss = 0", "delete from loss_points"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), get_engine(db_url).begin() as conn:
            conn.execute(sa.text(statement))
    assert store.loss_points(run.id) == [{"step": 1, "epoch": None, "loss": 1.0, "lr": None, "grad_norm": None}]


def test_plain_read_sql_works_for_researchers(db_url):
    store = LocalStore(db_url)
    seed_minimal(store)
    run = store.create_run(owner="alice", name="x", domain="math", base_model="llama3-standin")
    store.append_points(run.id, [{"step": 1, "loss": 1.0}])
    store.finish_run(run.id, outcome="success")
    engine = get_engine(db_url)
    frame = pd.read_sql("select * from models", engine)
    assert {"parent_model_id", "training_outcome", "loss_curve_data", "benchmark_scores"} <= set(frame.columns)
    assert frame.loc[0, "training_outcome"] == "success"
    points = pd.read_sql("select model_id, step, loss from loss_points", engine)
    assert points["loss"].tolist() == [1.0]


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url):
    upgrade(sqlite_url)
    with get_engine(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("pragma busy_timeout").scalar() >= 5000


def test_migrations_build_exactly_the_models_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hubkit.db.models import Base

    with get_engine(db_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_models_keeps_its_large_json_documents_last(db_url):
    """SQLite stores a row's columns in order: the flat ones must come before the curve and scores,
    so that scans of the flat columns read no overflow pages."""
    upgrade(db_url)
    names = [c["name"] for c in sa.inspect(get_engine(db_url)).get_columns("models")]
    assert names[-2:] == ["benchmark_scores", "loss_curve_data"]
    documents = {"description", "config", "hardware", "versions", "artifacts", "benchmark_scores", "loss_curve_data"}
    assert set(names[-len(documents):]) == documents


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_created_once_then_migrated():
    import uuid

    from hubkit.db import dispose_engines
    from hubkit.db.migrate import create_database
    from tests.fixtures.db import PG_ADMIN_URL, _require_pg

    _require_pg()
    name = f"hubkit_t_{uuid.uuid4().hex[:10]}"
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        assert create_database(url) is True
        assert create_database(url) is False  # there already
        upgrade(url)
        assert current_revision(url) == head_revision()
    finally:
        dispose_engines()
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
    assert create_database("sqlite:///unused.db") is False  # SQLite makes its own file
