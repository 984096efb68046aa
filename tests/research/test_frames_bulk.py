"""Run frames read in bulk: awkward text, exact numbers, several id ranges, an empty database."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from hubkit import research
from hubkit.db import get_engine, upgrade
from hubkit.research import _bulk
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal
from tests.research.world import score

AWKWARD = ["it's \"quoted\", with commas", "NULL", "back\\slash", "emoji 🚀 <script>x</script>", "",
           "tab\there"]


@pytest.fixture
def awkward(db_url: str) -> LocalStore:
    store = LocalStore(db_url)
    seed_minimal(store)
    for i, text in enumerate(AWKWARD):
        config = {"note": text, "nested": {"lines": "one\ntwo", "quote": "'\"\\"}, "lr": 1e-4 * (i + 1) / 3,
                  "modules": ["q_proj", "v_proj"][: 1 + i % 2]}
        run = store.create_run(owner="alice", name=f"run {i} {text.replace(chr(9), ' ')}", domain="math",
                               base_model="llama3-standin",
                               config=config, description=text, visibility=("public", "private")[i % 2])
        store.finish_run(run.id, outcome="failure", failure_class="exception",
                         failure_message=f"Traceback:\n  line {i}\n{text}")
        score(store, model_id=run.id, domain="math", value=(i + 1) / 7)
    return store


def test_text_and_numbers_come_back_exactly(awkward: LocalStore, db_url: str):
    frame = research.runs(store=awkward).set_index("model_id")
    with get_engine(db_url).connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT m.id, m.name, m.failure_message, m.duration_s, e.value FROM models m "
            "JOIN evaluations e ON e.model_id = m.id")).all()
    assert len(stored) == len(AWKWARD)
    for model_id, name, message, duration, value in stored:
        row = frame.loc[model_id]
        assert row["name"] == name and row["failure_message"] == message
        assert row["duration_s"] == duration  # bit for bit, not rounded to 15 digits
        assert row["score.math.mw_math"] == value
    assert sorted(frame["config.note"]) == sorted(AWKWARD)
    assert set(frame["config.nested.lines"]) == {"one\ntwo"}
    assert set(frame["config.nested.quote"]) == {"'\"\\"}
    assert set(frame["config.modules"]) == {"q_proj", "q_proj,v_proj"}
    assert frame["config.lr"].tolist() == [1e-4 * (i + 1) / 3 for i in range(len(AWKWARD))]


def test_many_id_ranges_read_the_same_frame(awkward: LocalStore, monkeypatch: pytest.MonkeyPatch):
    whole = research.runs(store=awkward)
    monkeypatch.setattr(_bulk, "CHUNK_ROWS", 2)  # 6 runs, 6 evaluations: three ranges each
    pd.testing.assert_frame_equal(research.runs(store=awkward), whole)
    public = research.runs(store=awkward, include_private=False)
    assert public["model_id"].tolist() == whole["model_id"].iloc[::2].tolist()
    assert public["name"].tolist() == whole["name"].iloc[::2].tolist()


def test_the_newest_score_of_a_task_wins(awkward: LocalStore):
    first = int(research.runs(store=awkward)["model_id"].min())
    score(awkward, model_id=first, domain="math", value=0.123)
    score(awkward, model_id=first, domain="code", value=0.456)
    frame = research.runs(store=awkward).set_index("model_id")
    assert frame.loc[first, "score.math.mw_math"] == 0.123
    assert frame.loc[first, "score.code.mw_code"] == 0.456
    assert frame["score.code.mw_code"].isna().sum() == len(AWKWARD) - 1
    assert list(frame.columns[-2:]) == ["score.code.mw_code", "score.math.mw_math"]


def test_an_empty_database_gives_an_empty_frame(db_url: str):
    upgrade(db_url)
    frame = research.runs(url=db_url)
    assert len(frame) == 0
    assert {"model_id", "name", "created_at", "thumbs_up", "n_capability_flags"} <= set(frame.columns)


def test_rendered_rows_equal_cursor_rows(awkward: LocalStore, db_url: str, monkeypatch: pytest.MonkeyPatch):
    from hubkit.research.frames import _RUN_FIELDS, _RUN_JOINS

    monkeypatch.setattr(_bulk, "CHUNK_ROWS", 4)
    engine = get_engine(db_url)
    rendered = _bulk.fetch_table(engine, _RUN_FIELDS, table="models", alias="m", joins=_RUN_JOINS)
    fetched = _bulk.fetch_table(engine, _RUN_FIELDS, table="models", alias="m", joins=_RUN_JOINS, cursor=True)
    assert rendered.num_rows == len(AWKWARD)
    assert rendered.equals(fetched)
