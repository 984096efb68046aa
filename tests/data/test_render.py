"""Rendering for training and tokenization for causal-LM training."""
from __future__ import annotations

import pytest

from hubkit.data import IGNORE_INDEX, DataLimits, prepare_records, render, render_parts
from hubkit.errors import ValidationError

QA = {"instruction": "What is two plus two?", "input": "", "response": "Four."}
CHAT = {"messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello there"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "How are you today?"},
    {"role": "assistant", "content": "Fine."},
]}


def _learned(tokenizer, row) -> str:
    pairs = zip(row["input_ids"], row["labels"], strict=True)
    ids = [i for i, label in pairs if label != IGNORE_INDEX]
    return tokenizer.decode(ids)


def test_instruction_goes_through_the_chat_template(chat_tokenizer) -> None:
    text = render(QA, tokenizer=chat_tokenizer, fmt="instruction")
    expected = chat_tokenizer.apply_chat_template(
        [{"role": "user", "content": QA["instruction"]},
         {"role": "assistant", "content": QA["response"]}], tokenize=False)
    assert text == expected and "<|assistant|>" in text


def test_plain_layout_without_template(plain_tokenizer) -> None:
    text = render({**QA, "input": "Use digits."}, tokenizer=plain_tokenizer, fmt="instruction")
    assert text == ("### Instruction:\nWhat is two plus two?\n\n### Input:\nUse digits.\n\n"
                    "### Response:\nFour.</s>")
    assert render({"prompt": "2+2=", "completion": "4"}, fmt="prompt_completion") == "2+2=4"
    assert render({"text": "doc"}, tokenizer=plain_tokenizer, fmt="text") == "doc</s>"
    chat = render(CHAT, fmt="chat")
    assert chat.startswith("System: Be brief.\nUser: Hello there\nAssistant: Hello.\n")


def test_prompt_completion_ignores_chat_template(chat_tokenizer) -> None:
    assert render({"prompt": "2+2=", "completion": "4"}, tokenizer=chat_tokenizer,
                  fmt="prompt_completion") == "2+2=4</s>"


def test_chat_spans_cover_each_assistant_turn(chat_tokenizer) -> None:
    parts = render_parts(CHAT, tokenizer=chat_tokenizer, fmt="chat")
    learned = [parts.text[a:b] for a, b in parts.train_spans]
    assert learned == ["Hello.</s>", "Fine.</s>"]


def test_labels_mask_prompts_and_keep_replies(chat_tokenizer) -> None:
    prepared = prepare_records(records=[CHAT], name="c", limits=DataLimits())
    out = prepared.tokenize(tokenizer=chat_tokenizer, max_seq_len=512)
    row = out.dataset[0]
    assert len(row["input_ids"]) == len(row["attention_mask"]) == len(row["labels"])
    assert _learned(chat_tokenizer, row) == "Hello.</s>Fine.</s>"
    assert out.truncation.rows_truncated == 0 and out.dropped_rows == []


def test_plain_layout_masks_the_prompt(plain_tokenizer) -> None:
    prepared = prepare_records(records=[{"question": QA["instruction"], "answer": "Four."}],
                               name="q", limits=DataLimits())
    row = prepared.tokenize(tokenizer=plain_tokenizer, max_seq_len=512).dataset[0]
    assert _learned(plain_tokenizer, row) == "Four.</s>"
    unmasked = prepared.tokenize(tokenizer=plain_tokenizer, max_seq_len=512,
                                 mask_prompt=False).dataset[0]
    assert unmasked["labels"] == unmasked["input_ids"]


def test_truncation_is_counted_and_prompt_only_rows_dropped(plain_tokenizer) -> None:
    rows = [{"prompt": "short ", "completion": "answer"},
            {"prompt": "The cat sits on the mat. " * 20, "completion": "end"},
            {"prompt": "Hi ", "completion": "Write a poem about the sea. " * 20}]
    prepared = prepare_records(records=rows, name="t", limits=DataLimits())
    seen: list[tuple[int, int]] = []
    out = prepared.tokenize(tokenizer=plain_tokenizer, max_seq_len=16,
                            progress=lambda done, total: seen.append((done, total)))
    assert out.dropped_rows == [2]
    assert out.truncation.rows_truncated == 2 and out.truncation.rows == [2, 3]
    assert len(out.dataset) == 2
    assert all(len(ids) <= 16 for ids in out.dataset["input_ids"])
    assert seen[-1] == (3, 3)
    assert "2 rows are longer than 16 tokens" in out.truncation.sentence


def test_stats_token_counts_match_tokenization(chat_tokenizer) -> None:
    prepared = prepare_records(records=[CHAT, CHAT], name="c", limits=DataLimits(),
                               tokenizer=chat_tokenizer, max_seq_len=8)
    out = prepared.tokenize(tokenizer=chat_tokenizer, max_seq_len=10_000, mask_prompt=False)
    assert prepared.stats.tokens == sum(len(ids) for ids in out.dataset["input_ids"])
    assert prepared.stats.truncation.rows_truncated == 2


def test_bad_tokenize_arguments(plain_tokenizer) -> None:
    prepared = prepare_records(records=[{"text": "a"}], name="t", limits=DataLimits())
    with pytest.raises(ValidationError):
        prepared.tokenize(tokenizer=plain_tokenizer, max_seq_len=1)
    with pytest.raises(ValidationError, match="not a dataset format"):
        render({"text": "a"}, fmt="poetry")


def test_templates_that_rewrite_earlier_turns_fall_back_to_the_replies(chat_tokenizer) -> None:
    import copy

    tok = copy.deepcopy(chat_tokenizer)
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}"
                         "{% if loop.last %} [END]{% endif %}\n{% endfor %}")
    parts = render_parts(CHAT, tokenizer=tok, fmt="chat")
    assert parts.text.endswith("assistant: Fine. [END]")
    assert [parts.text[a:b] for a, b in parts.train_spans] == ["Hello.", "Fine."]
