"""``hubkit eval fetch-data``: put the standard benchmarks' datasets into the Hugging Face cache.

Evaluation never downloads (``hubkit.evaluate.offline``): a standard task runs
only when ``datasets`` finds its data already prepared in ``HF_DATASETS_CACHE``.
On a machine with the internet this fills that cache with exactly what
lm-eval's own task definitions read (repo id and config of every subtask, from
lm-eval's task index); copying the cache folder to an air-gapped cluster then
makes the standard suite run there.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubkit.errors import ConfigError
from hubkit.evaluate.domains import DOMAINS
from hubkit.evaluate.suites import task_manager

OFFLINE_REFUSAL = ("Fetching the standard benchmarks' data needs the internet, and this machine is set offline "
                   "(HF_HUB_OFFLINE or HF_DATASETS_OFFLINE). Run `hubkit eval fetch-data` where the Hugging Face "
                   "Hub can be reached, then copy its Hugging Face datasets cache here.")


@dataclass(frozen=True)
class StandardDataset:
    task: str
    """The standard task (as the domains name it) that reads this dataset."""
    repo_id: str
    config: str | None


def _configs(index: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The task configs under ``name``: itself, or every task of a group or tag, depth first."""
    from lm_eval.tasks._index import Kind

    entry = index[name]
    if entry.kind is Kind.TAG:
        return [c for member in sorted(entry.tags) for c in _configs(index, member)]
    if entry.kind is Kind.GROUP:
        members = entry.cfg.get("task") or []
        return [c for m in (members if isinstance(members, list) else [members])
                for c in ([m] if isinstance(m, dict) else _configs(index, m))]
    return [entry.cfg or {}]


def standard_datasets() -> list[StandardDataset]:
    """Every dataset the standard suite reads, once each; tasks whose data ships with hubkit are left out."""
    index = task_manager("standard").task_index
    found: dict[tuple[str, str | None], StandardDataset] = {}
    for domain in DOMAINS.values():
        for spec in domain.standard:
            if spec.source is not None:
                continue
            for cfg in _configs(index, spec.name):
                if cfg.get("dataset_path"):
                    key = (cfg["dataset_path"], cfg.get("dataset_name"))
                    found.setdefault(key, StandardDataset(spec.name, *key))
    return list(found.values())


def ensure_online() -> None:
    """Refuse, in a sentence, when the Hugging Face libraries are told to stay offline."""
    import datasets.config
    import huggingface_hub.constants

    if huggingface_hub.constants.HF_HUB_OFFLINE or datasets.config.HF_HUB_OFFLINE:
        raise ConfigError(OFFLINE_REFUSAL)


def fetch(items: list[StandardDataset], *, progress: Callable[[StandardDataset], None] | None = None) -> None:
    """Download and prepare each dataset in ``HF_DATASETS_CACHE``, as the offline evaluation reads it."""
    import datasets

    ensure_online()
    for item in items:
        if progress:
            progress(item)
        datasets.load_dataset(item.repo_id, item.config)
