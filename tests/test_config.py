"""Settings: environment beats hubkit.toml beats defaults; bad values are plain errors."""
from __future__ import annotations

import pytest

from hubkit.config import load_settings, settings_help
from hubkit.errors import ConfigError


def test_defaults_embed_sqlite_under_home(hub_home):
    s = load_settings()
    assert s.database_url == f"sqlite:///{(hub_home / 'hubkit.db').resolve()}"
    assert s.archive_root == str((hub_home / "archive").resolve())
    assert s.executor == "local" and s.allow_code_execution is False


def test_environment_overrides_toml(hub_home, monkeypatch):
    hub_home.mkdir(parents=True)
    (hub_home / "hubkit.toml").write_text('[hubkit]\nexecutor = "ray"\nmax_concurrent_jobs = 4\n')
    assert load_settings().executor == "ray"
    assert load_settings().max_concurrent_jobs == 4
    monkeypatch.setenv("HUBKIT_EXECUTOR", "local")
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "yes")
    monkeypatch.setenv("HUBKIT_DB_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    s = load_settings()
    assert s.executor == "local" and s.allow_code_execution is True
    assert s.database_url.startswith("postgresql+psycopg://")


def test_bad_values_name_the_setting(hub_home, monkeypatch):
    monkeypatch.setenv("HUBKIT_MAX_CONCURRENT_JOBS", "many")
    with pytest.raises(ConfigError, match="max_concurrent_jobs"):
        load_settings()


def test_unknown_toml_keys_are_refused(hub_home):
    hub_home.mkdir(parents=True)
    (hub_home / "hubkit.toml").write_text("[hubkit]\nexecuter = 'ray'\n")
    with pytest.raises(ConfigError, match="executer"):
        load_settings()


def test_every_setting_has_help():
    helps = settings_help()
    assert "HUBKIT_DB_URL" in helps and all(helps.values())


def test_service_workers_default_to_four_on_postgresql_and_one_on_sqlite(hub_home):
    assert load_settings().service_worker_count == 1
    assert load_settings(db_url="postgresql+psycopg://u@h/db").service_worker_count == 4
    assert load_settings(db_url="postgresql+psycopg://u@h/db", service_workers=2).service_worker_count == 2
