"""The platform's evaluation worker: every run that ended with an adapter is scored once.

Finishing a run with an adapter writes an evaluation request in the same
transaction, whichever door the run came through (builder, CLI, job,
template, Python API, service). Workers claim requests under a lease and
renew it while they work; a worker that dies stops renewing and the next one
takes the request over. Scores are recorded together with the request's
``done`` by the lease holder only, so they land once however many workers
race. Capability flags are refreshed after every scoring.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from hubkit.config import Settings, load_settings
from hubkit.errors import HubkitError
from hubkit.evaluate.runner import EvalReport, Progress, evaluate_base, score_model
from hubkit.evaluate.suites import AUTOMATIC, SuiteChoice
from hubkit.store import LocalStore
from hubkit.store.records import EvaluationRequestRecord

EMERGENCE_MODULE = "hubkit.research.emergence"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    """What the platform scores: every domain and item unless the operator narrows it.

    By default the offline tasks, always, plus each domain's standard task whose
    data is on this machine (one without its data is recorded as skipped, with why).
    """

    suite: SuiteChoice = AUTOMATIC
    domains: tuple[str, ...] | None = None
    limit: int | None = None
    lease_s: float = 120.0
    max_attempts: int = 3

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> WorkerOptions:
        settings = settings or load_settings()
        return cls(limit=settings.eval_limit or None, lease_s=settings.eval_lease_s)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _notify_emergence(store: LocalStore, model_id: int) -> None:
    """Let the research layer look for capability changes, if it is installed."""
    if importlib.util.find_spec(EMERGENCE_MODULE) is None:
        return
    importlib.import_module(EMERGENCE_MODULE).on_scores_recorded(store, model_id)


class _Lease:
    """Renews the claim every third of its length while the evaluation runs."""

    def __init__(self, store: LocalStore, claim: EvaluationRequestRecord, lease_s: float) -> None:
        self.store, self.claim, self.lease_s = store, claim, lease_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{claim.id}", daemon=True)

    def _loop(self) -> None:
        while not self._done.wait(self.lease_s / 3):
            try:
                if not self.store.renew_evaluation(self.claim, lease_s=self.lease_s):
                    return  # taken over: our scores will be refused at the end
            except Exception:  # noqa: BLE001 - a missed renewal only risks a retry elsewhere
                log.warning("could not renew the lease of evaluation request %s", self.claim.id, exc_info=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._done.set()
        self._thread.join()


def evaluate_claimed(store: LocalStore, claim: EvaluationRequestRecord, *, options: WorkerOptions,
                     progress: Progress | None = None) -> EvalReport | None:
    """Score the claimed run and record its scores once; ``None`` when another worker took it over."""
    domains: Sequence[str] | None = list(options.domains) if options.domains else None
    try:
        run = store.get_run(claim.model_id)
        with _Lease(store, claim, options.lease_s):
            if run.base_model_key:
                evaluate_base(store=store, base_key=run.base_model_key, suite=options.suite, domains=domains,
                              limit=options.limit)
            report = score_model(store=store, model_id=run.id, suite=options.suite, domains=domains,
                                 limit=options.limit, progress=progress)
    except Exception as exc:
        message = exc.message if isinstance(exc, HubkitError) else f"{type(exc).__name__}: {exc}"
        store.fail_evaluation(claim, error=message, retry=claim.attempts < options.max_attempts)
        raise
    except KeyboardInterrupt:  # the worker is being stopped: the request goes back, untried
        store.release_evaluation(claim)
        raise
    counts: dict[str, int] = {}
    for score in report.scores:
        counts[score.status] = counts.get(score.status, 0) + 1
    done = store.complete_evaluation(claim, [s.evaluation() for s in report.scores], payload={
        "suites": list(report.suites), "counts": counts, "duration_s": round(report.duration_s, 2),
        "attempt": claim.attempts, "limit": options.limit})
    if not done:
        return None
    _notify_emergence(store, run.id)
    return report


def process_next(store: LocalStore, *, options: WorkerOptions, worker: str | None = None,
                 run_id: int | None = None, progress: Progress | None = None) -> EvalReport | None:
    """Claim one free request (the oldest, or ``run_id``'s) and score it; ``None`` when there was none."""
    claim = store.claim_evaluation(worker=worker or worker_name(), lease_s=options.lease_s, run_id=run_id,
                                   max_attempts=options.max_attempts)
    if claim is None:
        return None
    return evaluate_claimed(store, claim, options=options, progress=progress)


def on_run_finished(store: LocalStore, run_id: int, *, suite: SuiteChoice = AUTOMATIC, domains: Sequence[str] | None = None,
                    limit: int | None = None, progress: Progress | None = None) -> EvalReport | None:
    """Score ``run_id`` now when its request is free (``hubkit train`` without a hub, seeding).

    ``None`` when the run asked for no evaluation (still running, no adapter),
    or a worker already has it or has scored it.
    """
    options = WorkerOptions(suite=suite, domains=tuple(domains) if domains else None, limit=limit)
    return process_next(store, options=options, run_id=run_id, progress=progress)


def serve(store: LocalStore, *, options: WorkerOptions, stop: threading.Event | None = None,
          poll_s: float = 2.0, drain: bool = False) -> int:
    """Score requests until ``stop`` is set (or, with ``drain``, until none is left); returns how many."""
    stop = stop or threading.Event()
    name, scored = worker_name(), 0
    while not stop.is_set():
        try:
            report = process_next(store, options=options, worker=name)
        except Exception:  # noqa: BLE001 - recorded on the request; the worker carries on
            log.exception("an evaluation failed")
            continue
        if report is None:
            if drain:
                break
            stop.wait(poll_s)
            continue
        scored += 1
        log.info("scored model %s in %.1f s", report.model_id, report.duration_s)
    return scored
