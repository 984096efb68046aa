"""The public research pages: Failure Museum, Dataset Genealogy, Capability Observatory.

They show what ``hubkit.research`` computes (public models only: these pages
are for visitors) and link every model to its profile. Research reads the run
database directly, so these pages run on the public server's ``LocalStore``.
"""
from __future__ import annotations

import base64
import math
from typing import Any

import ipywidgets as W
import pandas as pd

from hubkit.errors import HubkitError
from hubkit.hub import AppSession, curve_of
from hubkit.ui.choices import ANY, chosen
from hubkit.ui.html import esc, fmt_score, link, page, plural, profile_url
from hubkit.ui.widgets import Pager, figure_output, html, message, run_safely, show_figure

PAGE_SIZE = 20


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _options(values: pd.Series, any_label: str) -> list[tuple[str, str | None]]:
    return [(any_label, ANY)] + [(str(v), str(v)) for v in sorted({str(v) for v in values.dropna()})]


# --- Failure Museum -------------------------------------------------------------------------------
class MuseumPage(W.VBox):
    """Every run that did not simply work, with why, its knobs, its curve shape and its record."""

    def __init__(self, session: AppSession) -> None:
        from hubkit.research import museum
        from hubkit.research.figures import boundary_figure

        self.session = session
        self.frame = museum.exhibits(store=session.store, include_private=False)
        summary = museum.summarise(store=session.store, exhibit_frame=self.frame, include_private=False, min_runs=3)
        cells = museum.boundary(store=session.store, by=("lr_bucket", "rank_bucket"), include_private=False)
        self.kind = W.Dropdown(options=_options(self.frame["class_family"], "Every kind"), description="Kind")
        self.family = W.Dropdown(options=_options(self.frame["base_family"], "Any base"), description="Base")
        self.domain = W.Dropdown(options=_options(self.frame["domain"], "Any goal"), description="Goal")
        self.table = W.HTML()
        self.pick = W.Dropdown(description="Exhibit", layout=W.Layout(width="480px"))
        self.detail = W.VBox()
        self.pager = Pager(self.show)
        for control in (self.kind, self.family, self.domain):
            control.observe(lambda _: self.show(0), names="value")
        self.pick.observe(lambda c: self.open_exhibit(c["new"]), names="value")
        classes = "".join(f"<li>{esc(k)}: {v}</li>" for k, v in summary.by_class.items())
        super().__init__([
            html("<h1>Failure Museum</h1><p class='muted'>Every public run that failed, stopped partway, stopped "
                 "early, scored worse than its base model or got a thumbs down. Nothing is filtered out: this is "
                 "where the edge of what works shows.</p>"
                 + "".join(f"<p class='sentence'>{esc(s)}</p>" for s in summary.sentences)
                 + (f"<ul>{classes}</ul>" if classes else "")),
            figure_output(boundary_figure(cells)) if len(cells) else html("<p class='muted'>No finished runs yet.</p>"),
            W.HBox([self.kind, self.family, self.domain]), self.table, self.pager, self.pick, self.detail,
        ])
        self.add_class("hk-museum")
        self.show(0)

    def filtered(self) -> pd.DataFrame:
        f = self.frame
        for column, control in (("class_family", self.kind), ("base_family", self.family), ("domain", self.domain)):
            if chosen(control.value) is not None:
                f = f[f[column].astype(str) == control.value]
        return f

    def show(self, page_number: int) -> None:
        f = self.filtered()
        window = f.iloc[page_number * PAGE_SIZE:(page_number + 1) * PAGE_SIZE]
        rows = "".join(
            f"<tr><td>{link(profile_url(r.slug), r.name)}</td><td>{esc(r.failure_class)}</td><td>{esc(r.why)}</td>"
            f"<td>{esc(r.base_family)}</td><td class='num'>{esc(_cell(r.learning_rate))}</td>"
            f"<td class='num'>{esc(_cell(r.lora_r))}</td><td class='num'>{esc(_cell(r.dataset_rows))}</td>"
            f"<td>{esc(self._shape(r))}</td></tr>" for r in window.itertuples(index=False))
        self.table.value = page(
            f"<p>{plural(len(f), 'exhibit')}</p>" + (
                "<table class='board'><tr><th>model</th><th>class</th><th>why</th><th>base</th><th>learning rate</th>"
                f"<th>rank</th><th>rows</th><th>curve</th></tr>{rows}</table>" if rows else ""))
        self.pager.update(page=page_number, has_previous=page_number > 0,
                          has_next=(page_number + 1) * PAGE_SIZE < len(f), pages=max(1, -(-len(f) // PAGE_SIZE)))
        self.pick.options = [("Open an exhibit…", ANY)] + [(f"{r.name} ({r.failure_class})", r.slug)
                                                              for r in window.itertuples(index=False)]
        self.pick.value = ANY

    @staticmethod
    def _shape(r: Any) -> str:
        """The curve's shape in a few words (from ``hubkit.research.curveshape``)."""
        def known(name: str) -> Any:
            value = getattr(r, name, None)
            return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value

        words = []
        if known("nonfinite"):
            step = known("first_nonfinite_step")
            words.append("not a number" + (f" from step {step}" if step is not None else ""))
        if known("spikes"):
            words.append(plural(int(known("spikes")), "spike"))
        if known("plateau_from_step") is not None:
            words.append(f"plateau from step {known('plateau_from_step')}")
        if known("overfitting"):
            words.append("overfitting")
        return ", ".join(words) or "–"

    def open_exhibit(self, slug: str | None) -> None:
        if not slug:
            self.detail.children = []
            return
        feedback = W.HTML()
        run = run_safely(feedback, lambda: self.session.store.get_run(slug, viewer=self.session.viewer))
        if run is None:
            self.detail.children = [feedback]
            return
        import yaml

        from hubkit.ui.figures import loss_curve_figure

        parts: list[W.Widget] = [
            html(f"<h2>{esc(run.name)}</h2><p>{esc(run.failure_message or '')}</p>"
                 f"<p>{link(profile_url(run.slug), 'Open its profile')}</p>"
                 f"<pre>{esc(yaml.safe_dump(run.config, sort_keys=False) if run.config else '(no configuration)')}</pre>"),
            figure_output(loss_curve_figure(curve_of(self.session.store, run))),
        ]
        notebooks = self.session.store.list_notebook_runs(model_id=run.id)
        if notebooks:
            parts.append(NotebookDownload(notebooks[-1].archive_hash, f"{run.slug}.ipynb"))
        self.detail.children = parts


class NotebookDownload(W.VBox):
    """The executed notebook, offered as a file (never rendered on this site)."""

    def __init__(self, digest: str, filename: str) -> None:
        self.digest, self.filename = digest, filename
        self.button = W.Button(description="Download its executed notebook", layout=W.Layout(width="auto"))
        self.out = W.HTML()
        self.button.on_click(lambda _: self.fetch())
        super().__init__([self.button, self.out])

    def fetch(self) -> None:
        from hubkit.archive import NOTEBOOKS, open_archive

        data = run_safely(self.out, lambda: open_archive(namespace=NOTEBOOKS).get_bytes(self.digest))
        if data is not None:
            encoded = base64.b64encode(data).decode("ascii")
            self.out.value = page(f'<a download="{esc(self.filename)}" '
                                  f'href="data:application/octet-stream;base64,{encoded}">⬇ {esc(self.filename)}</a>')


def museum_page(session: AppSession) -> MuseumPage:
    return MuseumPage(session)


# --- Dataset Genealogy ----------------------------------------------------------------------------
class GenealogyPage(W.VBox):
    """Base models, datasets and the models made from them; pick a model to see its family."""

    def __init__(self, session: AppSession, *, focus: str | None = None) -> None:
        from hubkit.research import genealogy

        self.session = session
        self.graph = genealogy.build_graph(store=session.store, include_private=False)
        self.tainted = genealogy.tainted_models(self.graph)
        models = sorted(((d.get("label", n), d.get("slug")) for n, d in self.graph.nodes(data=True)
                         if d.get("kind") == "model" and d.get("slug")), key=lambda x: str(x[0]))
        slugs = {s for _, s in models}
        self.focus_picker = W.Dropdown(options=[("The whole hub", ANY)] + [(str(label), slug) for label, slug in models],
                                value=focus if focus in slugs else ANY, description="Model")
        self.figure = W.Output()
        self.about = W.HTML()
        self.focus_picker.observe(lambda _: self.show(), names="value")
        super().__init__([
            html("<h1>Dataset Genealogy</h1><p class='muted'>Which datasets fed which models, and what changed at "
                 "each fork: hover an arrow for the score change it brought. Models trained on a tainted dataset "
                 "(or forked from one) are outlined in black.</p>"),
            self.focus_picker, self.figure, self.about,
        ])
        self.add_class("hk-genealogy")
        self.show()

    def _node(self, slug: str) -> str | None:
        return next((n for n, d in self.graph.nodes(data=True) if d.get("slug") == slug), None)

    def show(self) -> None:
        from hubkit.research import genealogy
        from hubkit.research.figures import genealogy_figure

        node = self._node(self.focus_picker.value) if self.focus_picker.value else None
        show_figure(self.figure, genealogy_figure(self.graph, focus=node, tainted=self.tainted))
        if node is None:
            counts = {k: sum(1 for _, d in self.graph.nodes(data=True) if d.get("kind") == k)
                      for k in ("base", "dataset", "model")}
            self.about.value = page(f"<p>{plural(counts['model'], 'public model')} from "
                                    f"{plural(counts['base'], 'base model')} and {plural(counts['dataset'], 'dataset')}.</p>")
            return

        def links(nodes: set[str]) -> str:
            items = [(self.graph.nodes[n].get("label"), self.graph.nodes[n].get("slug")) for n in nodes]
            shown = [link(profile_url(s), label) for label, s in sorted(items, key=lambda x: str(x[0])) if s]
            return ", ".join(shown) or "none"

        model_id = genealogy.node_id(node)
        datasets = [self.graph.nodes[genealogy.dataset_node(d)].get("label")
                    for d in genealogy.contributing_datasets(self.graph, model_id)]
        taint = self.tainted.get(model_id)
        self.about.value = page(
            f"<p>Comes from: {links(genealogy.ancestors(self.graph, node, kind='model'))}</p>"
            f"<p>Led to: {links(genealogy.descendants(self.graph, node, kind='model'))}</p>"
            f"<p>Datasets that fed it: {esc(', '.join(str(d) for d in sorted(map(str, datasets))) or 'none')}</p>"
            + (f"<p class='error'>Tainted: {esc('; '.join(taint))}</p>" if taint else "")
            + f"<p>{link(profile_url(self.focus_picker.value), 'Open its profile')}</p>")


def genealogy_page(session: AppSession, *, focus: str | None = None) -> GenealogyPage:
    return GenealogyPage(session, focus=focus)


# --- Capability Observatory -------------------------------------------------------------------------
class ObservatoryPage(W.VBox):
    """Significant changes outside a model's own domain, and which domain moves which."""

    def __init__(self, session: AppSession) -> None:
        from hubkit.research import emergence
        from hubkit.research.figures import transfer_figure

        self.session = session
        self.feedback = W.HTML()
        visible = {}
        offset = 0
        while True:
            batch = session.store.list_runs(viewer=session.viewer, summary=True, limit=500, offset=offset)
            visible.update({r.id: r for r in batch})
            if len(batch) < 500:
                break
            offset += 500
        self.flags = [f for f in session.store.list_capability_flags() if f.model_id in visible]
        self.runs = visible
        self.domain = W.Dropdown(options=[("Any domain", ANY)] + [(d, d) for d in sorted({f.domain for f in self.flags})],
                                 description="Domain")
        self.table = W.HTML()
        self.domain.observe(lambda _: self.show(), names="value")
        try:
            transfer = emergence.transfer(store=session.store)
            transfer_part: W.Widget = (figure_output(transfer_figure(transfer)) if len(transfer)
                                       else html("<p class='muted'>No model has been scored yet.</p>"))
        except HubkitError as exc:
            transfer_part = W.HTML()
            message(transfer_part, exc.message)
        super().__init__([
            html("<h1>Capability Observatory</h1><p class='muted'>When fine-tuning for one domain moves a score in "
                 "another beyond what chance explains (two-sample z-test on the stored standard errors, "
                 "Benjamini–Hochberg over each model's domains), it is flagged here.</p>"),
            transfer_part, self.domain, self.table, self.feedback,
        ])
        self.add_class("hk-observatory")
        self.show()

    def show(self) -> None:
        flags = [f for f in self.flags if not self.domain.value or f.domain == self.domain.value]
        rows = "".join(
            f"<tr><td>{link(profile_url(self.runs[f.model_id].slug), self.runs[f.model_id].name)}</td>"
            f"<td>{esc(self.runs[f.model_id].domain)}</td><td>{esc(f.domain)}</td><td>{esc(f.sentence)}</td>"
            f"<td>{esc(f.reference)}</td><td class='num'>{esc(fmt_score(f.delta))}</td>"
            f"<td class='num'>{f.z:.2f}</td><td class='num'>{f.q_value:.3f}</td></tr>" for f in flags)
        self.table.value = page(
            f"<p>{plural(len(flags), 'flagged change')}</p>" + (
                "<table class='board'><tr><th>model</th><th>trained for</th><th>changed in</th><th>what</th>"
                f"<th>vs</th><th>change</th><th>z</th><th>q</th></tr>{rows}</table>" if rows else ""))


def observatory_page(session: AppSession) -> ObservatoryPage:
    return ObservatoryPage(session)


__all__ = ["GenealogyPage", "MuseumPage", "ObservatoryPage", "genealogy_page", "museum_page",
           "observatory_page"]
