"""Dataset Genealogy: base models, models and datasets as one directed graph.

Nodes are ``base:<key>``, ``model:<id>`` and ``dataset:<id>``. Edges point from
what came first to what was made from it:

- ``base → model`` (trained from the base model), carrying ``delta_base``;
- ``parent model → model`` (fork / continue / resume), carrying the capability
  change against the parent in every domain (``delta_parent``);
- ``dataset → model`` (trained on) and ``parent dataset → dataset`` (derived).

The store creates a new row for every fork, so ``parent_model_id`` always
points to an older row and the graph is acyclic; :func:`check_acyclic` says so
loudly if that ever stops being true.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import pandas as pd

from hubkit.errors import Conflict
from hubkit.research import frames
from hubkit.research._source import engine_for

if TYPE_CHECKING:
    from hubkit.store import Store


def model_node(model_id: int) -> str:
    return f"model:{int(model_id)}"


def dataset_node(dataset_id: int) -> str:
    return f"dataset:{int(dataset_id)}"


def base_node(key: str) -> str:
    return f"base:{key}"


def node_id(node: str) -> int:
    return int(node.split(":", 1)[1])


def _domain_deltas(engine) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Mean delta_base / delta_parent per (model, domain) over its current scored tasks."""
    with engine.connect() as conn:
        return pd.read_sql(
            "SELECT model_id, domain, AVG(delta_base) AS delta_base, AVG(delta_parent) AS delta_parent "
            "FROM evaluations WHERE model_id IS NOT NULL AND is_current = " + ("true" if engine.dialect.name ==
                                                                               "postgresql" else "1")
            + " AND status = 'scored' GROUP BY model_id, domain", conn)


def _changes(deltas: pd.DataFrame, column: str) -> dict[int, dict[str, float]]:
    present = deltas[deltas[column].notna()]
    out: dict[int, dict[str, float]] = {}
    for model_id, domain, value in zip(present["model_id"], present["domain"], present[column], strict=True):
        out.setdefault(int(model_id), {})[str(domain)] = float(value)
    return out


def build_graph(*, url: str | None = None, store: Store | None = None, include_private: bool = True,
                with_changes: bool = True) -> nx.DiGraph:
    """The whole genealogy; edges into models carry ``change`` = {domain: score delta}."""
    engine = engine_for(url=url, store=store)
    lineage = frames.lineage(url=url, store=store, include_private=include_private)
    with engine.connect() as conn:
        datasets = pd.read_sql("SELECT id, name, n_rows, parent_dataset_id, tainted, licence FROM datasets", conn)
    deltas = _domain_deltas(engine) if with_changes else pd.DataFrame(
        columns=["model_id", "domain", "delta_base", "delta_parent"])
    vs_base, vs_parent = _changes(deltas, "delta_base"), _changes(deltas, "delta_parent")
    graph = nx.DiGraph()
    for row in datasets.itertuples(index=False):
        graph.add_node(dataset_node(row.id), kind="dataset", label=str(row.name), n_rows=int(row.n_rows),
                       tainted=row.tainted if isinstance(row.tainted, str) else None)
    for row in datasets.itertuples(index=False):
        if pd.notna(row.parent_dataset_id):
            graph.add_edge(dataset_node(row.parent_dataset_id), dataset_node(row.id), relation="derived")
    for row in lineage.itertuples(index=False):
        node = model_node(row.model_id)
        graph.add_node(node, kind="model", label=str(row.slug), slug=str(row.slug), domain=str(row.domain),
                       outcome=None if pd.isna(row.training_outcome) else str(row.training_outcome),
                       base_model=str(row.base_model))
        if pd.isna(row.parent_model_id):
            base = base_node(str(row.base_model))
            graph.add_node(base, kind="base", label=str(row.base_model))
            graph.add_edge(base, node, relation="base", change=vs_base.get(int(row.model_id), {}))
        else:
            parent = model_node(row.parent_model_id)
            if parent not in graph:  # a private parent left out of the view: keep the edge's end visible
                graph.add_node(parent, kind="model", label="(private)", slug=None, domain=None, outcome=None)
            graph.add_edge(parent, node, relation=str(row.parent_relation),
                           change=vs_parent.get(int(row.model_id), {}))
        if pd.notna(row.dataset_id):
            graph.add_edge(dataset_node(row.dataset_id), node, relation="trained_on")
    return graph


def check_acyclic(graph: nx.DiGraph) -> None:
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise Conflict("The genealogy has a cycle, which the store should make impossible.",
                       detail=" → ".join(a for a, _ in cycle))


def ancestors(graph: nx.DiGraph, node: str, *, kind: str | None = None) -> set[str]:
    """Everything ``node`` was made from (optionally only nodes of one kind)."""
    found = nx.ancestors(graph, node)
    return {n for n in found if kind is None or graph.nodes[n].get("kind") == kind}


def descendants(graph: nx.DiGraph, node: str, *, kind: str | None = None) -> set[str]:
    """Everything made from ``node``, directly or through any chain."""
    found = nx.descendants(graph, node)
    return {n for n in found if kind is None or graph.nodes[n].get("kind") == kind}


def model_chain(graph: nx.DiGraph, model_id: int) -> list[int]:
    """The model and its parents up to the one trained from a base model, newest first."""
    chain = [int(model_id)]
    node = model_node(model_id)
    while True:
        parents = [p for p in graph.predecessors(node) if graph.nodes[p].get("kind") == "model"]
        if not parents:
            return chain
        node = parents[0]
        chain.append(node_id(node))


def contributing_datasets(graph: nx.DiGraph, model_id: int) -> set[int]:
    """Datasets whose data reached this model: its own, its ancestors', and what they were derived from."""
    return {node_id(n) for n in ancestors(graph, model_node(model_id), kind="dataset")}


@dataclass(frozen=True)
class Taint:
    dataset_id: int
    reason: str
    models: list[int]  # every model trained on it or on anything derived from it, or forked from one


def tainted_models(graph: nx.DiGraph) -> dict[int, list[str]]:
    """model id → the taint reasons that reach it (through datasets and parents)."""
    marks: dict[int, list[str]] = {}
    for node, data in graph.nodes(data=True):
        if data.get("kind") == "dataset" and data.get("tainted"):
            for model in descendants(graph, node, kind="model"):
                marks.setdefault(node_id(model), []).append(data["tainted"])
    return marks


def taint(store: Store, dataset_id: int, *, reason: str, actor: str | None = None,
          graph: nx.DiGraph | None = None) -> Taint:
    """Taint a dataset (through the store) and return every descendant model it marks."""
    store.taint_dataset(dataset_id, reason=reason, actor=actor)
    graph = graph if graph is not None else build_graph(store=store, with_changes=False)
    graph.nodes[dataset_node(dataset_id)]["tainted"] = reason
    models = sorted(node_id(n) for n in descendants(graph, dataset_node(dataset_id), kind="model"))
    return Taint(dataset_id=dataset_id, reason=reason, models=models)


def edges_frame(graph: nx.DiGraph, nodes: Iterable[str] | None = None) -> pd.DataFrame:
    """Edges as a table, one column per domain for the capability change."""
    sub = graph.subgraph(nodes) if nodes is not None else graph
    rows = []
    for a, b, data in sub.edges(data=True):
        row = {"source": a, "target": b, "relation": data.get("relation")}
        row.update({f"change.{d}": v for d, v in (data.get("change") or {}).items()})
        rows.append(row)
    return pd.DataFrame(rows)
