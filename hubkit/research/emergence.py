"""Emergent Capability Detection: significant score changes outside a model's own domain.

For every evaluated model, each task score is compared with the base model's
and the parent's score on the same task under the same reproducibility stamp:

    z = (value - reference) / sqrt(stderr² + reference_stderr²),  p two-sided.

Each score of a model is one hypothesis ("it changed"), its p-value the
smaller of the base and parent p-values times the number of references
(Bonferroni). Benjamini–Hochberg runs over the domains of one model at
``ALPHA`` (off-target domains only: the intended own-domain gain is its own
family and cannot loosen the threshold), so with no real change the chance
that a model gets any flag is at most ``ALPHA``. Peers (other models fine-tuned
for the same domain) give the percentile of the score. A significant change
outside the model's own domain becomes a capability flag with a plain
sentence, stored through the Store.

Only platform-run scores count (the same rule as the leaderboards).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sqlalchemy import text

from hubkit.research._source import engine_for, is_postgres
from hubkit.store.base import Store
from hubkit.store.records import CapabilityFlagIn, CapabilityFlagRecord

ALPHA = 0.05
MIN_PEERS = 5  # fewer peers than this: the percentile is stored but not put into words
_EVAL_COLUMNS = ["model_id", "model_domain", "parent_model_id", "parent_slug", "base_model_id", "base_key",
                 "domain", "task", "stamp_hash", "value", "stderr"]


def _true(engine) -> str:  # type: ignore[no-untyped-def]
    return "true" if is_postgres(engine) else "1"


def load_scores(engine, *, model_domain: str | None = None,  # type: ignore[no-untyped-def]
                model_ids: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(model scores, base-model baselines): current, scored, platform-run, with a standard error."""
    usable = (f"e.is_current = {_true(engine)} AND e.status = 'scored' AND e.executed_by = 'platform' "
              "AND e.value IS NOT NULL AND e.stderr IS NOT NULL")
    where = [usable, "e.model_id IS NOT NULL"]
    params: dict[str, object] = {}
    if model_domain is not None or model_ids is not None:
        parts = []
        if model_domain is not None:
            parts.append("m.domain = :domain")
            params["domain"] = model_domain
        if model_ids:
            parts.append("m.id IN (" + ",".join(str(int(i)) for i in model_ids) + ")")
        where.append("(" + " OR ".join(parts) + ")")
    with engine.connect() as conn:
        evals = pd.read_sql(text(
            "SELECT e.model_id, m.domain AS model_domain, m.parent_model_id, p.slug AS parent_slug, "
            "m.base_model_id, b.key AS base_key, e.domain, e.task, e.stamp_hash, e.value, e.stderr "
            "FROM evaluations e JOIN models m ON m.id = e.model_id JOIN base_models b ON b.id = m.base_model_id "
            "LEFT JOIN models p ON p.id = m.parent_model_id WHERE " + " AND ".join(where)), conn, params=params)
        baselines = pd.read_sql(text(
            "SELECT e.base_model_id, e.task, e.stamp_hash, e.value, e.stderr FROM evaluations e "
            f"WHERE {usable} AND e.model_id IS NULL ORDER BY e.id"), conn)
    # Several current rows of one task (different stamps) are fine; duplicates within a stamp are not.
    evals = evals.drop_duplicates(["model_id", "domain", "task", "stamp_hash"], keep="last")
    baselines = baselines.drop_duplicates(["base_model_id", "task", "stamp_hash"], keep="last")
    return evals, baselines


def benjamini_hochberg(p: pd.Series, groups: pd.Series) -> pd.Series:
    """BH-adjusted p-values (q-values) within each group, vectorised."""
    frame = pd.DataFrame({"p": p.to_numpy(), "g": groups.to_numpy()}, index=p.index)
    frame = frame.sort_values(["g", "p"], kind="stable")
    rank = frame.groupby("g", sort=False).cumcount() + 1
    size = frame.groupby("g", sort=False)["p"].transform("size")
    raw = (frame["p"] * size / rank).to_numpy()
    # Step-up: running minimum from the largest p-value down, within each group.
    reversed_frame = pd.DataFrame({"q": raw[::-1], "g": frame["g"].to_numpy()[::-1]})
    q = reversed_frame.groupby("g", sort=False)["q"].cummin().to_numpy()[::-1]
    return pd.Series(np.minimum(q, 1.0), index=frame.index).reindex(p.index)


def _two_sided(z: np.ndarray) -> np.ndarray:
    return 2.0 * ndtr(-np.abs(z))


def compare(evals: pd.DataFrame, baselines: pd.DataFrame, *, alpha: float = ALPHA) -> pd.DataFrame:
    """Every test (model × task × reference) with z, p, q, peer percentile and whether it is a flag."""
    base = evals.merge(baselines.rename(columns={"value": "ref_value", "stderr": "ref_stderr"}),
                       on=["base_model_id", "task", "stamp_hash"])
    base["reference"] = "base"
    base["reference_name"] = base["base_key"]
    parents = evals[["model_id", "task", "stamp_hash", "value", "stderr"]].rename(columns={
        "model_id": "parent_model_id", "value": "ref_value", "stderr": "ref_stderr"})
    with_parent = evals[evals["parent_model_id"].notna()].astype({"parent_model_id": "int64"})
    parent = with_parent.merge(parents, on=["parent_model_id", "task", "stamp_hash"])
    parent["reference"] = "parent"
    parent["reference_name"] = parent["parent_slug"]
    tests = pd.concat([base, parent], ignore_index=True)
    if tests.empty:
        return tests.assign(delta=[], relative=[], z=[], p_value=[], q_value=[], peer_percentile=[], peers=[],
                            off_target=[], flag=[])
    tests["delta"] = tests["value"] - tests["ref_value"]
    spread = np.sqrt(tests["stderr"] ** 2 + tests["ref_stderr"] ** 2)
    z = (tests["delta"] / spread.where(spread > 0)).to_numpy(dtype=float)
    z = np.where(np.isnan(z), 0.0, z)  # identical zero-variance scores: no evidence of change
    tests["z"] = z
    tests["p_value"] = _two_sided(z)
    tests["off_target"] = tests["domain"].astype(str) != tests["model_domain"].astype(str)
    tests["q_value"], tests["flag"] = _domain_fdr(tests, alpha)
    tests["relative"] = (tests["delta"] / tests["ref_value"].where(tests["ref_value"] > 0)).astype(float)
    peers = peer_percentiles(evals)
    where = pd.MultiIndex.from_frame(tests[["model_id", "domain", "task", "stamp_hash"]])
    tests["peer_percentile"] = peers["percentile"].reindex(where).to_numpy()
    tests["peers"] = peers["peers"].reindex(where).to_numpy()
    return tests


def _domain_fdr(tests: pd.DataFrame, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One hypothesis per (model, domain, task): "this score changed".

    Its p-value combines the base and parent comparisons (Bonferroni: the
    smaller p times the number of references). Benjamini–Hochberg runs over a
    model's off-target scores; the intended own-domain scores form their own
    family, so they cannot loosen the threshold. A reference row becomes a flag
    when its domain is significant and its own Bonferroni p passes the same cut.
    """
    keys = ["model_id", "domain", "task", "stamp_hash"]
    grouped = tests.groupby(keys, sort=False)["p_value"]
    refs = grouped.transform("size")
    adjusted = np.minimum(1.0, tests["p_value"] * refs)
    combined = np.minimum(1.0, grouped.transform("min") * refs)
    first = ~tests.duplicated(keys)
    family = tests["model_id"].astype(str) + np.where(tests["off_target"], ":off", ":own")
    q_first = benjamini_hochberg(combined[first], family[first])
    q = q_first.reindex(tests.index)
    q = q.groupby([tests[k] for k in keys], sort=False).transform("first")
    significant = first & (q <= alpha)
    cut = combined[significant].groupby(tests.loc[significant, "model_id"]).max()
    cutoff = tests["model_id"].map(cut).fillna(-1.0)
    flag = tests["off_target"] & (q <= alpha) & (adjusted <= cutoff)
    return q.to_numpy(), flag.to_numpy()


def peer_percentiles(evals: pd.DataFrame) -> pd.DataFrame:
    """Per score: ``percentile`` (0–100) of other models fine-tuned for the same domain that scored
    lower on this task (ties count half), and how many ``peers`` there are."""
    keys = ["model_domain", "domain", "task", "stamp_hash"]
    ranks = evals.groupby(keys, sort=False)["value"].rank(method="average")
    size = evals.groupby(keys, sort=False)["value"].transform("size")
    pct = ((ranks - 1) / (size - 1)).where(size > 1) * 100
    index = pd.MultiIndex.from_frame(evals[["model_id", "domain", "task", "stamp_hash"]])
    return pd.DataFrame({"percentile": pct.to_numpy(), "peers": (size - 1).to_numpy()}, index=index)


def sentence(row: pd.Series) -> str:
    """"This math model's translation score rose 15% (+0.08, z = 3.1) against its base model …"."""
    verb = "rose" if row["delta"] > 0 else "fell"
    size = f"{abs(row['relative']):.0%} " if pd.notna(row["relative"]) else ""
    against = (f"its base model {row['reference_name']}" if row["reference"] == "base"
               else f"its parent {row['reference_name']}")
    text = (f"This {row['model_domain']} model's {row['domain']} score {verb} {size}"
            f"({row['delta']:+.2f}, z = {row['z']:.1f}) against {against}")
    if pd.notna(row["peer_percentile"]) and row["peers"] >= MIN_PEERS:
        text += (f"; it scores higher than {row['peer_percentile']:.0f}% of the {int(row['peers'])} other "
                 f"{row['model_domain']} models")
    return text + "."


def flags_for(tests: pd.DataFrame, model_id: int) -> list[CapabilityFlagIn]:
    rows = tests[(tests["model_id"] == model_id) & tests["flag"]].sort_values("q_value")
    return [CapabilityFlagIn(
        domain=str(r["domain"]), task=str(r["task"]), reference=r["reference"], delta=float(r["delta"]),
        relative=None if pd.isna(r["relative"]) else float(r["relative"]), z=float(r["z"]),
        p_value=float(r["p_value"]), q_value=float(r["q_value"]),
        peer_percentile=None if pd.isna(r["peer_percentile"]) else float(r["peer_percentile"]),
        sentence=sentence(r)) for _, r in rows.iterrows()]


def _model_row(engine, model_id: int) -> tuple[str, int | None]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        row = conn.exec_driver_sql(f"SELECT domain, parent_model_id FROM models WHERE id = {int(model_id)}").first()
    if row is None:
        from hubkit.errors import NotFound

        raise NotFound(f"There is no model {model_id!r}.")
    return str(row[0]), row[1]


def detect(store: Store, model_id: int, *, alpha: float = ALPHA) -> list[CapabilityFlagRecord]:
    """Recompute and store one model's capability flags (peers: models fine-tuned for its domain)."""
    engine = engine_for(store=store)
    domain, parent_id = _model_row(engine, model_id)
    ids = [int(model_id)] + ([int(parent_id)] if parent_id is not None else [])
    evals, baselines = load_scores(engine, model_domain=domain, model_ids=ids)
    tests = compare(evals, baselines, alpha=alpha)
    return store.replace_capability_flags(int(model_id), flags_for(tests, int(model_id)) if len(tests) else [])


def on_scores_recorded(store: Store, model_id: int) -> list[CapabilityFlagRecord]:
    """Call after recording a model's scores: refreshes its flags and its children's (their parent changed)."""
    engine = engine_for(store=store)
    with engine.connect() as conn:
        children = [int(r[0]) for r in conn.exec_driver_sql(
            f"SELECT id FROM models WHERE parent_model_id = {int(model_id)}")]
    flags = detect(store, model_id)
    for child in children:
        detect(store, child)
    return flags


@dataclass(frozen=True)
class DetectionReport:
    models_tested: int
    tests: int
    flags: int
    models_flagged: int
    models_written: int  # models whose stored flags changed (new, different, or cleared)


def _signature(flags: list[CapabilityFlagIn] | list[tuple]) -> frozenset:
    """What makes two sets of flags the same finding (rounded, so re-reading floats is stable)."""
    return frozenset((f.domain, f.task, f.reference, round(f.delta, 6), round(f.z, 3), f.sentence) for f in flags)


def _stored_flags(engine) -> dict[int, frozenset]:  # type: ignore[no-untyped-def]
    rows: dict[int, list] = {}
    with engine.connect() as conn:
        for r in conn.exec_driver_sql(
                "SELECT model_id, domain, task, reference, delta, z, sentence FROM capability_flags"):
            rows.setdefault(int(r[0]), []).append(CapabilityFlagIn(
                domain=r[1], task=r[2], reference=r[3], delta=r[4], z=r[5], p_value=0.0, q_value=0.0, sentence=r[6]))
    return {m: _signature(f) for m, f in rows.items()}


def detect_all(store: Store, *, alpha: float = ALPHA, progress=None) -> DetectionReport:  # type: ignore[no-untyped-def]
    """Recompute every model's flags in one pass; only models whose findings changed are written."""
    engine = engine_for(store=store)
    evals, baselines = load_scores(engine)
    tests = compare(evals, baselines, alpha=alpha)
    flagged = tests[tests["flag"]] if len(tests) else tests
    stored = _stored_flags(engine)
    now = set(flagged["model_id"].astype(int)) if len(flagged) else set()
    by_model = dict(tuple(flagged.groupby("model_id"))) if len(flagged) else {}
    new = {m: flags_for(rows, m) for m, rows in by_model.items()}
    targets = sorted(m for m in set(stored) | now if _signature(new.get(m, [])) != stored.get(m, frozenset()))
    for i, model_id in enumerate(targets):
        store.replace_capability_flags(model_id, new.get(model_id, []))
        if progress is not None:
            progress(i + 1, len(targets))
    return DetectionReport(models_tested=int(evals["model_id"].nunique()), tests=len(tests), flags=len(flagged),
                           models_flagged=len(now), models_written=len(targets))


def transfer_map(tests: pd.DataFrame) -> pd.DataFrame:
    """Source domain (fine-tuned for) × target domain (score in): mean change vs base, models, share flagged."""
    base = tests[tests["reference"] == "base"] if len(tests) else tests
    if base.empty:
        return pd.DataFrame(columns=["source_domain", "target_domain", "mean_delta", "models", "share_flagged"])
    table = base.groupby(["model_domain", "domain"], observed=True).agg(
        mean_delta=("delta", "mean"), models=("model_id", "nunique"), share_flagged=("flag", "mean"))
    table = table.reset_index().rename(columns={"model_domain": "source_domain", "domain": "target_domain"})
    return table.sort_values(["source_domain", "target_domain"]).reset_index(drop=True)


def transfer(*, url: str | None = None, store: Store | None = None, alpha: float = ALPHA) -> pd.DataFrame:
    """The transfer map over every evaluated model in the database."""
    evals, baselines = load_scores(engine_for(url=url, store=store))
    return transfer_map(compare(evals, baselines, alpha=alpha))

