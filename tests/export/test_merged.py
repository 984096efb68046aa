"""The owner's complete model: the base with the adapter merged in, made once and recorded as the run's
``merged`` artifact, so the service streams it like every other download."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import metadata_load

from hubkit.archive import open_archive
from hubkit.errors import NotFound, PermissionDenied
from hubkit.export import save_merged
from hubkit.store import LocalStore


def _run_with_trained_adapter(store: LocalStore, tmp_path: Path) -> tuple[int, torch.Tensor]:
    """A finished run whose adapter changes the stand-in's answers, and the logits it gives on one prompt."""
    from peft import LoraConfig, get_peft_model

    from hubkit.catalog import load_base

    model, _ = load_base("qwen2.5-standin")
    peft = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft.save_pretrained(tmp_path / "adapter")
    with torch.no_grad():
        logits = peft(torch.tensor([[1, 2, 3, 4]])).logits
    run = store.create_run(owner="alice", name="Sums tutor", domain="math", base_model="qwen2.5-standin")
    store.finish_run(run.id, outcome="success", artifacts={"adapter": open_archive().put_dir(tmp_path / "adapter")})
    return run.id, logits


def test_the_owner_makes_the_complete_model_once(hub: LocalStore, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    run_id, logits = _run_with_trained_adapter(hub, tmp_path)
    with pytest.raises(NotFound):  # private: bob cannot even see it
        save_merged(store=hub, model=run_id, viewer="bob")
    hub.set_visibility(run_id, "public", actor="alice")
    with pytest.raises(PermissionDenied, match="Only the model's owner"):
        save_merged(store=hub, model=run_id, viewer="bob")
    run = save_merged(store=hub, model=run_id, viewer="alice")
    digest = run.artifacts["merged"]
    folder = open_archive().get_dir(digest, tmp_path / "merged")
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in folder.iterdir()}
    assert not (folder / "adapter_config.json").exists()  # a plain model: no PEFT needed
    meta = metadata_load(folder / "README.md")
    assert meta["base_model_relation"] == "finetune" and meta["license"] == "apache-2.0"
    merged = AutoModelForCausalLM.from_pretrained(folder)
    with torch.no_grad():
        assert torch.allclose(merged(torch.tensor([[1, 2, 3, 4]])).logits, logits, atol=1e-4)
    assert json.loads((folder / "config.json").read_text())["architectures"]
    assert save_merged(store=hub, model=run_id, viewer="alice").artifacts["merged"] == digest  # made once


def test_the_owner_prepares_it_from_the_page_and_gets_a_streaming_link(hub: LocalStore, tmp_path: Path) -> None:
    from hubkit.hub import AppSession
    from hubkit.ui.pages import model_page
    from hubkit.ui.pages.model import Downloads
    from tests.ui.helpers import html_of, walk

    run_id, _ = _run_with_trained_adapter(hub, tmp_path)
    slug = hub.get_run(run_id).slug
    (downloads,) = [w for w in walk(model_page(AppSession(store=hub, user="alice"), slug)) if isinstance(w, Downloads)]
    assert "download/merged" not in html_of(downloads)
    downloads.merge_button.click()
    shown = html_of(downloads)
    assert "The complete model is ready to download." in shown, shown
    assert f"/v1/runs/{run_id}/download/merged?ticket=" in shown  # private: a ticket for alice, no bytes in the page
    assert "base64" not in shown and hub.get_run(run_id).artifacts["merged"]
