"""``LocalStore``: the Store on SQL (SQLite embedded, PostgreSQL for many users).

Every write is one transaction (``BEGIN IMMEDIATE`` on SQLite); PostgreSQL
serialization failures and deadlocks and SQLite lock time-outs are retried.
"""
from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from hubkit.db import models as m
from hubkit.db.engine import get_engine, write_engine
from hubkit.db.migrate import ensure_current
from hubkit.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hubkit.store import board_stamps, jsonsafe
from hubkit.store import validation as v
from hubkit.store.base import PointLike, Store
from hubkit.store.records import (
    BaseModelRecord,
    CapabilityFlagIn,
    CapabilityFlagRecord,
    DatasetRecord,
    EvaluationIn,
    EvaluationRecord,
    EvaluationRequestRecord,
    EventRecord,
    FeedbackRecord,
    JobRecord,
    LeaderboardRow,
    LossPointIn,
    NotebookRunRecord,
    RunRecord,
    UserRecord,
)

T = TypeVar("T")
ANONYMOUS = ""  # viewer for visitors without a login: public objects only
_RETRY_SQLSTATES = {"40001", "40P01"}
_MAX_ATTEMPTS = 10
_FINAL_JOB_STATES = {"succeeded", "failed", "cancelled", "lost"}
_POINT_FIELDS = ("epoch", "loss", "lr", "grad_norm", "eval_loss")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every timestamp the store writes is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _retryable(exc: OperationalError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def stamp_hash(stamp: Mapping[str, Any]) -> str:
    """Scores are comparable only when everything in their stamp is equal."""
    return hashlib.sha256(json.dumps(dict(stamp), sort_keys=True, default=str).encode()).hexdigest()


class LocalStore(Store):
    def __init__(self, url: str) -> None:
        ensure_current(url)  # the first use from any door creates or migrates the database
        self.url = url
        self._read = get_engine(url)
        self._write_engine = write_engine(url)

    def __reduce__(self) -> tuple[type[LocalStore], tuple[str]]:
        """Pickled as its URL: a training worker (another process) opens its own engines."""
        return (LocalStore, (self.url,))

    # --- transaction helpers ---------------------------------------------------
    def _write(self, fn: Callable[[Session], T]) -> T:
        for attempt in range(_MAX_ATTEMPTS):
            try:
                with Session(self._write_engine, expire_on_commit=False) as session:
                    with session.begin():
                        return fn(session)
            except OperationalError as exc:
                if not _retryable(exc) or attempt == _MAX_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0) * (0.5 + secrets.randbelow(100) / 100))
        raise AssertionError("unreachable")

    def _query(self, fn: Callable[[Session], T]) -> T:
        with Session(self._read, expire_on_commit=False) as session:
            with session.begin():
                return fn(session)

    # --- lookups inside a session ------------------------------------------------
    @staticmethod
    def _user(session: Session, username: str) -> m.User:
        user = session.scalar(select(m.User).where(m.User.username == username))
        if user is None:
            raise NotFound(f"There is no user called {username!r}.")
        return user

    @staticmethod
    def _base(session: Session, key_or_id: str | int) -> m.BaseModel:
        """By id, catalog key or Hugging Face id (``Qwen/Qwen2.5-0.5B-Instruct``)."""
        if isinstance(key_or_id, int):
            where = m.BaseModel.id == key_or_id
        else:
            where = or_(m.BaseModel.key == key_or_id, m.BaseModel.hf_id == key_or_id)
        base = session.scalar(select(m.BaseModel).where(where).order_by(m.BaseModel.is_standin).limit(1))
        if base is None:
            raise NotFound(f"There is no base model {key_or_id!r} in the catalog.")
        return base

    @staticmethod
    def _model(session: Session, run_id: int | str, *, lock: bool = False) -> m.Model:
        column = m.Model.id if isinstance(run_id, int) else m.Model.slug
        stmt = select(m.Model).where(column == run_id)
        if lock:
            stmt = stmt.with_for_update()
        model = session.scalar(stmt)
        if model is None:
            raise NotFound(f"There is no model {run_id!r}.")
        return model

    @staticmethod
    def _can_see(session: Session, model: m.Model, viewer: str | None) -> bool:
        if viewer is None or model.visibility != m.Visibility.private:
            return True
        if viewer == ANONYMOUS:
            return False
        user = session.scalar(select(m.User).where(m.User.username == viewer))
        return user is not None and (user.id == model.owner_id or user.role == m.Role.admin)

    @staticmethod
    def _can_read_dataset(session: Session, dataset: m.Dataset, viewer: str | None) -> bool:
        """Shared examples (no owner) are everyone's; else the owner, researchers and admins."""
        if viewer is None or dataset.owner_id is None:
            return True
        if viewer == ANONYMOUS:
            return False
        user = session.scalar(select(m.User).where(m.User.username == viewer))
        return user is not None and (user.id == dataset.owner_id or user.role in (m.Role.admin, m.Role.researcher))

    def _dataset(self, session: Session, dataset_id: int, viewer: str | None) -> m.Dataset:
        row = session.get(m.Dataset, dataset_id)
        if row is None or not self._can_read_dataset(session, row, viewer):
            raise NotFound(f"There is no dataset {dataset_id}.")  # hidden answers like missing
        return row

    def _check_owner(self, session: Session, model: m.Model, actor: str | None) -> None:
        if actor is None:
            return
        if not self._can_see(session, model, actor):
            raise NotFound(f"There is no model {model.id!r}.")
        user = self._user(session, actor)
        if user.id != model.owner_id and user.role != m.Role.admin:
            raise PermissionDenied("Only the owner of this model can change it.")

    def _run_record(self, session: Session, model: m.Model) -> RunRecord:
        record = RunRecord.model_validate(model)
        owner = session.get(m.User, model.owner_id)
        base = session.get(m.BaseModel, model.base_model_id)
        return record.model_copy(update={
            "owner": owner.username if owner else None,
            "base_model_key": base.key if base else None,
        })

    # --- users and catalog ---------------------------------------------------
    def ensure_user(self, username: str, *, role: str = "casual", display_name: str | None = None) -> UserRecord:
        username = v.clean_name(username, what="username")
        if len(username) > 64:
            raise ValidationError("The username is too long; keep it under 64 characters.", field="username")
        role = v.choice(role, v.ROLES, what="role")

        def fn(session: Session) -> UserRecord:
            user = session.scalar(select(m.User).where(m.User.username == username))
            if user is None:
                user = m.User(username=username, role=m.Role(role), display_name=display_name, created_at=_now())
                session.add(user)
                session.flush()
            return UserRecord.model_validate(user)

        try:
            return self._write(fn)
        except IntegrityError:  # created concurrently by another process
            return self.get_user(username)

    def get_user(self, username: str) -> UserRecord:
        return self._query(lambda s: UserRecord.model_validate(self._user(s, username)))

    def set_role(self, username: str, role: str) -> UserRecord:
        role = v.choice(role, v.ROLES, what="role")

        def fn(session: Session) -> UserRecord:
            user = self._user(session, username)
            user.role = m.Role(role)
            return UserRecord.model_validate(user)

        return self._write(fn)

    def upsert_base_model(self, *, key: str, family: str, hf_id: str, architecture: str, licence: str,
                          parameters: int | None = None, is_standin: bool = False,
                          info: Mapping[str, Any] | None = None) -> BaseModelRecord:
        info_json = v.clean_json(info, what="base model info")

        def fn(session: Session) -> BaseModelRecord:
            base = session.scalar(select(m.BaseModel).where(m.BaseModel.key == key))
            if base is None:
                base = m.BaseModel(key=key, created_at=_now(), benchmark_scores={})
                session.add(base)
            base.family, base.hf_id, base.architecture = family, hf_id, architecture
            base.licence, base.parameters, base.is_standin, base.info = licence, parameters, is_standin, info_json
            session.flush()
            return BaseModelRecord.model_validate(base)

        return self._write(fn)

    def get_base_model(self, key_or_id: str | int) -> BaseModelRecord:
        return self._query(lambda s: BaseModelRecord.model_validate(self._base(s, key_or_id)))

    def list_base_models(self) -> list[BaseModelRecord]:
        return self._query(lambda s: [BaseModelRecord.model_validate(b) for b in s.scalars(select(m.BaseModel).order_by(m.BaseModel.id))])

    # --- datasets ------------------------------------------------------------
    def register_dataset(self, *, owner: str | None, name: str, fingerprint: str, format: str,
                         n_rows: int, stats: Mapping[str, Any] | None = None, source: str | None = None,
                         archive_hash: str | None = None, parent_dataset_id: int | None = None,
                         licence: str | None = None, item_hashes: Sequence[str] = ()) -> DatasetRecord:
        name = v.clean_name(name, what="dataset name")
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise ValidationError("The dataset fingerprint must be a sha256 hex digest.", field="fingerprint")
        stats_json = v.clean_json(stats, what="dataset stats")

        def fn(session: Session) -> DatasetRecord:
            owner_id = self._user(session, owner).id if owner else None
            existing = session.scalar(select(m.Dataset).where(
                m.Dataset.fingerprint == fingerprint, m.Dataset.owner_id.is_(owner_id) if owner_id is None
                else m.Dataset.owner_id == owner_id))
            if existing is not None:
                return DatasetRecord.model_validate(existing)
            if parent_dataset_id is not None:
                self._dataset(session, parent_dataset_id, owner)
            row = m.Dataset(owner_id=owner_id, name=name, fingerprint=fingerprint, format=format,
                            source=source, n_rows=n_rows, stats=stats_json, archive_hash=archive_hash,
                            parent_dataset_id=parent_dataset_id, licence=licence, created_at=_now())
            session.add(row)
            session.flush()
            for h in sorted(set(item_hashes)):
                session.add(m.DatasetItem(dataset_id=row.id, item_hash=h))
            return DatasetRecord.model_validate(row)

        return self._write(fn)

    def get_dataset(self, dataset_id: int, *, viewer: str | None = None) -> DatasetRecord:
        return self._query(lambda s: DatasetRecord.model_validate(self._dataset(s, dataset_id, viewer)))

    def list_datasets(self, *, viewer: str | None = None) -> list[DatasetRecord]:
        def fn(session: Session) -> list[DatasetRecord]:
            rows = session.scalars(select(m.Dataset).order_by(m.Dataset.id))
            return [DatasetRecord.model_validate(d) for d in rows if self._can_read_dataset(session, d, viewer)]

        return self._query(fn)

    def dataset_item_hashes(self, dataset_id: int) -> set[str]:
        return self._query(lambda s: set(s.scalars(select(m.DatasetItem.item_hash).where(m.DatasetItem.dataset_id == dataset_id))))

    def taint_dataset(self, dataset_id: int, *, reason: str, actor: str | None = None) -> DatasetRecord:
        reason = v.clean_name(reason, what="taint reason")

        def fn(session: Session) -> DatasetRecord:
            row = self._dataset(session, dataset_id, actor)
            if actor is not None:
                user = self._user(session, actor)
                if user.role not in (m.Role.admin, m.Role.researcher) and user.id != row.owner_id:
                    raise PermissionDenied("Only the dataset's owner, researchers or admins can taint it.")
            row.tainted = reason
            session.add(m.Event(model_id=None, kind="taint", payload={"dataset_id": dataset_id, "reason": reason},
                                actor_id=None, created_at=_now()))
            return DatasetRecord.model_validate(row)

        return self._write(fn)

    # --- runs ----------------------------------------------------------------
    def _new_model(self, session: Session, *, owner: str, name: str, domain: str, base: m.BaseModel,
                   dataset_id: int | None, config: Mapping[str, Any] | None, seed: int | None,
                   executed_by: str, visibility: str, hardware: Mapping[str, Any] | None,
                   versions: Mapping[str, Any] | None, description: str | None, template: str | None,
                   template_version: str | None) -> m.Model:
        user = self._user(session, owner)
        fingerprint = None
        if dataset_id is not None:  # the run's owner must be able to read the data it names
            fingerprint = self._dataset(session, dataset_id, owner).fingerprint
        now = _now()
        model = m.Model(
            slug=f"{v.slug_base(name)}-{secrets.token_hex(3)}", name=name, description=description,
            owner_id=user.id, domain=domain, base_model_id=base.id, dataset_id=dataset_id,
            dataset_fingerprint=fingerprint, parent_model_id=None, training_outcome=None,
            loss_curve_data=None, benchmark_scores={}, config=v.clean_json(config, what="training configuration"),
            status=m.RunStatus.running, created_at=now, started_at=now, heartbeat_at=now,
            hardware=v.clean_json(hardware, what="hardware"), versions=v.clean_json(versions, what="versions"),
            seed=seed, visibility=m.Visibility(visibility), artifacts={},
            executed_by=m.ExecutedBy(executed_by), template=template, template_version=template_version,
        )
        session.add(model)
        return model

    def _check_run_args(self, name: str, domain: str, executed_by: str, visibility: str,
                        description: str | None) -> tuple[str, str]:
        name = v.clean_name(name)
        domain = v.clean_name(domain, what="domain")
        if len(domain) > 40:
            raise ValidationError("The domain name is too long.", field="domain")
        v.choice(executed_by, ("platform", "user"), what="executed_by")
        v.choice(visibility, v.VISIBILITIES, what="visibility")
        v.clean_text(description, what="description", limit=v.MAX_DESCRIPTION_CHARS)
        return name, domain

    def create_run(self, *, owner: str, name: str, domain: str, base_model: str | int,
                   dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                   seed: int | None = None, executed_by: str = "platform", visibility: str = "private",
                   hardware: Mapping[str, Any] | None = None, versions: Mapping[str, Any] | None = None,
                   description: str | None = None, template: str | None = None,
                   template_version: str | None = None) -> RunRecord:
        name, domain = self._check_run_args(name, domain, executed_by, visibility, description)

        def fn(session: Session) -> RunRecord:
            model = self._new_model(
                session, owner=owner, name=name, domain=domain, base=self._base(session, base_model),
                dataset_id=dataset_id, config=config, seed=seed, executed_by=executed_by,
                visibility=visibility, hardware=hardware, versions=versions, description=description,
                template=template, template_version=template_version)
            session.flush()
            return self._run_record(session, model)

        return self._write(fn)

    def fork_run(self, parent_id: int, *, owner: str, name: str, relation: str = "fork",
                 dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                 domain: str | None = None, seed: int | None = None, executed_by: str = "platform",
                 visibility: str = "private", hardware: Mapping[str, Any] | None = None,
                 versions: Mapping[str, Any] | None = None, description: str | None = None,
                 template: str | None = None, template_version: str | None = None) -> RunRecord:
        v.choice(relation, v.RELATIONS, what="relation")

        def fn(session: Session) -> RunRecord:
            parent = session.get(m.Model, parent_id)
            if parent is None or not self._can_see(session, parent, owner):
                raise NotFound(f"There is no model {parent_id!r} you can fork.")
            if relation in ("continue", "resume") and self._user(session, owner).id != parent.owner_id:
                raise PermissionDenied("Only the owner can continue or resume a run; fork it instead.")
            name_, domain_ = self._check_run_args(name, domain or parent.domain, executed_by, visibility, description)
            model = self._new_model(
                session, owner=owner, name=name_, domain=domain_,
                base=session.get(m.BaseModel, parent.base_model_id),
                dataset_id=dataset_id, config=config if config is not None else parent.config, seed=seed,
                executed_by=executed_by, visibility=visibility, hardware=hardware, versions=versions,
                description=description, template=template, template_version=template_version)
            if dataset_id is None:  # the parent's data, as its (visible) record already names it
                model.dataset_id, model.dataset_fingerprint = parent.dataset_id, parent.dataset_fingerprint
            model.parent_model_id = parent.id
            model.parent_relation = relation
            session.flush()
            session.add(m.Event(model_id=model.id, kind=relation, created_at=_now(),
                                payload={"parent_model_id": parent.id}, actor_id=model.owner_id))
            return self._run_record(session, model)

        return self._write(fn)

    @staticmethod
    def _point_row(run_id: int, seq: int, point: PointLike) -> m.LossPoint:
        p = point if isinstance(point, LossPointIn) else LossPointIn.model_validate(dict(point))
        values: dict[str, float | None] = {}
        nonfinite: dict[str, str] = {}
        for name in _POINT_FIELDS:
            value = getattr(p, name)
            if value is not None and not math.isfinite(value):
                nonfinite[name] = str(jsonsafe.encode_number(value))
                value = None
            values[name] = value
        return m.LossPoint(model_id=run_id, seq=seq, step=p.step, nonfinite=nonfinite or None,
                           logged_at=_now(), **values)

    @staticmethod
    def _require_running(model: m.Model) -> None:
        if model.status == m.RunStatus.finished:
            raise Conflict(
                f"Run {model.id} has already finished ({model.training_outcome.value if model.training_outcome else 'unknown'}); "
                "nothing more can be logged to it."
            )

    def append_points(self, run_id: int, points: Sequence[PointLike]) -> int:
        try:
            parsed = [p if isinstance(p, LossPointIn) else LossPointIn.model_validate(dict(p)) for p in points]
        except Exception as exc:  # pydantic.ValidationError
            raise ValidationError("A loss point is malformed.", field="points", detail=str(exc)) from exc

        def fn(session: Session) -> int:
            model = self._model(session, run_id, lock=True)
            self._require_running(model)
            last = session.scalar(select(func.max(m.LossPoint.seq)).where(m.LossPoint.model_id == run_id))
            seq = -1 if last is None else last
            for p in parsed:
                seq += 1
                session.add(self._point_row(run_id, seq, p))
            model.heartbeat_at = _now()
            return len(parsed)

        return self._write(fn)

    def heartbeat(self, run_id: int) -> None:
        def fn(session: Session) -> None:
            model = self._model(session, run_id)
            self._require_running(model)
            model.heartbeat_at = _now()

        self._write(fn)

    @staticmethod
    def _curve(session: Session, run_id: int) -> list[dict[str, Any]]:
        rows = session.scalars(select(m.LossPoint).where(m.LossPoint.model_id == run_id).order_by(m.LossPoint.seq))
        curve = []
        for row in rows:
            point: dict[str, Any] = {"step": row.step}
            for name in _POINT_FIELDS:
                value = getattr(row, name)
                if row.nonfinite and name in row.nonfinite:
                    value = row.nonfinite[name]
                if value is not None or name != "eval_loss":
                    point[name] = value
            curve.append(point)
        return curve

    def _finish(self, session: Session, model: m.Model, *, outcome: str, failure_class: str | None,
                failure_message: str | None, artifacts: Mapping[str, Any] | None) -> None:
        if model.training_outcome is not None or model.status == m.RunStatus.finished:
            raise Conflict(
                f"Run {model.id} already has the outcome "
                f"{model.training_outcome.value if model.training_outcome else 'recorded'}; an outcome is set once."
            )
        now = _now()
        model.training_outcome = m.Outcome(outcome)
        model.status = m.RunStatus.finished
        model.failure_class = failure_class
        model.failure_message = failure_message
        model.finished_at = now
        model.duration_s = (now - _aware(model.started_at)).total_seconds()
        model.loss_curve_data = self._curve(session, model.id)
        if artifacts:
            model.artifacts = {**model.artifacts, **v.clean_json(artifacts, what="artifacts")}
        session.add(m.Event(model_id=model.id, kind="finish", created_at=now,
                            payload={"outcome": outcome, "failure_class": failure_class}))
        self._request_evaluation(session, model)

    @staticmethod
    def _request_evaluation(session: Session, model: m.Model) -> None:
        """A finished run with an adapter asks the platform for its scores, in the transaction that finished it."""
        if model.status != m.RunStatus.finished or not model.artifacts.get("adapter"):
            return
        if session.scalar(select(m.EvaluationRequest.id).where(m.EvaluationRequest.model_id == model.id)):
            return
        now = _now()
        session.add(m.EvaluationRequest(model_id=model.id, state="queued", attempts=0, created_at=now))
        session.add(m.Event(model_id=model.id, kind="evaluation_queued", created_at=now, payload={}))

    def finish_run(self, run_id: int, *, outcome: str, failure_class: str | None = None,
                   failure_message: str | None = None, artifacts: Mapping[str, Any] | None = None) -> RunRecord:
        v.choice(outcome, v.OUTCOMES, what="outcome")
        if outcome == "success" and failure_class:
            raise ValidationError("A successful run has no failure class.", field="failure_class")
        if failure_class is not None and len(failure_class) > 40:
            raise ValidationError("The failure class name is too long.", field="failure_class")
        v.clean_text(failure_message, what="failure message", limit=v.MAX_DESCRIPTION_CHARS)

        def fn(session: Session) -> RunRecord:
            model = self._model(session, run_id, lock=True)
            self._finish(session, model, outcome=outcome, failure_class=failure_class,
                         failure_message=failure_message, artifacts=artifacts)
            return self._run_record(session, model)

        return self._write(fn)

    def download_ticket(self, run_id: int, route: str, *, viewer: str | None = None) -> str:
        from hubkit import tickets

        run = self.get_run(run_id, viewer=viewer)
        return tickets.mint(run_id=run.id, route=route, viewer=viewer)

    def add_artifacts(self, run_id: int, artifacts: Mapping[str, Any]) -> RunRecord:
        clean = v.clean_json(artifacts, what="artifacts")

        def fn(session: Session) -> RunRecord:
            model = self._model(session, run_id, lock=True)
            clash = [k for k in clean if k in model.artifacts and model.artifacts[k] != clean[k]]
            if clash:
                raise Conflict(f"Artifacts already recorded and never overwritten: {', '.join(clash)}.")
            model.artifacts = {**model.artifacts, **clean}
            self._request_evaluation(session, model)
            return self._run_record(session, model)

        return self._write(fn)

    def record_event(self, run_id: int | None, kind: str, payload: Mapping[str, Any] | None = None,
                     *, actor: str | None = None) -> EventRecord:
        kind = v.clean_name(kind, what="event kind")
        payload_json = v.clean_json(payload, what="event payload")

        def fn(session: Session) -> EventRecord:
            if run_id is not None:
                self._model(session, run_id)
            actor_id = self._user(session, actor).id if actor else None
            event = m.Event(model_id=run_id, kind=kind, payload=payload_json, actor_id=actor_id, created_at=_now())
            session.add(event)
            session.flush()
            return EventRecord.model_validate(event)

        return self._write(fn)

    def set_visibility(self, run_id: int, visibility: str, *, actor: str | None = None) -> RunRecord:
        v.choice(visibility, v.VISIBILITIES, what="visibility")

        def fn(session: Session) -> RunRecord:
            model = self._model(session, run_id, lock=True)
            self._check_owner(session, model, actor)
            if model.visibility.value != visibility:
                model.visibility = m.Visibility(visibility)
                session.add(m.Event(model_id=model.id, kind="publish" if visibility == "public" else "visibility",
                                    payload={"visibility": visibility}, created_at=_now(),
                                    actor_id=self._user(session, actor).id if actor else None))
            return self._run_record(session, model)

        return self._write(fn)

    def reap(self, *, stale_after_s: float) -> list[int]:
        cutoff = _now() - timedelta(seconds=stale_after_s)
        stale = self._query(lambda s: list(s.scalars(select(m.Model.id).where(
            m.Model.status == m.RunStatus.running,
            func.coalesce(m.Model.heartbeat_at, m.Model.started_at) < cutoff))))
        reaped = []
        for run_id in stale:
            def fn(session: Session, run_id: int = run_id) -> bool:
                model = self._model(session, run_id, lock=True)
                if model.status != m.RunStatus.running:
                    return False  # finished meanwhile, or reaped by another worker
                beat = _aware(model.heartbeat_at or model.started_at)
                self._finish(session, model, outcome="failure", failure_class="lost", artifacts=None,
                             failure_message=f"No heartbeat since {beat.isoformat()}; the process running it died or was killed.")
                model.finished_at = beat
                model.duration_s = (beat - _aware(model.started_at)).total_seconds()
                return True

            if self._write(fn):
                reaped.append(run_id)
        return reaped

    # --- evaluation, feedback, flags -----------------------------------------
    # The evaluation queue: only platform workers (holding database credentials) use it.
    def claim_evaluation(self, *, worker: str, lease_s: float, run_id: int | None = None,
                         max_attempts: int = 3) -> EvaluationRequestRecord | None:
        """Claim the oldest request that is queued or whose holder's lease ran out; ``None`` when none is free.

        PostgreSQL skips rows other workers have locked (``FOR UPDATE SKIP
        LOCKED``); SQLite's ``BEGIN IMMEDIATE`` lets one claimer in at a time.
        A request whose workers died ``max_attempts`` times is marked failed.
        """
        worker = v.clean_text(worker, what="worker", limit=120) or "worker"

        def fn(session: Session) -> EvaluationRequestRecord | None:
            now = _now()
            req = m.EvaluationRequest
            free = or_(req.state == "queued", and_(req.state == "running", req.lease_expires_at < now))
            stmt = select(req).where(free)
            if run_id is not None:
                stmt = stmt.where(req.model_id == run_id)
            while (row := session.scalar(stmt.order_by(req.id).limit(1).with_for_update(skip_locked=True))):
                if row.attempts >= max_attempts:  # its workers kept dying: give up on it, look further
                    row.state, row.finished_at, row.lease_token = "failed", now, None
                    row.error = row.error or f"The evaluation was tried {row.attempts} times and never finished."
                    session.add(m.Event(model_id=row.model_id, kind="evaluation_failed", created_at=now,
                                        payload={"message": row.error, "final": True}))
                    session.flush()
                    continue
                row.state, row.worker, row.claimed_at = "running", worker, now
                row.attempts += 1
                row.lease_token = secrets.token_hex(16)
                row.lease_expires_at = now + timedelta(seconds=lease_s)
                session.add(m.Event(model_id=row.model_id, kind="evaluation_started", created_at=now,
                                    payload={"worker": worker, "attempt": row.attempts}))
                session.flush()
                return EvaluationRequestRecord.model_validate(row)
            return None

        return self._write(fn)

    def _held(self, session: Session, claim: EvaluationRequestRecord) -> m.EvaluationRequest | None:
        row = session.scalar(select(m.EvaluationRequest).where(m.EvaluationRequest.id == claim.id).with_for_update())
        if row is None or row.state != "running" or row.lease_token != claim.lease_token:
            return None
        return row

    def renew_evaluation(self, claim: EvaluationRequestRecord, *, lease_s: float) -> bool:
        """Extend the lease (a worker's heartbeat); False once another worker has taken the request over."""
        def fn(session: Session) -> bool:
            row = self._held(session, claim)
            if row is not None:
                row.lease_expires_at = _now() + timedelta(seconds=lease_s)
            return row is not None

        return self._write(fn)

    def complete_evaluation(self, claim: EvaluationRequestRecord, evaluations: Sequence[EvaluationIn],
                            *, payload: Mapping[str, Any] | None = None) -> bool:
        """Record every score of the claimed run and mark the request done, in one transaction.

        False (and nothing recorded) when the lease was lost to another
        worker: scores land once, from whichever worker holds the request.
        """
        clean = [e if isinstance(e, EvaluationIn) else EvaluationIn.model_validate(e) for e in evaluations]
        extra = v.clean_json(payload, what="event payload")

        def fn(session: Session) -> bool:
            row = self._held(session, claim)
            if row is None:
                return False
            for ev in clean:
                self._add_evaluation(session, ev, model_id=row.model_id, base_model=None, executed_by="platform")
            now = _now()
            row.state, row.finished_at, row.lease_token, row.error = "done", now, None, None
            self._model(session, row.model_id).evaluated_at = now
            session.add(m.Event(model_id=row.model_id, kind="evaluation_finished", created_at=now, payload=extra))
            return True

        return self._write(fn)

    def release_evaluation(self, claim: EvaluationRequestRecord) -> bool:
        """Hand the request back untried (its worker is being stopped): queued again, the attempt not
        counted, so the next worker starts it at once instead of waiting out the lease."""
        def fn(session: Session) -> bool:
            row = self._held(session, claim)
            if row is None:
                return False
            row.state, row.lease_token, row.lease_expires_at = "queued", None, None
            row.attempts = max(0, row.attempts - 1)
            return True

        return self._write(fn)

    def fail_evaluation(self, claim: EvaluationRequestRecord, *, error: str, retry: bool) -> bool:
        """Give the request back (``retry``) or mark it failed; False when the lease was already lost."""
        error = v.clean_text(error, what="error", limit=v.MAX_DESCRIPTION_CHARS) or "unknown error"

        def fn(session: Session) -> bool:
            row = self._held(session, claim)
            if row is None:
                return False
            now = _now()
            row.error, row.lease_token, row.lease_expires_at = error, None, None
            row.state = "queued" if retry else "failed"
            if not retry:
                row.finished_at = now
            session.add(m.Event(model_id=row.model_id, kind="evaluation_failed", created_at=now,
                                payload={"message": error, "final": not retry}))
            return True

        return self._write(fn)

    def evaluation_request(self, run_id: int) -> EvaluationRequestRecord | None:
        """The run's evaluation request, if it ended with an adapter."""
        row = self._query(lambda s: s.scalar(select(m.EvaluationRequest).where(m.EvaluationRequest.model_id == run_id)))
        return EvaluationRequestRecord.model_validate(row) if row is not None else None

    @staticmethod
    def _latest_value(session: Session, *, task: str, digest: str, model_id: int | None = None,
                      base_model_id: int | None = None) -> float | None:
        stmt = select(m.Evaluation.value).where(
            m.Evaluation.task == task, m.Evaluation.stamp_hash == digest,
            m.Evaluation.status == "scored", m.Evaluation.is_current.is_(True))
        if model_id is not None:
            stmt = stmt.where(m.Evaluation.model_id == model_id)
        else:
            stmt = stmt.where(m.Evaluation.base_model_id == base_model_id, m.Evaluation.model_id.is_(None))
        return session.scalar(stmt.order_by(m.Evaluation.id.desc()).limit(1))

    def record_evaluation(self, *, evaluation: EvaluationIn, model_id: int | None = None,
                          base_model: str | int | None = None, executed_by: str = "platform") -> EvaluationRecord:
        if (model_id is None) == (base_model is None):
            raise ValidationError("An evaluation belongs to exactly one model or one base model.")
        v.choice(executed_by, ("platform", "user"), what="executed_by")
        ev = evaluation if isinstance(evaluation, EvaluationIn) else EvaluationIn.model_validate(evaluation)
        return self._write(lambda session: self._add_evaluation(session, ev, model_id=model_id,
                                                                base_model=base_model, executed_by=executed_by))

    def _add_evaluation(self, session: Session, ev: EvaluationIn, *, model_id: int | None,
                        base_model: str | int | None, executed_by: str) -> EvaluationRecord:
        stamp = v.clean_json(ev.stamp, what="stamp")
        digest = stamp_hash(stamp)
        model = self._model(session, model_id, lock=True) if model_id is not None else None
        base = self._base(session, base_model) if base_model is not None else session.get(m.BaseModel, model.base_model_id)
        delta_base = delta_parent = None
        if model is not None and ev.value is not None:
            base_value = self._latest_value(session, task=ev.task, digest=digest, base_model_id=base.id)
            delta_base = None if base_value is None else ev.value - base_value
            if model.parent_model_id is not None:
                parent_value = self._latest_value(session, task=ev.task, digest=digest, model_id=model.parent_model_id)
                delta_parent = None if parent_value is None else ev.value - parent_value
        owner_filter = (m.Evaluation.model_id == model.id) if model is not None else and_(
            m.Evaluation.base_model_id == base.id, m.Evaluation.model_id.is_(None))
        if model is not None:  # boards rank models only: keep their stamp counts in step
            superseded = board_stamps.ranked(session, owner_filter, task=ev.task, digest=digest)
            counts = Counter({domain: -n for domain, n in superseded.items()})
            if ev.status == "scored" and executed_by == "platform":
                counts[ev.domain] += 1
            board_stamps.change(session, counts, task=ev.task, digest=digest, suite=board_stamps.suite_of(stamp))
        session.execute(update(m.Evaluation).where(
            owner_filter, m.Evaluation.task == ev.task, m.Evaluation.stamp_hash == digest,
            m.Evaluation.is_current.is_(True)).values(is_current=False))
        row = m.Evaluation(
            model_id=model.id if model is not None else None,
            base_model_id=base.id if model is None else None,
            domain=ev.domain, task=ev.task, metric=ev.metric, value=ev.value, stderr=ev.stderr,
            n_samples=ev.n_samples, status=ev.status, skip_reason=ev.skip_reason, stamp=stamp,
            stamp_hash=digest, delta_base=delta_base, delta_parent=delta_parent,
            executed_by=m.ExecutedBy(executed_by), is_current=True, created_at=_now())
        session.add(row)
        summary = {
            "metric": ev.metric, "value": ev.value, "stderr": ev.stderr, "n": ev.n_samples,
            "status": ev.status, "skip_reason": ev.skip_reason, "stamp": stamp, "stamp_hash": digest,
            "delta_base": delta_base, "delta_parent": delta_parent, "executed_by": executed_by,
        }
        target = model if model is not None else base
        scores = json.loads(json.dumps(target.benchmark_scores or {}))
        scores.setdefault(ev.domain, {})[ev.task] = summary
        target.benchmark_scores = scores
        session.flush()
        return EvaluationRecord.model_validate(row)

    def record_feedback(self, run_id: int, *, user: str, thumbs_up: bool, comment: str | None = None) -> FeedbackRecord:
        comment = v.clean_text(comment, what="comment", limit=v.MAX_COMMENT_CHARS)
        if not isinstance(thumbs_up, bool):
            raise ValidationError("Feedback is a thumbs up or a thumbs down.", field="thumbs_up")

        def fn(session: Session) -> FeedbackRecord:
            model = self._model(session, run_id)
            if not self._can_see(session, model, user):
                raise NotFound(f"There is no model {run_id!r}.")
            user_row = self._user(session, user)
            row = session.scalar(select(m.Feedback).where(m.Feedback.model_id == model.id, m.Feedback.user_id == user_row.id))
            now = _now()
            if row is None:
                row = m.Feedback(model_id=model.id, user_id=user_row.id, created_at=now, thumbs_up=thumbs_up)
                session.add(row)
            row.thumbs_up, row.comment, row.updated_at = thumbs_up, comment, now
            session.flush()
            return FeedbackRecord.model_validate(row).model_copy(update={"username": user_row.username})

        try:
            return self._write(fn)
        except IntegrityError:  # the same user's first feedback raced itself
            return self._write(fn)

    @staticmethod
    def _replace_flags(session: Session, run_id: int, flags: Sequence[CapabilityFlagIn]) -> list[CapabilityFlagRecord]:
        LocalStore._model(session, run_id, lock=True)
        for old in session.scalars(select(m.CapabilityFlag).where(m.CapabilityFlag.model_id == run_id)):
            session.delete(old)
        session.flush()
        rows = [m.CapabilityFlag(model_id=run_id, created_at=_now(), **f.model_dump()) for f in flags]
        session.add_all(rows)
        session.flush()
        return [CapabilityFlagRecord.model_validate(r) for r in rows]

    @staticmethod
    def _parse_flags(flags: Sequence[CapabilityFlagIn]) -> list[CapabilityFlagIn]:
        return [f if isinstance(f, CapabilityFlagIn) else CapabilityFlagIn.model_validate(f) for f in flags]

    def replace_capability_flags(self, run_id: int, flags: Sequence[CapabilityFlagIn]) -> list[CapabilityFlagRecord]:
        parsed = self._parse_flags(flags)
        return self._write(lambda session: self._replace_flags(session, run_id, parsed))

    def replace_capability_flags_many(
        self, flags_by_run: Mapping[int, Sequence[CapabilityFlagIn]]
    ) -> dict[int, list[CapabilityFlagRecord]]:
        parsed = {run_id: self._parse_flags(flags) for run_id, flags in flags_by_run.items()}
        return self._write(lambda session: {run_id: self._replace_flags(session, run_id, flags)
                                            for run_id, flags in parsed.items()})

    # --- jobs ----------------------------------------------------------------
    @staticmethod
    def _job_record(session: Session, job: m.Job) -> JobRecord:
        owner = session.get(m.User, job.owner_id)
        return JobRecord.model_validate(job).model_copy(update={"owner": owner.username if owner else None})

    def create_job(self, *, owner: str, kind: str, notebook: str, parameters: Mapping[str, Any],
                   resources: Mapping[str, Any] | None = None, executor: str = "local") -> JobRecord:
        params = v.clean_json(parameters, what="job parameters")
        res = v.clean_json(resources, what="job resources")

        def fn(session: Session) -> JobRecord:
            job = m.Job(owner_id=self._user(session, owner).id, kind=kind, notebook=notebook, parameters=params,
                        resources=res, executor=executor, state=m.JobState.queued, created_at=_now())
            session.add(job)
            session.flush()
            return self._job_record(session, job)

        return self._write(fn)

    def update_job(self, job_id: int, *, state: str | None = None, external_id: str | None = None,
                   model_id: int | None = None, error: str | None = None, log_path: str | None = None,
                   heartbeat: bool = False) -> JobRecord:
        if state is not None:
            v.choice(state, tuple(s.value for s in m.JobState), what="job state")

        def fn(session: Session) -> JobRecord:
            job = session.scalar(select(m.Job).where(m.Job.id == job_id).with_for_update())
            if job is None:
                raise NotFound(f"There is no job {job_id}.")
            now = _now()
            if state is not None and state != job.state.value:
                if job.state.value in _FINAL_JOB_STATES:
                    raise Conflict(f"Job {job_id} already ended ({job.state.value}).")
                job.state = m.JobState(state)
                if state == "running" and job.started_at is None:
                    job.started_at = now
                if state in _FINAL_JOB_STATES:
                    job.finished_at = now
            if external_id is not None:
                job.external_id = external_id
            if model_id is not None:
                job.model_id = model_id
            if error is not None:
                job.error = error
            if log_path is not None:
                job.log_path = log_path
            if heartbeat or state == "running":
                job.heartbeat_at = now
            return self._job_record(session, job)

        return self._write(fn)

    def get_job(self, job_id: int) -> JobRecord:
        def fn(session: Session) -> JobRecord:
            job = session.get(m.Job, job_id)
            if job is None:
                raise NotFound(f"There is no job {job_id}.")
            return self._job_record(session, job)

        return self._query(fn)

    def claim_job(self, job_id: int) -> bool:
        def fn(session: Session) -> bool:
            now = _now()
            result = session.execute(update(m.Job).where(m.Job.id == job_id, m.Job.state == m.JobState.queued)
                                     .values(state=m.JobState.running, started_at=now, heartbeat_at=now))
            return result.rowcount == 1

        return self._write(fn)

    def list_jobs(self, *, owner: str | None = None, states: Sequence[str] | None = None, limit: int = 100) -> list[JobRecord]:
        def fn(session: Session) -> list[JobRecord]:
            stmt = select(m.Job).order_by(m.Job.id.desc()).limit(limit)
            if owner is not None:
                stmt = stmt.where(m.Job.owner_id == self._user(session, owner).id)
            if states:
                stmt = stmt.where(m.Job.state.in_([m.JobState(s) for s in states]))
            return [self._job_record(session, j) for j in session.scalars(stmt)]

        return self._query(fn)

    def record_notebook_run(self, *, notebook: str, parameters: Mapping[str, Any], archive_hash: str,
                            succeeded: bool, job_id: int | None = None, model_id: int | None = None,
                            template: str | None = None, template_version: str | None = None,
                            rerun_of: int | None = None) -> NotebookRunRecord:
        params = v.clean_json(parameters, what="notebook parameters")

        def fn(session: Session) -> NotebookRunRecord:
            row = m.NotebookRun(job_id=job_id, model_id=model_id, notebook=notebook, parameters=params,
                                archive_hash=archive_hash, succeeded=succeeded, template=template,
                                template_version=template_version, rerun_of=rerun_of, created_at=_now())
            session.add(row)
            session.flush()
            return NotebookRunRecord.model_validate(row)

        return self._write(fn)

    # --- queries ---------------------------------------------------------------
    def get_run(self, run_id_or_slug: int | str, *, viewer: str | None = None) -> RunRecord:
        def fn(session: Session) -> RunRecord:
            model = self._model(session, run_id_or_slug)
            if not self._can_see(session, model, viewer):
                raise NotFound(f"There is no model {run_id_or_slug!r}.")
            return self._run_record(session, model)

        return self._query(fn)

    def _visible_filter(self, session: Session, stmt: Select, viewer: str | None) -> Select:
        if viewer is None:
            return stmt
        user = session.scalar(select(m.User).where(m.User.username == viewer)) if viewer else None
        if user is not None and user.role == m.Role.admin:
            return stmt
        public = m.Model.visibility == m.Visibility.public
        return stmt.where(or_(public, m.Model.owner_id == user.id) if user else public)

    def _runs_query(self, session: Session, stmt: Select, *, viewer: str | None, owner: str | None,
                    domain: str | None, outcome: str | None, visibility: str | None, search: str | None,
                    base_family: str | None) -> Select:
        stmt = self._visible_filter(session, stmt, viewer)
        if owner is not None:
            stmt = stmt.where(m.Model.owner_id == self._user(session, owner).id)
        if domain is not None:
            stmt = stmt.where(m.Model.domain == domain)
        if outcome is not None:
            stmt = stmt.where(m.Model.training_outcome == m.Outcome(outcome))
        if visibility is not None:
            stmt = stmt.where(m.Model.visibility == m.Visibility(visibility))
        if base_family is not None:
            stmt = stmt.where(m.Model.base_model_id.in_(select(m.BaseModel.id).where(m.BaseModel.family == base_family)))
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(or_(m.Model.name.ilike(pattern, escape="\\"), m.Model.slug.ilike(pattern, escape="\\")))
        return stmt

    def list_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                  outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                  base_family: str | None = None, order: str = "newest", summary: bool = False,
                  limit: int = 100, offset: int = 0) -> list[RunRecord]:
        v.choice(order, ("newest", "oldest"), what="order")

        def fn(session: Session) -> list[RunRecord]:
            stmt = select(m.Model)
            if summary:
                stmt = stmt.options(defer(m.Model.loss_curve_data), defer(m.Model.config))
            stmt = self._runs_query(session, stmt, viewer=viewer, owner=owner, domain=domain, outcome=outcome,
                                    visibility=visibility, search=search, base_family=base_family)
            stmt = stmt.order_by(m.Model.id.desc() if order == "newest" else m.Model.id).limit(limit).offset(offset)
            records = []
            for model in session.scalars(stmt):
                if summary:
                    set_committed_value(model, "loss_curve_data", None)
                    set_committed_value(model, "config", {})
                records.append(self._run_record(session, model))
            return records

        return self._query(fn)

    def count_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                   outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                   base_family: str | None = None) -> int:
        def fn(session: Session) -> int:
            stmt = self._runs_query(session, select(func.count()).select_from(m.Model), viewer=viewer, owner=owner,
                                    domain=domain, outcome=outcome, visibility=visibility, search=search,
                                    base_family=base_family)
            return int(session.scalar(stmt) or 0)

        return self._query(fn)

    def children(self, run_id: int, *, viewer: str | None = None) -> list[RunRecord]:
        def fn(session: Session) -> list[RunRecord]:
            stmt = self._visible_filter(session, select(m.Model).where(m.Model.parent_model_id == run_id), viewer)
            return [self._run_record(session, c) for c in session.scalars(stmt.order_by(m.Model.id))]

        return self._query(fn)

    def loss_points(self, run_id: int) -> list[dict[str, Any]]:
        return self._query(lambda s: self._curve(s, run_id))

    def list_evaluations(self, *, model_id: int | None = None, base_model: str | int | None = None) -> list[EvaluationRecord]:
        def fn(session: Session) -> list[EvaluationRecord]:
            stmt = select(m.Evaluation).order_by(m.Evaluation.id)
            if model_id is not None:
                stmt = stmt.where(m.Evaluation.model_id == model_id)
            if base_model is not None:
                stmt = stmt.where(m.Evaluation.base_model_id == self._base(session, base_model).id)
            return [EvaluationRecord.model_validate(e) for e in session.scalars(stmt)]

        return self._query(fn)

    def list_events(self, run_id: int) -> list[EventRecord]:
        return self._query(lambda s: [EventRecord.model_validate(e) for e in s.scalars(
            select(m.Event).where(m.Event.model_id == run_id).order_by(m.Event.id))])

    def list_feedback(self, run_id: int) -> list[FeedbackRecord]:
        return self._query(lambda s: [
            FeedbackRecord.model_validate(f).model_copy(update={"username": name})
            for f, name in s.execute(select(m.Feedback, m.User.username).join(m.User, m.User.id == m.Feedback.user_id)
                                     .where(m.Feedback.model_id == run_id).order_by(m.Feedback.id))])

    def list_capability_flags(self, run_id: int | None = None) -> list[CapabilityFlagRecord]:
        def fn(session: Session) -> list[CapabilityFlagRecord]:
            stmt = select(m.CapabilityFlag).order_by(m.CapabilityFlag.id)
            if run_id is not None:
                stmt = stmt.where(m.CapabilityFlag.model_id == run_id)
            return [CapabilityFlagRecord.model_validate(f) for f in session.scalars(stmt)]

        return self._query(fn)

    def list_notebook_runs(self, *, model_id: int | None = None, job_id: int | None = None,
                           rerun_of: int | None = None, archive_hash: str | None = None) -> list[NotebookRunRecord]:
        def fn(session: Session) -> list[NotebookRunRecord]:
            stmt = select(m.NotebookRun).order_by(m.NotebookRun.id)
            if model_id is not None:
                stmt = stmt.where(m.NotebookRun.model_id == model_id)
            if job_id is not None:
                stmt = stmt.where(m.NotebookRun.job_id == job_id)
            if rerun_of is not None:
                stmt = stmt.where(m.NotebookRun.rerun_of == rerun_of)
            if archive_hash is not None:
                stmt = stmt.where(m.NotebookRun.archive_hash == archive_hash)
            return [NotebookRunRecord.model_validate(r) for r in session.scalars(stmt)]

        return self._query(fn)

    def get_notebook_run(self, notebook_run_id: int) -> NotebookRunRecord:
        def fn(session: Session) -> NotebookRunRecord:
            row = session.get(m.NotebookRun, notebook_run_id)
            if row is None:
                raise NotFound(f"There is no notebook run {notebook_run_id}.")
            return NotebookRunRecord.model_validate(row)

        return self._query(fn)

    @staticmethod
    def _scored(domain: str) -> Any:
        """Current platform scores of models in one domain: what a board may rank."""
        E = m.Evaluation
        return and_(E.domain == domain, E.is_current.is_(True), E.status == "scored",
                    E.executed_by == m.ExecutedBy.platform, E.model_id.is_not(None))

    def _board_filter(self, domain: str, base_family: str | None) -> Any:
        E, M = m.Evaluation, m.Model
        cond = and_(self._scored(domain), E.model_id.in_(select(M.id).where(M.visibility == m.Visibility.public)))
        if base_family is not None:
            cond = and_(cond, E.model_id.in_(select(M.id).join(m.BaseModel, m.BaseModel.id == M.base_model_id)
                                              .where(m.BaseModel.family == base_family)))
        return cond

    @staticmethod
    def _suite_name(suite: str) -> str:
        from hubkit.evaluate.suites import SUITES

        return SUITES[suite].name

    @classmethod
    def _in_suite(cls, suite: str) -> Any:
        """Scores whose stamp names ``suite``. A stamp from before stamps named their suite counts as
        offline: the offline suite was then the only one the platform ran. The stamp, not the task, says
        it, since a task may sit in both suites (HumanEval) under two stamps."""
        suite = cls._suite_name(suite)
        named = m.Evaluation.stamp["suite"].as_string()
        return func.coalesce(named, "offline") == suite

    def leaderboard(self, *, domain: str, task: str | None = None, stamp_hash: str | None = None,
                    base_family: str | None = None, suite: str | None = None, ascending: bool = False,
                    limit: int = 50, offset: int = 0) -> list[LeaderboardRow]:
        limit = max(1, min(int(limit), 500))
        suite_name = None if suite is None else self._suite_name(suite)

        def fn(session: Session) -> list[LeaderboardRow]:
            E, M, B, U = m.Evaluation, m.Model, m.BaseModel, m.User
            board = self._scored(domain)
            # Without a task or stamp, the board's most common ones, read from the counts kept as
            # scores are recorded (board_stamps) rather than counted over every score of the board.
            # A stamp names one suite, so the suite is checked once, on the stamp, not on every score.
            chosen_task = task
            if chosen_task is None:
                chosen_task = board_stamps.most_common_task(session, domain=domain, suite=suite_name)
                if chosen_task is None:
                    return []
            digest = stamp_hash
            if digest is None:
                digest = board_stamps.most_common_stamp(session, domain=domain, task=chosen_task, suite=suite_name)
                if digest is None:
                    return []
            elif suite_name is not None and not board_stamps.ranks(session, domain=domain, task=chosen_task,
                                                                   digest=digest, suite=suite_name):
                return []
            order = (E.value.asc() if ascending else E.value.desc(), E.id)
            stmt = (
                select(E, M.slug, M.name, U.username, B.key, B.family, M.training_outcome, M.parent_model_id, M.domain)
                .join(M, M.id == E.model_id).join(B, B.id == M.base_model_id).join(U, U.id == M.owner_id)
                .where(board, E.task == chosen_task, E.stamp_hash == digest, M.visibility == m.Visibility.public)
                .order_by(*order).limit(limit).offset(offset)
            )
            if base_family is not None:
                stmt = stmt.where(B.family == base_family)
            rows = []
            for i, (e, slug, name, owner, bkey, family, outcome, parent, mdomain) in enumerate(session.execute(stmt)):
                rows.append(LeaderboardRow(
                    rank=offset + i + 1, model_id=e.model_id, slug=slug, name=name, owner=owner, domain=mdomain,
                    base_model_key=bkey, base_family=family, task=e.task, metric=e.metric, value=e.value,
                    stderr=e.stderr, n_samples=e.n_samples, stamp_hash=e.stamp_hash,
                    training_outcome=outcome, parent_model_id=parent))
            return rows

        return self._query(fn)

    def leaderboard_stamps(self, *, domain: str, task: str, base_family: str | None = None,
                           suite: str | None = None) -> list[tuple[str, int]]:
        E = m.Evaluation
        cond = and_(self._board_filter(domain, base_family), E.task == task)
        if suite is not None:
            cond = and_(cond, self._in_suite(suite))
        return self._query(lambda s: [(h, n) for h, n in s.execute(
            select(E.stamp_hash, func.count()).where(cond)
            .group_by(E.stamp_hash).order_by(func.count().desc(), E.stamp_hash))])
