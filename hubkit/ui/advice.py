"""The advisor's word as HTML: before "Train" in the builder, live in developer mode, on the model page.

Everything shown comes from the payload that is stored with the run, so
what a person saw before launch is what the record keeps.
"""
from __future__ import annotations

from typing import Any

from hubkit.ui.html import esc, link, profile_url


def _risk_class(risk: float | None) -> str:
    if risk is None:
        return "muted"
    return "error" if risk >= 0.5 else "warn" if risk >= 0.1 else "ok"


def advice_html(payload: dict[str, Any]) -> str:
    """The advice panel: risk, gain with its interval, what it may cost, similar runs, the recommendation."""
    parts = ['<div class="hk-advice">', "<h3>The advisor's word</h3>"]
    risk = payload.get("failure_risk")
    parts.append(f'<p class="{_risk_class(risk)} hk-advice-sentence">{esc(payload.get("sentence", ""))}</p>')
    if not payload.get("abstained"):
        facts = []
        if risk is not None:
            facts.append(f'<li>Failure risk: <b class="hk-advice-risk">{risk:.0%}</b>'
                         + (f" (most likely: {esc(payload.get('failure_class'))})" if payload.get("failure_class")
                            else "") + "</li>")
        if payload.get("gain") is not None:
            facts.append(f'<li>Expected gain in {esc(payload.get("domain"))}: <b class="hk-advice-gain">'
                         f'{payload["gain"]:+.1f}</b> points ({payload["gain_low"]:+.1f} to {payload["gain_high"]:+.1f})</li>')
        if payload.get("drivers"):
            facts.append("<li>What moved it: " + "; ".join(esc(d) for d in payload["drivers"]) + "</li>")
        parts.append("<ul>" + "".join(facts) + "</ul>")
    similar = payload.get("similar") or []
    if similar:
        parts.append("<p class='muted'>Most similar past runs: " + ", ".join(
            link(profile_url(s["slug"]), f"#{s['id']}") + f" ({esc(s['outcome'])}"
            + (f", {s['gain']:+.1f}" if s.get("gain") is not None else "") + ")" for s in similar) + "</p>")
    rec = payload.get("recommendation")
    if rec:
        parts.append(f'<p class="hk-advice-recommendation"><b>Recommended:</b> {esc(rec["sentence"])}</p>')
    parts.append("</div>")
    return "".join(parts)


def live_line(advice: Any) -> str:
    """One line for developer mode, redrawn as the knobs move."""
    if advice.abstained:
        return f'<p class="muted hk-live-advice">{esc(advice.sentence)}</p>'
    gain = "" if advice.gain is None else (f"; expected gain {advice.gain:+.1f} points "
                                           f"({advice.gain_low:+.1f} to {advice.gain_high:+.1f})")
    return (f'<p class="{_risk_class(advice.failure_risk)} hk-live-advice">Failure risk '
            f"{advice.failure_risk:.0%}{gain}; about {advice.duration_s:.0f} s.</p>")
