"""Scores against a reference model, in words a casual user can read.

"About the same" is decided by the stored standard errors, not by eye: a
difference smaller than ~2 combined standard errors (z < 1.96) is noise.
Scores on a 0–1 scale are spoken of in points (×100); metrics that are
already on a 0–100 scale (chrF, BLEU) are not scaled.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

Z_SAME = 1.96  # two-sided 95%: below this a difference is "about the same"
SLIGHT_POINTS = 5.0  # a significant change smaller than this many points is "slight"
HUNDRED_SCALE_METRICS = frozenset({"chrf", "bleu", "ter", "rouge"})


class Verdict(str, Enum):
    better = "better"
    slightly_better = "slightly better"
    same = "about the same"
    slightly_worse = "slightly worse"
    worse = "worse"
    unknown = "no comparison"


@dataclass(frozen=True)
class Paired:
    """One task's score next to the reference's score under the same stamp."""

    domain: str
    task: str
    value: float
    stderr: float | None
    ref_value: float | None
    ref_stderr: float | None
    metric: str = ""


@dataclass(frozen=True)
class DomainVerdict:
    domain: str
    verdict: Verdict
    points: float | None
    z: float | None


@dataclass(frozen=True)
class ResultSummary:
    sentence: str
    domains: tuple[DomainVerdict, ...]

    def verdict(self, domain: str) -> Verdict:
        for d in self.domains:
            if d.domain == domain:
                return d.verdict
        return Verdict.unknown


def points(metric: str, value: float | None) -> float | None:
    """A score on the 0-100 scale used to speak and draw (0-1 metrics ×100)."""
    if value is None:
        return None
    return value * _scale(metric, [value])


def _scale(metric: str, values: list[float]) -> float:
    if metric.lower() in HUNDRED_SCALE_METRICS:
        return 1.0
    return 100.0 if all(abs(v) <= 1.0 for v in values) else 1.0


def compare_domain(domain: str, pairs: Sequence[Paired]) -> DomainVerdict:
    """Average the domain's comparable tasks and judge the difference by its stderr."""
    usable = [p for p in pairs if p.ref_value is not None]
    if not usable:
        return DomainVerdict(domain, Verdict.unknown, None, None)
    k = len(usable)
    delta = sum(p.value - p.ref_value for p in usable) / k  # type: ignore[operator]
    se = math.sqrt(sum((p.stderr or 0.0) ** 2 + (p.ref_stderr or 0.0) ** 2 for p in usable)) / k
    points = sum(p.value - p.ref_value for p in usable  # type: ignore[operator]
                 ) / k * _scale(usable[0].metric, [p.value for p in usable] + [p.ref_value for p in usable])
    if se > 0:
        z = delta / se
        same = abs(z) < Z_SAME
    else:
        z = None
        same = abs(delta) < 1e-12
    if same:
        return DomainVerdict(domain, Verdict.same, points, z)
    slight = abs(points) < SLIGHT_POINTS
    if delta > 0:
        return DomainVerdict(domain, Verdict.slightly_better if slight else Verdict.better, points, z)
    return DomainVerdict(domain, Verdict.slightly_worse if slight else Verdict.worse, points, z)


def _pts(points: float) -> str:
    sign = "+" if points >= 0 else "\u2212"
    value = abs(points)
    shown = f"{value:.0f}" if value >= 1 else f"{value:.1f}"
    return f"{sign}{shown} point{'' if shown == '1' else 's'}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def summarise(pairs: Sequence[Paired], *, reference: str = "its base model") -> ResultSummary:
    """One sentence: what got better, what stayed the same, what got worse."""
    by_domain: dict[str, list[Paired]] = {}
    for p in pairs:
        by_domain.setdefault(p.domain, []).append(p)
    verdicts = tuple(compare_domain(d, ps) for d, ps in sorted(by_domain.items()))
    known = [v for v in verdicts if v.verdict is not Verdict.unknown]
    if not known:
        return ResultSummary(f"There are no scores of {reference} to compare with yet.", verdicts)

    def group(*kinds: Verdict) -> list[DomainVerdict]:
        return sorted((v for v in known if v.verdict in kinds), key=lambda v: -abs(v.points or 0))

    parts: list[str] = []
    better, slightly_better = group(Verdict.better), group(Verdict.slightly_better)
    same = group(Verdict.same)
    if better:
        parts.append(f"better than {reference} at " + _join([f"{v.domain} ({_pts(v.points or 0)})" for v in better]))
    if slightly_better:
        lead = "slightly better at " if better else f"slightly better than {reference} at "
        parts.append(lead + _join([f"{v.domain} ({_pts(v.points or 0)})" for v in slightly_better]))
    if same:
        if len(same) == len(known):
            parts.append(f"about the same as {reference} in every domain")
        elif len(same) == 1:
            parts.append(f"about the same at {same[0].domain}")
        else:
            parts.append("about the same elsewhere")
    for v in group(Verdict.worse, Verdict.slightly_worse):
        parts.append(f"{v.domain} {v.verdict.value} ({_pts(v.points or 0)})")
    sentence = "; ".join(parts)
    return ResultSummary(sentence[0].upper() + sentence[1:] + ".", verdicts)
