"""A capability flag that arises from real training in the seeded platform, and where it is shown.

The seeded "Tiny coder" is LoRA-trained on code from the phi3 stand-in, whose
pretraining taught it a little Veldran (translation chrF about 10). Fine-tuning
on code makes it forget: its translation score falls far beyond its standard
error, and the detector flags the change outside its own domain. Nothing here
is planted: the example is trained and evaluated exactly as ``hubkit seed``
does it.
"""
from __future__ import annotations

from html import escape

import pytest

from hubkit.hub import AppSession
from hubkit.seed import EXAMPLES, seed
from hubkit.store import open_store
from hubkit.ui.pages import model_page, observatory_page
from tests.ui.helpers import html_of


@pytest.mark.slow
def test_seeded_coder_gets_a_translation_flag_shown_on_its_pages(standin_env, monkeypatch):
    monkeypatch.delenv("HUBKIT_ALLOW_CODE_EXECUTION", raising=False)
    coder = [e for e in EXAMPLES if e.key == "coder"]
    report = seed(examples=coder)
    assert report.trained == ["coder"]
    store = open_store()
    run = store.get_run(report.runs["coder"])
    assert run.training_outcome.value == "success"

    flags = store.list_capability_flags(run.id)
    translation = [f for f in flags if f.domain == "translation" and f.reference == "base"]
    assert translation, [f.sentence for f in flags]
    flag = translation[0]
    assert flag.delta < 0 and flag.z < -3 and flag.q_value <= 0.05
    assert flag.sentence.startswith("This code model's translation score fell ")
    assert "against its base model phi3-standin" in flag.sentence

    session = AppSession(store=store)
    shown = escape(flag.sentence)
    assert shown in html_of(model_page(session, run.slug))
    observatory = observatory_page(session)
    assert shown in html_of(observatory) and run.name in html_of(observatory)

    # Seeding again changes nothing: the flag stays as it was.
    again = seed(examples=coder)
    assert again.trained == [] and again.skipped == ["coder"]
    assert [f.sentence for f in store.list_capability_flags(run.id)] == [f.sentence for f in flags]
