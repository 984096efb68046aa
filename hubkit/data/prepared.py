"""The result of loading: a validated dataset in the normalised schema, with
everything the wizard shows and the run record keeps."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import datasets

from hubkit.data.detect import Detection
from hubkit.data.render import Progress, TokenizedDataset, tokenize_for_causal_lm
from hubkit.data.stats import DatasetStats
from hubkit.errors import ValidationError


@dataclass(frozen=True)
class DatasetSource:
    """Where the rows came from. ``name`` is metadata only, never a storage path."""

    kind: str
    """'upload', 'path', 'hub' or 'records'."""
    name: str
    reader: str
    content_hash: str | None = None
    """sha256 of the uploaded bytes (the archive key), when there were bytes."""
    size_bytes: int | None = None


@dataclass(frozen=True)
class DatasetSplit:
    train: datasets.Dataset
    validation: datasets.Dataset


@dataclass(frozen=True)
class PreparedDataset:
    dataset: datasets.Dataset
    format: str
    column_mapping: dict[str, str]
    """Source column → normalised field."""
    fingerprint: str
    stats: DatasetStats
    source: DatasetSource
    detection: Detection
    hashes: list[str] = field(default_factory=list, repr=False)
    """item_hash of each row, in order."""

    def __len__(self) -> int:
        return len(self.dataset)

    def item_hashes(self) -> list[str]:
        """sha256 of each normalised item (spacing ignored), in row order."""
        return list(self.hashes)

    def preview(self, n: int = 5) -> list[dict[str, Any]]:
        """The first ``n`` rows as plain dicts, for a table in the UI."""
        return self.dataset.select(range(min(n, len(self.dataset)))).to_list()

    def train_validation_split(self, *, validation_fraction: float, seed: int) -> DatasetSplit:
        """Deterministic split; repeated rows stay on one side so validation never
        contains a copy of a training row."""
        if not 0 <= validation_fraction < 1:
            raise ValidationError("The validation share must be at least 0 and less than 1.",
                                  field="validation_fraction")
        groups: dict[str, list[int]] = {}
        for index, digest in enumerate(self.hashes):
            groups.setdefault(digest, []).append(index)
        keys = list(groups)
        random.Random(seed).shuffle(keys)
        wanted = round(len(self.dataset) * validation_fraction)
        if validation_fraction > 0 and len(keys) > 1:
            wanted = max(1, wanted)
        validation: list[int] = []
        for key in keys[:-1]:
            if len(validation) >= wanted:
                break
            validation.extend(groups[key])
        held = set(validation)
        train = [i for i in range(len(self.dataset)) if i not in held]
        return DatasetSplit(train=self.dataset.select(train),
                            validation=self.dataset.select(sorted(validation)))

    def tokenize(self, *, tokenizer: Any, max_seq_len: int, mask_prompt: bool = True,
                 progress: Progress | None = None) -> TokenizedDataset:
        return tokenize_for_causal_lm(dataset=self.dataset, fmt=self.format, tokenizer=tokenizer,
                                      max_seq_len=max_seq_len, mask_prompt=mask_prompt,
                                      progress=progress)

    def record_fields(self) -> dict[str, Any]:
        """What the run database keeps about this dataset (``Store.register_dataset`` keywords)."""
        return {
            "name": self.source.name,
            "fingerprint": self.fingerprint,
            "format": self.format,
            "n_rows": len(self.dataset),
            "stats": self.stats.to_dict() | {"column_mapping": self.column_mapping},
            "source": f"{self.source.kind}:{self.source.name}",
            "archive_hash": self.source.content_hash,
            "item_hashes": self.item_hashes(),
        }


