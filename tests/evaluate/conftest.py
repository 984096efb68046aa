"""A small hub for evaluation tests: a base model, a run with a real adapter, a store."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubkit.archive import open_archive
from hubkit.config import Settings
from hubkit.store import LocalStore
from hubkit.store.records import RunRecord
from tests.evaluate.tiny_model import build_random_adapter, build_tiny_llama

BASE_KEY = "llama3-standin"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    base = build_tiny_llama(root / "base")
    chat = build_tiny_llama(root / "chat", chat_template=True)
    return {"base": base, "chat": chat, "adapter": build_random_adapter(base, root / "adapter")}


@dataclass
class EvalWorld:
    store: LocalStore
    settings: Settings
    models: dict[str, Path]

    def install_base(self, which: str = "base", *, instruct: bool = False) -> None:
        """Put a model where the catalog keeps the llama3 stand-in, and record it."""
        from hubkit.catalog.standin import standin_path

        target = standin_path("llama3")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.models[which], target)
        self.store.upsert_base_model(key=BASE_KEY, family="llama3", hf_id="meta-llama/Meta-Llama-3-8B",
                                     architecture="LlamaForCausalLM", licence="llama3", is_standin=True,
                                     info={"instruct": instruct})

    def finished_run(self, *, name: str = "m", outcome: str = "success", adapter: bool = True,
                     dataset_id: int | None = None, parent: int | None = None) -> RunRecord:
        if parent is None:
            run = self.store.create_run(owner="alice", name=name, domain="math", base_model=BASE_KEY,
                                        dataset_id=dataset_id)
        else:
            run = self.store.fork_run(parent, owner="alice", name=name, dataset_id=dataset_id)
        artifacts = {"adapter": open_archive().put_dir(self.models["adapter"])} if adapter else None
        return self.store.finish_run(run.id, outcome=outcome, artifacts=artifacts,
                                     failure_class="divergence" if outcome == "failure" else None)


@pytest.fixture
def world(settings: Settings, tiny_models: dict[str, Path]) -> EvalWorld:
    store = LocalStore(settings.database_url)
    store.ensure_user("alice", role="developer")
    w = EvalWorld(store=store, settings=settings, models=tiny_models)
    w.install_base()
    return w
