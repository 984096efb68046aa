"""Plotly figures the apps show: loss curves, scores with error bars, lineage.

Plotly renders a few HTML tags inside text, so names shown on a figure are
escaped like everywhere else.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from hubkit.hub.compare import points
from hubkit.hub.profile import Lineage, ModelRef
from hubkit.hub.scores import ScoreLine
from hubkit.ui.html import esc

COLOURS = {"model": "#2680c2", "base": "#9aa5b1", "parent": "#f0b429", "eval": "#e66a00", "bad": "#d64545"}
# A named template is deep-copied into every figure (slow, and ~10 KB of JSON each):
# the few styles we want are spelled out instead.
_AXIS = {"gridcolor": "#e4e7eb", "zerolinecolor": "#cbd2d9", "linecolor": "#cbd2d9"}
_LAYOUT = {"template": "none", "height": 320, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
           "legend": {"orientation": "h", "y": -0.2}, "paper_bgcolor": "white", "plot_bgcolor": "white",
           "font": {"family": "system-ui, sans-serif", "color": "#1f2933"}, "xaxis": _AXIS, "yaxis": _AXIS}


def as_float(value: Any) -> float | None:
    """Curve values arrive as numbers or as the store's "nan"/"inf"/"-inf" strings."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def loss_curve_figure(points: Sequence[Mapping[str, Any]], *, title: str = "Training loss") -> go.Figure:
    """Train loss, held-back (eval) loss, and a red cross where the loss stopped being a number."""
    steps, losses, eval_steps, eval_losses = [], [], [], []
    bad_steps, bad_text = [], []
    last_finite = None
    for p in points:
        step = p.get("step")
        loss = as_float(p.get("loss"))
        if loss is not None and math.isfinite(loss):
            steps.append(step)
            losses.append(loss)
            last_finite = loss
        elif p.get("loss") is not None:
            bad_steps.append(step)
            bad_text.append(f"loss was {p.get('loss')} at step {step}")
        ev = as_float(p.get("eval_loss"))
        if ev is not None and math.isfinite(ev):
            eval_steps.append(step)
            eval_losses.append(ev)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=losses, mode="lines" if len(steps) > 30 else "lines+markers",
                             name="training loss",
                             line={"color": COLOURS["model"]}))
    if eval_steps:
        fig.add_trace(go.Scatter(x=eval_steps, y=eval_losses, mode="lines+markers", name="held-back loss",
                                 line={"color": COLOURS["eval"], "dash": "dot"}))
    if bad_steps:
        y = last_finite if last_finite is not None else 0.0
        fig.add_trace(go.Scatter(x=bad_steps, y=[y] * len(bad_steps), mode="markers", name="not a number",
                                 marker={"symbol": "x", "size": 10, "color": COLOURS["bad"]},
                                 text=bad_text, hoverinfo="text"))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="loss")
    return fig


def score_bars_figure(lines: Sequence[ScoreLine], *, model_name: str = "this model") -> go.Figure:
    """Each scored task: the model, its base and its parent side by side, with ±1 stderr bars."""
    scored = [s for s in lines if s.scored]
    x = [f"{esc(s.domain)}<br>{esc(s.task)}" for s in scored]

    def bars(name: str, values: list[float | None], errors: list[float | None], colour: str) -> go.Bar:
        return go.Bar(name=name, x=x, y=values, marker_color=colour,
                      error_y={"type": "data", "array": [e or 0.0 for e in errors], "visible": True})

    def pts(pick: Callable[[ScoreLine], float | None]) -> list[float | None]:
        # every task on one 0-100 axis; an error bar scales with its score
        return [points(s.metric, pick(s)) if pick(s) is not None else None for s in scored]

    fig = go.Figure([
        bars(esc(model_name), pts(lambda s: s.value), pts(lambda s: s.stderr), COLOURS["model"]),
        bars("base model", pts(lambda s: s.base_value), pts(lambda s: s.base_stderr), COLOURS["base"])])
    if any(s.parent_value is not None for s in scored):
        fig.add_trace(bars("parent", pts(lambda s: s.parent_value), pts(lambda s: s.parent_stderr),
                           COLOURS["parent"]))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(barmode="group", title="Scores (±1 standard error)", yaxis_title="score (0-100)")
    return fig


def _radar_point(r: float, i: int, n: int) -> tuple[float, float]:
    """Spoke ``i`` of ``n``, clockwise from the top, at radius ``r``."""
    angle = math.pi / 2 - 2 * math.pi * i / n
    return r * math.cos(angle), r * math.sin(angle)


def _radar_trace(values: Sequence[float], **style: Any) -> go.Scatter:
    xs, ys = zip(*(_radar_point(v, i, len(values)) for i, v in enumerate(values)), strict=True)
    return go.Scatter(x=[*xs, xs[0]], y=[*ys, ys[0]], **style)


def score_radar_figure(lines: Sequence[ScoreLine], *, model_name: str = "this model") -> go.Figure:
    """One spoke per domain (mean of its scored tasks, 0-100), the model over its base.

    Drawn on plain x/y axes so the profile page needs only plotly's basic bundle
    (polar traces live in the 4.8 MB one).
    """
    by_domain: dict[str, list[ScoreLine]] = {}
    for s in lines:
        if s.scored:
            by_domain.setdefault(s.domain, []).append(s)
    domains = sorted(by_domain)
    n = len(domains)

    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else None

    fig = go.Figure()
    grid = {"mode": "lines", "line": {"color": "#e4e7eb", "width": 1}, "hoverinfo": "skip", "showlegend": False}
    sides = n if n >= 3 else 36  # with fewer than three domains the rings are circles
    for ring in (25, 50, 75, 100):
        fig.add_trace(_radar_trace([ring] * sides, **grid))
    for i in range(n):
        x, y = _radar_point(100, i, n)
        fig.add_trace(go.Scatter(x=[0, x], y=[0, y], **grid))
    for name, pick, colour in ((esc(model_name), lambda s: points(s.metric, s.value), COLOURS["model"]),
                               ("base model", lambda s: points(s.metric, s.base_value), COLOURS["base"])):
        r = [mean([pick(s) for s in by_domain[d]]) for d in domains]
        if n and any(v is not None for v in r):
            values = [v if v is not None else 0.0 for v in r]
            fig.add_trace(_radar_trace(values, name=name, mode="lines+markers", fill="toself", opacity=0.6,
                                       line={"color": colour},
                                       text=[*(esc(d) for d in domains), esc(domains[0])],
                                       hovertemplate="%{text}: %{customdata:.1f}<extra>" + name + "</extra>",
                                       customdata=[*values, values[0]]))
    label_xy = [_radar_point(118, i, n) for i in range(n)]
    fig.add_trace(go.Scatter(x=[x for x, _ in label_xy], y=[y for _, y in label_xy], mode="text",
                             text=[esc(d) for d in domains], hoverinfo="skip", showlegend=False))
    fig.update_layout(**_LAYOUT)
    hidden = {"visible": False, "range": [-135, 135]}
    fig.update_layout(title="Across domains (0-100)", xaxis=hidden, yaxis={**hidden, "scaleanchor": "x"})
    return fig


def lineage_figure(current: ModelRef, lineage: Lineage) -> go.Figure:
    """Ancestors left of the model, children to its right."""
    nodes: list[tuple[float, float, ModelRef, str]] = []
    chain = list(lineage.ancestors) + [current]
    for i, ref in enumerate(chain):
        nodes.append((float(i), 0.0, ref, COLOURS["model"] if ref is current else COLOURS["parent"]))
    n = len(lineage.children)
    for j, ref in enumerate(lineage.children):
        nodes.append((float(len(chain)), (j - (n - 1) / 2) * 0.6, ref, COLOURS["base"]))
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for (x0, y0, _, _), (x1, y1, _, _) in itertools.pairwise(nodes[: len(chain)]):
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
    cx = float(len(chain) - 1)
    for x, y, _, _ in nodes[len(chain):]:
        edge_x += [cx, x, None]
        edge_y += [0.0, y, None]
    fig = go.Figure([
        go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#cbd2d9"}, hoverinfo="skip", showlegend=False),
        go.Scatter(x=[x for x, *_ in nodes], y=[y for _, y, *_ in nodes], mode="markers+text",
                   marker={"size": 18, "color": [c for *_, c in nodes]},
                   text=[esc(r.name) for _, _, r, _ in nodes], textposition="top center",
                   hovertext=[f"{esc(r.name)} by {esc(r.owner)}" for _, _, r, _ in nodes], hoverinfo="text",
                   customdata=[r.slug for _, _, r, _ in nodes], showlegend=False),
    ])
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title="Lineage", xaxis={"visible": False}, yaxis={"visible": False}, height=220)
    return fig
