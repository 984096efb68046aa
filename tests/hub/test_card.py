"""The Hub card: parsed back by huggingface_hub's own readers, its model-index equal to the stored scores."""
from __future__ import annotations

from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from hubkit.hub.card import build_card
from tests.hub.world import World, XSS_NAME


def _card(world: World, store, tmp_path, *, merged: bool, run=None):  # type: ignore[no-untyped-def]
    run = run or world.math_model
    base = store.get_base_model(run.base_model_id)
    dataset = store.get_dataset(run.dataset_id) if run.dataset_id else None
    card = build_card(run=run, base=base, merged=merged, dataset=dataset,
                      source_url="https://hub.example/models/x", files=["adapter_model.safetensors"])
    path = tmp_path / "README.md"
    card.save(path)
    return path


def test_card_round_trips_with_scores_equal_to_the_store(world: World, hub_store, tmp_path) -> None:
    path = _card(world, hub_store, tmp_path, merged=False)
    meta = metadata_load(path)
    assert meta["base_model"] == "llama3-standin"
    assert meta["base_model_relation"] == "adapter"
    assert meta["license"] == "llama3"
    assert "datasets" not in meta  # an upload is not public
    assert {"hubkit", "lora", "math", "stand-in"} <= set(meta["tags"])
    name, results = model_index_to_eval_results(meta["model-index"])
    assert name == world.math_model.slug
    stored = world.math_model.benchmark_scores
    got = {(r.task_name, r.metric_type): r for r in results}
    assert len(got) == 3
    for domain, tasks in stored.items():
        for task, entry in tasks.items():
            result = got[(f"{domain}: {task}", entry["metric"])]
            assert result.metric_value == entry["value"]
            assert result.metric_config == f"stamp {entry['stamp_hash']}"
            assert result.metric_args["stderr"] == entry["stderr"]
            assert result.source_url == "https://hub.example/models/x"
    card = ModelCard.load(path)
    assert card.data.eval_results[0].metric_value in {e["value"] for t in stored.values() for e in t.values()}
    assert "## Scores" in card.text and "llama3" in card.text


def test_merged_card_is_a_finetune_and_user_text_stays_text(world: World, hub_store, tmp_path) -> None:
    path = _card(world, hub_store, tmp_path, merged=True, run=world.xss)
    meta = metadata_load(path)
    assert meta["base_model_relation"] == "finetune"
    assert meta["license"] == "apache-2.0"
    # Only the scored tasks of the model itself appear; the two stamps of one task are one current entry.
    _, results = model_index_to_eval_results(meta["model-index"])
    assert [r.metric_value for r in results] == [world.xss.benchmark_scores["math"]["mw_math"]["value"]]
    assert XSS_NAME in path.read_text()  # written verbatim, never rendered as a template


def test_hub_dataset_is_named_and_unscored_model_has_no_model_index(hub_store, tmp_path) -> None:
    ds = hub_store.register_dataset(owner="alice", name="gsm8k", fingerprint="a" * 64, format="instruction",
                                    n_rows=10, stats={}, source="hub:openai/gsm8k")
    run = hub_store.create_run(owner="alice", name="Fresh", domain="math", base_model="llama3-standin",
                               dataset_id=ds.id)
    card = build_card(run=run, base=hub_store.get_base_model(run.base_model_id), merged=False, dataset=ds)
    card.save(tmp_path / "README.md")
    meta = metadata_load(tmp_path / "README.md")
    assert meta["datasets"] == ["openai/gsm8k"]
    assert "model-index" not in meta
    assert "has not scored" in card.text
