"""Drawing items, corpora, example datasets and evaluation files from the domains."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hubkit.errors import ValidationError
from hubkit.microworld._common import SPLITS, rng_for, split_of
from hubkit.microworld._registry import DOMAINS, Item
from hubkit.microworld.translation import lexicon_texts
from hubkit.microworld.world import world_texts

FORMATS = ("text", "instruction", "prompt_completion", "chat")
# A split is declared exhausted after this many draws in a row bring nothing new.
_STALE_DRAWS = 20_000


def items(domain: str, *, split: str, n: int, seed: int = 0) -> list[Item]:
    """``n`` distinct items of ``domain`` from ``split``; same arguments, same items.

    Items are drawn at random and kept only if their key hashes into the asked
    split, so no item can ever appear in two splits.
    """
    spec = DOMAINS[domain]
    if split not in SPLITS:
        raise ValidationError(
            f"The split must be one of {', '.join(SPLITS)}, not {split!r}.", field="split"
        )
    if n < 0:
        raise ValidationError("The number of items cannot be negative.", field="n")
    rng = rng_for("items", domain, split, seed)
    seen: set[str] = set()
    out: list[Item] = []
    seen_other: set[str] = set()
    stale = 0
    while len(out) < n:
        if stale >= _STALE_DRAWS:
            break
        item = spec.sample(rng)
        key = spec.key(item)
        if key in seen or key in seen_other:
            stale += 1
            continue
        stale = 0
        if split_of(domain, key) != split:
            seen_other.add(key)
            continue
        seen.add(key)
        out.append(item)
    if len(out) == n:
        return out
    raise ValidationError(
        f"The {domain} domain has only about {len(out)} distinct {split} items; ask for fewer.",
        field="n",
        detail=f"requested {n}, found {len(out)}; {_STALE_DRAWS} draws in a row found nothing new",
    )


def render_text(domain: str, item: Item) -> str:
    prompt, response = DOMAINS[domain].render(item)
    return prompt + response


def pretraining_corpus(*, seed: int = 0, n_per_domain: int = 40) -> list[str]:
    """Documents for pretraining the stand-ins: world prose plus a thin slice of each domain.

    The world prose states every fact once and the lexicon lists every word;
    the domain slices come from the ``pretrain`` split and are kept small so
    fine-tuning still has something to teach.
    """
    docs = world_texts() + lexicon_texts()
    for name in DOMAINS:
        docs += [render_text(name, it) for it in items(name, split="pretrain", n=n_per_domain, seed=seed)]
    rng_for("corpus-order", seed).shuffle(docs)
    return docs


def _as_row(prompt: str, response: str, fmt: str) -> dict[str, Any]:
    if fmt == "text":
        return {"text": prompt + response}
    if fmt == "instruction":
        return {"instruction": prompt, "response": response.strip()}
    if fmt == "prompt_completion":
        return {"prompt": prompt, "completion": response}
    return {
        "messages": [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": response.strip()},
        ]
    }


def example_dataset(domain: str, *, fmt: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` fine-tuning rows from the ``train`` split in one of ``FORMATS``.

    Columns: ``text`` / ``instruction`` + ``response`` / ``prompt`` +
    ``completion`` / ``messages`` ([{role, content}]).
    """
    if fmt not in FORMATS:
        raise ValidationError(
            f"The format must be one of {', '.join(FORMATS)}, not {fmt!r}.", field="fmt"
        )
    spec = DOMAINS[domain]
    return [_as_row(*spec.render(it), fmt) for it in items(domain, split="train", n=n, seed=seed)]


def write_eval_split(domain: str, *, directory: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` held-apart evaluation items to ``<directory>/<domain>.jsonl``.

    Written to a temporary file and renamed, so readers never see half a file.
    """
    rows = items(domain, split="eval", n=n, seed=seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{domain}.jsonl"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, target)
    return target
