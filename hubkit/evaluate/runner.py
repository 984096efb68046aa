"""Score a run or a base model on every domain and record the results.

Flow, top to bottom: plan the tasks (stamps, skips) → refuse contaminated
tasks → load the model once → one ``simple_evaluate`` over every runnable
task → record one evaluation per task in the store (which computes the deltas
against the base model and the parent under the same stamp). If that call
fails, each domain is retried on its own: the failing one is recorded as
``error`` and the others are still scored.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hubkit.catalog import registered_base
from hubkit.devices import choose_device
from hubkit.evaluate.contamination import count_overlap
from hubkit.evaluate.models import ModelSource, load_lm, model_source
from hubkit.evaluate.offline import no_downloads
from hubkit.evaluate.plan import PlannedTask, plan_tasks, select_domains
from hubkit.evaluate.sandbox import code_execution_allowed
from hubkit.evaluate.stamps import DEFAULT_BATCH_SIZE, SEEDS, RunSettings
from hubkit.evaluate.suites import SuiteChoice, suite_names, task_manager
from hubkit.store import Store, stamp_hash
from hubkit.store.records import EvaluationIn, RunRecord

Status = Literal["scored", "skipped", "refused", "error"]


@dataclass(frozen=True)
class TaskScore:
    domain: str
    task: str
    metric: str
    value: float | None
    stderr: float | None
    n_samples: int
    status: Status
    reason: str | None
    stamp: dict[str, Any]
    overlap: int = 0
    """Items of the task found in the model's training data (status ``refused``)."""
    cached: bool = False
    """A base model's score reused because one with the same stamp was already recorded."""

    @property
    def suite(self) -> str:
        """The suite this score belongs to, as its stamp records it."""
        return str(self.stamp["suite"])

    def evaluation(self) -> EvaluationIn:
        return EvaluationIn(domain=self.domain, task=self.task, metric=self.metric, value=self.value,
                            stderr=self.stderr, n_samples=self.n_samples, status=self.status,
                            skip_reason=self.reason, stamp=self.stamp)


@dataclass(frozen=True)
class EvalProgress:
    """Reported once before scoring (``done == 0``), then once per domain as its scores are ready."""

    done: int
    total: int
    domain: str | None
    message: str


Progress = Callable[[EvalProgress], None]


@dataclass
class EvalReport:
    suites: tuple[str, ...]
    model_id: int | None
    base_model: str | None
    scores: list[TaskScore] = field(default_factory=list)
    duration_s: float = 0.0
    model_loads: int = 0

    def score(self, domain: str, task: str | None = None) -> TaskScore:
        for s in self.scores:
            if s.domain == domain and (task is None or s.task == task):
                return s
        raise KeyError((domain, task))


def _settings_for(source: ModelSource, limit: int | None) -> RunSettings:
    """The evaluation's settings; the device is chosen once here, so the model is loaded where its stamp says."""
    return RunSettings(batch_size=DEFAULT_BATCH_SIZE, limit=limit, chat_template=source.chat_template,
                       device=choose_device())


def _training_hashes(store: Store, run: RunRecord) -> set[str]:
    """Item hashes of the data this model learned from, its ancestors' included."""
    hashes: set[str] = set()
    current: RunRecord | None = run
    while current is not None:
        if current.dataset_id is not None:
            hashes |= store.dataset_item_hashes(current.dataset_id)
        current = store.get_run(current.parent_model_id) if current.parent_model_id else None
    return hashes


def _refuse_contaminated(planned: list[PlannedTask], training: set[str]) -> None:
    if not training:
        return
    for task in planned:
        if task.lm_task is None:
            continue
        items = task.item_hashes()
        overlap = count_overlap(training, items)
        if overlap:
            task.overlap = overlap
            task.skip_reason = (f"{overlap} of the {len(items)} items of {task.spec.name} are in "
                                "this model's training data, so scoring it would not be fair.")


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _from_results(task: PlannedTask, results: dict[str, Any]) -> TaskScore:
    spec = task.spec
    row = results["results"][spec.name]
    value = _number(row.get(spec.result_key))
    stderr = _number(row.get(f"{spec.metric}_stderr,{spec.filter}"))
    n = sum(int(results["n-samples"][leaf.task_name]["effective"]) for leaf in task.leaves)
    if value is None:
        return TaskScore(task.domain.name, spec.name, spec.metric, None, None, n, "error",
                         f"lm-eval returned no number for {spec.result_key}.", task.stamp)
    return TaskScore(task.domain.name, spec.name, spec.metric, value, stderr, n, "scored", None, task.stamp)


def _unscored(task: PlannedTask, status: Status, reason: str) -> TaskScore:
    return TaskScore(task.domain.name, task.spec.name, task.spec.metric, None, None, 0, status, reason,
                     task.stamp, overlap=task.overlap)


def _simple_evaluate(lm: Any, tasks: list[PlannedTask], *, manager: Any, run: RunSettings) -> dict[str, TaskScore]:
    import lm_eval

    results = lm_eval.simple_evaluate(
        model=lm, tasks=[t.lm_task for t in tasks], task_manager=manager, limit=run.limit,
        apply_chat_template=run.chat_template, fewshot_as_multiturn=run.chat_template,
        confirm_run_unsafe_code=code_execution_allowed(), log_samples=False,
        random_seed=SEEDS["random"], numpy_random_seed=SEEDS["numpy"],
        torch_random_seed=SEEDS["torch"], fewshot_random_seed=SEEDS["fewshot"])
    return {t.spec.name: _from_results(t, results) for t in tasks}


def _score_isolated(lm: Any, tasks: list[PlannedTask], *, manager: Any, run: RunSettings) -> dict[str, TaskScore]:
    """After a failed joint run: each domain on its own, so one broken task loses only its domain."""
    scores: dict[str, TaskScore] = {}
    for name in dict.fromkeys(t.domain.name for t in tasks):
        group = [t for t in tasks if t.domain.name == name]
        try:
            scores.update(_simple_evaluate(lm, group, manager=manager, run=run))
        except Exception as exc:  # noqa: BLE001 - recorded as this domain's error
            reason = f"The evaluation failed: {type(exc).__name__}: {str(exc).strip()[:300]}"
            scores.update({t.spec.name: _unscored(t, "error", reason) for t in group})
    return scores


def _evaluate(*, source: ModelSource, planned: list[PlannedTask], manager: Any, run: RunSettings,
              report: EvalReport, progress: Progress | None) -> None:
    """Load the model once and score every runnable task in one ``simple_evaluate`` call.

    One call, not one per domain: lm-eval batches requests of all tasks
    together and collects its environment report once, so hubkit costs what a
    direct call costs and gives the same numbers as the command line with the
    same task list.
    """
    order = list(dict.fromkeys(t.domain.name for t in planned))
    scores = {t.spec.name: _unscored(t, "refused" if t.overlap else "skipped", t.skip_reason or "")
              for t in planned if not t.runnable}
    runnable = [t for t in planned if t.runnable]
    if progress:
        progress(EvalProgress(0, len(order), None, f"Scoring {len(runnable)} tasks in {len(order)} domains"))
    if runnable:
        lm = load_lm(source, batch_size=run.batch_size, device=run.device)
        report.model_loads += 1
        try:
            scores.update(_simple_evaluate(lm, runnable, manager=manager, run=run))
        except Exception:  # noqa: BLE001 - retried per domain below, where the error is recorded
            scores.update(_score_isolated(lm, runnable, manager=manager, run=run))
    for i, name in enumerate(order):
        report.scores.extend(scores[t.spec.name] for t in planned if t.domain.name == name)
        if progress:
            progress(EvalProgress(i + 1, len(order), name, f"{name} scored"))


def evaluate_model(*, store: Store, model_id: int, domains: Sequence[str] | None = None,
                   suite: SuiteChoice = "offline", limit: int | None = None,
                   progress: Progress | None = None) -> EvalReport:
    """Score one run's adapter on ``domains`` (all by default) and record every task."""
    report = score_model(store=store, model_id=model_id, domains=domains, suite=suite, limit=limit,
                         progress=progress)
    for score in report.scores:
        store.record_evaluation(evaluation=score.evaluation(), model_id=model_id)
    return report


def score_model(*, store: Store, model_id: int, domains: Sequence[str] | None = None,
                suite: SuiteChoice = "offline", limit: int | None = None,
                progress: Progress | None = None) -> EvalReport:
    """Score one run's adapter without recording anything (the platform's worker records all at once)."""
    started = time.perf_counter()
    suite = suite_names(suite)
    run_record = store.get_run(model_id)
    base = store.get_base_model(run_record.base_model_id)
    chosen = select_domains(domains)
    report = EvalReport(suites=suite, model_id=run_record.id, base_model=base.key)
    with no_downloads(), model_source(base=base, run=run_record) as source:
        run = _settings_for(source, limit)
        manager = task_manager(suite)
        planned = plan_tasks(domains=chosen, suite=suite, task_manager=manager, run=run)
        _refuse_contaminated(planned, _training_hashes(store, run_record))
        _evaluate(source=source, planned=planned, manager=manager, run=run, report=report, progress=progress)
    report.duration_s = time.perf_counter() - started
    return report


def _cached(base_scores: dict[str, Any], task: PlannedTask) -> TaskScore | None:
    """The base model's current record of ``task`` when it already says what we would record."""
    entry = base_scores.get(task.domain.name, {}).get(task.spec.name)
    if not entry or entry.get("stamp_hash") != stamp_hash(task.stamp):
        return None
    same_skip = not task.runnable and entry.get("status") == "skipped" and entry.get("skip_reason") == task.skip_reason
    if entry.get("status") != "scored" and not same_skip:
        return None
    return TaskScore(task.domain.name, task.spec.name, entry["metric"], entry["value"], entry["stderr"],
                     entry["n"], entry["status"], entry.get("skip_reason"), task.stamp, cached=True)


def evaluate_base(*, store: Store, base_key: str, domains: Sequence[str] | None = None,
                  suite: SuiteChoice = "offline", limit: int | None = None,
                  progress: Progress | None = None) -> EvalReport:
    """Score a base model as the baseline; tasks already scored under the same stamp are reused."""
    started = time.perf_counter()
    suite = suite_names(suite)
    base = registered_base(store, base_key)
    chosen = select_domains(domains)
    report = EvalReport(suites=suite, model_id=None, base_model=base.key)
    with no_downloads(), model_source(base=base) as source:
        run = _settings_for(source, limit)
        manager = task_manager(suite)
        planned = plan_tasks(domains=chosen, suite=suite, task_manager=manager, run=run)
        cached = {t.spec.name: c for t in planned if (c := _cached(base.benchmark_scores, t)) is not None}
        todo = [t for t in planned if t.spec.name not in cached]
        _evaluate(source=source, planned=todo, manager=manager, run=run, report=report, progress=progress)
    for score in report.scores:
        store.record_evaluation(evaluation=score.evaluation(), base_model=base.key)
    report.scores.extend(cached.values())
    report.duration_s = time.perf_counter() - started
    return report
