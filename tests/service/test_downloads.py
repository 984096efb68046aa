"""Downloads through the service: streamed whatever their size, and a model card that says what is known."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import psutil
import pytest

from hubkit.archive import open_archive
from hubkit.store.records import EvaluationIn
from tests.fixtures.service import RunningService


def _public_run(svc: RunningService, artifacts: dict[str, str]) -> int:
    local = svc.local
    run = local.create_run(owner="alice", name="Math whiz", domain="math", base_model="llama3-standin")
    local.finish_run(run.id, outcome="success", artifacts=artifacts)
    local.set_visibility(run.id, "public", actor="alice")
    return run.id


def test_the_card_route_writes_the_card_from_the_record(svc: RunningService, tmp_path: Path) -> None:
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"\x00weights")
    run_id = _public_run(svc, {"adapter": open_archive(svc.settings.archive_root).put_dir(folder)})
    svc.local.record_evaluation(model_id=run_id, evaluation=EvaluationIn(
        domain="math", task="microworld_math", metric="exact_match", value=0.625, stderr=0.1, n_samples=8,
        stamp={"harness": "lm-eval", "limit": 8}))
    answer = svc.http().get(f"/v1/runs/{run_id}/download/card")  # a visitor, no token
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/markdown")
    card = answer.text
    assert "license: llama3" in card  # the catalog's licence
    assert "model-index:" in card and "microworld_math" in card and "0.625" in card
    bare = svc.local.create_run(owner="alice", name="no adapter", domain="math", base_model="llama3-standin")
    svc.local.finish_run(bare.id, outcome="failure", failure_class="divergence")
    svc.local.set_visibility(bare.id, "public", actor="alice")
    assert svc.http().get(f"/v1/runs/{bare.id}/download/card").status_code == 404


@pytest.mark.slow
def test_a_300_mb_merged_model_streams_in_constant_memory(svc: RunningService, tmp_path: Path) -> None:
    folder = tmp_path / "merged"
    folder.mkdir()
    with open(folder / "model.safetensors", "wb") as fh:  # incompressible, like real weights
        for _ in range(300):
            fh.write(os.urandom(1 << 20))
    digest = open_archive(svc.settings.archive_root).put_dir(folder)
    (folder / "model.safetensors").unlink()
    run_id = _public_run(svc, {"adapter": digest, "merged": digest})
    me = psutil.Process()  # the service runs in this process
    before, peak, done = me.memory_info().rss, [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], me.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = 0
    try:
        with svc.http().stream("GET", f"/v1/runs/{run_id}/download/merged") as answer:
            assert answer.status_code == 200
            assert answer.headers["x-content-sha256"] == digest
            for chunk in answer.iter_bytes():
                received += len(chunk)
    finally:
        done.set()
        sampler.join()
    assert received > 300 * (1 << 20)
    assert peak[0] - before < 50 * (1 << 20), f"grew by {(peak[0] - before) / 2**20:.0f} MiB"


def test_unpacking_a_large_folder_keeps_memory_flat(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    with open(folder / "weights.bin", "wb") as fh:
        for _ in range(64):
            fh.write(os.urandom(1 << 20))
    archive = open_archive(str(tmp_path / "archive"))
    digest = archive.put_dir(folder)
    me = psutil.Process()
    before = me.memory_info().rss
    out = archive.get_dir(digest, tmp_path / "out")
    assert (out / "weights.bin").stat().st_size == 64 << 20
    assert me.memory_info().rss - before < 32 << 20  # a whole-tar read would add 64 MiB


def test_a_private_model_streams_to_its_owner_through_a_short_lived_ticket(svc: RunningService,
                                                                            tmp_path: Path) -> None:
    from hubkit import tickets
    from hubkit.errors import NotFound

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"\x00private weights")
    digest = open_archive(svc.settings.archive_root).put_dir(folder)
    run = svc.local.create_run(owner="alice", name="Secret sums", domain="math", base_model="llama3-standin")
    svc.local.finish_run(run.id, outcome="success", artifacts={"adapter": digest})
    route = f"/v1/runs/{run.id}/download/adapter"
    visitor = svc.http()
    assert visitor.get(route).status_code == 404  # private: not even there for a browser without a ticket
    with pytest.raises(NotFound):  # bob cannot get a ticket for what he cannot see
        svc.api_store("bob").download_ticket(run.id, "download/adapter", viewer="bob")
    ticket = svc.api_store("alice").download_ticket(run.id, "download/adapter")
    answer = visitor.get(route, params={"ticket": ticket})  # the browser: no token, only the link
    assert answer.status_code == 200 and answer.headers["x-content-sha256"] == digest
    assert len(answer.content) > 0
    other = svc.local.create_run(owner="alice", name="Other", domain="math", base_model="llama3-standin")
    svc.local.finish_run(other.id, outcome="success", artifacts={"adapter": digest})
    forged = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    expired = tickets.mint(run_id=run.id, route="download/adapter", viewer="alice", now=0)
    for path, bad in [(f"/v1/runs/{other.id}/download/adapter", ticket),  # another run
                      (f"/v1/runs/{run.id}/download/card", ticket),  # another part
                      (route, forged), (route, expired), (route, "not-a-ticket")]:
        refused = visitor.get(path, params={"ticket": bad})
        assert refused.status_code == 403 and "not valid any more" in refused.json()["error"], (path, bad)


def test_a_merged_model_goes_to_its_owner_and_to_others_only_as_its_licence_allows(svc: RunningService,
                                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "merged"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x00merged weights")
    digest = open_archive(svc.settings.archive_root).put_dir(folder)
    run = svc.local.create_run(owner="alice", name="Secret sums", domain="math", base_model="llama3-standin")
    svc.local.finish_run(run.id, outcome="success", artifacts={"adapter": digest, "merged": digest})
    route = f"/v1/runs/{run.id}/download/merged"
    assert svc.http().get(route).status_code == 404  # private: a visitor does not even learn it exists
    assert svc.http("bob").get(route).status_code == 404  # nor does another user
    answer = svc.http("alice").get(route)
    assert answer.status_code == 200 and answer.headers["x-content-sha256"] == digest
    ticket = svc.api_store("alice").download_ticket(run.id, "download/merged")
    assert svc.http().get(route, params={"ticket": ticket}).status_code == 200  # the owner's browser link

    svc.local.upsert_base_model(key="nd-standin", family="nd", hf_id="example/nd", architecture="LlamaForCausalLM",
                                licence="CC-BY-NC-ND-4.0", parameters=1000, is_standin=True)
    nd = svc.local.create_run(owner="alice", name="No derivatives", domain="math", base_model="nd-standin")
    svc.local.finish_run(nd.id, outcome="success", artifacts={"adapter": digest, "merged": digest})
    svc.local.set_visibility(nd.id, "public", actor="alice")
    refused = svc.http().get(f"/v1/runs/{nd.id}/download/merged")
    assert refused.status_code == 403 and "CC-BY-NC-ND-4.0" in refused.json()["error"]
    assert svc.http().get(f"/v1/runs/{nd.id}/download/adapter").status_code == 200  # the adapter is the fine-tune's own
    assert svc.http("alice").get(f"/v1/runs/{nd.id}/download/merged").status_code == 200
