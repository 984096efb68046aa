"""The config advisor, fitted on the committed sweep: it judges, explains, recommends, or says it won't."""
from __future__ import annotations

import pandas as pd
import pytest

from hubkit.research import advisor
from hubkit.research.advisor.model import HIGH_RISK, failure_label

SETTING = {"base_model": "llama3-standin", "domain": "math", "dataset": {"example": "math", "example_rows": 64},
           "lora_r": 8, "lora_alpha": 16, "max_steps": 16, "batch_size": 4, "max_seq_len": 128}


@pytest.fixture(scope="module")
def fitted() -> advisor.Advisor:
    return advisor.fitted()


def test_the_committed_sweep_holds_out_whole_datasets():
    sweep = advisor.load_sweep()
    assert len(sweep) >= 30 and sweep["key"].is_unique
    held, kept = sweep[sweep["held_out"]], sweep[~sweep["held_out"]]
    assert len(held) and len(kept)
    assert not set(held["dataset_group"]) & set(kept["dataset_group"])
    assert not set(held["dataset_fingerprint"]) & set(kept["dataset_fingerprint"])


def test_a_learning_rate_of_50_is_flagged_and_5e_4_is_not(fitted):
    hot = advisor.advise({**SETTING, "learning_rate": 50.0}, advisor=fitted)
    mild = advisor.advise({**SETTING, "learning_rate": 5e-4}, advisor=fitted)
    assert not hot.abstained and not mild.abstained
    assert hot.high_risk and hot.failure_risk >= HIGH_RISK and hot.failure_class == "divergence"
    assert not mild.high_risk and mild.failure_risk < hot.failure_risk
    assert "learning rate" in " ".join(d.label for d in hot.drivers)  # it says what moved it
    assert hot.similar and all(s.slug.startswith("sweep-") for s in hot.similar)  # and shows its evidence
    assert set(hot.other_domains) == set(fitted.domains) - {"math"}
    assert hot.duration_s and hot.gain_low <= hot.gain <= hot.gain_high


def test_it_refuses_in_plain_words_what_it_cannot_judge(fitted):
    unknown_goal = advisor.advise({**SETTING, "domain": "poetry", "learning_rate": 2e-4}, advisor=fitted)
    assert unknown_goal.abstained and unknown_goal.failure_risk is None
    assert unknown_goal.sentence.startswith("I can't judge this setting") and "poetry" in unknown_goal.sentence
    far = advisor.advise({**SETTING, "lora_r": 512, "lora_alpha": 4096, "max_steps": 100_000, "max_seq_len": 8192,
                          "batch_size": 256, "learning_rate": 2e-4,
                          "dataset": {"example": "math", "example_rows": 20_000}}, advisor=fitted)
    assert far.abstained and far.failure_risk is None and far.gain is None
    assert far.sentence.startswith("I won't guess: only") and "close to this setting" in far.sentence
    assert far.similar  # it still says which runs are nearest


def test_a_recommendation_stays_under_the_risk_it_was_given(fitted):
    rec = advisor.recommend({**SETTING, "learning_rate": 50.0}, advisor=fitted, max_risk=0.5)
    assert rec.found, rec.sentence
    assert rec.advice.failure_risk < 0.5 and rec.settings["learning_rate"] < 50
    assert rec.safe >= 1 and rec.candidates > rec.safe


def test_a_run_that_only_got_worse_counts_as_diverged():
    assert failure_label("success", "", 5.0, 7.0) == "divergence"
    assert failure_label("success", "", 5.0, 4.0) == "ok"
    assert failure_label("failure", "divergence") == "divergence"
    assert failure_label("partial", "time_budget") == "time_budget"
    assert failure_label("failure", "lost") is None  # killed: says nothing about the setting
    assert failure_label("failure", "exception:ValueError") == "other"


def test_fitting_needs_runs_and_says_so():
    from hubkit.errors import ValidationError

    with pytest.raises(ValidationError, match="at least 10 finished runs"):
        advisor.Advisor().fit(advisor.load_sweep().head(3))
    assert isinstance(advisor.load_sweep(), pd.DataFrame)
