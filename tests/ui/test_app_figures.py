"""The apps' figures: drawn by plotly's partial bundles, safe inside a <script>, radar on x/y axes."""

import ipywidgets as W
import plotly.graph_objects as go
import pytest

from hubkit.hub import AppSession
from hubkit.hub.scores import ScoreLine
from hubkit.store.records import CapabilityFlagIn
from hubkit.ui.figures import score_radar_figure
from hubkit.ui.pages import (
    genealogy_page,
    model_page,
    museum_page,
    observatory_page,
    prepare_model_page,
)
from hubkit.ui.template import BASIC, CARTESIAN
from hubkit.ui.widgets import PLOTLY_MIME, figure_bundle
from tests.hub.world import XSS_NAME
from tests.ui.helpers import outputs_of


def shown_figures(*pages: W.Widget) -> list[dict]:
    return [o["data"] for page in pages for o in outputs_of(page) if PLOTLY_MIME in o.get("data", {})]


def test_every_app_figure_is_drawn_by_a_bundle_the_template_serves(hub_store, world):
    flag = CapabilityFlagIn(domain="translation", task="mw_translation", reference="base", delta=-3.0, z=-2.5,
                            p_value=0.01, q_value=0.03, sentence="translation fell")
    hub_store.replace_capability_flags(world.math_model.id, [flag])
    session = AppSession(store=hub_store)
    museum = museum_page(session)
    museum.pick.value = world.failed.slug
    profile = model_page(session, world.fork.slug)
    others = [museum, genealogy_page(session, focus=world.fork.slug), observatory_page(session)]

    def needs(bundle: dict) -> str:
        kinds = {trace.get("type", "scatter") for trace in bundle[PLOTLY_MIME]["data"]}
        assert kinds <= CARTESIAN.traces, f"{bundle['text/plain']} uses {kinds - CARTESIAN.traces}"
        assert 'class="hk-figure"' in bundle["text/html"] and "Plotly.newPlot" in bundle["text/html"]
        name = BASIC.name if kinds <= BASIC.traces else CARTESIAN.name
        assert f'window.hkPlotly("{name}")' in bundle["text/html"]
        return name

    # the profile page, whose render time is a target, needs only the bundle every page runs first
    assert [needs(b) for b in shown_figures(profile)] == [BASIC.name] * 4
    assert CARTESIAN.name in [needs(b) for b in shown_figures(*others)]  # the heatmaps


def test_a_figure_cannot_end_its_script_early():
    fig = go.Figure(go.Bar(x=["</script><img src=x onerror=alert(1)>", "<!-- a"], y=[1, 2]))
    html = figure_bundle(fig)["text/html"]
    assert html.count("</script>") == 1 and html.endswith("</script>")  # the tag stays shut until its end
    assert "<!--" not in html


def line(domain: str, value: float, base: float | None = None) -> ScoreLine:
    return ScoreLine(domain=domain, task=f"mw_{domain}", metric="acc", value=value, stderr=0.01, n=50,
                     status="scored", skip_reason=None, stamp_hash="s", base_value=base, base_stderr=0.01)


def test_radar_has_one_closed_shape_per_series_and_one_spoke_per_domain():
    lines = [line(d, v, v / 2) for d, v in (("math", 0.8), ("code", 0.4), ("translation", 0.6), ("reasoning", 0.2))]
    fig = score_radar_figure(lines, model_name=XSS_NAME)
    series = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in series] == ["&lt;img src=x onerror=alert(1)&gt;", "base model"]
    for t in series:
        assert len(t.x) == 5 and (t.x[0], t.y[0]) == (t.x[-1], t.y[-1])
    model = series[0]
    assert [round(v) for v in model.customdata] == [40, 80, 20, 60, 40]  # code, math, reasoning, translation
    assert (round(model.x[0], 6), round(model.y[0], 6)) == (0, 40)  # the first domain points up
    labels = next(t for t in fig.data if t.mode == "text")
    assert list(labels.text) == ["code", "math", "reasoning", "translation"]
    assert {t.type for t in fig.data} == {"scatter"}


@pytest.mark.parametrize("domains", [0, 1, 2])
def test_radar_with_few_domains_still_draws(domains):
    lines = [line(f"d{i}", 0.5) for i in range(domains)]
    fig = score_radar_figure(lines)
    assert len([t for t in fig.data if t.fill == "toself"]) == (1 if domains else 0)
    figure_bundle(fig)


def test_preparing_a_profile_page_only_in_a_preheated_kernel(hub_store, world, monkeypatch):
    session = AppSession(store=hub_store)
    calls = []
    monkeypatch.setattr("hubkit.ui.pages.model.model_profile", lambda **kw: calls.append(kw["model"]) or None)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    prepare_model_page(session)
    assert calls == []  # a kernel started for its request goes straight to the page
    monkeypatch.undo()
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    widgets_before = len(W.Widget.widgets)
    prepare_model_page(session)
    assert len(W.Widget.widgets) == widgets_before  # nothing of it reaches the visitor's page


def test_preparing_with_no_public_model_does_nothing(settings, monkeypatch):
    from hubkit.store import LocalStore

    monkeypatch.setenv("VOILA_PREHEAT", "True")
    prepare_model_page(AppSession(store=LocalStore(settings.database_url)))
