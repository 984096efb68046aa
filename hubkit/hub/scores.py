"""A model's scores lined up against its base model and its parent.

Only scores under the same reproducibility stamp are compared: a number from
another harness version, shot count or limit is shown, never subtracted.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubkit.hub.compare import Paired


@dataclass(frozen=True)
class ScoreLine:
    """One task's result on the model, with the comparable base and parent results."""

    domain: str
    task: str
    metric: str
    value: float | None
    stderr: float | None
    n: int
    status: str
    skip_reason: str | None
    stamp_hash: str
    scored_on: str = ""
    """The suite, device kind and dtype from the stamp, in words ("offline suite · cpu · float32")."""
    base_value: float | None = None
    base_stderr: float | None = None
    parent_value: float | None = None
    parent_stderr: float | None = None

    @property
    def scored(self) -> bool:
        return self.status == "scored" and self.value is not None

    def paired(self, reference: str) -> Paired | None:
        if not self.scored:
            return None
        ref_value, ref_stderr = (
            (self.base_value, self.base_stderr) if reference == "base" else (self.parent_value, self.parent_stderr)
        )
        return Paired(self.domain, self.task, self.value, self.stderr, ref_value, ref_stderr,  # type: ignore[arg-type]
                      metric=self.metric)


@dataclass(frozen=True)
class Headline:
    """The score a model is listed by: its own domain's first scored task."""

    task: str
    metric: str
    value: float
    stderr: float | None


def _comparable(reference: Mapping[str, Any] | None, domain: str, task: str,
                stamp: str) -> tuple[float | None, float | None]:
    entry = ((reference or {}).get(domain) or {}).get(task)
    if not entry or entry.get("status", "scored") != "scored" or entry.get("stamp_hash") != stamp:
        return None, None
    return entry.get("value"), entry.get("stderr")


def scored_on(stamp: Mapping[str, Any] | None) -> str:
    """Where a score comes from, from its stamp: suite, device kind and dtype (those the stamp names)."""
    stamp = stamp or {}
    parts = [f"{stamp['suite']} suite"] if stamp.get("suite") else []
    parts += [str(stamp[key]) for key in ("device", "dtype") if stamp.get(key)]
    return " · ".join(parts)


def score_lines(scores: Mapping[str, Any], *, base_scores: Mapping[str, Any] | None = None,
                parent_scores: Mapping[str, Any] | None = None) -> list[ScoreLine]:
    """Every domain and task of ``benchmark_scores``, own domain order kept stable (sorted)."""
    lines: list[ScoreLine] = []
    for domain in sorted(scores):
        for task in sorted(scores[domain] or {}):
            entry = scores[domain][task]
            stamp = entry.get("stamp_hash", "")
            base_value, base_stderr = _comparable(base_scores, domain, task, stamp)
            parent_value, parent_stderr = _comparable(parent_scores, domain, task, stamp)
            lines.append(ScoreLine(
                domain=domain, task=task, metric=entry.get("metric", ""), value=entry.get("value"),
                stderr=entry.get("stderr"), n=int(entry.get("n") or 0), status=entry.get("status", "scored"),
                skip_reason=entry.get("skip_reason"), stamp_hash=stamp, scored_on=scored_on(entry.get("stamp")),
                base_value=base_value, base_stderr=base_stderr,
                parent_value=parent_value, parent_stderr=parent_stderr,
            ))
    return lines


def headline(scores: Mapping[str, Any], domain: str) -> Headline | None:
    for task in sorted((scores or {}).get(domain) or {}):
        entry = scores[domain][task]
        if entry.get("status", "scored") == "scored" and entry.get("value") is not None:
            return Headline(task=task, metric=entry.get("metric", ""), value=entry["value"], stderr=entry.get("stderr"))
    return None
