"""View helpers for the Voilà apps: ipywidgets components and plotly figures.

The apps in ``voila_apps/`` are thin notebooks that call :mod:`hubkit.ui.pages`;
the pieces here are reusable in any notebook. Everything a person typed is
escaped before it reaches an HTML widget (:mod:`hubkit.ui.html`).
"""
from __future__ import annotations

from hubkit.ui.figures import (
    lineage_figure,
    loss_curve_figure,
    score_bars_figure,
    score_radar_figure,
)
from hubkit.ui.html import esc
from hubkit.ui.widgets import (
    Pager,
    ProgressPanel,
    figure_bundle,
    figure_output,
    query_params,
    show_figure,
)

__all__ = ["Pager", "ProgressPanel", "esc", "figure_bundle", "figure_output", "lineage_figure",
           "loss_curve_figure", "query_params", "score_bars_figure", "score_radar_figure", "show_figure"]
