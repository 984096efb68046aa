"""A small hub for evaluation tests: the llama3 stand-in, runs with a real adapter, a store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hubkit.archive import open_archive
from hubkit.config import Settings
from hubkit.store import LocalStore
from hubkit.store.records import RunRecord
from tests.evaluate.adapters import build_random_adapter

BASE_KEY = "llama3-standin"


@pytest.fixture(scope="session")
def standin_adapter(standins_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = standins_home / "models" / "standins" / "llama3"
    return build_random_adapter(base, tmp_path_factory.mktemp("adapter") / "llama3")


@dataclass
class EvalWorld:
    store: LocalStore
    settings: Settings
    adapter: Path

    def record_base(self, *, instruct: bool | None = None) -> None:
        """The catalog's own row for the llama3 stand-in (optionally marked not instruct)."""
        from hubkit.catalog import base_model_records

        row = next(r for r in base_model_records() if r["key"] == BASE_KEY)
        if instruct is not None:
            row["info"] = {**row["info"], "instruct": instruct}
        self.store.upsert_base_model(**row)

    def finished_run(self, *, name: str = "m", outcome: str = "success", adapter: bool = True,
                     dataset_id: int | None = None, parent: int | None = None) -> RunRecord:
        if parent is None:
            run = self.store.create_run(owner="alice", name=name, domain="math", base_model=BASE_KEY,
                                        dataset_id=dataset_id)
        else:
            run = self.store.fork_run(parent, owner="alice", name=name, dataset_id=dataset_id)
        artifacts = {"adapter": open_archive().put_dir(self.adapter)} if adapter else None
        return self.store.finish_run(run.id, outcome=outcome, artifacts=artifacts,
                                     failure_class="divergence" if outcome == "failure" else None)


@pytest.fixture
def world(settings: Settings, standin_env: Path, standin_adapter: Path) -> EvalWorld:
    store = LocalStore(settings.database_url)
    store.ensure_user("alice", role="developer")
    w = EvalWorld(store=store, settings=settings, adapter=standin_adapter)
    w.record_base()
    return w
