"""Push to the Hub, offline up to the network call: the folder it would send, its card read back by
huggingface_hub, and the plain sentences for a missing or read-only token and a licence that forbids it."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from huggingface_hub import metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from hubkit.archive import open_archive
from hubkit.errors import ExportError, NotFound, PermissionDenied
from hubkit.export.push import prepare_push, push_model
from hubkit.store import LocalStore
from hubkit.store.records import EvaluationIn

STAMP = {"harness": "lm-evaluation-harness", "harness_version": "0.4.13", "task_version": 1, "num_fewshot": 0,
         "limit": 50}


def _run_with_adapter(store: LocalStore, tmp_path: Path, *, base: str = "qwen2.5-standin") -> int:
    """A finished run whose adapter is a real PEFT adapter of the stand-in, with two platform scores."""
    from peft import LoraConfig, get_peft_model

    from hubkit.catalog import load_base

    model, _ = load_base("qwen2.5-standin")
    peft = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    peft.save_pretrained(tmp_path / "adapter")
    run = store.create_run(owner="alice", name="Sums tutor", domain="math", base_model=base)
    store.finish_run(run.id, outcome="success")
    store.add_artifacts(run.id, {"adapter": open_archive().put_dir(tmp_path / "adapter")})
    for task, value in (("mw_math", 0.61), ("mw_math_choice", 0.72)):
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task=task, metric="acc", value=value,
                                                        stderr=0.03, n_samples=50, stamp=STAMP), model_id=run.id)
    return run.id


def test_push_folder_and_card_round_trip_with_the_stored_scores(hub: LocalStore, tmp_path: Path) -> None:
    run_id = _run_with_adapter(hub, tmp_path)
    plan = prepare_push(store=hub, model=run_id, viewer="alice", repo_id="alice/sums-tutor", work=tmp_path,
                        source_url="https://hub.example/models/sums-tutor")
    assert {"README.md", "adapter_config.json", "adapter_model.safetensors"} <= set(plan.files)
    assert sorted(p.name for p in plan.folder.iterdir()) == sorted(plan.files)
    meta = metadata_load(plan.folder / "README.md")
    assert meta["base_model"] == "qwen2.5-standin" and meta["base_model_relation"] == "adapter"
    assert meta["license"] == "apache-2.0" and "math" in meta["tags"]
    _, results = model_index_to_eval_results(meta["model-index"])
    stored = hub.get_run(run_id).benchmark_scores["math"]
    assert {r.dataset_name: r.metric_value for r in results} == {t: e["value"] for t, e in stored.items()}
    assert all(r.metric_config == f"stamp {stored[r.dataset_name]['stamp_hash']}" for r in results)
    assert not [e for e in hub.list_events(run_id) if e.kind == "push"]  # nothing was sent


def test_push_without_a_token_is_a_sentence_and_records_nothing(hub: LocalStore, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    run_id = _run_with_adapter(hub, tmp_path)
    with pytest.raises(ExportError, match="needs your access token"):
        push_model(store=hub, model=run_id, viewer="alice", repo_id="alice/x", work=tmp_path)
    assert not [e for e in hub.list_events(run_id) if e.kind == "push"]


class _ReadOnlyHub(BaseHTTPRequestHandler):
    """Answers whoami like the Hub does for a read-only token; any write is refused with 403."""

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"name": "alice", "orgs": [], "auth": {"accessToken": {"role": "read"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # quiet
        pass


def test_a_read_only_token_is_refused_before_upload_and_never_shown(hub: LocalStore, tmp_path: Path,
                                                                     monkeypatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    server = HTTPServer(("127.0.0.1", 0), _ReadOnlyHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run_id = _run_with_adapter(hub, tmp_path)
    secret = "hf_secretvalue123"
    try:
        with pytest.raises(ExportError) as err:
            push_model(store=hub, model=run_id, viewer="alice", repo_id="alice/x", work=tmp_path, token=secret,
                       endpoint=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert "read-only" in err.value.message and "alice/x" in err.value.message
    assert secret not in err.value.message + (err.value.detail or "")
    events = hub.list_events(run_id)
    assert not [e for e in events if e.kind == "push"] and secret not in json.dumps([e.payload for e in events])


def test_merged_weights_of_a_no_derivatives_base_are_refused_naming_the_licence(hub: LocalStore,
                                                                                tmp_path: Path) -> None:
    hub.upsert_base_model(key="qwen2.5-standin", family="qwen2.5", hf_id="local/qwen2.5-standin",
                          architecture="Qwen2ForCausalLM", licence="CC-BY-NC-ND-4.0", is_standin=True)
    run_id = _run_with_adapter(hub, tmp_path)
    with pytest.raises(PermissionDenied, match="CC-BY-NC-ND-4.0"):
        prepare_push(store=hub, model=run_id, viewer="alice", repo_id="alice/x", work=tmp_path, gguf="q4_k_m")
    plan = prepare_push(store=hub, model=run_id, viewer="alice", repo_id="alice/x", work=tmp_path)
    meta = metadata_load(plan.folder / "README.md")
    assert meta["license"] == "cc-by-nc-nd-4.0"
    assert "CC-BY-NC-ND-4.0" in (plan.folder / "README.md").read_text()


def test_only_the_owner_pushes_and_a_bad_repo_id_is_a_sentence(hub: LocalStore, tmp_path: Path) -> None:
    run_id = _run_with_adapter(hub, tmp_path)
    with pytest.raises(ExportError, match="owner/name"):
        prepare_push(store=hub, model=run_id, viewer="alice", repo_id="no slash", work=tmp_path)
    with pytest.raises(NotFound):  # a private model is not even visible to bob
        prepare_push(store=hub, model=run_id, viewer="bob", repo_id="bob/x", work=tmp_path)
    hub.set_visibility(run_id, "public", actor="alice")
    with pytest.raises(PermissionDenied, match="Only the owner"):
        prepare_push(store=hub, model=run_id, viewer="bob", repo_id="bob/x", work=tmp_path)
