"""Plotly figures for the research pages (the apps render them; no logic lives there).

Names and labels come from users, so hover texts are HTML-escaped here.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from hubkit.research.curveshape import as_float

KIND_COLOURS = {"base": "#6c757d", "model": "#1f77b4", "dataset": "#2ca02c"}
OUTCOME_COLOURS = {"success": "#1f77b4", "failure": "#d62728", "partial": "#ff7f0e", None: "#9467bd"}
TAINT_COLOUR = "#000000"


def default_profile_url(slug: str) -> str:
    """The hub's profile page for a model, relative to the page showing the figure."""
    from urllib.parse import urlencode

    return "model.ipynb?" + urlencode({"model": slug})


def _layers(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Left-to-right layout: a node sits one column right of its furthest-right parent."""
    depth: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        preds = list(graph.predecessors(node))
        depth[node] = 0 if not preds else 1 + max(depth[p] for p in preds)
    columns: dict[int, list[str]] = {}
    for node, d in depth.items():
        columns.setdefault(d, []).append(node)
    pos = {}
    for d, members in columns.items():
        members.sort(key=lambda n: (graph.nodes[n].get("kind", ""), n))
        for i, node in enumerate(members):
            pos[node] = (float(d), i - (len(members) - 1) / 2)
    return pos


def _change_text(change: dict[str, float] | None) -> str:
    if not change:
        return "no shared scores"
    return "<br>".join(f"{html.escape(d)}: {v:+.3f}" for d, v in sorted(change.items(), key=lambda kv: -abs(kv[1])))


def genealogy_figure(graph: nx.DiGraph, *, focus: str | None = None,
                     profile_url: Callable[[str], str] = default_profile_url,
                     tainted: dict[int, list[str]] | None = None) -> go.Figure:
    """The genealogy drawn left to right; model nodes carry their profile URL in ``customdata``.

    ``focus`` (a node such as ``"model:12"``) limits the drawing to its
    ancestors and descendants. ``tainted`` (from ``genealogy.tainted_models``)
    outlines tainted models in black.
    """
    if focus is not None:
        keep = nx.ancestors(graph, focus) | nx.descendants(graph, focus) | {focus}
        graph = graph.subgraph(keep)
    pos = _layers(graph)
    tainted = tainted or {}
    fig = go.Figure()
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    mid_x, mid_y, mid_text = [], [], []
    for a, b, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
        if "change" in data:
            mid_x.append((x0 + x1) / 2)
            mid_y.append((y0 + y1) / 2)
            mid_text.append(f"{html.escape(str(data.get('relation')))}<br>{_change_text(data.get('change'))}")
    fig.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"width": 1, "color": "#bbbbbb"},
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=mid_x, y=mid_y, mode="markers", marker={"size": 6, "color": "#bbbbbb"},
                             text=mid_text, hoverinfo="text", name="capability change", showlegend=False))
    for kind in ("base", "dataset", "model"):
        nodes = [n for n, d in graph.nodes(data=True) if d.get("kind") == kind]
        if not nodes:
            continue
        colours, outlines, texts, urls = [], [], [], []
        for n in nodes:
            d = graph.nodes[n]
            label = html.escape(str(d.get("label", n)))
            url = ""
            if kind == "model":
                colours.append(OUTCOME_COLOURS.get(d.get("outcome"), OUTCOME_COLOURS[None]))
                marks = tainted.get(int(n.split(":")[1]), [])
                outlines.append(TAINT_COLOUR if marks else "#ffffff")
                texts.append(f"{label}<br>{html.escape(str(d.get('domain')))} · {html.escape(str(d.get('outcome')))}"
                             + (f"<br>tainted: {html.escape('; '.join(marks))}" if marks else ""))
                url = profile_url(d["slug"]) if d.get("slug") else ""
            else:
                colours.append(KIND_COLOURS[kind])
                outlines.append(TAINT_COLOUR if d.get("tainted") else "#ffffff")
                extra = f"<br>{d['n_rows']:,} rows" if kind == "dataset" else ""
                texts.append(label + extra + (f"<br>tainted: {html.escape(d['tainted'])}" if d.get("tainted") else ""))
            urls.append(url)
        fig.add_trace(go.Scatter(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers", name=kind,
            marker={"size": 14 if kind != "dataset" else 10, "color": colours, "symbol":
                    {"base": "diamond", "dataset": "square", "model": "circle"}[kind],
                    "line": {"width": 2, "color": outlines}},
            text=texts, hoverinfo="text", customdata=[[u, n] for u, n in zip(urls, nodes, strict=True)]))
    fig.update_layout(title="Genealogy: base models, datasets and the models made from them",
                      xaxis={"visible": False}, yaxis={"visible": False}, hovermode="closest",
                      plot_bgcolor="white", legend={"orientation": "h"})
    return fig


def boundary_figure(cells: pd.DataFrame, *, x: str = "lr_bucket", y: str = "rank_bucket",
                    min_runs: int = 1) -> go.Figure:
    """Heatmap of failure rate over two knobs (from ``museum.boundary(by=(x, y))``), counts on hover."""
    table = cells[cells["runs"] >= min_runs]
    failures = table.pivot_table(index=y, columns=x, values="failures", aggfunc="sum", observed=True)
    runs = table.pivot_table(index=y, columns=x, values="runs", aggfunc="sum", observed=True)
    rate = failures / runs
    text = [[("" if pd.isna(r) else f"{r:.0%} of {int(n)}") for r, n in zip(rr, nn, strict=True)]
            for rr, nn in zip(rate.to_numpy(), runs.fillna(0).to_numpy(), strict=True)]
    fig = go.Figure(go.Heatmap(z=rate.to_numpy(), x=[str(c) for c in rate.columns], y=[str(i) for i in rate.index],
                               text=text, texttemplate="%{text}", colorscale="Reds", zmin=0, zmax=1,
                               colorbar={"title": "failure rate"}))
    fig.update_layout(title="Where training fails", xaxis_title=x.replace("_", " "), yaxis_title=y.replace("_", " "))
    return fig


def curve_figure(points: Sequence[dict[str, Any]], *, title: str = "Training curve") -> go.Figure:
    """Train and eval loss; non-finite points are marked where they happened."""
    steps = [p.get("step") for p in points]
    loss = [as_float(p.get("loss")) for p in points]
    fig = go.Figure(go.Scatter(x=steps, y=loss, mode="lines", name="training loss"))
    evals = [(p.get("step"), as_float(p.get("eval_loss"))) for p in points if p.get("eval_loss") is not None]
    if evals:
        fig.add_trace(go.Scatter(x=[s for s, _ in evals], y=[v for _, v in evals], mode="lines+markers",
                                 name="held-back loss"))
    bad = [p.get("step") for p in points if isinstance(p.get("loss"), str)]
    for step in bad:
        fig.add_vline(x=step, line={"color": "#d62728", "dash": "dot"})
    fig.update_layout(title=html.escape(title), xaxis_title="step", yaxis_title="loss")
    return fig


def transfer_figure(transfer: pd.DataFrame) -> go.Figure:
    """Source domain × target domain: mean score change, with counts and share flagged on hover."""
    mean = transfer.pivot(index="source_domain", columns="target_domain", values="mean_delta")
    count = transfer.pivot(index="source_domain", columns="target_domain", values="models")
    share = transfer.pivot(index="source_domain", columns="target_domain", values="share_flagged")
    text = [[("" if pd.isna(m) else f"{m:+.3f}<br>{int(c)} models, {s:.0%} flagged")
             for m, c, s in zip(mr, cr, sr, strict=True)]
            for mr, cr, sr in zip(mean.to_numpy(), count.fillna(0).to_numpy(), share.fillna(0).to_numpy(), strict=True)]
    bound = float(max(abs(transfer["mean_delta"]).max(), 1e-6)) if len(transfer) else 1.0
    fig = go.Figure(go.Heatmap(z=mean.to_numpy(), x=list(mean.columns), y=list(mean.index), text=text,
                               hoverinfo="text", colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound,
                               colorbar={"title": "mean change"}))
    fig.update_layout(title="Which domain moves which: fine-tuned for (rows) → score change in (columns)",
                      xaxis_title="score in", yaxis_title="fine-tuned for")
    return fig

