"""``hubkit catalog pull``: real weights fetched with huggingface_hub from a Hub on loopback that answers
as huggingface.co does (a public repo's files; a gated repo's 403 with its error code), then loaded
offline like any cached base; a refusal names the licence page, and the token never shows."""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hubkit.catalog import load_base
from hubkit.catalog.pull import cached_snapshot, pull
from hubkit.cli import main
from hubkit.errors import ConfigError, PermissionDenied, ValidationError
from tests.fixtures.hf_cache import add_tiny_model

PUBLIC = "Qwen/Qwen2.5-0.5B-Instruct"
GATED = "meta-llama/Meta-Llama-3-8B-Instruct"
SECRET = "hf_pullsecret987"
COMMIT = "a" * 40


def _handler(files: dict[str, bytes], seen: list[str]) -> type[BaseHTTPRequestHandler]:
    class Hub(BaseHTTPRequestHandler):
        """The Hub routes a snapshot download uses: the revision, its file tree and each file."""

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            if self.path.startswith(f"/api/models/{GATED}/") or self.path.startswith(f"/{GATED}/"):
                self._reply(403, b'{"error": "gated"}', {"X-Error-Code": "GatedRepo",
                                                         "X-Error-Message": "Access to model is restricted."})
            elif self.path.startswith(f"/api/models/{PUBLIC}/revision/"):
                body = json.dumps({"id": PUBLIC, "sha": COMMIT,
                                   "siblings": [{"rfilename": name} for name in files]}).encode()
                self._reply(200, body, {"Content-Type": "application/json"})
            elif self.path.startswith(f"/api/models/{PUBLIC}/tree/"):
                body = json.dumps([{"type": "file", "path": name, "size": len(data),
                                    "oid": hashlib.sha1(data).hexdigest()} for name, data in files.items()]).encode()
                self._reply(200, body, {"Content-Type": "application/json"})
            elif self.path.startswith(f"/{PUBLIC}/resolve/"):
                name = self.path.split("/resolve/", 1)[1].split("/", 1)[1]
                if name not in files:
                    self._reply(404, b"", {"X-Error-Code": "EntryNotFound"})
                    return
                body = files[name]
                self._reply(200, body, {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                                        "Content-Type": "application/octet-stream"})
            else:
                self._reply(404, b"", {"X-Error-Code": "RepoNotFound"})

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    return Hub


@pytest.fixture
def online_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """A Hub on loopback serving a tiny Qwen2 under PUBLIC's id, and an empty cache to pull into."""
    from huggingface_hub import constants

    snapshot = add_tiny_model(tmp_path / "upstream", repo_id=PUBLIC, family="qwen2.5")
    files = {p.name: p.read_bytes() for p in snapshot.iterdir() if p.is_file()}
    files["model.bin"] = b"an old checkpoint format the platform never reads"
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files, seen))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cache = tmp_path / "cache" / "hub"
    monkeypatch.setenv("HF_HOME", str(cache.parent))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")  # both read at import
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        f"http://127.0.0.1:{server.server_port}" + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()


def test_pull_fetches_the_weights_then_they_load_offline(online_hub, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import constants

    assert cached_snapshot(PUBLIC) is None
    assert main(["catalog", "pull", PUBLIC]) == 0
    assert "is in the Hugging Face cache" in capsys.readouterr().out
    folder = cached_snapshot(PUBLIC)
    assert folder is not None and (folder / "model.safetensors").is_file()
    assert not (folder / "model.bin").exists()  # only what the platform reads
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    model, tokenizer = load_base(PUBLIC)
    assert type(model).__name__ == "Qwen2ForCausalLM" and tokenizer.eos_token


def test_a_gated_model_is_refused_naming_the_licence_page_and_never_showing_the_token(online_hub) -> None:  # type: ignore[no-untyped-def]
    endpoint, seen = online_hub
    with pytest.raises(PermissionDenied) as without:
        pull(GATED, endpoint=endpoint)
    assert f"https://huggingface.co/{GATED}" in without.value.message and "no HF_TOKEN" in without.value.message
    with pytest.raises(PermissionDenied) as refused:
        pull(GATED, token=SECRET, endpoint=endpoint)
    assert f"https://huggingface.co/{GATED}" in refused.value.message and "accepted" in refused.value.message
    assert f"Bearer {SECRET}" in seen  # the token went to the Hub, and nowhere else
    assert SECRET not in refused.value.message + (refused.value.detail or "")
    assert cached_snapshot(GATED) is None


def test_offline_and_stand_in_pulls_are_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="offline"):
        pull(PUBLIC)
    with pytest.raises(ValidationError, match="hubkit catalog build"):
        pull("llama3-standin")
