"""Genealogy: a DAG of base models, models and datasets; ancestry, descendants and taint."""
from __future__ import annotations

import networkx as nx
import pytest

from hubkit.errors import Conflict
from hubkit.research import genealogy as g
from hubkit.research.figures import genealogy_figure
from tests.research.world import World


def hand_built() -> nx.DiGraph:
    """d1 → d2 → d3 (derived); base → m1 (d1) → m2 (d2) → m3 (d3); m1 → m4 (d4); base → m5 (d4)."""
    graph = nx.DiGraph()
    graph.add_node("base:b", kind="base", label="b")
    for d, parent in ((1, None), (2, 1), (3, 2), (4, None)):
        graph.add_node(g.dataset_node(d), kind="dataset", label=f"d{d}", n_rows=10, tainted=None)
        if parent:
            graph.add_edge(g.dataset_node(parent), g.dataset_node(d), relation="derived")
    for m, parent, d in ((1, None, 1), (2, 1, 2), (3, 2, 3), (4, 1, 4), (5, None, 4)):
        graph.add_node(g.model_node(m), kind="model", label=f"m{m}", slug=f"m{m}", domain="math", outcome="success")
        source = "base:b" if parent is None else g.model_node(parent)
        graph.add_edge(source, g.model_node(m), relation="base" if parent is None else "fork", change={"math": 0.1})
        graph.add_edge(g.dataset_node(d), g.model_node(m), relation="trained_on")
    return graph


def test_descendants_ancestors_and_contributing_datasets_on_a_hand_built_graph():
    graph = hand_built()
    g.check_acyclic(graph)
    assert g.descendants(graph, g.model_node(1), kind="model") == {g.model_node(i) for i in (2, 3, 4)}
    assert g.descendants(graph, g.model_node(3)) == set()
    assert g.ancestors(graph, g.model_node(3), kind="model") == {g.model_node(1), g.model_node(2)}
    assert g.contributing_datasets(graph, 3) == {1, 2, 3}
    assert g.contributing_datasets(graph, 4) == {1, 4}
    assert g.model_chain(graph, 3) == [3, 2, 1]


def test_taint_propagates_to_every_descendant_model_on_a_hand_built_graph():
    graph = hand_built()
    graph.nodes[g.dataset_node(2)]["tainted"] = "contains test items"
    assert g.tainted_models(graph) == {2: ["contains test items"], 3: ["contains test items"]}
    graph.nodes[g.dataset_node(1)]["tainted"] = "licence"
    marks = g.tainted_models(graph)
    assert set(marks) == {1, 2, 3, 4}  # d1 reaches m1 and everything forked from it, and d2/d3's models
    assert 5 not in marks and sorted(marks[3]) == ["contains test items", "licence"]


def test_a_cycle_is_refused_loudly():
    graph = hand_built()
    graph.add_edge(g.model_node(3), g.model_node(1), relation="fork")
    with pytest.raises(Conflict, match="cycle"):
        g.check_acyclic(graph)


def test_graph_from_the_store_is_a_dag_with_capability_changes(world: World):
    graph = g.build_graph(store=world.store)
    g.check_acyclic(graph)
    good, child = g.model_node(world.ids["math-good"]), g.model_node(world.ids["math-child"])
    assert graph.edges[child, g.model_node(world.ids["math-grandchild"])]["relation"] == "continue"
    change = graph.edges[good, child]["change"]
    assert change["math"] == pytest.approx(0.04) and set(change) == {"math", "code", "translation", "reading"}
    assert graph.edges["base:llama3-standin", good]["change"]["translation"] == pytest.approx(0.15)
    assert g.contributing_datasets(graph, world.ids["math-grandchild"]) == {
        world.datasets["raw"], world.datasets["clean"], world.datasets["more"]}


def test_forking_always_makes_a_new_row_so_lineage_cannot_loop(world: World):
    store = world.store
    again = store.fork_run(world.ids["math-grandchild"], owner="bob", name="loop attempt")
    assert again.id not in (world.ids["math-good"], world.ids["math-child"], world.ids["math-grandchild"])
    g.check_acyclic(g.build_graph(store=store))


def test_taint_through_the_store_marks_descendants(world: World):
    result = g.taint(world.store, world.datasets["clean"], reason="benchmark contamination", actor="carol")
    expected = {world.ids[k] for k in ("math-good", "math-child", "math-grandchild", "math-diverged", "math-lost")}
    assert set(result.models) == expected
    assert world.store.get_dataset(world.datasets["clean"]).tainted == "benchmark contamination"
    marks = g.tainted_models(g.build_graph(store=world.store))
    assert set(marks) == expected


def test_figure_links_models_to_their_profiles(world: World):
    graph = g.build_graph(store=world.store)
    fig = genealogy_figure(graph, focus=g.model_node(world.ids["math-child"]), tainted={world.ids["math-child"]: ["x"]})
    models = next(t for t in fig.data if t.name == "model")
    urls = {row[1]: row[0] for row in models.customdata}
    slug = world.store.get_run(world.ids["math-child"]).slug
    assert urls[g.model_node(world.ids["math-child"])] == f"model.ipynb?model={slug}"
    assert len(models.customdata) == 3  # the focus, its parent and its child
    assert any("tainted" in t for t in models.text)
