"""The Ollama Modelfile: stop parameters are the tokenizer's stop tokens, and its Go template renders
exactly what transformers' apply_chat_template renders (plus the BOS llama.cpp adds itself)."""
from __future__ import annotations

import pytest

from hubkit.catalog import FAMILIES
from hubkit.catalog.chat import go_template
from hubkit.catalog.licences import licence_of
from hubkit.catalog.tokenizer import train_tokenizer
from hubkit.export.api import check_template
from hubkit.export.ollama import licence_text, modelfile, parse_modelfile, stop_tokens
from hubkit.errors import ExportError
from hubkit.microworld import pretraining_corpus
from tests.export.gotemplate import render

CHATS = {
    "two turns, answer wanted": [
        {"role": "user", "content": "What is 3 + 4?"}, {"role": "assistant", "content": "7"},
        {"role": "user", "content": "And 5 + 5?\nThink."}],
    "two turns, answered": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Name a river."}, {"role": "assistant", "content": "The Zel."}],
    "with a system prompt": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}],
}


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict:
    corpus, folder = pretraining_corpus(seed=0, n_per_domain=3), tmp_path_factory.mktemp("tokenizers")
    return {name: train_tokenizer(family=family, texts=corpus, vocab_size=400, folder=folder / name)
            for name, family in FAMILIES.items()}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("chat", list(CHATS))
def test_go_template_renders_what_the_chat_template_renders(tokenizers, family: str, chat: str) -> None:
    tokenizer, fmt = tokenizers[family], FAMILIES[family].chat
    messages = CHATS[chat]
    wants_answer = messages[-1]["role"] != "assistant"
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=wants_answer)
    rendered = render(go_template(fmt), {"Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages]})
    bos = tokenizer.bos_token if FAMILIES[family].tokenizer.add_bos else ""
    assert (bos or "") + rendered == expected


@pytest.mark.parametrize("family", list(FAMILIES))
def test_modelfile_stops_are_the_tokenizer_stop_tokens(tokenizers, family: str) -> None:
    tokenizer = tokenizers[family]
    licence = licence_text(licence_of(FAMILIES[family].licence), base=f"{family}-standin")
    text = modelfile(chat=FAMILIES[family].chat, model_file="model.gguf", stops=stop_tokens(tokenizer),
                     licence=licence, adapter_file="adapter.gguf")
    parsed = parse_modelfile(text)
    assert parsed["FROM"] == ["./model.gguf"] and parsed["ADAPTER"] == ["./adapter.gguf"]
    assert parsed["PARAMETER stop"] == [tokenizer.eos_token]
    assert parsed["TEMPLATE"] == [go_template(FAMILIES[family].chat)]
    assert parsed["LICENSE"] == [licence]


def test_a_model_whose_template_is_not_its_familys_is_refused(tokenizers, tmp_path) -> None:
    tokenizer = tokenizers["qwen2.5"]
    check_template(tokenizer, FAMILIES["qwen2.5"])
    tokenizer = train_tokenizer(family=FAMILIES["qwen2.5"], texts=["a b c"] * 20, vocab_size=300, folder=tmp_path)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    with pytest.raises(ExportError, match="differs from the Qwen 2.5 family"):
        check_template(tokenizer, FAMILIES["qwen2.5"])


def test_interpreter_rejects_syntax_outside_the_subset() -> None:
    with pytest.raises(ValueError):
        render("{{ range .Messages }}{{ .Content }}{{ end }}", {"Messages": []})
    with pytest.raises(ValueError):
        render("{{- .Content }}", {"Content": "x"})
