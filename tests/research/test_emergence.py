"""Emergent capability detection: known truth in simulations, flags stored through the Store."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubkit.research import emergence
from tests.research.world import World, score

DOMAINS = ("math", "code", "general", "reasoning", "translation", "reading", "summarization", "dialogue")
N_SAMPLES = 1000


def simulate(rng: np.random.Generator, *, n_bases: int = 40, per_base: int = 25, planted_share: float = 0.0,
             shift: float = 0.08, cross_domain_forks: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[int, str]], dict]:
    """Scores as the harness reports them: binomial accuracy with its stderr, one stamp.

    Returns the scores, the baselines, the planted (model, domain) shifts and the
    true difference of every (model, domain, reference) — a fork inherits its
    parent's changes, so those are real changes against the base model.
    """
    def observe(p: float) -> tuple[float, float]:
        v = rng.binomial(N_SAMPLES, p) / N_SAMPLES
        return v, float(np.sqrt(max(v * (1 - v), 1e-6) / N_SAMPLES))

    rows, baselines, planted, true_delta = [], [], set(), {}
    truth: dict[int, dict[str, float]] = {}
    owns: dict[int, str] = {}
    model_id = 0
    for b in range(n_bases):
        base_true = {d: rng.uniform(0.3, 0.7) for d in DOMAINS}
        for d in DOMAINS:
            v, se = observe(base_true[d])
            baselines.append({"base_model_id": b, "task": d, "stamp_hash": "s", "value": v, "stderr": se})
        first_model = model_id + 1
        for _ in range(per_base):
            model_id += 1
            own = DOMAINS[rng.integers(len(DOMAINS))]
            parent = int(rng.integers(first_model, model_id)) if model_id > first_model and rng.random() < 0.3 else None
            if parent and not cross_domain_forks:
                own = owns[parent]
            owns[model_id] = own
            true = dict(truth[parent]) if parent else dict(base_true)
            true[own] = min(true[own] + 0.1, 0.95)  # the intended gain: never a flag
            if rng.random() < planted_share:
                target = [d for d in DOMAINS if d != own][rng.integers(len(DOMAINS) - 1)]
                true[target] = min(true[target] + shift, 0.95)
                planted.add((model_id, target))
            truth[model_id] = true
            for d in DOMAINS:
                true_delta[(model_id, d, "base")] = true[d] - base_true[d]
                if parent:
                    true_delta[(model_id, d, "parent")] = true[d] - truth[parent][d]
                v, se = observe(true[d])
                rows.append({"model_id": model_id, "model_domain": own, "parent_model_id": parent,
                             "parent_slug": f"m{parent}" if parent else None, "base_model_id": b,
                             "base_key": f"base{b}", "domain": d, "task": d, "stamp_hash": "s",
                             "value": v, "stderr": se})
    return pd.DataFrame(rows), pd.DataFrame(baselines), planted, true_delta


def false_flags(tests: pd.DataFrame, true_delta: dict) -> pd.DataFrame:
    flags = tests[tests["flag"]]
    keys = zip(flags["model_id"], flags["domain"], flags["reference"], strict=True)
    return flags[[true_delta[k] == 0 for k in keys]]


def test_planted_off_target_shifts_are_found():
    rng = np.random.default_rng(7)
    evals, baselines, planted, true_delta = simulate(rng, planted_share=0.3)
    tests = emergence.compare(evals, baselines)
    flagged = set(zip(tests.loc[tests["flag"], "model_id"], tests.loc[tests["flag"], "domain"], strict=True))
    recall = len(planted & flagged) / len(planted)
    print(f"recall of planted +0.08 shifts ({len(planted)} planted, n={N_SAMPLES}): {recall:.1%}")
    assert recall >= 0.80
    assert not tests.loc[tests["flag"], "off_target"].eq(False).any()  # own-domain gains are never flags
    # With real changes among a model's scores BH bounds the expected share of false flags per model, not the
    # chance of one; pooled over models both stay low.
    wrong = false_flags(tests, true_delta)
    assert len(wrong) / tests["flag"].sum() <= 0.15
    assert wrong["model_id"].nunique() / evals["model_id"].nunique() <= 2 * emergence.ALPHA


def test_null_simulations_keep_the_false_flag_rate_per_model_at_or_below_alpha():
    """No off-target change anywhere (forks continue their parent's domain).

    Benjamini–Hochberg over one model's independent tests flags a null model
    with probability at most alpha (exactly alpha for independent tests), so a
    finite simulation estimates a rate near 5% with Monte Carlo error: allow
    two standard errors of that estimate.
    """
    rng = np.random.default_rng(11)
    flagged_models = models = 0
    for _ in range(8):
        evals, baselines, planted, true_delta = simulate(rng, cross_domain_forks=False)
        own = dict(zip(evals["model_id"], evals["model_domain"], strict=True))
        assert not planted and not any(v for (m, d, _), v in true_delta.items() if d != own[m])
        tests = emergence.compare(evals, baselines)
        flagged_models += tests.loc[tests["flag"], "model_id"].nunique()
        models += evals["model_id"].nunique()
    rate = flagged_models / models
    error = (emergence.ALPHA * (1 - emergence.ALPHA) / models) ** 0.5
    print(f"false-flag rate per model under the null: {rate:.2%} of {models} models (alpha 5%, MC s.e. {error:.2%})")
    assert rate <= emergence.ALPHA + 2 * error


def test_benjamini_hochberg_matches_the_textbook_procedure():
    p = pd.Series([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    groups = pd.Series([1, 1, 1, 1, 2, 2])
    q = emergence.benjamini_hochberg(p, groups)
    # group 1: sorted 0.005, 0.01, 0.03, 0.04 → 0.02, 0.02, 0.04, 0.04 (step-up minimum)
    assert list(q.round(6)) == [0.02, 0.04, 0.04, 0.02, 0.5, 0.4]


def test_sentence_reads_like_the_finding():
    row = pd.Series({"delta": 0.08, "relative": 0.15, "z": 3.14, "model_domain": "math", "domain": "translation",
                     "reference": "base", "reference_name": "llama3-standin", "peer_percentile": 92.0, "peers": 40})
    assert emergence.sentence(row) == (
        "This math model's translation score rose 15% (+0.08, z = 3.1) against its base model llama3-standin; "
        "it scores higher than 92% of the 40 other math models.")


def test_detect_stores_flags_and_recomputes_when_scores_arrive(world: World):
    store = world.store
    flags = emergence.detect(store, world.ids["math-good"])
    assert [(f.domain, f.reference) for f in flags] == [("translation", "base")]
    assert "translation score rose" in flags[0].sentence
    child = world.ids["math-child"]
    # The child's code score jumps: detection after recording finds it against base and parent.
    score(store, model_id=child, domain="code", value=0.60)
    emergence.on_scores_recorded(store, child)
    refs = {(f.domain, f.reference) for f in store.list_capability_flags(child)}
    assert {("code", "base"), ("code", "parent")} <= refs
    # The parent is re-scored: its children are refreshed too.
    score(store, model_id=world.ids["math-good"], domain="code", value=0.60)
    emergence.on_scores_recorded(store, world.ids["math-good"])
    assert ("code", "parent") not in {(f.domain, f.reference) for f in store.list_capability_flags(child)}


def test_detect_all_writes_only_what_changed_and_clears_stale_flags(world: World):
    store = world.store
    report = emergence.detect_all(store)
    assert report.models_flagged == 2 and report.flags == 2 and report.models_written == 2
    assert emergence.detect_all(store).models_written == 0  # nothing changed, nothing rewritten
    score(store, model_id=world.ids["math-good"], domain="translation", value=0.41)
    report = emergence.detect_all(store)
    assert report.models_written == 1 and report.models_flagged == 1
    assert store.list_capability_flags(world.ids["math-good"]) == []
    assert len(store.list_capability_flags(world.ids["math-child"])) == 1


def test_transfer_map_aggregates_source_to_target(world: World):
    table = emergence.transfer(store=world.store).set_index(["source_domain", "target_domain"])
    row = table.loc[("math", "translation")]
    assert row["models"] == 2 and row["share_flagged"] == pytest.approx(1.0)
    assert row["mean_delta"] == pytest.approx(0.155)
