"""Tokens: from the Authorization header only, checked with the hub, refused when missing, expired or forged."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from hubkit.errors import ConfigError, PermissionDenied
from hubkit.service.auth import (
    JupyterHubAuthenticator,
    default_authenticator,
    parse_authorization,
    role_from_hub,
)
from hubkit.store.api import ApiStore
from tests.fixtures.service import PLATFORM


def _run_payload():
    return {"name": "m", "domain": "math", "base_model": "llama3-standin"}


@pytest.mark.parametrize("header", [None, "token nope", "Bearer forged-token", "token", "Basic abc", "tokenabc"])
def test_writes_without_a_valid_token_are_401_and_nothing_is_written(svc, header):
    client = svc.http()
    headers = {"Authorization": header} if header is not None else {}
    r = client.post("/v1/runs", json=_run_payload(), headers=headers)
    assert r.status_code == 401
    assert r.json()["type"] == "Unauthenticated" and r.json()["error"]
    assert r.headers["www-authenticate"] == "token"
    assert svc.local.list_runs() == []


@pytest.mark.parametrize("scheme", ["token", "Bearer", "bearer"])
def test_both_header_schemes_are_accepted(svc, scheme):
    r = svc.http().get("/v1/me", headers={"Authorization": f"{scheme} {svc.tokens['alice']}"})
    assert r.status_code == 200 and r.json()["name"] == "alice" and r.json()["kind"] == "user"


@pytest.mark.parametrize("param", ["token", "access_token", "api_token"])
def test_tokens_in_urls_are_refused_even_when_valid(svc, param):
    r = svc.http().get(f"/v1/me?{param}={svc.tokens['alice']}")
    assert r.status_code == 401 and "Authorization header" in r.json()["error"]


def test_a_forged_token_reading_public_data_is_still_401(svc):
    r = svc.http().get("/v1/runs", headers={"Authorization": "token forged"})
    assert r.status_code == 401


def test_visitors_read_without_a_token(svc):
    assert svc.http().get("/v1/me").json()["kind"] == "anonymous"
    assert svc.http().get("/v1/runs").status_code == 200


def test_only_the_platform_may_act_for_someone_else(svc):
    me = svc.http("alice").get("/v1/me", headers={"X-Hubkit-Act-As": "bob"})
    assert me.status_code == 403
    same = svc.http("alice").get("/v1/me", headers={"X-Hubkit-Act-As": "alice"})
    assert same.status_code == 200 and same.json()["acting_as"] is None
    anon = svc.http().get("/v1/me", headers={"X-Hubkit-Act-As": "bob"})
    assert anon.status_code == 403
    platform = svc.http(PLATFORM).get("/v1/me", headers={"X-Hubkit-Act-As": "bob"})
    assert platform.json()["acting_as"] == "bob" and platform.json()["kind"] == "platform"


def test_a_user_seen_first_is_created_with_the_role_from_the_hub(svc):
    svc.http("alice").get("/v1/me")
    assert svc.local.get_user("alice").role.value == "developer"


def test_api_store_raises_typed_permission_error_on_a_bad_token(svc):
    store = ApiStore(svc.url, token="forged")
    with pytest.raises(PermissionDenied):
        store.create_run(owner="alice", name="m", domain="math", base_model="llama3-standin")


# --- the JupyterHub authenticator against a stand-in of the hub's REST API --------------------

class _Hub:
    """The hub's ``GET /user``: a token table, and a count of how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = {
            "alice-token": {"kind": "user", "name": "alice", "admin": False, "groups": ["developers"]},
            "root-token": {"kind": "user", "name": "root", "admin": True, "groups": []},
            "worker-token": {"kind": "service", "name": "hubkit-platform"},
            "other-service": {"kind": "service", "name": "idle-culler"},
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        assert request.url.path == "/hub/api/user"
        token = parse_authorization(request.headers.get("Authorization"))
        model = self.tokens.get(token or "")
        return httpx.Response(200, json=model) if model else httpx.Response(403, json={"status": 403})


@pytest.fixture
def hub_auth(monkeypatch):
    hub = _Hub()
    transport = httpx.MockTransport(hub)
    real = httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **kw: real(transport=transport, **kw))
    auth = JupyterHubAuthenticator(api_url="http://hub.invalid/hub/api", platform_services=["hubkit-platform"],
                                   cache_s=60)
    return hub, auth


def test_hub_tokens_map_to_identities_and_roles(hub_auth):
    _, auth = hub_auth
    alice = asyncio.run(auth.identify("alice-token"))
    assert (alice.kind, alice.name, alice.role) == ("user", "alice", "developer")
    assert asyncio.run(auth.identify("root-token")).role == "admin"
    assert asyncio.run(auth.identify("worker-token")).is_platform
    assert asyncio.run(auth.identify("other-service")) is None  # services that are not the platform
    assert asyncio.run(auth.identify("expired")) is None


def test_hub_answers_are_cached_but_refusals_are_not(hub_auth):
    hub, auth = hub_auth
    for _ in range(3):
        asyncio.run(auth.identify("alice-token"))
    assert hub.calls == 1
    for _ in range(2):
        asyncio.run(auth.identify("expired"))
    assert hub.calls == 3


def test_roles_follow_hub_groups():
    assert role_from_hub({"groups": ["researchers", "developers"]}) == "researcher"
    assert role_from_hub({"groups": []}) == "casual"
    assert role_from_hub({"admin": True, "groups": ["casual"]}) == "admin"


def test_the_hub_is_the_default_when_its_api_url_is_set(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    monkeypatch.setenv("HUBKIT_DEMO_TOKENS", "t=alice:developer")
    assert isinstance(default_authenticator(), JupyterHubAuthenticator)
    monkeypatch.delenv("JUPYTERHUB_API_URL")
    monkeypatch.delenv("HUBKIT_DEMO_TOKENS")
    with pytest.raises(ConfigError):
        default_authenticator()


def test_api_store_in_a_user_server_uses_the_servers_token(svc, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", svc.tokens["bob"])
    monkeypatch.setenv("HUBKIT_SERVICE_URL", svc.url)
    from hubkit.store import open_store

    store = open_store()
    run = store.create_run(owner="bob", name="from a kernel", domain="math", base_model="llama3-standin")
    assert run.owner == "bob" and run.executed_by.value == "user"
    store.close()
