"""``ApiStore``: the Store over HTTP, for user kernels that hold no database credentials.

Every call goes to the hubkit service with a JupyterHub token in the
``Authorization`` header; the service authorises it and calls its own
``LocalStore``. Errors come back as the same typed ``HubkitError`` subclasses
a ``LocalStore`` raises (the service names the class in its error body).

Arguments that say on whose behalf a call is made (``actor``, ``viewer``) are
sent as the ``X-Hubkit-Act-As`` header, which the service accepts only from a
platform token; ``viewer=""`` (a visitor) sends no token at all. With a user's
token the service ignores claims to be someone else: it records the token's
owner and marks what it writes ``executed_by="user"``.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hubkit import errors
from hubkit.store import jsonsafe
from hubkit.store.base import PointLike, Store
from hubkit.store.records import (
    BaseModelRecord,
    CapabilityFlagIn,
    CapabilityFlagRecord,
    DatasetRecord,
    EvaluationIn,
    EvaluationRecord,
    EventRecord,
    FeedbackRecord,
    JobRecord,
    LeaderboardRow,
    LossPointIn,
    NotebookRunRecord,
    RunRecord,
    UserRecord,
)

R = TypeVar("R", bound=BaseModel)
ACT_AS_HEADER = "X-Hubkit-Act-As"
_BY_STATUS: dict[int, type[errors.HubkitError]] = {
    400: errors.ValidationError, 401: errors.PermissionDenied, 403: errors.PermissionDenied,
    404: errors.NotFound, 409: errors.Conflict, 413: errors.ValidationError, 422: errors.ValidationError,
}
_CONNECT_ATTEMPTS = 5


def _error_class(name: str, status: int) -> type[errors.HubkitError]:
    cls = getattr(errors, name, None)
    if cls is errors.DatasetRejected:  # its problems travel in the detail; the first names file/row/field
        return errors.DataValidationError
    if isinstance(cls, type) and issubclass(cls, errors.HubkitError) and cls is not errors.MissingExtra:
        return cls
    return _BY_STATUS.get(status, errors.HubkitError)


def raise_for_error(response: httpx.Response) -> None:
    """Turn an error answer of the service into the typed error it stands for."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("error") or f"The hubkit service answered {response.status_code}.")
    detail = body.get("detail")
    detail_text = detail if isinstance(detail, str) else json.dumps(detail) if detail is not None else None
    cls = _error_class(str(body.get("type", "")), response.status_code)
    if issubclass(cls, errors.DataValidationError):
        raise cls(message, file=body.get("file"), row=body.get("row"), field=body.get("field"), detail=detail_text)
    if issubclass(cls, errors.ValidationError):
        raise cls(message, field=body.get("field"), detail=detail_text)
    raise cls(message, detail=detail_text)


def _plain(obj: Any, *, what: str) -> Any:
    """JSON-ready copy: non-finite numbers as "nan"/"inf"/"-inf"; anything else not JSON is refused here."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="python")
    try:
        safe = jsonsafe.encode(obj)
        json.dumps(safe, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise errors.ValidationError(f"The {what} must be plain JSON data.", field=what, detail=str(exc)) from exc
    return safe


def _id(value: int | str) -> str:
    return quote(str(value), safe="")


class ApiStore(Store):
    """The Store contract over the hubkit service at ``url`` with a JupyterHub ``token``."""

    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 60.0) -> None:
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")  # set in every user server by the hub
        if not token:
            raise errors.ConfigError("ApiStore needs a token (in a JupyterHub server: JUPYTERHUB_API_TOKEN).")
        self.url = url.rstrip("/")
        self._token = token
        self._client = httpx.Client(base_url=self.url + "/v1", timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    # --- transport ---------------------------------------------------------------
    def _headers(self, who: str | None) -> dict[str, str]:
        if who == "":  # a visitor: no token at all
            return {}
        headers = {"Authorization": f"token {self._token}"}
        if who is not None:
            headers[ACT_AS_HEADER] = who
        return headers

    def _call(self, method: str, path: str, *, who: str | None = None, body: Any = None,
              params: Mapping[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(_CONNECT_ATTEMPTS):
            try:
                response = self._client.request(method, path, headers=self._headers(who), json=body, params=query)
                break
            except httpx.ConnectError as exc:  # nothing was sent: safe to try again
                if attempt == _CONNECT_ATTEMPTS - 1:
                    raise errors.HubkitError("The hubkit service cannot be reached; try again shortly.",
                                             detail=f"{self.url}: {exc}") from exc
                time.sleep(0.2 * 2**attempt)
        raise_for_error(response)
        return None if response.status_code == 204 else response.json()

    def _one(self, model: type[R], method: str, path: str, **kw: Any) -> R:
        return model.model_validate(self._call(method, path, **kw))

    def _many(self, model: type[R], method: str, path: str, **kw: Any) -> list[R]:
        return [model.model_validate(x) for x in self._call(method, path, **kw)]

    # --- users and catalog -------------------------------------------------
    def ensure_user(self, username: str, *, role: str = "casual", display_name: str | None = None) -> UserRecord:
        return self._one(UserRecord, "POST", "/users", body={"username": username, "role": role,
                                                             "display_name": display_name})

    def get_user(self, username: str) -> UserRecord:
        return self._one(UserRecord, "GET", f"/users/{_id(username)}")

    def upsert_base_model(self, *, key: str, family: str, hf_id: str, architecture: str, licence: str,
                          parameters: int | None = None, is_standin: bool = False,
                          info: Mapping[str, Any] | None = None) -> BaseModelRecord:
        body = {"family": family, "hf_id": hf_id, "architecture": architecture, "licence": licence,
                "parameters": parameters, "is_standin": is_standin, "info": _plain(dict(info or {}), what="base model info")}
        return self._one(BaseModelRecord, "PUT", f"/base-models/{_id(key)}", body=body)

    def get_base_model(self, key_or_id: str | int) -> BaseModelRecord:
        if isinstance(key_or_id, int):
            return self._one(BaseModelRecord, "GET", f"/base-models/by-id/{key_or_id}")
        return self._one(BaseModelRecord, "GET", f"/base-models/{_id(key_or_id)}")

    def list_base_models(self) -> list[BaseModelRecord]:
        return self._many(BaseModelRecord, "GET", "/base-models")

    # --- datasets ------------------------------------------------------------
    def register_dataset(self, *, owner: str | None, name: str, fingerprint: str, format: str,
                         n_rows: int, stats: Mapping[str, Any] | None = None, source: str | None = None,
                         archive_hash: str | None = None, parent_dataset_id: int | None = None,
                         licence: str | None = None, item_hashes: Sequence[str] = ()) -> DatasetRecord:
        body = {"owner": owner, "name": name, "fingerprint": fingerprint, "format": format, "n_rows": n_rows,
                "stats": _plain(dict(stats or {}), what="dataset stats"), "source": source,
                "archive_hash": archive_hash, "parent_dataset_id": parent_dataset_id, "licence": licence,
                "item_hashes": list(item_hashes)}
        return self._one(DatasetRecord, "POST", "/datasets", body=body)

    def upload_dataset(self, *, data: bytes, filename: str, name: str | None = None,
                       format: str | None = None) -> DatasetRecord:
        """Upload a file's bytes; the service validates, archives and records it (not part of ``Store``)."""
        response = self._client.put("/datasets/upload", content=data, headers={
            **self._headers(None), "Content-Type": "application/octet-stream"},
            params={k: v for k, v in {"filename": filename, "name": name, "format": format}.items() if v})
        raise_for_error(response)
        return DatasetRecord.model_validate(response.json()["dataset"])

    def get_dataset(self, dataset_id: int, *, viewer: str | None = None) -> DatasetRecord:
        return self._one(DatasetRecord, "GET", f"/datasets/{int(dataset_id)}", who=viewer)

    def list_datasets(self, *, viewer: str | None = None) -> list[DatasetRecord]:
        return self._many(DatasetRecord, "GET", "/datasets", who=viewer)

    def dataset_item_hashes(self, dataset_id: int) -> set[str]:
        return set(self._call("GET", f"/datasets/{int(dataset_id)}/item-hashes"))

    def taint_dataset(self, dataset_id: int, *, reason: str, actor: str | None = None) -> DatasetRecord:
        return self._one(DatasetRecord, "POST", f"/datasets/{int(dataset_id)}/taint", who=actor,
                         body={"reason": reason})

    # --- runs ----------------------------------------------------------------
    def create_run(self, *, owner: str, name: str, domain: str, base_model: str | int,
                   dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                   seed: int | None = None, executed_by: str = "platform", visibility: str = "private",
                   hardware: Mapping[str, Any] | None = None, versions: Mapping[str, Any] | None = None,
                   description: str | None = None, template: str | None = None,
                   template_version: str | None = None) -> RunRecord:
        body = {"owner": owner, "name": name, "domain": domain, "base_model": base_model, "dataset_id": dataset_id,
                "seed": seed, "executed_by": executed_by, "visibility": visibility, "description": description,
                "template": template, "template_version": template_version, **self._run_json(config, hardware, versions)}
        return self._one(RunRecord, "POST", "/runs", body=body)

    @staticmethod
    def _run_json(config: Mapping[str, Any] | None, hardware: Mapping[str, Any] | None,
                  versions: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"config": None if config is None else _plain(dict(config), what="training configuration"),
                "hardware": None if hardware is None else _plain(dict(hardware), what="hardware"),
                "versions": None if versions is None else _plain(dict(versions), what="versions")}

    def fork_run(self, parent_id: int, *, owner: str, name: str, relation: str = "fork",
                 dataset_id: int | None = None, config: Mapping[str, Any] | None = None,
                 domain: str | None = None, seed: int | None = None, executed_by: str = "platform",
                 visibility: str = "private", hardware: Mapping[str, Any] | None = None,
                 versions: Mapping[str, Any] | None = None, description: str | None = None,
                 template: str | None = None, template_version: str | None = None) -> RunRecord:
        body = {"owner": owner, "name": name, "relation": relation, "dataset_id": dataset_id, "domain": domain,
                "seed": seed, "executed_by": executed_by, "visibility": visibility, "description": description,
                "template": template, "template_version": template_version, **self._run_json(config, hardware, versions)}
        return self._one(RunRecord, "POST", f"/runs/{int(parent_id)}/fork", body=body)

    def append_points(self, run_id: int, points: Sequence[PointLike]) -> int:
        try:
            parsed = [p if isinstance(p, LossPointIn) else LossPointIn.model_validate(dict(p)) for p in points]
        except (PydanticValidationError, TypeError, ValueError) as exc:
            raise errors.ValidationError("A loss point is malformed.", field="points", detail=str(exc)) from exc
        body = {"points": [_plain(p.model_dump(exclude_none=True), what="points") for p in parsed]}
        return int(self._call("POST", f"/runs/{int(run_id)}/points", body=body)["stored"])

    def heartbeat(self, run_id: int) -> None:
        self._call("POST", f"/runs/{int(run_id)}/heartbeat")

    def finish_run(self, run_id: int, *, outcome: str, failure_class: str | None = None,
                   failure_message: str | None = None, artifacts: Mapping[str, Any] | None = None) -> RunRecord:
        body = {"outcome": outcome, "failure_class": failure_class, "failure_message": failure_message,
                "artifacts": None if artifacts is None else _plain(dict(artifacts), what="artifacts")}
        return self._one(RunRecord, "POST", f"/runs/{int(run_id)}/finish", body=body)

    def add_artifacts(self, run_id: int, artifacts: Mapping[str, Any]) -> RunRecord:
        return self._one(RunRecord, "POST", f"/runs/{int(run_id)}/artifacts",
                         body={"artifacts": _plain(dict(artifacts), what="artifacts")})

    def download_ticket(self, run_id: int, route: str, *, viewer: str | None = None) -> str:
        return str(self._call("POST", f"/runs/{int(run_id)}/tickets", who=viewer, body={"route": route})["ticket"])

    def record_event(self, run_id: int | None, kind: str, payload: Mapping[str, Any] | None = None,
                     *, actor: str | None = None) -> EventRecord:
        body = {"kind": kind, "payload": None if payload is None else _plain(dict(payload), what="event payload")}
        if run_id is None:
            return self._one(EventRecord, "POST", "/events", who=actor, body=body)
        return self._one(EventRecord, "POST", f"/runs/{int(run_id)}/events", who=actor, body=body)

    def set_visibility(self, run_id: int, visibility: str, *, actor: str | None = None) -> RunRecord:
        return self._one(RunRecord, "PUT", f"/runs/{int(run_id)}/visibility", who=actor,
                         body={"visibility": getattr(visibility, "value", visibility)})

    def reap(self, *, stale_after_s: float) -> list[int]:
        return list(self._call("POST", "/reap", params={"stale_after_s": stale_after_s})["reaped"])

    # --- evaluation, feedback, flags -----------------------------------------
    def record_evaluation(self, *, evaluation: EvaluationIn, model_id: int | None = None,
                          base_model: str | int | None = None, executed_by: str = "platform") -> EvaluationRecord:
        ev = evaluation if isinstance(evaluation, EvaluationIn) else EvaluationIn.model_validate(evaluation)
        body = {"evaluation": _plain(ev, what="evaluation"), "model_id": model_id, "base_model": base_model,
                "executed_by": executed_by}
        return self._one(EvaluationRecord, "POST", "/evaluations", body=body)

    def record_feedback(self, run_id: int, *, user: str, thumbs_up: bool, comment: str | None = None) -> FeedbackRecord:
        return self._one(FeedbackRecord, "POST", f"/runs/{int(run_id)}/feedback",
                         body={"user": user, "thumbs_up": thumbs_up, "comment": comment})

    def replace_capability_flags(self, run_id: int, flags: Sequence[CapabilityFlagIn]) -> list[CapabilityFlagRecord]:
        body = {"flags": [_plain(f if isinstance(f, CapabilityFlagIn) else CapabilityFlagIn.model_validate(f),
                                 what="capability flag") for f in flags]}
        return self._many(CapabilityFlagRecord, "PUT", f"/runs/{int(run_id)}/capability-flags", body=body)

    # --- jobs ----------------------------------------------------------------
    def create_job(self, *, owner: str, kind: str, notebook: str, parameters: Mapping[str, Any],
                   resources: Mapping[str, Any] | None = None, executor: str = "local") -> JobRecord:
        body = {"owner": owner, "kind": kind, "notebook": notebook, "executor": executor,
                "parameters": _plain(dict(parameters), what="job parameters"),
                "resources": None if resources is None else _plain(dict(resources), what="job resources")}
        return self._one(JobRecord, "POST", "/jobs/records", body=body)

    def update_job(self, job_id: int, *, state: str | None = None, external_id: str | None = None,
                   model_id: int | None = None, error: str | None = None, log_path: str | None = None,
                   heartbeat: bool = False) -> JobRecord:
        body = {"state": state, "external_id": external_id, "model_id": model_id, "error": error,
                "log_path": log_path, "heartbeat": heartbeat}
        return self._one(JobRecord, "PATCH", f"/jobs/{int(job_id)}", body=body)

    def claim_job(self, job_id: int) -> bool:
        return bool(self._call("POST", f"/jobs/{int(job_id)}/claim")["claimed"])

    def job_notebook(self, job_id: int) -> bytes:
        """The notebook job ``job_id`` runs (for its worker, with the job's token; not part of ``Store``)."""
        response = self._client.get(f"/jobs/{int(job_id)}/notebook", headers=self._headers(None))
        raise_for_error(response)
        return response.content

    def archive_executed(self, job_id: int, data: bytes) -> str:
        """Archive job ``job_id``'s executed notebook; returns its hash (not part of ``Store``)."""
        response = self._client.put(f"/jobs/{int(job_id)}/notebook", content=data, headers={
            **self._headers(None), "Content-Type": "application/octet-stream"})
        raise_for_error(response)
        return str(response.json()["digest"])

    def get_job(self, job_id: int) -> JobRecord:
        return self._one(JobRecord, "GET", f"/jobs/{int(job_id)}")

    def list_jobs(self, *, owner: str | None = None, states: Sequence[str] | None = None, limit: int = 100) -> list[JobRecord]:
        return self._many(JobRecord, "GET", "/jobs", params={"owner": owner, "state": list(states or ()) or None,
                                                             "limit": limit})

    def record_notebook_run(self, *, notebook: str, parameters: Mapping[str, Any], archive_hash: str,
                            succeeded: bool, job_id: int | None = None, model_id: int | None = None,
                            template: str | None = None, template_version: str | None = None,
                            rerun_of: int | None = None) -> NotebookRunRecord:
        body = {"notebook": notebook, "parameters": _plain(dict(parameters), what="notebook parameters"),
                "archive_hash": archive_hash, "succeeded": succeeded, "job_id": job_id, "model_id": model_id,
                "template": template, "template_version": template_version, "rerun_of": rerun_of}
        return self._one(NotebookRunRecord, "POST", "/notebook-runs", body=body)

    # --- queries ---------------------------------------------------------------
    def get_run(self, run_id_or_slug: int | str, *, viewer: str | None = None) -> RunRecord:
        if isinstance(run_id_or_slug, int):
            return self._one(RunRecord, "GET", f"/runs/{run_id_or_slug}", who=viewer)
        return self._one(RunRecord, "GET", f"/runs/by-slug/{_id(run_id_or_slug)}", who=viewer)

    def list_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                  outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                  base_family: str | None = None, order: str = "newest", summary: bool = False,
                  limit: int = 100, offset: int = 0) -> list[RunRecord]:
        params = {"owner": owner, "domain": domain, "outcome": outcome, "visibility": visibility, "search": search,
                  "base_family": base_family, "order": order, "summary": summary, "limit": limit, "offset": offset}
        return self._many(RunRecord, "GET", "/runs", who=viewer, params=params)

    def count_runs(self, *, viewer: str | None = None, owner: str | None = None, domain: str | None = None,
                   outcome: str | None = None, visibility: str | None = None, search: str | None = None,
                   base_family: str | None = None) -> int:
        params = {"owner": owner, "domain": domain, "outcome": outcome, "visibility": visibility, "search": search,
                  "base_family": base_family}
        return int(self._call("GET", "/runs/count", who=viewer, params=params)["count"])

    def children(self, run_id: int, *, viewer: str | None = None) -> list[RunRecord]:
        return self._many(RunRecord, "GET", f"/runs/{int(run_id)}/children", who=viewer)

    def loss_points(self, run_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/runs/{int(run_id)}/points"))

    def list_evaluations(self, *, model_id: int | None = None, base_model: str | int | None = None) -> list[EvaluationRecord]:
        params = {"model_id": model_id, **({"base_model_id": base_model} if isinstance(base_model, int)
                                          else {"base_model": base_model})}
        return self._many(EvaluationRecord, "GET", "/evaluations", params=params)

    def list_events(self, run_id: int) -> list[EventRecord]:
        return self._many(EventRecord, "GET", f"/runs/{int(run_id)}/events")

    def list_feedback(self, run_id: int) -> list[FeedbackRecord]:
        return self._many(FeedbackRecord, "GET", f"/runs/{int(run_id)}/feedback")

    def list_capability_flags(self, run_id: int | None = None) -> list[CapabilityFlagRecord]:
        return self._many(CapabilityFlagRecord, "GET", "/capability-flags", params={"run_id": run_id})

    def list_notebook_runs(self, *, model_id: int | None = None, job_id: int | None = None,
                           rerun_of: int | None = None, archive_hash: str | None = None) -> list[NotebookRunRecord]:
        return self._many(NotebookRunRecord, "GET", "/notebook-runs",
                          params={"model_id": model_id, "job_id": job_id, "rerun_of": rerun_of,
                                  "archive_hash": archive_hash})

    def get_notebook_run(self, notebook_run_id: int) -> NotebookRunRecord:
        return self._one(NotebookRunRecord, "GET", f"/notebook-runs/{int(notebook_run_id)}")

    def leaderboard(self, *, domain: str, task: str | None = None, stamp_hash: str | None = None,
                    base_family: str | None = None, suite: str | None = None, ascending: bool = False,
                    limit: int = 50, offset: int = 0) -> list[LeaderboardRow]:
        params = {"task": task, "stamp_hash": stamp_hash, "base_family": base_family, "suite": suite,
                  "ascending": ascending, "limit": limit, "offset": offset}
        return self._many(LeaderboardRow, "GET", f"/leaderboards/{_id(domain)}", params=params)

    def leaderboard_stamps(self, *, domain: str, task: str, base_family: str | None = None,
                           suite: str | None = None) -> list[tuple[str, int]]:
        rows = self._call("GET", f"/leaderboards/{_id(domain)}/{_id(task)}/stamps",
                          params={"base_family": base_family, "suite": suite})
        return [(r["stamp_hash"], int(r["models"])) for r in rows]
