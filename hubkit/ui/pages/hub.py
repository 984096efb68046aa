"""The public hub: search, filter and sort models; each card links to its profile."""
from __future__ import annotations

import ipywidgets as W

from hubkit.hub import SORTS, AppSession, BrowseQuery, browse
from hubkit.ui.cards import model_cards
from hubkit.ui.choices import ANY, chosen, domain_options, family_options
from hubkit.ui.html import page, plural
from hubkit.ui.widgets import Pager, html

OUTCOMES = {"Any outcome": ANY, "Trained": "success", "Failed": "failure", "Stopped early": "partial"}
PAGE_SIZE = 24


class HubPage(W.VBox):
    def __init__(self, session: AppSession) -> None:
        self.session = session
        self.search = W.Text(placeholder="Search by name", description="Search")
        self.domain = W.Dropdown(options=domain_options(any_label="Any goal"), description="Goal")
        self.family = W.Dropdown(options=family_options(session.store), description="Base")
        self.outcome = W.Dropdown(options=list(OUTCOMES.items()), description="Outcome")
        self.sort = W.Dropdown(options=[(label, key) for key, label in SORTS.items()], description="Sort")
        self.results = W.HTML()
        self.count = W.Label()
        self.pager = Pager(self.show)
        for control in (self.domain, self.family, self.outcome, self.sort):
            control.observe(lambda _: self.show(0), names="value")
        self.search.observe(lambda _: self.show(0), names="value")
        super().__init__([
            html("<h1>Model hub</h1><p class='muted'>Every public model, with how it was trained and how it "
                 "scores.</p>" + seeding_banner()),
            W.HBox([self.search, self.domain]), W.HBox([self.family, self.outcome, self.sort]),
            self.count, self.results, self.pager,
        ])
        self.add_class("hk-hub")
        self.show(0)

    def query(self, page_number: int) -> BrowseQuery:
        return BrowseQuery(search=self.search.value.strip(), domain=chosen(self.domain.value),
                           base_family=chosen(self.family.value), outcome=chosen(self.outcome.value), sort=self.sort.value, page=page_number, page_size=PAGE_SIZE)

    def show(self, page_number: int) -> None:
        result = browse(store=self.session.store, viewer=self.session.viewer, query=self.query(page_number))
        self.results.value = page(model_cards(result.items))
        self.count.value = plural(result.total, "model")
        self.pager.update(page=page_number, has_previous=result.has_previous, has_next=result.has_next,
                          pages=result.pages)


def seeding_banner() -> str:
    """While the demo seeds its example models: how far it has got (they appear as they finish)."""
    from hubkit.seed import seeding_status

    status = seeding_status()
    if status is None:
        return ""
    return (f"<p class='hk-seeding'><b>Example models: seeding {status.done + 1} of {status.total}.</b> "
            "Each appears here once it is trained and scored; reload to see the new ones.</p>")


def hub_page(session: AppSession) -> HubPage:
    return HubPage(session)
