"""Leaderboards: one board per suite, domain and task; only scores under one stamp are ranked together."""
from __future__ import annotations

import ipywidgets as W

from hubkit.hub import (
    METHODS,
    NO_STANDARD_SCORES,
    SUITE_WORDS,
    AppSession,
    BoardQuery,
    board_suites,
    board_tasks,
    leaderboard,
)
from hubkit.ui.cards import leaderboard_table, stamp_words
from hubkit.ui.choices import ANY, chosen, domain_options, family_options
from hubkit.ui.html import esc, page, plural
from hubkit.ui.widgets import Pager, html

ORDERS = [("Best first", "best"), ("Worst first", "worst")]
PAGE_SIZE = 25


class LeaderboardsPage(W.VBox):
    def __init__(self, session: AppSession, *, domain: str | None = None, suite: str | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        self.session, self.page_size = session, page_size
        suites = board_suites(store=session.store)
        self.suite = W.Dropdown(options=[(SUITE_WORDS[s], s) for s in suites],
                                value=suite if suite in suites else suites[0], description="Suite",
                                layout=W.Layout(width="560px"))
        self.suite_note = html("" if "standard" in suites else f"<p class='muted'>{esc(NO_STANDARD_SCORES)}</p>")
        domains = domain_options()
        self.domain = W.Dropdown(options=domains, value=domain if domain in {d for _, d in domains} else domains[0][1],
                                 description="Domain")
        self.task = W.Dropdown(description="Task")
        self.stamp = W.Dropdown(description="Settings", layout=W.Layout(width="420px"))
        self.family = W.Dropdown(options=family_options(session.store), description="Base")
        self.method = W.Dropdown(options=[(label, key) for key, label in METHODS.items()], description="Method")
        self.order = W.ToggleButtons(options=ORDERS, value="best")
        self.table = W.HTML()
        self.about = W.HTML()
        self.pager = Pager(self.show)
        self._quiet = False
        for control in (self.suite, self.domain):
            control.observe(lambda _: self.reset(tasks=True), names="value")
        self.task.observe(lambda _: self.reset(stamps=True), names="value")
        for control in (self.family, self.method):
            control.observe(lambda _: self.reset(stamps=True), names="value")
        for control in (self.stamp, self.order):
            control.observe(lambda _: self.reset(), names="value")
        super().__init__([
            html("<h1>Leaderboards</h1><p class='muted'>Public models scored by the platform. The offline "
                 "micro-world suite runs everywhere; the standard suite scores the published benchmarks where "
                 "their data is on the machine. The two are never ranked together, and scores are ranked "
                 "together only when they were produced under the same settings (harness and task version, "
                 "shots, sample limit, device and precision); pick other settings to see their own board.</p>"),
            W.HBox([self.suite]), self.suite_note, W.HBox([self.domain, self.task]), W.HBox([self.stamp]),
            W.HBox([self.family, self.method]),
            self.order, self.about, self.table, self.pager,
        ])
        self.add_class("hk-leaderboards")
        self.reset(tasks=True)

    def reset(self, *, tasks: bool = False, stamps: bool = False) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            if tasks:
                names = board_tasks(store=self.session.store, domain=self.domain.value, suite=self.suite.value)
                self.task.options = [("Most used", ANY)] + [(t, t) for t in names]
                self.task.value = ANY
            if tasks or stamps:
                self.stamp.options = [("Most used", ANY)]
                self.stamp.value = ANY
        finally:
            self._quiet = False
        self.show(0)

    def show(self, page_number: int) -> None:
        board = leaderboard(store=self.session.store, query=BoardQuery(
            domain=self.domain.value, suite=self.suite.value, task=chosen(self.task.value), stamp_hash=chosen(self.stamp.value),
            base_family=chosen(self.family.value), method=self.method.value, order=self.order.value,
            page=page_number, page_size=self.page_size))
        self._quiet = True
        try:
            choices = [("Most used", ANY)] + [
                (f"{s.stamp_hash[:10]} ({plural(s.models, 'model')})", s.stamp_hash) for s in board.stamps]
            if list(self.stamp.options) != choices:
                self.stamp.options = choices
                self.stamp.value = board.query.stamp_hash or ANY
        finally:
            self._quiet = False
        task = esc(board.task) if board.task else "–"
        self.about.value = page(f"<p>Task <b>{task}</b>" + (f" · settings: {esc(stamp_words(board.stamp))}"
                                                            if board.stamp else "") + "</p>")
        self.table.value = page(leaderboard_table(board))
        pages = -(-board.total // self.page_size) if board.query.method == "any" else None
        self.pager.update(page=page_number, has_previous=board.has_previous, has_next=board.has_next, pages=pages)


def leaderboards_page(session: AppSession, *, domain: str | None = None, suite: str | None = None) -> LeaderboardsPage:
    return LeaderboardsPage(session, domain=domain, suite=suite)
