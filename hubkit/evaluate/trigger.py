"""The automatic trigger: a finished run is evaluated on every domain, exactly once.

Workers call :func:`on_run_finished` when they see a run end. ``claim_evaluation``
lets exactly one of them through, however many see the event at once; the
others return ``None``. Success, partial and failure runs are all evaluated
when they saved an adapter (a failed run's last good adapter still says
something about what the configuration learned).
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence

from hubkit.errors import HubkitError
from hubkit.evaluate.runner import EvalReport, Progress, evaluate_base, evaluate_model
from hubkit.store import Store

EMERGENCE_MODULE = "hubkit.research.emergence"


def _notify_emergence(store: Store, model_id: int) -> None:
    """Let the research layer look for capability changes, if it is installed."""
    if importlib.util.find_spec(EMERGENCE_MODULE) is None:
        return
    module = importlib.import_module(EMERGENCE_MODULE)
    module.on_scores_recorded(store, model_id)


def on_run_finished(store: Store, run_id: int, *, suite: str = "offline", domains: Sequence[str] | None = None,
                    limit: int | None = None, progress: Progress | None = None) -> EvalReport | None:
    """Evaluate a finished run once; ``None`` when there is nothing to do or another worker has it.

    ``domains`` and ``limit`` narrow the evaluation for quick checks; the
    platform's own trigger leaves them at "all domains, every item".
    """
    run = store.get_run(run_id)
    if run.training_outcome is None or not run.artifacts.get("adapter"):
        return None
    if not store.claim_evaluation(run_id):
        return None
    store.record_event(run_id, "evaluation_started", {"suite": suite})
    try:
        if run.base_model_key:
            evaluate_base(store=store, base_key=run.base_model_key, suite=suite, domains=domains, limit=limit)
        report = evaluate_model(store=store, model_id=run_id, suite=suite, domains=domains, limit=limit,
                                progress=progress)
    except Exception as exc:
        message = exc.message if isinstance(exc, HubkitError) else f"{type(exc).__name__}: {exc}"
        store.record_event(run_id, "evaluation_failed", {"suite": suite, "message": message})
        raise
    counts: dict[str, int] = {}
    for score in report.scores:
        counts[score.status] = counts.get(score.status, 0) + 1
    store.record_event(run_id, "evaluation_finished", {"suite": suite, "counts": counts,
                                                       "duration_s": round(report.duration_s, 2)})
    _notify_emergence(store, run_id)
    return report
