"""The config advisor: what the run database says about a training before anyone spends on it.

``advise(spec)`` predicts the failure risk (and how it would fail), the change
in the goal's domain with an interval, the change in every other domain and
the duration, explained by the most similar past runs and the settings that
moved the prediction; it abstains in a sentence when too few similar runs
exist. ``recommend(spec)`` proposes the safe setting with the best predicted
gain. Both learn from the committed sweep (``hubkit/research/data/sweep``)
plus, given a store, every finished run of the platform.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubkit._lazy import lazy_exports

if TYPE_CHECKING:
    from hubkit.research.advisor.model import Advice, Advisor
    from hubkit.research.advisor.recommendation import Recommendation
    from hubkit.store import Store

SWEEP_DIR = Path(__file__).resolve().parents[1] / "data" / "sweep"
ADVICE_EVENT = "advice"
"""The event kind under which the prediction made at launch is kept with the run."""
_CACHE: dict[tuple[Any, ...], Advisor] = {}
_LOCK = threading.Lock()


def load_sweep(directory: Path | None = None) -> pd.DataFrame:
    """The committed sweep, one row per finished point (``held_out`` marks the measurement share)."""
    from hubkit.research.sweep import SWEEP_FILE

    return pd.read_parquet((directory or SWEEP_DIR) / SWEEP_FILE)


def training_table(*, store: Store | None = None, directory: Path | None = None) -> pd.DataFrame:
    """The committed sweep plus the platform's own finished runs (the sweep's are not counted twice)."""
    from hubkit.research.advisor.table import run_table

    sweep = load_sweep(directory)
    if store is None:
        return sweep
    live = run_table(store=store)
    live = live[~live["slug"].isin(sweep["slug"])]
    return pd.concat([sweep, live], ignore_index=True)


def fitted(*, store: Store | None = None, directory: Path | None = None) -> Advisor:
    """The advisor fitted on :func:`training_table` (refitted when the table changed)."""
    table = training_table(store=store, directory=directory)
    key = (str(directory), len(table), int(table["model_id"].max()) if len(table) else 0,
           tuple(table["outcome"].value_counts().sort_index().items()))
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            from hubkit.research.advisor.model import Advisor

            _CACHE[key] = Advisor().fit(table)
        return _CACHE[key]


def knobs_of(spec: Any, *, store: Store | None = None) -> dict[str, Any]:
    """A spec's knobs with the size of its data (read from the store for an uploaded dataset)."""
    from hubkit.research.advisor.features import spec_knobs
    from hubkit.train.spec import TrainSpec

    spec = spec if isinstance(spec, TrainSpec) else TrainSpec.parse(dict(spec), source="the spec")
    rows = None
    if spec.dataset.dataset_id is not None and store is not None:
        rows = store.get_dataset(spec.dataset.dataset_id).n_rows
    return spec_knobs(spec, dataset_rows=rows)


def advise(spec: Any, *, store: Store | None = None, advisor: Advisor | None = None) -> Advice:
    """The advisor's word on ``spec`` (a ``TrainSpec`` or its dict) before it is launched."""
    knobs = knobs_of(spec, store=store)
    return (advisor or fitted(store=store)).advise(knobs, base_model=knobs["base_model"])


def recommend(spec: Any, *, store: Store | None = None, advisor: Advisor | None = None,
              max_risk: float = 0.10) -> Recommendation:
    """The safe setting with the best predicted gain for the spec's base, goal and data."""
    from hubkit.research.advisor.recommendation import recommend as best

    knobs = knobs_of(spec, store=store)
    return best(advisor or fitted(store=store), knobs, max_risk=max_risk)


__getattr__, __dir__ = lazy_exports(__name__, {
    "Advice": "model", "Advisor": "model", "Driver": "model", "SimilarRun": "model", "Recommendation": "recommendation"})

__all__ = ["ADVICE_EVENT", "Advice", "Advisor", "Driver", "Recommendation", "SimilarRun", "advise", "fitted",
           "load_sweep", "recommend", "training_table"]
