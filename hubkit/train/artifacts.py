"""What a run leaves behind: adapter folder, optional merged model, model card, config.

Every folder holds its own description (litgpt's ``hyperparameters.yaml``
idea): ``README.md`` (a Hugging Face model card with YAML metadata),
``hubkit-train.yaml`` (the resolved `TrainSpec`) and ``hubkit-dataset.json``
(the dataset fingerprint), so a downloaded adapter explains itself.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hubkit.train.spec import TrainSpec

SPEC_FILE = "hubkit-train.yaml"
DATASET_FILE = "hubkit-dataset.json"


@dataclass(frozen=True)
class CardFacts:
    """Everything the model card states, gathered by the runner."""

    spec: TrainSpec
    base_hf_id: str
    base_key: str
    is_standin: bool
    dataset_name: str
    dataset_fingerprint: str
    run_slug: str
    outcome: str
    failure_class: str | None
    final_loss: float | None
    final_eval_loss: float | None
    steps: int
    parent_slug: str | None = None
    relation: str | None = None


def card_metadata(facts: CardFacts, *, merged: bool) -> dict[str, Any]:
    spec = facts.spec
    tags = ["hubkit", "lora", spec.domain]
    if facts.is_standin:
        tags.append("stand-in")
    meta: dict[str, Any] = {
        # A stand-in is not the real model, so it is named by its catalog key, not the real hub id.
        "base_model": facts.base_key if facts.is_standin else facts.base_hf_id,
        "base_model_relation": "finetune" if merged else "adapter",
        "library_name": "transformers" if merged else "peft",
        "pipeline_tag": "text-generation",
        "datasets": [facts.dataset_name],
        "tags": tags,
        "hubkit": {
            "run": facts.run_slug,
            "outcome": facts.outcome,
            "dataset_fingerprint": facts.dataset_fingerprint,
            "parent": facts.parent_slug,
            "relation": facts.relation,
        },
    }
    return meta


def model_card(facts: CardFacts, *, merged: bool) -> str:
    spec = facts.spec
    meta = yaml.safe_dump(card_metadata(facts, merged=merged), sort_keys=False)
    what = "a full model with a LoRA adapter merged in" if merged else "a LoRA adapter"
    standin = (f"\n> **Stand-in.** `{facts.base_key}` is a tiny offline model with the architecture of "
               f"`{facts.base_hf_id}`, not that model itself.\n" if facts.is_standin else "")
    lineage = (f"\nStarted from `{facts.parent_slug}` ({facts.relation}).\n" if facts.parent_slug else "")
    use = ("```python\nfrom transformers import AutoModelForCausalLM\n"
           "model = AutoModelForCausalLM.from_pretrained(PATH)\n```" if merged else
           "```python\nfrom peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n"
           "base = AutoModelForCausalLM.from_pretrained(BASE)\nmodel = PeftModel.from_pretrained(base, PATH)\n```")

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    outcome = facts.outcome + (f" ({facts.failure_class})" if facts.failure_class else "")
    return f"""---
{meta}---

# {spec.display_name}

{what.capitalize()} on `{facts.base_key}`, trained for **{spec.domain}** with hubkit.
{standin}{lineage}
## Training

| | |
|---|---|
| outcome | {outcome} |
| steps | {facts.steps} |
| final training loss | {fmt(facts.final_loss)} |
| final held-back loss | {fmt(facts.final_eval_loss)} |
| LoRA rank / alpha | {spec.lora_r} / {spec.lora_alpha:g} |
| learning rate | {spec.learning_rate:g} |
| dataset | {facts.dataset_name} (fingerprint `{facts.dataset_fingerprint[:16]}`) |
| seed | {spec.seed} |

The complete settings are in `{SPEC_FILE}`; benchmark scores are on the model's hub page.

## Use

{use}
"""


def describe_folder(folder: Path, facts: CardFacts, *, merged: bool) -> None:
    """Write the model card, the spec and the dataset fingerprint next to the weights."""
    (folder / "README.md").write_text(model_card(facts, merged=merged), encoding="utf-8")
    (folder / SPEC_FILE).write_text(facts.spec.to_yaml(), encoding="utf-8")
    (folder / DATASET_FILE).write_text(json.dumps({
        "name": facts.dataset_name, "fingerprint": facts.dataset_fingerprint}, indent=2), encoding="utf-8")


def read_spec(folder: Path) -> TrainSpec:
    """The spec saved beside an adapter (used when continuing from it)."""
    data = yaml.safe_load((folder / SPEC_FILE).read_text(encoding="utf-8"))
    return TrainSpec.parse(data, source=str(folder / SPEC_FILE))
