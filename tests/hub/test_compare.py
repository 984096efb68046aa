from hubkit.hub.compare import Paired, Verdict, compare_domain, summarise


def pair(domain: str, value: float, ref: float | None, se: float = 0.02) -> Paired:
    return Paired(domain=domain, task=f"t_{domain}", value=value, stderr=se, ref_value=ref, ref_stderr=se)


def test_issue_sentence():
    summary = summarise([pair("math", 0.32, 0.20), pair("code", 0.31, 0.30), pair("reading", 0.61, 0.60),
                         pair("translation", 0.47, 0.50, se=0.01)])
    assert summary.sentence == ("Better than its base model at math (+12 points); about the same elsewhere; "
                                "translation slightly worse (\u22123 points).")
    assert summary.verdict("code") is Verdict.same
    assert summary.verdict("translation") is Verdict.slightly_worse


def test_same_is_decided_by_stderr():
    # the same 4-point gain is noise with wide error bars and real with narrow ones
    assert compare_domain("math", [pair("math", 0.54, 0.50, se=0.03)]).verdict is Verdict.same
    assert compare_domain("math", [pair("math", 0.54, 0.50, se=0.005)]).verdict is Verdict.slightly_better
    assert compare_domain("math", [pair("math", 0.70, 0.50, se=0.005)]).verdict is Verdict.better


def test_missing_reference_and_all_same():
    assert compare_domain("math", [pair("math", 0.5, None)]).verdict is Verdict.unknown
    assert summarise([pair("math", 0.5, None)]).sentence.startswith("There are no scores of its base model")
    assert summarise([pair("math", 0.5, 0.5), pair("code", 0.3, 0.31)]).sentence == (
        "About the same as its base model in every domain.")
    parent = summarise([pair("math", 0.40, 0.32)], reference="its parent")
    assert parent.sentence == "Better than its parent at math (+8 points)."


def test_zero_stderr_and_large_scale_metrics():
    exact = Paired("math", "t", 0.5, None, 0.5, None)
    assert compare_domain("math", [exact]).verdict is Verdict.same
    bleu = compare_domain("translation", [Paired("translation", "bleu", 30.0, 1.0, 20.0, 1.0)])
    assert bleu.verdict is Verdict.better and round(bleu.points or 0) == 10
    # chrF is on a 0-100 scale even when a weak model scores below 1
    low = compare_domain("translation", [Paired("translation", "t", 0.9, 0.01, 0.5, 0.01, metric="chrf")])
    assert low.verdict is Verdict.slightly_better and round(low.points or 0, 1) == 0.4
