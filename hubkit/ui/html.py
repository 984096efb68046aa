"""Small HTML builders that escape every value they are given.

HTML widgets set ``innerHTML``, so anything a person typed (model, dataset and
user names, descriptions, comments, error messages that quote a row) goes
through :func:`esc` here and nowhere else builds markup from raw text. Only
the literal markup written in this package is trusted.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

STYLE = """
<style>
.hk { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; line-height: 1.45; }
.hk h1 { font-size: 1.6em; margin: 0.2em 0; } .hk h2 { font-size: 1.2em; margin: 0.8em 0 0.3em; }
.hk .muted { color: #616e7c; } .hk .sentence { font-size: 1.1em; margin: 0.4em 0; }
.hk .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8em;
  margin-right: 4px; background: #e4e7eb; }
.hk .b-success { background: #c6f7e2; } .hk .b-failure { background: #ffe3e3; }
.hk .b-partial { background: #fff3c4; } .hk .b-standin { background: #e0e8f9; }
.hk .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.hk .card { border: 1px solid #cbd2d9; border-radius: 8px; padding: 10px 12px; background: #fff; }
.hk .card.chosen { border: 2px solid #2680c2; }
.hk .card .title { font-weight: 600; font-size: 1.05em; word-break: break-word; }
.hk table.board { border-collapse: collapse; width: 100%; } .hk table.board td, .hk table.board th {
  border-bottom: 1px solid #e4e7eb; padding: 4px 8px; text-align: left; }
.hk table.board td.num { text-align: right; font-variant-numeric: tabular-nums; }
.hk .bar { display: inline-block; height: 8px; background: #2680c2; border-radius: 4px; vertical-align: middle; }
.hk pre { background: #f5f7fa; padding: 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
.hk .error { color: #ab091e; } .hk .ok { color: #0c6b58; }
.hk dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.hk dt { color: #616e7c; } .hk dd { margin: 0; word-break: break-word; }
</style>
"""


def esc(value: object) -> str:
    """Text for HTML: every user-provided string goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def page(inner: str) -> str:
    """Wrap trusted markup in the shared style."""
    return f'{STYLE}<div class="hk">{inner}</div>'


def link(href: str, text: object) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def app_url(notebook: str, **params: object) -> str:
    """A link to another app, relative to the page that shows it (works under any prefix)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{notebook}.ipynb" + (f"?{query}" if query else "")


def profile_url(slug: str) -> str:
    return app_url("model", model=slug)


def badge(text: object, kind: str = "") -> str:
    cls = f" b-{esc(kind)}" if kind else ""
    return f'<span class="badge{cls}">{esc(text)}</span>'


def outcome_badge(outcome: str | None) -> str:
    words = {"success": "trained", "failure": "failed", "partial": "stopped early", None: "training"}
    return badge(words.get(outcome, outcome), outcome or "")


def definition_list(items: Mapping[str, object] | Iterable[tuple[str, object]]) -> str:
    pairs = items.items() if isinstance(items, Mapping) else items
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def fmt_score(value: float | None, stderr: float | None = None) -> str:
    """A score with its standard error, as plain text (escape it when it goes into HTML)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    if stderr is not None:
        text += f" ± {stderr:.3f}" if abs(stderr) < 10 else f" ± {stderr:.1f}"
    return text


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
