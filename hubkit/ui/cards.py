"""HTML fragments for models, scores, datasets, lineage, feedback and boards.

Each function takes hub results and returns markup in which every value is
escaped (see :mod:`hubkit.ui.html`).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hubkit.hub.browse import ModelSummary
from hubkit.hub.leaderboards import Board
from hubkit.hub.profile import FeedbackSummary, Lineage, ModelRef, Profile
from hubkit.hub.scores import ScoreLine
from hubkit.store.records import CapabilityFlagRecord, DatasetRecord
from hubkit.ui.html import (
    badge,
    definition_list,
    esc,
    fmt_score,
    link,
    outcome_badge,
    plural,
    profile_url,
)


def model_card(m: ModelSummary) -> str:
    score = f"{esc(m.score.task)}: {esc(fmt_score(m.score.value, m.score.stderr))}" if m.score else "not scored yet"
    standin = badge("stand-in", "standin") if m.is_standin else ""
    fork = badge("fork") if m.parent_model_id else ""
    description = f'<div class="muted">{esc(m.description[:160])}</div>' if m.description else ""
    return (f'<div class="card"><div class="title">{link(profile_url(m.slug), m.name)}</div>'
            f'<div class="muted">by {esc(m.owner)} · {esc(m.created_at.strftime("%Y-%m-%d"))}</div>'
            f'<div>{badge(m.domain)}{outcome_badge(m.outcome)}{fork}</div>'
            f'<div>base: {esc(m.base_model_key)} {standin}</div><div>{score}</div>{description}</div>')


def model_cards(items: Sequence[ModelSummary]) -> str:
    if not items:
        return '<p class="muted">No models match.</p>'
    return '<div class="cards">' + "".join(model_card(m) for m in items) + "</div>"


def profile_header(p: Profile) -> str:
    run = p.run
    standin = badge("stand-in base", "standin") if p.base.is_standin else ""
    parent = ""
    if p.parent is not None:
        parent = f" · forked from {link(profile_url(p.parent.slug), p.parent.name)}"
    failure = ""
    if run.failure_message:
        failure = f'<p class="error">{esc(run.failure_message)}</p>'
    description = f"<p>{esc(run.description)}</p>" if run.description else ""
    return (f"<h1>{esc(run.name)}</h1>"
            f'<div class="muted">by {esc(run.owner)} · {esc(run.visibility.value)} · '
            f'{esc(run.created_at.strftime("%Y-%m-%d %H:%M"))}{parent}</div>'
            f"<div>{badge(run.domain)}{outcome_badge(run.training_outcome.value if run.training_outcome else None)}"
            f"{badge(p.base.key)}{standin}</div>{description}{failure}"
            f'<p class="sentence">{esc(p.vs_base.sentence)}</p>'
            + (f'<p class="sentence">{esc(p.vs_parent.sentence)}</p>' if p.vs_parent else ""))


def score_table(lines: Sequence[ScoreLine]) -> str:
    if not lines:
        return '<p class="muted">No scores yet: the platform evaluates every model after training.</p>'
    rows = []
    for s in lines:
        value = fmt_score(s.value, s.stderr) if s.scored else f"{s.status}: {s.skip_reason or ''}"
        rows.append(f"<tr><td>{esc(s.domain)}</td><td>{esc(s.task)}</td><td>{esc(s.metric)}</td>"
                    f'<td class="num">{esc(value)}</td><td class="num">{esc(fmt_score(s.base_value, s.base_stderr))}</td>'
                    f'<td class="num">{esc(fmt_score(s.parent_value, s.parent_stderr))}</td>'
                    f'<td class="num">{esc(s.n)}</td><td>{esc(s.scored_on or "–")}</td></tr>')
    return ('<table class="board"><tr><th>domain</th><th>task</th><th>metric</th><th>this model</th>'
            "<th>base model</th><th>parent</th><th>samples</th><th>scored on</th></tr>" + "".join(rows) + "</table>"
            '<p class="muted">± is one standard error; "–" means no score under the same settings (suite, '
            "device and precision included).</p>")


def dataset_card(d: DatasetRecord | None) -> str:
    if d is None:
        return '<p class="muted">No dataset recorded.</p>'
    facts: list[tuple[str, Any]] = [("name", d.name), ("format", d.format), ("rows", d.n_rows),
                                    ("fingerprint", d.fingerprint), ("source", d.source or "–"),
                                    ("licence", d.licence or "–")]
    facts += [(k.replace("_", " "), v) for k, v in sorted(d.stats.items()) if isinstance(v, int | float | str)]
    taint = f'<p class="error">Marked: {esc(d.tainted)}</p>' if d.tainted else ""
    return definition_list(facts) + taint


def config_block(config: dict[str, Any]) -> str:
    import yaml

    text = yaml.safe_dump(config, sort_keys=False) if config else "(no configuration recorded)"
    return f"<pre>{esc(text)}</pre>"


def lineage_links(current: ModelRef, lineage: Lineage) -> str:
    def item(ref: ModelRef) -> str:
        return f"<li>{link(profile_url(ref.slug), ref.name)} <span class='muted'>by {esc(ref.owner)}</span></li>"

    hidden = '<li class="muted">(a private model)</li>' if lineage.hidden_ancestor else ""
    parents = hidden + "".join(item(a) for a in lineage.ancestors)
    children = "".join(item(c) for c in lineage.children)
    return ("<h2>Started from</h2>" + (f"<ol>{parents}</ol>" if parents else "<p>its base model</p>")
            + "<h2>Forks of this model</h2>"
            + (f"<ul>{children}</ul>" if children else '<p class="muted">none yet</p>'))


def flags_list(flags: Sequence[CapabilityFlagRecord]) -> str:
    if not flags:
        return '<p class="muted">No significant changes outside its own domain.</p>'
    return "<ul>" + "".join(
        f"<li>{esc(f.sentence)} <span class='muted'>(vs {esc(f.reference)}, q = {f.q_value:.3f})</span></li>"
        for f in flags) + "</ul>"


def feedback_block(fb: FeedbackSummary) -> str:
    comments = "".join(
        f"<li>{'thumbs up' if c.thumbs_up else 'thumbs down'} from <b>{esc(c.author or 'someone')}</b>: "
        f"{esc(c.text)}</li>"
        for c in fb.comments)
    return (f"<p>Thumbs up: {fb.up} · thumbs down: {fb.down}</p>"
            + (f"<ul>{comments}</ul>" if comments else '<p class="muted">No comments yet.</p>'))


def stamp_words(stamp: dict[str, Any]) -> str:
    if not stamp:
        return ""
    return " · ".join(f"{k.replace('_', ' ')} {json.dumps(v) if not isinstance(v, str) else v}"
                      for k, v in sorted(stamp.items()))


def leaderboard_table(board: Board) -> str:
    if board.task is None:
        return '<p class="muted">No model has been scored in this domain yet.</p>'
    if board.empty:
        return '<p class="muted">No public model is ranked under these settings.</p>'
    top = max((r.value for r in board.rows), default=1.0) or 1.0
    rows = []
    for r in board.rows:
        width = max(2, int(120 * r.value / top)) if top > 0 else 2
        method = "fork" if r.parent_model_id else "from base"
        rows.append(
            f'<tr><td class="num">{r.rank}</td><td>{link(profile_url(r.slug), r.name)}</td><td>{esc(r.owner)}</td>'
            f"<td>{esc(r.base_model_key)}</td><td>{esc(method)}</td>"
            f'<td class="num">{esc(fmt_score(r.value, r.stderr))}</td>'
            f'<td><span class="bar" style="width:{width}px"></span></td><td class="num">{r.n_samples}</td></tr>')
    warning = ""
    if board.no_signal:
        warning = ('<p class="error hk-no-signal"><b>No signal:</b> every model on this board is within two '
                   f"standard errors of what guessing scores ({board.chance:g}), so its order is noise.</p>")
    return (warning + '<table class="board"><tr><th>rank</th><th>model</th><th>owner</th><th>base</th><th>method</th>'
            f"<th>{esc(board.rows[0].metric)} ± stderr</th><th></th><th>samples</th></tr>"
            + "".join(rows) + "</table>"
            f'<p class="muted">{plural(board.total, "model")} ranked under these settings: '
            f"{esc(stamp_words(board.stamp))}</p>")
