"""The advisor's word before "Train", kept with the run, and compared with reality afterwards.

One place for what the builder, developer mode, the service and the model
page need: the advice and recommendation for a spec (``launch_advice``), the
payload kept with the run as an ``advice`` event when the training notebook
creates it (``launch_recorder``), and the sentence that says how far the real
result was from the prediction (``prediction_check``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hubkit.errors import HubkitError
from hubkit.research.advisor import ADVICE_EVENT

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class LaunchAdvice:
    """What the builder shows before "Train", and exactly what is stored with the run."""

    advice: Any
    recommendation: Any | None

    def payload(self) -> dict[str, Any]:
        a = self.advice
        rec = self.recommendation
        return {
            "version": PAYLOAD_VERSION, "model_version": a.model_version, "abstained": a.abstained,
            "sentence": a.sentence, "domain": a.domain, "failure_risk": a.failure_risk,
            "failure_class": a.failure_class, "gain": a.gain, "gain_low": a.gain_low, "gain_high": a.gain_high,
            "other_domains": dict(a.other_domains), "duration_s": a.duration_s,
            "similar": [{"id": s.model_id, "slug": s.slug, "outcome": s.outcome, "gain": s.gain} for s in a.similar],
            "drivers": [d.sentence for d in a.drivers], "n_runs": a.n_runs,
            "recommendation": None if rec is None or not rec.found else {
                "settings": rec.settings, "sentence": rec.sentence,
                "failure_risk": rec.advice.failure_risk, "gain": rec.advice.gain},
        }


def launch_advice(*, spec: Any, store: Any = None, recommend: bool = True) -> LaunchAdvice:
    """Advice (and a recommendation) for ``spec`` from the advisor fitted on the committed sweep."""
    from hubkit.research import advisor

    fitted = advisor.fitted()
    advice = advisor.advise(spec, store=store, advisor=fitted)
    rec = advisor.recommend(spec, store=store, advisor=fitted) if recommend and not advice.abstained else None
    return LaunchAdvice(advice=advice, recommendation=rec)


def launch_recorder(store: Any, advice: Mapping[str, Any] | None,
                    then: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
    """``train.run(on_record=...)``: keep ``advice`` with the run the moment the run exists, then ``then``."""
    def on_record(record: Any) -> None:
        if advice:
            store.record_event(record.id, ADVICE_EVENT, dict(advice))
        if then is not None:
            then(record)

    return on_record


def stored_advice(store: Any, run_id: int) -> dict[str, Any] | None:
    """The prediction kept at launch (the last one, should there be several)."""
    found = [e for e in store.list_events(run_id) if e.kind == ADVICE_EVENT]
    return dict(found[-1].payload) if found else None


def _real_gain(run: Any, domain: str) -> float | None:
    """The run's change in ``domain`` over its base, in the advisor's points (mean over the domain's tasks)."""
    from hubkit.research.advisor.table import _scale

    tasks = (run.benchmark_scores or {}).get(domain) or {}
    deltas = [float(t["delta_base"]) * _scale(str(t.get("metric"))) for t in tasks.values()
              if t.get("status") == "scored" and t.get("delta_base") is not None]
    return sum(deltas) / len(deltas) if deltas else None


def prediction_check(*, store: Any, run: Any) -> str | None:
    """How far the real result was from the prediction made at launch, in one sentence (None: no prediction)."""
    try:
        advice = stored_advice(store, run.id)
    except HubkitError:
        return None
    if not advice:
        return None
    if advice.get("abstained"):
        return "At launch the advisor did not judge this setting: too few similar runs were on record."
    outcome = str(getattr(run.training_outcome, "value", run.training_outcome) or "")
    risk = advice.get("failure_risk")
    said = f"At launch the advisor gave a {risk:.0%} chance of failure" if risk is not None else "At launch the advisor"
    if outcome == "failure":
        return f"{said}; the run failed ({run.failure_class or 'unknown'})."
    gain, low, high = advice.get("gain"), advice.get("gain_low"), advice.get("gain_high")
    real = _real_gain(run, str(advice.get("domain")))
    if gain is None or real is None:
        return f"{said}; the run ended {outcome or 'without an outcome'} and is not scored yet."
    inside = low is not None and high is not None and low <= real <= high
    return (f"{said} and {gain:+.1f} points in {advice.get('domain')} (likely {low:+.1f} to {high:+.1f}); "
            f"the real change was {real:+.1f} points, {abs(real - gain):.1f} from the prediction, "
            f"{'inside' if inside else 'outside'} the interval.")
