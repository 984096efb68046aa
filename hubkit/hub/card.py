"""A model card the Hugging Face Hub understands, written from the run record.

The metadata is built with ``huggingface_hub``'s own ``ModelCardData`` and
``EvalResult``, so ``base_model`` / ``base_model_relation``, ``license``,
``datasets``, ``tags`` and the ``model-index`` come out in the layout the Hub
parses. Each platform score becomes one eval result naming its task, metric,
value and reproducibility stamp; skipped or refused tasks are left out, since
the Hub has no place for "not scored".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from hubkit.catalog.licences import Licence, licence_of
from hubkit.store.records import BaseModelRecord, DatasetRecord, RunRecord

HUB_TASK = "text-generation"
SOURCE_NAME = "AI Model Hub (hubkit)"
STAMP_KEYS = ("harness", "harness_version", "suite", "task_version", "num_fewshot", "limit", "batch_size",
              "chat_template", "dataset_fingerprint", "device", "dtype")


@dataclass(frozen=True)
class CardScore:
    """One scored task of a run, as the card states it."""

    domain: str
    task: str
    metric: str
    value: float
    stderr: float | None
    n: int
    stamp_hash: str
    stamp: dict[str, Any]


def card_scores(run: RunRecord) -> list[CardScore]:
    """The run's scored tasks, in domain then task order (skipped and refused ones left out)."""
    out: list[CardScore] = []
    for domain in sorted(run.benchmark_scores):
        for task, entry in sorted((run.benchmark_scores[domain] or {}).items()):
            if entry.get("status", "scored") != "scored" or entry.get("value") is None:
                continue
            out.append(CardScore(domain=domain, task=task, metric=str(entry["metric"]),
                                 value=float(entry["value"]), stderr=entry.get("stderr"),
                                 n=int(entry.get("n") or 0), stamp_hash=str(entry.get("stamp_hash") or ""),
                                 stamp=dict(entry.get("stamp") or {})))
    return out


def eval_results(run: RunRecord, *, source_url: str | None = None) -> list[EvalResult]:
    """``model-index`` results: task, metric, value, and the stamp that makes the value comparable."""
    results = []
    for score in card_scores(run):
        stamp = {key: score.stamp[key] for key in STAMP_KEYS if key in score.stamp}
        results.append(EvalResult(
            task_type=HUB_TASK,
            task_name=f"{score.domain}: {score.task}",
            dataset_type=score.task,
            dataset_name=score.task,
            metric_type=score.metric,
            metric_name=score.metric,
            metric_value=score.value,
            metric_config=f"stamp {score.stamp_hash}",
            metric_args={"stamp_hash": score.stamp_hash, "stderr": score.stderr, "n": score.n, **stamp},
            verified=False,
            source_name=SOURCE_NAME if source_url else None,  # the Hub wants a URL with a source name
            source_url=source_url,
        ))
    return results


def public_datasets(dataset: DatasetRecord | None) -> list[str]:
    """Hub ids of the training data, only where the data came from the Hub (public by definition)."""
    if dataset is None or not (dataset.source or "").startswith("hub:"):
        return []
    return [dataset.source.split(":", 1)[1]]


def base_model_id(base: BaseModelRecord) -> str:
    """The Hub id a card names as base; a stand-in is named by its catalog key, never the real id."""
    return base.key if base.is_standin else base.hf_id


def card_data(*, run: RunRecord, base: BaseModelRecord, merged: bool, dataset: DatasetRecord | None = None,
              source_url: str | None = None, tags: Sequence[str] = ()) -> ModelCardData:
    """The card's YAML metadata, checked by ``huggingface_hub`` as it is built."""
    licence = licence_of(base.licence)
    all_tags = ["hubkit", "lora", run.domain, *(["stand-in"] if base.is_standin else []), *tags]
    results = eval_results(run, source_url=source_url)
    return ModelCardData(
        model_name=run.slug,
        base_model=base_model_id(base),
        base_model_relation="finetune" if merged else "adapter",
        license=licence.hub_id,
        license_name=licence.hub_name,
        license_link=licence.link if licence.hub_id == "other" else None,
        datasets=public_datasets(dataset) or None,
        library_name="transformers" if merged else "peft",
        pipeline_tag=HUB_TASK,
        tags=list(dict.fromkeys(all_tags)),
        eval_results=results or None,
    )


def _scores_table(run: RunRecord) -> str:
    rows = card_scores(run)
    if not rows:
        return "The platform has not scored this model yet."
    lines = ["| domain | task | metric | value | ± stderr | n | stamp |", "|---|---|---|---|---|---|---|"]
    for s in rows:
        stderr = "" if s.stderr is None else f"{s.stderr:.4f}"
        lines.append(f"| {s.domain} | {s.task} | {s.metric} | {s.value:.4f} | {stderr} | {s.n} | "
                     f"`{s.stamp_hash[:12]}` |")
    return "\n".join(lines)


def _licence_text(licence: Licence, base: BaseModelRecord) -> str:
    text = f"The base model `{base_model_id(base)}` is under the **{licence.name}**"
    text += f" ({licence.link})." if licence.link else "."
    return text + (f" {licence.conditions}" if licence.conditions else "")


def build_card(*, run: RunRecord, base: BaseModelRecord, merged: bool, dataset: DatasetRecord | None = None,
               source_url: str | None = None, tags: Sequence[str] = (), files: Sequence[str] = ()) -> ModelCard:
    """A complete ``README.md`` for the Hub: metadata, what the files are, scores, licence."""
    data = card_data(run=run, base=base, merged=merged, dataset=dataset, source_url=source_url, tags=tags)
    licence = licence_of(base.licence)
    what = "a full model with a LoRA adapter merged in" if merged else "a LoRA adapter"
    standin = (f"\n> **Stand-in.** `{base.key}` is a tiny offline model with the architecture of the "
               f"{base.family} family, not a published model.\n" if base.is_standin else "")
    listing = "\n".join(f"- `{name}`" for name in files) or "- (none)"
    outcome = (run.training_outcome.value if run.training_outcome is not None and hasattr(run.training_outcome, "value")
               else str(run.training_outcome))
    body = f"""
# {run.name}

{what.capitalize()} on `{base_model_id(base)}`, fine-tuned for **{run.domain}** on the AI Model Hub
(training outcome: {outcome}).
{standin}
## Files

{listing}

## Scores

Measured by the platform's own evaluation (lm-evaluation-harness). A score is comparable with
another only under the same stamp.

{_scores_table(run)}

## Licence

{_licence_text(licence, base)}
"""
    # The body is plain text, never a template: run names are user text.
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")
