"""The demo: one load per process shared by every visitor, and failures said in a sentence."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit.archive import open_archive
from hubkit.errors import DemoError
from hubkit.hub import demo
from hubkit.store import LocalStore
from tests.evaluate.adapters import build_random_adapter


@pytest.fixture
def tried(standin_env: Path, settings, tmp_path: Path) -> tuple[LocalStore, str]:  # type: ignore[no-untyped-def]
    from hubkit.catalog import base_model_records

    store = LocalStore(settings.database_url)
    store.ensure_user("alice", role="developer")
    store.upsert_base_model(**next(r for r in base_model_records() if r["key"] == "llama3-standin"))
    adapter = build_random_adapter(standin_env / "models" / "standins" / "llama3", tmp_path / "adapter")
    run = store.create_run(owner="alice", name="m", domain="math", base_model="llama3-standin")
    store.finish_run(run.id, outcome="success", artifacts={"adapter": open_archive().put_dir(adapter)})
    demo._cache.clear()
    yield store, run.slug
    demo._cache.clear()


def _answer(store: LocalStore, slug: str, **kw: object) -> str:
    return "".join(demo.stream_generation(store=store, model=slug, viewer="alice", prompt="What is 3 + 4?",
                                          max_new_tokens=4, **kw))


def test_the_model_is_loaded_once_and_shared_by_every_visitor(tried, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hubkit import catalog

    store, slug = tried
    loads: list[str] = []
    real = catalog.load_base
    monkeypatch.setattr(catalog, "load_base", lambda key, **kw: (loads.append(key), real(key, **kw))[1])
    first = _answer(store, slug)
    assert _answer(store, slug) == first  # a second visitor: same answer, no second load
    assert loads == ["llama3-standin"]


def test_a_slow_answer_ends_in_a_sentence(tried) -> None:  # type: ignore[no-untyped-def]
    store, slug = tried
    with pytest.raises(DemoError, match="took more than 1e-06 seconds to write its next word"):
        _answer(store, slug, timeout_s=1e-6)
    assert isinstance(_answer(store, slug), str)  # the stopped generation left nothing behind


def test_out_of_memory_and_other_failures_end_in_a_sentence(tried, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import torch

    store, slug = tried
    _answer(store, slug)  # loaded
    (net, _tok), = demo._cache.values()

    def exhausted(**kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(net, "generate", exhausted)
    with pytest.raises(DemoError, match="ran out of memory while answering"):
        _answer(store, slug)
    monkeypatch.setattr(net, "generate", lambda **kw: 1 / 0)
    with pytest.raises(DemoError, match="The demo could not answer: ZeroDivisionError"):
        _answer(store, slug)


def test_the_page_shows_the_sentence_instead_of_loading(tried, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hubkit.hub import AppSession
    from hubkit.ui.pages.model import DemoBox

    store, slug = tried
    monkeypatch.setattr("hubkit.ui.pages.model.stream_generation",
                        lambda **kw: demo.stream_generation(**kw, timeout_s=1e-6))
    box = DemoBox(AppSession(store=store, user="alice"), slug)
    box.prompt.value = "What is 3 + 4?"
    box.generate()
    assert "Loading the model" not in box.answer.value
    assert "took more than" in box.feedback.value and not box.go.disabled


def test_the_base_answers_beside_the_model_from_the_same_weights(tried) -> None:  # type: ignore[no-untyped-def]
    import torch

    from hubkit.catalog import load_base

    store, slug = tried
    tuned = _answer(store, slug)
    based = _answer(store, slug, base=True)
    net, tokenizer = load_base("llama3-standin")  # the base on its own, no adapter anywhere
    text = demo.prompt_text("What is 3 + 4?", tokenizer=tokenizer, data_format="text")
    ids = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = net.generate(**ids, max_new_tokens=4, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                           pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    assert based == tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert tuned != based  # the random adapter changes the answer
    assert _answer(store, slug) == tuned  # and switching it off for the base left it on for the model


def test_sampling_is_opt_in_seeded_and_checked(tried) -> None:  # type: ignore[no-untyped-def]
    from hubkit.errors import ValidationError

    store, slug = tried
    warm = demo.Sampling(temperature=1.2, top_p=0.9)
    assert _answer(store, slug, sampling=warm) == _answer(store, slug, sampling=warm)  # one seed, one answer
    for bad in ({"temperature": -0.1}, {"temperature": 9.0}, {"top_p": 0.0}, {"top_p": 1.5}):
        with pytest.raises(ValidationError):
            demo.Sampling(**bad)


def test_the_page_streams_both_answers(tried) -> None:  # type: ignore[no-untyped-def]
    from hubkit.hub import AppSession
    from hubkit.ui.pages.model import DemoBox

    store, slug = tried
    box = DemoBox(AppSession(store=store, user="alice"), slug)
    box.prompt.value = "What is 3 + 4?"
    box.length.value = 4
    box.generate()
    assert "<pre>" in box.answer.value and "<pre>" in box.base_answer.value
    assert "hk-done" in box.answer._dom_classes and "hk-done" in box.base_answer._dom_classes
    assert box.feedback.value == ""
