"""Every string a person typed reaches HTML widgets as text, never as markup."""
import html

import pytest

from hubkit.hub import AppSession, BoardQuery, browse, leaderboard, model_profile
from hubkit.store import ANONYMOUS
from hubkit.ui import cards, figures
from hubkit.ui.html import esc, link
from hubkit.ui.pages import hub_page, leaderboards_page, model_page
from tests.hub.world import XSS_NAME
from tests.ui.helpers import html_of, outputs_of

ESCAPED = html.escape(XSS_NAME)


def test_esc_turns_markup_into_text():
    assert esc(XSS_NAME) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc('" onmouseover="x') == "&quot; onmouseover=&quot;x"
    assert link('x" onclick="y', XSS_NAME) == '<a href="x&quot; onclick=&quot;y">' + ESCAPED + "</a>"


def test_fragments_escape(hub_store, world):
    items = browse(store=hub_store, viewer=ANONYMOUS).items
    markup = cards.model_cards(items)
    assert XSS_NAME not in markup and ESCAPED in markup
    p = model_profile(store=hub_store, model=world.math_model.slug, viewer=ANONYMOUS)
    for fragment in (cards.feedback_block(p.feedback), cards.dataset_card(p.dataset)):
        assert XSS_NAME not in fragment and "<b>v1</b>" not in fragment
    assert ESCAPED in cards.feedback_block(p.feedback)
    assert "&lt;b&gt;v1&lt;/b&gt;" in cards.dataset_card(p.dataset)
    board = leaderboard(store=hub_store, query=BoardQuery(domain="math"))
    assert XSS_NAME not in cards.leaderboard_table(board) and ESCAPED in cards.leaderboard_table(board)


def test_figures_escape_names(hub_store, world):
    p = model_profile(store=hub_store, model=world.xss.slug, viewer=ANONYMOUS)
    from hubkit.hub.profile import ModelRef

    fig = figures.lineage_figure(ModelRef.of(p.run), p.lineage)
    assert fig.data[1].text == (ESCAPED,)
    bars = figures.score_bars_figure(p.scores, model_name=p.run.name)
    assert bars.data[0].name == ESCAPED


@pytest.mark.parametrize("build", ["hub", "model", "leaderboards"])
def test_pages_never_carry_raw_markup(hub_store, world, build):
    session = AppSession(store=hub_store, user=None)
    widget = {"hub": lambda: hub_page(session), "model": lambda: model_page(session, world.xss.slug),
              "leaderboards": lambda: leaderboards_page(session, domain="math")}[build]()
    shown = html_of(widget)
    assert ESCAPED in shown and XSS_NAME not in shown
    assert XSS_NAME not in str(outputs_of(widget))
