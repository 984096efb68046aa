from __future__ import annotations

import datasets

from hubkit.data import IGNORE_INDEX
from hubkit.train.packing import pack


def test_pack_keeps_every_token_and_its_mask() -> None:
    rows = {"input_ids": [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]],
            "labels": [[IGNORE_INDEX, 2, 3], [4, 5], [IGNORE_INDEX, IGNORE_INDEX, 8, 9, 10]]}
    rows["attention_mask"] = [[1] * len(r) for r in rows["input_ids"]]
    packed = pack(datasets.Dataset.from_dict(rows), max_seq_len=4)
    assert packed["input_ids"] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert packed["labels"] == [[IGNORE_INDEX, 2, 3, 4], [5, IGNORE_INDEX, IGNORE_INDEX, 8], [9, 10]]
    assert packed["attention_mask"] == [[1] * 4, [1] * 4, [1] * 2]


def test_blocks_with_nothing_to_learn_are_dropped() -> None:
    rows = {"input_ids": [[1, 2, 3, 4], [5, 6]], "labels": [[IGNORE_INDEX] * 4, [5, 6]]}
    rows["attention_mask"] = [[1] * len(r) for r in rows["input_ids"]]
    assert pack(datasets.Dataset.from_dict(rows), max_seq_len=4)["input_ids"] == [[5, 6]]
