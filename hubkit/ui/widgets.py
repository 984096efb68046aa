"""Reusable ipywidgets pieces: figures in outputs, pagers, progress, downloads, errors.

Widgets that take text (Label, Button, Dropdown options) show it as text; only
``HTML`` widgets interpret markup, and they are always filled from
:mod:`hubkit.ui.html`, which escapes.
"""
from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qs

import ipywidgets as W
import plotly.graph_objects as go
from ipywidgets.widgets.widget_string import HTMLStyle

from hubkit.errors import HubkitError
from hubkit.ui.figures import loss_curve_figure
from hubkit.ui.html import esc, page
from hubkit.ui.template import bundle_for

PLOTLY_MIME = "application/vnd.plotly.v1+json"


_FIGURE_CONFIG = {"displaylogo": False, "responsive": True}


def figure_html(fig: go.Figure, *, spec: str | None = None) -> str:
    """The figure as an HTML block the apps' Voilà template draws with the smallest of
    plotly's partial bundles that holds the figure's traces (``spec``: its JSON, if made).

    The figure's JSON sits inside a ``<script>``: no ``</`` or ``<!--`` may end it early,
    whatever text the figure carries.
    """
    bundle = bundle_for(trace.type for trace in fig.data)
    spec = (spec or fig.to_json()).replace("</", "<\\/").replace("<!--", "<\\!--")
    element = f"hk-figure-{uuid.uuid4().hex}"
    return (f'<div id="{element}" class="hk-figure"></div>\n<script>\n'
            f'window.hkPlotly("{bundle.name}").then(function (Plotly) {{\n  var figure = {spec};\n'
            f'  Plotly.newPlot(document.getElementById("{element}"), figure.data, figure.layout, '
            f"{json.dumps(_FIGURE_CONFIG)});\n}});\n</script>")


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """The figure for every front end: the apps' template draws the HTML (their Voilà leaves
    plotly's renderer extension out); JupyterLab prefers its plotly renderer."""
    title = fig.layout.title.text or "figure"
    spec = fig.to_json()
    return {PLOTLY_MIME: json.loads(spec), "text/html": figure_html(fig, spec=spec), "text/plain": f"[{title}]"}


def show_figure(out: W.Output, fig: go.Figure) -> None:
    """Replace what ``out`` shows with ``fig``.

    Setting the output directly (rather than ``with out: display(...)``) works
    from any thread, such as a training callback's.
    """
    out.outputs = ({"output_type": "display_data", "data": figure_bundle(fig), "metadata": {}},)


def figure_output(fig: go.Figure) -> W.Output:
    out = W.Output()
    show_figure(out, fig)
    return out


_SHARED: dict[str, W.Widget] = {}


def _shared(kind: type[W.Widget]) -> W.Widget:
    """One plain Layout / HTMLStyle for every static HTML block: each widget model the
    page holds is one more object the browser must fetch before it can draw."""
    name = kind.__name__
    if name not in _SHARED or _SHARED[name].comm is None:
        _SHARED[name] = kind()
    return _SHARED[name]


def html(inner: str, **layout: Any) -> W.HTML:
    """An HTML widget from trusted markup built with :mod:`hubkit.ui.html`."""
    return W.HTML(page(inner), layout=W.Layout(**layout))


def static_html(inner: str) -> W.HTML:
    """Like :func:`html` for a block whose layout never changes: it shares one Layout and
    one style with every other static block (never hide or resize one of these)."""
    return W.HTML(page(inner), layout=_shared(W.Layout), style=_shared(HTMLStyle))


CHOOSE_THUMBS = "Choose thumbs up or thumbs down first."


def thumbs_picker(mine: bool | None) -> W.ToggleButtons:
    """Thumbs up / down with nothing chosen until the person chooses (or their earlier vote).

    A preselected thumb would be counted for everyone who only meant to
    comment, and the success/failure signal of the research data would lean
    towards it.
    """
    return W.ToggleButtons(options=[("Thumbs up", True), ("Thumbs down", False)], value=mine)


def message(widget: W.HTML, text: str, *, kind: str = "error") -> None:
    """Show one plain sentence (escaped) in ``widget``."""
    widget.value = page(f'<p class="{esc(kind)}">{esc(text)}</p>') if text else ""


def run_safely(feedback: W.HTML, action: Callable[[], Any]) -> Any:
    """Run a button's action; a hubkit error becomes its plain sentence on the page."""
    try:
        result = action()
    except HubkitError as exc:
        message(feedback, exc.message)
        return None
    message(feedback, "")
    return result


def preheated() -> bool:
    """Whether this kernel was started by Voilà before its visitor asked for the page."""
    return os.environ.get("VOILA_PREHEAT", "False") != "False"


@functools.cache
def _preheated_query_string() -> str:
    """Voilà hands a preheated kernel its visit's request info once, over a websocket: a second
    ``get_query_string()`` in the same kernel (a page reading two parameters) would wait forever."""
    from voila.utils import get_query_string

    return get_query_string() or ""


def query_params() -> dict[str, str]:
    """The page's ``?a=b`` parameters: Voilà's query string (waits for it when preheated)."""
    raw = _preheated_query_string() if preheated() else os.environ.get("QUERY_STRING", "")
    return {k: v[0] for k, v in parse_qs(raw).items() if v}


class Pager(W.HBox):
    """Previous / next buttons with "page x of y"; calls ``on_page(page)``."""

    def __init__(self, on_page: Callable[[int], None]) -> None:
        self.page = 0
        self._on_page = on_page
        self.previous = W.Button(description="◀ Previous", layout=W.Layout(width="auto"))
        self.next = W.Button(description="Next ▶", layout=W.Layout(width="auto"))
        self.label = W.Label()
        self.previous.on_click(lambda _: self._go(self.page - 1))
        self.next.on_click(lambda _: self._go(self.page + 1))
        super().__init__([self.previous, self.label, self.next])

    def _go(self, page: int) -> None:
        self.page = max(0, page)
        self._on_page(self.page)

    def update(self, *, page: int, has_previous: bool, has_next: bool, pages: int | None = None) -> None:
        self.page = page
        self.previous.disabled = not has_previous
        self.next.disabled = not has_next
        self.label.value = f"page {page + 1}" + (f" of {pages}" if pages else "")


class ProgressPanel(W.VBox):
    """A progress bar, a status line and the live loss curve of a builder job.

    ``show(progress)`` takes a :class:`hubkit.hub.building.JobProgress` (one
    poll of the job); the curve is redrawn only when new points arrived, and
    at most every ``redraw_s`` seconds, so a fast run does not flood the page.
    """

    STYLES: ClassVar[dict[str, str]] = {"done": "success", "stopped": "warning", "failed": "danger"}
    TITLES: ClassVar[dict[str, str]] = {"queued": "Waiting", "training": "Training", "evaluating": "Checking", "done": "Done",
              "stopped": "Stopped", "failed": "Failed"}

    def __init__(self, *, redraw_s: float = 0.5) -> None:
        self.bar = W.IntProgress(value=0, min=0, max=1, description="Waiting", bar_style="info",
                                 layout=W.Layout(width="60%"))
        self.status = W.Label("Waiting to start")
        self.status.add_class("hk-job-status")
        self.curve = W.Output()
        self.curve.add_class("hk-live-curve")
        self.points: list[dict[str, Any]] = []
        self.drawn = 0  # how many points the curve shows (drawn once the first arrive)
        self._redraw_s = redraw_s
        self._drawn_at = -math.inf
        self._lock = threading.Lock()
        super().__init__([self.bar, self.status, self.curve])

    def show(self, progress: Any) -> None:
        with self._lock:
            self.status.value = progress.sentence
            self.bar.description = self.TITLES.get(progress.stage, progress.stage)
            self.bar.bar_style = self.STYLES.get(progress.stage, "info")
            if progress.total_steps:
                self.bar.max = max(progress.total_steps, progress.step or 0, 1)
            if progress.stage in ("evaluating", "done"):
                self.bar.value = self.bar.max
            elif progress.step is not None:
                self.bar.max = max(self.bar.max, progress.step, 1)
                self.bar.value = progress.step
            self.points = list(progress.points)
            due = time.monotonic() - self._drawn_at >= self._redraw_s
            if len(self.points) != self.drawn and (due or progress.final):
                self.redraw()

    def redraw(self) -> None:
        self._drawn_at = time.monotonic()
        self.drawn = len(self.points)
        show_figure(self.curve, loss_curve_figure(self.points))

    def fail(self, text: str) -> None:
        with self._lock:
            self.bar.bar_style = "danger"
            self.bar.description = self.TITLES["failed"]
            self.status.value = text


def follow(poll: Callable[[], Any], *, show: Callable[[Any], None], on_error: Callable[[str], None],
           interval_s: float = 1.0) -> threading.Thread:
    """Poll a job from a background thread until its progress is ``final``; ``show`` every look.

    Widgets may be updated from any thread; the page's kernel stays free for
    clicks (Stop) while this runs.
    """

    def loop() -> None:
        while True:
            try:
                progress = poll()
            except HubkitError as exc:
                on_error(exc.message)
                return
            except Exception as exc:  # noqa: BLE001 - shown to the person, never lost silently
                on_error(f"Following the job failed: {type(exc).__name__}: {exc}")
                return
            show(progress)
            if progress.final:
                return
            time.sleep(interval_s)

    thread = threading.Thread(target=loop, name="hubkit-follow-job", daemon=True)
    thread.start()
    return thread


def download_anchor(url: str, *, label: str) -> W.HTML:
    """A link to a download the service streams (nothing held in the page or the kernel)."""
    return W.HTML(page(f'<a class="hk-download" download href="{esc(url)}">⬇ {esc(label)}</a>'))
