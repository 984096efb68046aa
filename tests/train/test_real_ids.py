"""A real catalog id whose weights sit in the Hugging Face cache: trained, scored and demoed like a stand-in."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit.evaluate.worker import on_run_finished
from hubkit.store import LocalStore
from hubkit.train import run
from tests.fixtures.hf_cache import add_tiny_model
from tests.train.conftest import small_spec

REPO_ID = "Qwen/Qwen2.5-0.5B-Instruct"


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hf"
    add_tiny_model(home, repo_id=REPO_ID, family="qwen2.5")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))  # read once at import otherwise
    return home


@pytest.mark.slow
def test_a_hugging_face_id_from_the_cache_trains_and_is_scored(settings, hf_cache: Path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(settings.database_url)  # a fresh database: the catalog row is registered on first use
    result = run(small_spec(base_model=REPO_ID, max_steps=2, validation_fraction=0), store=store, owner="alice")
    assert result.outcome == "success", result.message
    recorded = store.get_run(result.run_id)
    assert recorded.base_model_key == "qwen2.5-0.5b-instruct"
    assert store.get_base_model(REPO_ID).key == "qwen2.5-0.5b-instruct"  # the store takes the HF id too
    report = on_run_finished(store, result.run_id, domains=["general"], limit=2)
    assert report is not None and report.score("general").status == "scored"
    with pytest.raises(Exception, match="trained on qwen2.5-0.5b-instruct"):
        run(small_spec(base_model="llama3-standin", max_steps=2), store=store, owner="alice",
            parent_model_id=result.run_id, relation="fork")
