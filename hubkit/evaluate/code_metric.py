"""pass@1 for HumanEval-style tasks, computed in hubkit's sandbox.

The task YAMLs (``tasks/_code.yaml``) name these functions with ``!function``,
so lm-eval never loads ``evaluate.load("code_eval")`` (which needs the
internet). The metric refuses to run unless the operator enabled code
execution, even when lm-eval is driven directly from its command line.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from hubkit.evaluate.sandbox import SandboxLimits, require_code_execution, run_program, test_program

LIMITS = SandboxLimits()


def as_body(completion: str) -> str:
    """A completion as the body under the prompt's signature.

    A base model continues the prompt's indentation itself. A chat model
    answers after its assistant header, and its training answers had their
    leading whitespace stripped, so it writes ``return x + 7`` flush left:
    such an answer is indented one level, every line alike.
    """
    first = next((line for line in completion.splitlines() if line.strip()), "")
    if not first or first[0] in " \t":
        return completion
    return textwrap.indent(completion, "    ")


def build_predictions(resps: Sequence[Sequence[str]], docs: Sequence[dict]) -> list[list[str]]:
    """Prefix each completion with its prompt (the same filter lm-eval's HumanEval uses)."""
    return [[doc["prompt"] + as_body(r) for r in resp] for resp, doc in zip(resps, docs, strict=True)]


def pass_at_1(references: Sequence[str], predictions: Sequence[Sequence[str]], **_: object) -> float:
    """Share of candidates that pass their tests (c/n per problem, averaged over problems).

    ``references[i]`` is ``test + "\\ncheck(entry_point)"``; ``predictions[i]``
    the candidate programs for that problem.
    """
    require_code_execution()
    per_problem = []
    for reference, candidates in zip(references, predictions, strict=True):
        if isinstance(candidates, str):
            candidates = [candidates]
        passed = [run_program(test_program(c, reference), limits=LIMITS).passed for c in candidates]
        per_problem.append(sum(passed) / len(passed))
    return sum(per_problem) / len(per_problem)
