from hubkit.hub import BrowseQuery, browse
from hubkit.store import ANONYMOUS
from tests.hub.world import XSS_NAME


def names(page):
    return [m.name for m in page.items]


def test_visitor_sees_public_models_newest_first(hub_store, world):
    page = browse(store=hub_store, viewer=ANONYMOUS)
    assert names(page) == [XSS_NAME, "Too hot", "Math whiz plus", "Math whiz"]
    assert not page.has_next and not page.has_previous
    assert "Bob's secret" in names(browse(store=hub_store, viewer="bob"))


def test_filters(hub_store, world):
    def q(**kw):
        return names(browse(store=hub_store, viewer=ANONYMOUS, query=BrowseQuery(**kw)))

    assert q(base_family="llama3") == ["Math whiz plus", "Math whiz"]
    assert q(base_family="qwen2", outcome="failure") == ["Too hot"]
    assert q(search="whiz", sort="oldest") == ["Math whiz", "Math whiz plus"]
    assert q(domain="code") == []
    assert q(search="%") == []  # a wildcard is searched for literally


def test_sort_by_score_and_paging(hub_store, world):
    first = browse(store=hub_store, viewer=ANONYMOUS, query=BrowseQuery(sort="score", page_size=2))
    # headline = the model's own domain's score: 0.99 (xss, 5-shot), 0.40, 0.32; the failed run has none
    assert names(first) == [XSS_NAME, "Math whiz plus"] and first.has_next
    assert first.items[1].score is not None and first.items[1].score.value == 0.40
    second = browse(store=hub_store, viewer=ANONYMOUS, query=BrowseQuery(sort="score", page_size=2, page=1))
    assert names(second) == ["Math whiz", "Too hot"] and not second.has_next and second.has_previous
    newest = browse(store=hub_store, viewer=ANONYMOUS, query=BrowseQuery(page_size=3, page=1))
    assert names(newest) == ["Math whiz"] and not newest.has_next
