"""Packing: join tokenized examples into full-length blocks so no step computes on padding.

Examples are concatenated in order (each already ends with EOS) and cut into
blocks of ``max_seq_len``, the layout of Hugging Face's ``run_clm`` example;
prompt masks (-100 labels) travel with their tokens. The last, shorter block
is kept so no example is lost.
"""
from __future__ import annotations

import datasets

from hubkit.data import IGNORE_INDEX


def pack(tokenized: datasets.Dataset, *, max_seq_len: int) -> datasets.Dataset:
    ids: list[int] = []
    labels: list[int] = []
    for row in tokenized:
        ids.extend(row["input_ids"])
        labels.extend(row["labels"])
    blocks: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    for start in range(0, len(ids), max_seq_len):
        block_labels = labels[start:start + max_seq_len]
        if all(label == IGNORE_INDEX for label in block_labels):
            continue
        block = ids[start:start + max_seq_len]
        blocks["input_ids"].append(block)
        blocks["attention_mask"].append([1] * len(block))
        blocks["labels"].append(block_labels)
    return datasets.Dataset.from_dict(blocks)
