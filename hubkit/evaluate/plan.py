"""Before any model is loaded: which tasks run, under which stamp, and which may not.

Each task is built once through the suite's ``TaskManager``; the same objects
are later handed to ``simple_evaluate``, so the data read for the fingerprint
and the contamination check is exactly the data scored.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hubkit.errors import ValidationError
from hubkit.evaluate.contamination import eval_item_hashes
from hubkit.evaluate.domains import DOMAINS, EvalDomain, TaskSpec
from hubkit.evaluate.sandbox import code_execution_allowed
from hubkit.evaluate.stamps import RunSettings, build_stamp, dataset_fingerprint, harness_version
from hubkit.evaluate.suites import SuiteChoice, suite_names

CODE_OFF_REASON = ("Running generated code is turned off on this machine, so code was not scored "
                   "(the operator can turn it on with HUBKIT_ALLOW_CODE_EXECUTION=1).")


@dataclass
class PlannedTask:
    domain: EvalDomain
    spec: TaskSpec
    stamp: dict[str, Any]
    suite: str
    """The suite the task is scored for (also in its stamp)."""
    lm_task: Any = None
    """The lm-eval Task or Group to score; None when the task will not run."""
    leaves: list[Any] = field(default_factory=list)
    n_items: int = 0
    skip_reason: str | None = None
    overlap: int = 0
    """Items found in the model's training data (the task is then refused)."""

    @property
    def runnable(self) -> bool:
        return self.lm_task is not None and self.skip_reason is None

    def item_hashes(self) -> list[set[str]]:
        """Per evaluated item, the training-item hashes that would mean it was trained on."""
        return [eval_item_hashes(doc, **_shown(leaf, doc)) for leaf in self.leaves for doc in leaf.eval_docs]


def _shown(leaf: Any, doc: Any) -> dict[str, str | None]:
    """The prompt the task shows for ``doc`` and the target text that follows it."""
    prompt, target = leaf.doc_to_text(doc), leaf.doc_to_target(doc)
    if leaf.config.doc_to_choice is not None and isinstance(target, int):
        target = leaf.doc_to_choice(doc)[target]
    if not isinstance(prompt, str) or not isinstance(target, str):
        return {"shown_prompt": None, "shown_target": None}
    return {"shown_prompt": prompt, "shown_target": leaf.config.target_delimiter + target}


def select_domains(domains: Sequence[str] | None) -> list[EvalDomain]:
    if domains is None:
        return list(DOMAINS.values())
    if not domains:
        raise ValidationError("Pick at least one domain to evaluate.", field="domains")
    return [DOMAINS[name] for name in dict.fromkeys(domains)]


def _top_and_leaves(loaded: dict[str, Any], name: str) -> tuple[Any, list[Any]]:
    top = loaded["groups"].get(name) or loaded["tasks"][name]
    leaves = [loaded["tasks"][k] for k in sorted(loaded["tasks"])]
    return top, leaves


def _version(top: Any) -> Any:
    config = getattr(top, "config", None)
    metadata = getattr(config, "metadata", None) or getattr(top, "metadata", None) or {}
    return metadata.get("version")


def _bare_stamp(spec: TaskSpec, run: RunSettings, suite: str) -> dict[str, Any]:
    """The stamp of a task that could not be built (its data is missing)."""
    return {"harness": "lm-evaluation-harness", "harness_version": harness_version(), "suite": suite,
            "task": spec.name,
            "metric": spec.metric, "filter": spec.filter, "limit": run.limit,
            "chat_template": run.chat_template, "batch_size": run.batch_size, **run.device_stamp()}


def _specs(domain: EvalDomain, suites: Sequence[str]) -> list[tuple[str, TaskSpec]]:
    """The domain's tasks in each suite; a task both suites hold is planned once, under the first."""
    seen: dict[str, tuple[str, TaskSpec]] = {}
    for suite in suites:
        for spec in domain.tasks(suite):
            seen.setdefault(spec.name, (suite, spec))
    return list(seen.values())


def plan_tasks(*, domains: Sequence[EvalDomain], suite: SuiteChoice, task_manager: Any,
               run: RunSettings) -> list[PlannedTask]:
    """Every task of ``suite`` (one name or several) in ``domains``; a task without its data is planned
    as skipped, with the reason."""
    code_allowed = code_execution_allowed()
    planned: list[PlannedTask] = []
    for domain in domains:
        for name, spec in _specs(domain, suite_names(suite)):
            try:
                loaded = task_manager.load([spec.name])
            except Exception as exc:  # noqa: BLE001 - lm-eval raises many kinds for missing data
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                planned.append(PlannedTask(domain, spec, _bare_stamp(spec, run, name), name,
                                           skip_reason=f"The data for {spec.name} is not on this machine ({first})."))
                continue
            top, leaves = _top_and_leaves(loaded, spec.name)
            docs = [doc for leaf in leaves for doc in leaf.eval_docs]
            first = leaves[0]
            stamp = build_stamp(
                spec=spec, suite=name, task_version=_version(top), num_fewshot=first.config.num_fewshot or 0,
                output_type=first.config.output_type,
                generation=first.config.generation_kwargs if first.config.output_type == "generate_until" else None,
                fingerprint=dataset_fingerprint(docs), run=run)
            n_items = sum(min(len(leaf.eval_docs), run.limit or len(leaf.eval_docs)) for leaf in leaves)
            skip = CODE_OFF_REASON if spec.needs_code_execution and not code_allowed else None
            planned.append(PlannedTask(domain, spec, stamp, name, top, leaves, n_items, skip))
    return planned
