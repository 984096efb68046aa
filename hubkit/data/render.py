"""Normalised items to training text, and text to causal-LM tensors.

With a tokenizer that has a chat template, instruction and chat items go
through ``apply_chat_template`` so training sees exactly what inference will
send. Otherwise a plain layout is used. Either way we keep the character spans
the model should learn (responses, completions, assistant turns), so prompt
tokens can be masked out of the labels.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from hubkit.errors import ValidationError

IGNORE_INDEX = -100
_BATCH = 256

Span = tuple[int, int]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rendered:
    text: str
    train_spans: list[Span]
    """Character ranges of ``text`` the model learns to produce."""
    templated: bool
    """True when the chat template wrote the text (special tokens are already in it)."""


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def _eos(tokenizer: Any) -> str:
    return getattr(tokenizer, "eos_token", None) or ""


def instruction_messages(item: Mapping[str, Any]) -> list[dict[str, str]]:
    prompt = item["instruction"]
    if item.get("input"):
        prompt = f"{prompt}\n\n{item['input']}"
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": item["response"]}]


def _apply(tokenizer: Any, messages: Sequence[Mapping[str, str]], *, generation: bool) -> str:
    text = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation
    )
    if not isinstance(text, str):
        raise ValidationError("The tokenizer's chat template did not produce text.")
    return text


def _templated(messages: list[dict[str, str]], tokenizer: Any, *, spans_wanted: bool) -> Rendered:
    full = _apply(tokenizer, messages, generation=False)
    if not spans_wanted:
        return Rendered(text=full, train_spans=[], templated=True)
    spans: list[Span] = []
    cursor = 0
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _apply(tokenizer, messages[:i], generation=True)
        upto = _apply(tokenizer, messages[: i + 1], generation=False)
        if full.startswith(upto) and upto.startswith(before) and len(upto) > len(before):
            spans.append((len(before), len(upto)))
            cursor = len(upto)
            continue
        # Templates that rewrite earlier turns: fall back to finding the reply itself.
        start = full.find(message["content"], cursor)
        if start >= 0:
            spans.append((start, start + len(message["content"])))
            cursor = start + len(message["content"])
    return Rendered(text=full, train_spans=spans, templated=True)


def _plain(parts: list[tuple[str, bool]]) -> Rendered:
    text, spans = "", []
    for piece, trained in parts:
        if trained and piece:
            spans.append((len(text), len(text) + len(piece)))
        text += piece
    return Rendered(text=text, train_spans=spans, templated=False)


def render_parts(example: Mapping[str, Any], *, tokenizer: Any = None, fmt: str,
                 spans: bool = True) -> Rendered:
    """Text and learned spans for one normalised item. Finding the spans of a
    templated conversation costs two more template calls per assistant turn;
    ``spans=False`` skips that when only the text is needed."""
    eos = _eos(tokenizer)
    template = has_chat_template(tokenizer)
    if fmt == "text":
        return _plain([(example["text"] + eos, True)])
    if fmt == "prompt_completion":
        return _plain([(example["prompt"], False), (example["completion"] + eos, True)])
    if fmt == "instruction":
        if template:
            return _templated(instruction_messages(example), tokenizer, spans_wanted=spans)
        parts = [(f"### Instruction:\n{example['instruction']}\n\n", False)]
        if example.get("input"):
            parts.append((f"### Input:\n{example['input']}\n\n", False))
        parts += [("### Response:\n", False), (example["response"] + eos, True)]
        return _plain(parts)
    if fmt == "chat":
        messages = [dict(m) for m in example["messages"]]
        if template:
            return _templated(messages, tokenizer, spans_wanted=spans)
        parts = []
        for message in messages:
            assistant = message["role"] == "assistant"
            parts.append((f"{message['role'].capitalize()}: ", False))
            parts.append((message["content"] + "\n", assistant))
        parts.append((eos, True))
        return _plain(parts)
    raise ValidationError(f"{fmt!r} is not a dataset format.", field="format")


def render(example: Mapping[str, Any], *, tokenizer: Any = None, fmt: str) -> str:
    """The training text for one normalised item."""
    return render_parts(example, tokenizer=tokenizer, fmt=fmt, spans=False).text


def count_tokens(rendered: Sequence[Rendered], *, tokenizer: Any) -> list[int]:
    """Token count of each rendered text, counted as ``tokenize_for_causal_lm`` counts it."""
    out: list[int] = []
    for start in range(0, len(rendered), _BATCH):
        out.extend(len(ids) for ids, _ in _encode(rendered[start:start + _BATCH], tokenizer,
                                                  offsets=False))
    return out


def _encode(batch: Sequence[Rendered], tokenizer: Any, *,
            offsets: bool) -> list[tuple[list[int], list[Span]]]:
    """Token ids (and character offsets) per text; templated texts already hold their
    special tokens, plain ones get the tokenizer's own (a BOS, for instance)."""
    out: list[tuple[list[int], list[Span]]] = [([], [])] * len(batch)
    for templated in (True, False):
        idx = [i for i, r in enumerate(batch) if r.templated is templated]
        if not idx:
            continue
        kwargs: dict[str, Any] = {"add_special_tokens": not templated}
        if offsets:
            kwargs["return_offsets_mapping"] = True
        enc = tokenizer([batch[i].text for i in idx], **kwargs)
        maps = enc["offset_mapping"] if offsets else [[] for _ in idx]
        for i, ids, spans in zip(idx, enc["input_ids"], maps, strict=True):
            out[i] = (list(ids), [tuple(s) for s in spans])
    return out


@dataclass(frozen=True)
class TruncationReport:
    """Rows longer than ``max_seq_len`` and what cutting them costs."""

    max_seq_len: int
    unit: str
    rows_truncated: int
    units_lost: int
    longest: int
    rows: list[int] = field(default_factory=list)
    """1-based row numbers of the first truncated rows (at most 20)."""

    @property
    def sentence(self) -> str:
        if not self.rows_truncated:
            return f"Every row fits in {self.max_seq_len} {self.unit}."
        rows = "1 row is" if self.rows_truncated == 1 else f"{self.rows_truncated} rows are"
        lost = f"{self.units_lost} {self.unit[:-1] if self.units_lost == 1 else self.unit}"
        return (f"{rows} longer than {self.max_seq_len} {self.unit} and will be cut to fit "
                f"(the longest has {self.longest}; {lost} cut in all).")


def truncation_report(lengths: Sequence[int], *, max_seq_len: int, unit: str) -> TruncationReport:
    over = [(i + 1, n) for i, n in enumerate(lengths) if n > max_seq_len]
    return TruncationReport(
        max_seq_len=max_seq_len, unit=unit, rows_truncated=len(over),
        units_lost=sum(n - max_seq_len for _, n in over),
        longest=max(lengths, default=0), rows=[r for r, _ in over[:20]],
    )


@dataclass(frozen=True)
class TokenizedDataset:
    dataset: datasets.Dataset
    """Columns input_ids, attention_mask, labels (prompt tokens are -100 when masked)."""
    truncation: TruncationReport
    dropped_rows: list[int]
    """1-based rows left with nothing to learn after truncation (the prompt filled the window)."""


def _labels(ids: list[int], offsets: list[Span], spans: list[Span]) -> list[int]:
    labels = []
    for token, (start, end) in zip(ids, offsets, strict=True):
        learned = end > start and any(start < s_end and end > s_start for s_start, s_end in spans)
        labels.append(token if learned else IGNORE_INDEX)
    return labels


def tokenize_for_causal_lm(*, dataset: datasets.Dataset, fmt: str, tokenizer: Any,
                           max_seq_len: int, mask_prompt: bool = True,
                           progress: Progress | None = None) -> TokenizedDataset:
    """Render, tokenize and truncate every item; labels copy input_ids, with prompt
    tokens set to -100 when ``mask_prompt`` (needs a fast tokenizer for offsets)."""
    if max_seq_len < 2:
        raise ValidationError("The maximum sequence length must be at least 2 tokens.",
                              field="max_seq_len")
    if mask_prompt and not getattr(tokenizer, "is_fast", False):
        raise ValidationError("Masking the prompt needs a fast tokenizer (with offsets).",
                              field="mask_prompt")
    columns: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    lengths: list[int] = []
    dropped: list[int] = []
    total = len(dataset)
    for start in range(0, total, _BATCH):
        items = dataset.select(range(start, min(start + _BATCH, total))).to_list()
        rendered = [render_parts(item, tokenizer=tokenizer, fmt=fmt, spans=mask_prompt)
                    for item in items]
        for offset, (r, (ids, offsets)) in enumerate(
                zip(rendered, _encode(rendered, tokenizer, offsets=mask_prompt), strict=True)):
            lengths.append(len(ids))
            labels = _labels(ids, offsets, r.train_spans) if mask_prompt else list(ids)
            ids, labels = ids[:max_seq_len], labels[:max_seq_len]
            if all(label == IGNORE_INDEX for label in labels):
                dropped.append(start + offset + 1)
                continue
            columns["input_ids"].append(ids)
            columns["attention_mask"].append([1] * len(ids))
            columns["labels"].append(labels)
        if progress is not None:
            progress(min(start + _BATCH, total), total)
    return TokenizedDataset(
        dataset=datasets.Dataset.from_dict(columns),
        truncation=truncation_report(lengths, max_seq_len=max_seq_len, unit="tokens"),
        dropped_rows=dropped,
    )
