"""Every route that takes an id or a slug, tried by another user: found by walking the OpenAPI document.

Nothing here lists the routes. Each operation's path, query and body inputs
are read from ``/openapi.json``; every input that names a record (a path
parameter, or a query or body field called ``*_id``, ``slug`` or ``rerun_of``)
is pointed at one of alice's private records while bob calls. The answer must
be 404, worded as for a missing record and leaking none of it, or 403 on a
route the document marks as platform-only. The same request with bob's own
record then must not be refused, so the 404 came from the id and not from a
malformed request. A new route is covered the day it is added; an input with a
new name fails here until it is classified below.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.service.access import PLATFORM_ONLY

# input name → which kind of record it names (alice's private one in the attack)
PRIVATE = {"run_id": "run", "model_id": "run", "parent_model_id": "run", "slug": "slug",
           "dataset_id": "dataset", "parent_dataset_id": "dataset", "job_id": "job",
           "notebook_run_id": "notebook_run", "rerun_of": "notebook_run", "notebook_digest": "notebook"}
# inputs that name no private record: the catalog, leaderboards, user names (shown on every public
# profile), an executor's own id for a job (set by the platform only), and the content hash of an
# archived object, which is the capability to read it (see hubkit/service/routes/archive.py); an
# export's format and quantization
PUBLIC = {"digest": "0" * 64, "key": "llama3-standin", "base_id": 1, "base_model": "llama3-standin", "base_model_id": 1,
          "username": "bob", "owner": "bob", "domain": "math", "task": "mw_math", "part": "adapter",
          "hf_id": "meta-llama/Meta-Llama-3-8B", "external_id": "walk-1", "fmt": "gguf", "quantization": "f16"}
# plain values for the other required body fields
VALUES: dict[str, Any] = {"name": "walk", "outcome": "success", "reason": "walk", "kind": "note",
                          "visibility": "private", "points": [{"step": 1, "loss": 1.0}], "thumbs_up": True,
                          "fingerprint": "ab" * 32, "format": "text", "n_rows": 1, "artifacts": {"walk": "x"},
                          "notebook": "train", "parameters": {}, "metric": "acc", "value": 0.5,
                          "archive_hash": "cd" * 32, "succeeded": True, "family": "llama3",
                          "architecture": "LlamaForCausalLM", "licence": "mit", "flags": [],
                          "route": "download/adapter"}


def _is_id(name: str) -> bool:
    return name.endswith("_id") or name in ("slug", "rerun_of")


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _example(schema: dict[str, Any], doc: dict[str, Any], name: str | None = None) -> Any:
    if name in VALUES:
        return VALUES[name]
    if name in PUBLIC:
        return PUBLIC[name]
    schema = _resolve(schema, doc)
    if "anyOf" in schema:
        return _example(next(s for s in schema["anyOf"] if s.get("type") != "null"), doc, name)
    if "enum" in schema or "const" in schema:
        return schema.get("enum", [schema.get("const")])[0]
    kind = schema.get("type")
    if kind == "object":
        return {k: _example(v, doc, k) for k, v in schema.get("properties", {}).items()
                if k in schema.get("required", ())}
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {}


@dataclass
class Inputs:
    path: dict[str, str]
    query: list[str]
    body: dict[str, Any] | None
    body_props: list[str]


def _inputs(op: dict[str, Any], doc: dict[str, Any]) -> Inputs:
    path = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
    query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    body = _resolve(content["schema"], doc) if content else None
    return Inputs(path=path, query=query, body=_example(body, doc) if body else None,
                  body_props=list(body.get("properties", {})) if body else [])


def _records(svc, owner: str) -> dict[str, Any]:
    """A private running run with an adapter, a dataset, a queued job and a notebook run of ``owner``."""
    local = svc.local
    run = local.create_run(owner=owner, name=f"{owner} secret run", domain="math", base_model="llama3-standin")
    adapter = open_archive(svc.settings.archive_root).put_bytes(f"{owner} adapter".encode())
    local.add_artifacts(run.id, {"adapter": adapter})
    data = local.register_dataset(owner=owner, name=f"{owner} secret data", format="text", n_rows=1,
                                  fingerprint=hashlib.sha256(owner.encode()).hexdigest())
    job = local.create_job(owner=owner, kind="notebook", notebook="train", parameters={})
    executed = open_archive(svc.settings.archive_root, namespace=NOTEBOOKS).put_bytes(f"{owner} secret nb".encode())
    nb = local.record_notebook_run(notebook="train", parameters={}, archive_hash=executed, succeeded=True,
                                   job_id=job.id, model_id=run.id)
    return {"run": run.id, "slug": run.slug, "dataset": data.id, "job": job.id, "notebook_run": nb.id,
            "notebook": executed,
            "fingerprint": data.fingerprint, "secret": f"{owner} secret"}


def _request(client, method: str, url: str, inputs: Inputs, target: str, records: dict[str, Any],
             own: dict[str, Any]):
    """``target`` names ``records`` (the attack's or the control's); other ids name bob's own."""
    def value(name: str) -> Any:
        if name in PRIVATE:
            return (records if name == target else own)[PRIVATE[name]]
        return PUBLIC[name]

    for name in inputs.path:
        url = url.replace("{" + name + "}", str(value(name)))
    params = {target: value(target)} if target in inputs.query else {}
    body = dict(inputs.body) if inputs.body is not None else None
    if body is not None and target in inputs.body_props:
        body[target] = value(target)
    return client.request(method.upper(), url, params=params, json=body)


def test_every_id_taking_route_answers_404_or_403_to_another_user(svc):
    doc = svc.http().get("/openapi.json").json()
    alice = _records(svc, "alice")
    prefix = "/services/hubkit"
    tried, problems = 0, []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            inputs = _inputs(op, doc)
            names = [*inputs.path, *inputs.query, *inputs.body_props]
            unknown = [n for n in names if (n in inputs.path or _is_id(n)) and n not in PRIVATE and n not in PUBLIC]
            assert not unknown, f"{method.upper()} {path}: classify {unknown} in PRIVATE or PUBLIC"
            url = path.removeprefix(prefix)
            platform = bool(op.get(PLATFORM_ONLY))
            for target in (n for n in names if n in PRIVATE):
                tried += 1
                own = _records(svc, "bob")
                where = f"{method.upper()} {path} with alice's {target}"
                r = _request(svc.http("bob"), method, url, inputs, target, alice, own)
                if platform:
                    if r.status_code != 403:
                        problems.append(f"{where}: {r.status_code}, expected 403 (platform only)")
                    control = _request(svc.http("platform"), method, url, inputs, target, own, own)
                elif r.status_code != 404 or r.json()["type"] != "NotFound":
                    problems.append(f"{where}: {r.status_code} {r.text[:200]}, expected 404")
                    continue
                else:
                    control = _request(svc.http("bob"), method, url, inputs, target, own, own)
                if alice["fingerprint"] in r.text or alice["secret"] in r.text:
                    problems.append(f"{where}: the answer names alice's record: {r.text[:200]}")
                # a 404 that names bob's own record found it and lacks only the part asked for (an export)
                found_own = control.status_code == 404 and own["secret"] in control.text
                if (control.status_code in (401, 403, 404) and not found_own) or control.status_code >= 500:
                    problems.append(f"{where}: the control with bob's own record got {control.status_code} "
                                    f"{control.text[:200]}")
                visitor = _request(svc.http(None), method, url, inputs, target, alice, own)
                if visitor.status_code not in (401, 404):
                    problems.append(f"{where}, as a visitor: {visitor.status_code}")
    assert not problems, "\n".join(problems)
    assert tried >= 30  # the walk reached the routes (a broken walk would pass vacuously)
    run = svc.local.get_run(alice["run"])
    assert (run.status.value, run.visibility.value, svc.local.loss_points(run.id)) == ("running", "private", [])
    assert svc.local.get_dataset(alice["dataset"]).tainted is None
    assert svc.local.get_job(alice["job"]).state.value == "queued"
    assert svc.local.list_feedback(alice["run"]) == [] and svc.local.children(alice["run"]) == []
