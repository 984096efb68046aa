"""The advisor's models: fitted on the run table, asked about a spec before it is launched.

- Failure: a gradient-boosted classifier of "fails or not" (divergence, out of
  memory, time budget, other errors), its probabilities calibrated by
  cross-validation; the likely class comes from a second classifier fitted on
  the failures alone.
- Gain: gradient-boosted quantile regressors (10th, 50th, 90th percentile) of
  the change over the base model, fitted on one row per (run, scored domain),
  so the same models answer "in the goal's domain" and "in every other one".
- Duration: a gradient-boosted regressor of log seconds.
- Similar runs: nearest neighbours on standardised features. When fewer than
  ``min_similar`` past runs are as close as the database's runs usually are to
  each other, or the base family or goal was never seen, the advisor abstains
  and says why.

Every model is scikit-learn's; nothing here is a hand-written learner.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.neighbors import NearestNeighbors

from hubkit.errors import ValidationError
from hubkit.research.advisor import features as F

FAILURE_CLASSES = ("divergence", "oom", "time_budget", "other")
NOT_CONFIG = frozenset({"lost", "cancelled"})
"""Classes that say nothing about the configuration (the process was killed or stopped by a person)."""
QUANTILES = (0.1, 0.5, 0.9)
MAX_GAIN_ROWS = 120_000
"""The gain models learn from at most this many (run, domain) rows, drawn evenly (refits stay quick)."""
RADIUS_SAMPLE = 2_000
HIGH_RISK = 0.5
"""A setting at least this likely to fail is flagged as high-risk."""
DOMAIN_FEATURE = "eval_domain"


SILENT_DIVERGENCE = 1.25
"""A run whose last training loss is this many times its first counts as diverged, whatever the record says."""


def failure_label(outcome: str, failure_class: str, first_loss: float | None = None,
                  final_loss: float | None = None) -> str | None:
    """``ok``, a failure class of :data:`FAILURE_CLASSES`, or None for attempts that say nothing.

    The trainer's guard stops a run whose loss stays five times above its best;
    a hot run that only wrecks the model (its loss ends well above where it
    began) is recorded as a success. For the advisor it diverged: it got worse
    at its own data.
    """
    failure_class = failure_class or ""
    if failure_class in NOT_CONFIG:
        return None
    if outcome in ("success", "partial") and failure_class != "time_budget":
        worse = (first_loss is not None and final_loss is not None and np.isfinite(first_loss)
                 and np.isfinite(final_loss) and first_loss > 0 and final_loss >= SILENT_DIVERGENCE * first_loss)
        return "divergence" if worse else "ok"
    if failure_class in ("divergence", "oom", "time_budget"):
        return failure_class
    return "other"


@dataclass(frozen=True)
class SimilarRun:
    model_id: int
    slug: str
    distance: float
    outcome: str
    failure_class: str
    gain: float | None
    """Change in the goal's domain over the base model (points), when scored."""


@dataclass(frozen=True)
class Driver:
    feature: str
    label: str
    value: float | str
    typical: float | str
    risk_change: float
    """Percentage points of failure risk this feature's value adds (against the typical value)."""
    gain_change: float
    sentence: str


@dataclass(frozen=True)
class Advice:
    """What the run database says about one spec; ``abstained`` means it would not say."""

    abstained: bool
    sentence: str
    base_model: str
    domain: str
    failure_risk: float | None = None
    failure_class: str | None = None
    failure_classes: dict[str, float] = field(default_factory=dict)
    gain: float | None = None
    gain_low: float | None = None
    gain_high: float | None = None
    other_domains: dict[str, float] = field(default_factory=dict)
    duration_s: float | None = None
    similar: list[SimilarRun] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    n_runs: int = 0
    n_similar: int = 0
    model_version: str = ""

    @property
    def high_risk(self) -> bool:
        return self.failure_risk is not None and self.failure_risk >= HIGH_RISK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hgb_classifier(n: int, categorical: list[bool], seed: int, monotonic: bool = False) -> HistGradientBoostingClassifier:
    """``monotonic``: the risk may only grow with the learning rate (what every optimiser's theory says),
    which keeps a small database from learning that a hotter run is safer."""
    cst = ([1 if c == "log10_lr" else 0 for c in F.NUMERIC] + [0] * (len(categorical) - len(F.NUMERIC))
           if monotonic else None)
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=15,
                                          min_samples_leaf=max(3, min(40, n // 40)),
                                          categorical_features=categorical, l2_regularization=0.5,
                                          monotonic_cst=cst, random_state=seed)


def _hgb_regressor(n: int, categorical: list[bool], seed: int, **kw: Any) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(max_iter=150, learning_rate=0.08, max_leaf_nodes=15,
                                         min_samples_leaf=max(3, min(40, n // 40)),
                                         categorical_features=categorical, random_state=seed, **kw)


class Advisor:
    """Fitted on a run table (``advisor.table.run_table`` or the committed sweep)."""

    def __init__(self, *, min_similar: int = 3, seed: int = 0) -> None:
        self.min_similar = min_similar
        self.seed = seed

    # --- fitting -----------------------------------------------------------------
    def fit(self, table: pd.DataFrame) -> Advisor:
        first = table["first_loss"] if "first_loss" in table else pd.Series(np.nan, index=table.index)
        final = table["final_loss"] if "final_loss" in table else pd.Series(np.nan, index=table.index)
        labels = [failure_label(o, c, a, b) for o, c, a, b in zip(table["outcome"], table["failure_class"].fillna(""),
                                                                 first.astype(float), final.astype(float))]
        keep = np.array([lab is not None for lab in labels])
        if keep.sum() < 10:
            raise ValidationError(f"The advisor needs at least 10 finished runs to learn from; there are {keep.sum()}.",
                                  field="runs")
        self.table = table[keep].reset_index(drop=True)
        self.labels = np.array([lab for lab in labels if lab is not None])
        frame = F.table_features(self.table)
        self.categories = {c: sorted(frame[c].unique().tolist()) for c in F.CATEGORICAL}
        self.domains = sorted({c.removeprefix("gain.") for c in self.table.columns if c.startswith("gain.")})
        self.features = frame
        X = F.encode(frame, self.categories)
        cat_mask = [False] * len(F.NUMERIC) + [True] * len(F.CATEGORICAL)
        n = len(X)
        failed = self.labels != "ok"
        self._fit_failure(X, failed, cat_mask, n)
        self._fit_gain(frame, cat_mask)
        durations = self.table["duration_s"].to_numpy(dtype=float)
        ok = np.isfinite(durations) & (durations > 0)
        self.duration_model = _hgb_regressor(n, cat_mask, self.seed).fit(X[ok], np.log(durations[ok]))
        self._fit_neighbours(frame)
        digest = hashlib.sha256(pd.util.hash_pandas_object(self.table[["model_id", "outcome"]], index=False)
                                .to_numpy().tobytes()).hexdigest()
        self.version = digest[:12]
        return self

    def _fit_failure(self, X: np.ndarray, failed: np.ndarray, cat_mask: list[bool], n: int) -> None:
        self.base_rate = float(failed.mean())
        minority = int(min(failed.sum(), (~failed).sum()))
        if minority == 0:
            self.failure_model = None
        elif minority >= 6:
            folds = min(5 if n < 20_000 else 3, minority // 2)
            method = "isotonic" if n >= 1000 else "sigmoid"
            self.failure_model = CalibratedClassifierCV(_hgb_classifier(n, cat_mask, self.seed, True), method=method,
                                                        cv=folds).fit(X, failed)
        else:
            self.failure_model = _hgb_classifier(n, cat_mask, self.seed, True).fit(X, failed)
        kinds = self.labels[failed]
        self.class_shares = {k: float((kinds == k).mean()) for k in FAILURE_CLASSES if (kinds == k).any()}
        if len(self.class_shares) > 1:
            self.class_model = _hgb_classifier(int(failed.sum()), cat_mask, self.seed).fit(X[failed], kinds)
        else:
            self.class_model = None

    def _long(self, frame: pd.DataFrame, domains: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
        """One row per (run, evaluated domain): the run's features, the domain, and whether it is the goal."""
        parts = []
        for d in domains:
            part = frame.copy()
            part[DOMAIN_FEATURE] = d
            part["in_domain"] = (frame["domain"] == d).astype(float)
            parts.append(part)
        long = pd.concat(parts, ignore_index=True)
        cats = pd.Categorical(long[DOMAIN_FEATURE], categories=self.domains).codes.astype(float)
        X = np.hstack([F.encode(long, self.categories), cats[:, None], long[["in_domain"]].to_numpy(float)])
        return long, X

    def _fit_gain(self, frame: pd.DataFrame, cat_mask: list[bool]) -> None:
        _long, X = self._long(frame, self.domains)
        y = np.concatenate([self.table[f"gain.{d}"].to_numpy(dtype=float) for d in self.domains]) \
            if self.domains else np.array([])
        ok = np.isfinite(y)
        if ok.sum() > MAX_GAIN_ROWS:
            chosen = np.random.default_rng(self.seed).choice(np.flatnonzero(ok), MAX_GAIN_ROWS, replace=False)
            ok = np.zeros_like(ok)
            ok[chosen] = True
        self.gain_rows = int(ok.sum())
        mask = cat_mask + [True, False]
        self.gain_models = {}
        if self.gain_rows >= 10:
            for q in QUANTILES:
                self.gain_models[q] = _hgb_regressor(self.gain_rows, mask, self.seed, loss="quantile",
                                                     quantile=q).fit(X[ok], y[ok])

    def _fit_neighbours(self, frame: pd.DataFrame) -> None:
        numeric = frame[list(F.NUMERIC)].to_numpy(dtype=float)
        self.center = np.nanmean(numeric, axis=0)
        spread = np.nanstd(numeric, axis=0)
        self.scale = np.where(spread > 0, spread, 1.0)
        self.typical = {c: float(np.nanmedian(numeric[:, i])) for i, c in enumerate(F.NUMERIC)}
        Z = self._space(frame)
        k = min(len(Z), self.min_similar + 1)
        self.neighbours = NearestNeighbors(n_neighbors=min(len(Z), 10)).fit(Z)
        probe = Z if len(Z) <= RADIUS_SAMPLE else Z[np.random.default_rng(self.seed).choice(len(Z), RADIUS_SAMPLE,
                                                                                            replace=False)]
        dist, _ = self.neighbours.kneighbors(probe, n_neighbors=k)
        self.radius = float(np.quantile(dist[:, -1], 0.9))  # the m-th other run: most runs have m this close

    def _space(self, frame: pd.DataFrame) -> np.ndarray:
        numeric = (frame[list(F.NUMERIC)].to_numpy(dtype=float) - self.center) / self.scale
        numeric = np.nan_to_num(numeric)
        onehots = [np.stack([(frame[c] == v).to_numpy(float) * 2.0 for v in self.categories[c]], axis=1)
                   for c in F.CATEGORICAL]
        return np.hstack([numeric, *onehots])

    # --- asking ------------------------------------------------------------------
    def _risk(self, X: np.ndarray) -> np.ndarray:
        if self.failure_model is None:
            return np.full(len(X), self.base_rate)
        return self.failure_model.predict_proba(X)[:, 1]

    def _gain(self, frame: pd.DataFrame, domains: list[str]) -> dict[float, np.ndarray]:
        """Predicted quantiles per (row, domain), shaped (rows, domains)."""
        _, X = self._long(frame, domains)
        rows = len(frame)
        return {q: m.predict(X).reshape(len(domains), rows).T for q, m in self.gain_models.items()}

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Risk, in-domain gain quantiles and duration for many feature rows at once (recommendation, benches)."""
        X = F.encode(frame, self.categories)
        out = pd.DataFrame({"risk": self._risk(X)}, index=frame.index)
        if self.gain_models:
            known = frame["domain"].isin(self.domains).to_numpy()
            for q in QUANTILES:
                out[f"gain_q{int(q * 100)}"] = np.nan
            if known.any():
                sub = frame[known]
                codes = pd.Categorical(sub["domain"], categories=self.domains).codes.astype(float)
                Xg = np.hstack([F.encode(sub, self.categories), codes[:, None], np.ones((len(sub), 1))])
                for q, m in self.gain_models.items():
                    out.loc[known, f"gain_q{int(q * 100)}"] = m.predict(Xg)
        out["duration_s"] = np.exp(self.duration_model.predict(X))
        return out

    def _refusal(self, knobs: dict[str, Any]) -> str | None:
        family, domain = str(knobs.get("base_family")), str(knobs.get("domain"))
        if family not in self.categories["base_family"]:
            return (f"I can't judge this setting: the run database has no past runs on the {family} family "
                    f"to compare it with, so any number would be a guess.")
        if domain not in self.categories["domain"]:
            return (f"I can't judge this setting: no past run was trained for the goal '{domain}', so any number "
                    "would be a guess.")
        return None

    def advise(self, knobs: dict[str, Any], *, base_model: str = "", n_similar_shown: int = 5) -> Advice:
        """Advice for one spec's knobs (``features.spec_knobs``)."""
        domain = str(knobs.get("domain"))
        common = {"base_model": base_model or str(knobs.get("base_model", "")), "domain": domain,
                  "n_runs": len(self.table), "model_version": self.version}
        refusal = self._refusal(knobs)
        if refusal:
            return Advice(abstained=True, sentence=refusal, **common)
        frame = F.frame_of([F.knob_features(knobs)])
        Z = self._space(frame)
        dist, idx = self.neighbours.kneighbors(Z, n_neighbors=min(len(self.table), max(n_similar_shown, self.min_similar)))
        near = int((dist[0] <= self.radius).sum())
        similar = [self._similar(int(i), float(d), domain) for d, i in zip(dist[0][:n_similar_shown], idx[0])]
        if near < self.min_similar:
            return Advice(abstained=True, similar=similar, n_similar=near, **common, sentence=(
                f"I won't guess: only {near} past run{'' if near == 1 else 's'} in the database "
                f"{'is' if near == 1 else 'are'} close to this setting (I need {self.min_similar}). "
                "The closest ones are listed; try a setting nearer to them, or train and add to the record."))
        X = F.encode(frame, self.categories)
        risk = float(self._risk(X)[0])
        classes = self._classes(X)
        likely = max(classes, key=classes.get) if classes else None
        gains = self._gain(frame, self.domains) if self.gain_models else {}
        gain = low = high = None
        others: dict[str, float] = {}
        if gains:
            at = self.domains.index(domain) if domain in self.domains else None
            if at is not None:
                low, gain, high = (float(gains[q][0, at]) for q in QUANTILES)
                low, high = min(low, gain), max(high, gain)
            others = {d: round(float(gains[0.5][0, i]), 2) for i, d in enumerate(self.domains) if d != domain}
        duration = float(np.exp(self.duration_model.predict(X)[0]))
        drivers = self._drivers(frame, risk, gain)
        sentence = self._sentence(risk, likely, gain, low, high, domain, others, duration)
        return Advice(abstained=False, sentence=sentence, failure_risk=round(risk, 4), failure_class=likely,
                      failure_classes={k: round(v, 4) for k, v in classes.items()},
                      gain=None if gain is None else round(gain, 2), gain_low=None if low is None else round(low, 2),
                      gain_high=None if high is None else round(high, 2), other_domains=others,
                      duration_s=round(duration, 1), similar=similar, drivers=drivers, n_similar=near, **common)

    def _classes(self, X: np.ndarray) -> dict[str, float]:
        if self.class_model is not None:
            probs = self.class_model.predict_proba(X)[0]
            return {str(c): float(p) for c, p in zip(self.class_model.classes_, probs)}
        return dict(self.class_shares)

    def _similar(self, i: int, distance: float, domain: str) -> SimilarRun:
        row = self.table.iloc[i]
        gain = row.get(f"gain.{row['domain']}")
        return SimilarRun(model_id=int(row["model_id"]), slug=str(row["slug"]), distance=round(distance, 3),
                          outcome=str(row["outcome"]), failure_class=str(row["failure_class"] or ""),
                          gain=None if gain is None or not np.isfinite(gain) else round(float(gain), 2))

    def _drivers(self, frame: pd.DataFrame, risk: float, gain: float | None, top: int = 3) -> list[Driver]:
        """Each numeric feature set to its typical value in the database: how far risk and gain move."""
        variants = pd.concat([frame] * len(F.NUMERIC), ignore_index=True)
        for i, column in enumerate(F.NUMERIC):
            variants.loc[i, column] = self.typical[column]
        pred = self.predict_frame(variants)
        found = []
        for i, column in enumerate(F.NUMERIC):
            d_risk = (risk - float(pred["risk"].iloc[i])) * 100
            d_gain = 0.0 if gain is None or "gain_q50" not in pred else gain - float(pred["gain_q50"].iloc[i])
            value, typical = float(frame[column].iloc[0]), self.typical[column]
            if math.isclose(value, typical, abs_tol=1e-9):
                continue
            found.append((abs(d_risk) + abs(d_gain), column, value, typical, d_risk, d_gain))
        found.sort(reverse=True)
        return [Driver(feature=c, label=F.LABELS[c], value=_shown(c, v), typical=_shown(c, t), risk_change=round(dr, 1),
                       gain_change=round(dg, 2), sentence=(
                           f"{F.LABELS[c]} {_shown(c, v)} (typical {_shown(c, t)}): failure risk {dr:+.0f} points, "
                           f"gain {dg:+.1f} points"))
                for _, c, v, t, dr, dg in found[:top] if abs(dr) >= 0.5 or abs(dg) >= 0.1]

    @staticmethod
    def _sentence(risk: float, likely: str | None, gain: float | None, low: float | None, high: float | None,
                  domain: str, others: dict[str, float], duration: float) -> str:
        words = {"divergence": "the loss blowing up", "oom": "running out of memory",
                 "time_budget": "running out of time", "other": "an error"}
        parts = [f"Chance this setting fails: {risk:.0%}" + (f", most likely by {words.get(likely, likely)}"
                                                            if likely and risk >= 0.05 else "") + "."]
        if gain is not None:
            parts.append(f"Expected change in {domain}: {gain:+.1f} points (likely between {low:+.1f} and {high:+.1f}).")
        if others:
            worst = min(others, key=others.get)
            if others[worst] < -1:
                parts.append(f"It may cost {abs(others[worst]):.1f} points in {worst}.")
            else:
                parts.append("Other domains should stay about the same.")
        parts.append(f"About {duration:.0f} s of training.")
        return " ".join(parts)


def _shown(column: str, value: float) -> float | str:
    if column == "log10_lr":
        return f"{10 ** value:.2g}"
    if column.startswith("log2_"):
        return f"{2 ** value:.3g}"
    return round(value, 3)
