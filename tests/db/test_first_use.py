"""The store creates and migrates its own database on first use, from any door; or says what to run."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hubkit.db import get_engine
from hubkit.db.migrate import current_revision, head_revision
from hubkit.errors import ConfigError
from hubkit.store import LocalStore, open_store


def test_a_fresh_database_is_created_at_the_head_on_first_use(empty_db_url: str) -> None:
    store = LocalStore(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()
    assert "base_models" in sa.inspect(get_engine(empty_db_url)).get_table_names()
    assert store.list_base_models() == []


def test_the_default_home_needs_no_init(hub_home: Path) -> None:
    store = open_store()  # what a template or a notebook does first
    assert store.list_runs() == [] and (hub_home / "hubkit.db").is_file()


def test_an_older_schema_is_migrated_on_first_use(sqlite_url: str) -> None:
    from hubkit.db import upgrade

    upgrade(sqlite_url, "0001")
    LocalStore(sqlite_url)
    assert current_revision(sqlite_url) == head_revision()


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2",
                                 "sqlite:////proc/hubkit-cannot-write-here/runs.db"])
def test_a_database_that_cannot_be_opened_is_one_sentence_naming_what_to_run(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        LocalStore(url)
    assert err.value.message.startswith("The run database at ")
    assert "run 'hubkit init'" in err.value.message and "Traceback" not in err.value.message


def test_a_newer_schema_is_refused_in_words(sqlite_url: str) -> None:
    LocalStore(sqlite_url)
    with get_engine(sqlite_url).begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    from hubkit.db.migrate import _CURRENT

    _CURRENT.discard(sqlite_url)  # as a new process would
    with pytest.raises(ConfigError, match="created by a newer hubkit"):
        LocalStore(sqlite_url)
