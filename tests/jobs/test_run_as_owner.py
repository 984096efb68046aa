"""Jobs whose code runs as their owner: a real executor, a real service, real system accounts.

The attacker's view: a job's notebook tries to open the run database, the
hub's cookie secret, the admin password and another user's home, and looks
for the platform's credentials in its environment. It must find nothing,
and still record its run, through the service, with its own job token.
"""
from __future__ import annotations

import json
import pwd
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hubkit import accounts, jobs
from hubkit.archive import open_archive
from hubkit.config import Settings, load_settings
from hubkit.db import upgrade
from hubkit.errors import ConfigError
from hubkit.jobs.executors import create_executor
from hubkit.jobs.paths import job_dir
from hubkit.service import BackgroundServer, create_app
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal
from tests.fixtures.service import static_tokens, token_table
from tests.jobs.conftest import NOTEBOOKS

PROBE = str(NOTEBOOKS / "probe.ipynb")
needs_root = pytest.mark.skipif(not accounts.can_switch_users() or shutil.which("useradd") is None,
                                reason="switching users needs root and useradd")


@dataclass
class OwnerHub:
    settings: Settings
    store: LocalStore
    service_url: str
    tokens: dict[str, str]
    secrets: dict[str, Path]


@pytest.fixture
def owner_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnerHub]:
    """A platform home others may pass through (not pytest's private tmp), its service, its secrets."""
    base = Path(tempfile.mkdtemp(prefix="hubkit-owner-"))
    base.chmod(0o711)
    home = base / "home"
    monkeypatch.setenv("HUBKIT_HOME", str(home))
    for name in ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_EXECUTOR", "HUBKIT_SERVICE_URL"):
        monkeypatch.delenv(name, raising=False)
    platform = load_settings(heartbeat_timeout_s=30.0)
    upgrade(platform.database_url)
    store = LocalStore(platform.database_url)
    seed_minimal(store)
    tokens = static_tokens()
    server = BackgroundServer(create_app(platform, store, token_table(tokens), prefix="/services/hubkit"))
    url = server.start() + "/services/hubkit"
    hub_state = home / "hub"
    hub_state.mkdir()
    found = {}
    for name in ("jupyterhub_cookie_secret", "admin-password"):  # as the hub writes them
        path = hub_state / name
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        found[name] = path
    open_archive(platform.archive_root)  # exists, as on a hub that has stored something
    settings = load_settings(executor="local-as-user", job_service_url=url, heartbeat_timeout_s=30.0)
    try:
        yield OwnerHub(settings=settings, store=store, service_url=url, tokens=tokens, secrets=found)
    finally:
        jobs.shutdown()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _probe_report(hub: OwnerHub, job_id: int) -> dict:
    output = json.loads((job_dir(hub.settings, job_id) / "output.ipynb").read_text())
    for cell in output["cells"]:
        for out in cell.get("outputs", []):
            for line in "".join(out.get("text", "")).splitlines():
                if line.startswith("PROBE "):
                    return json.loads(line.removeprefix("PROBE "))
    raise AssertionError(f"the probe printed nothing; log:\n{jobs.logs(job_id, store=hub.store, settings=hub.settings)}")


@needs_root
def test_a_job_runs_as_its_owner_with_only_its_own_token(owner_hub: OwnerHub) -> None:
    hub = owner_hub
    bob = accounts.ensure("bob")
    database = Path(hub.settings.database_url.removeprefix("sqlite:///"))
    probes = [str(database), str(bob.home), str(hub.secrets["jupyterhub_cookie_secret"]),
              str(hub.secrets["admin-password"]), str(hub.settings.home.resolve()),
              str(hub.settings.home.resolve() / "archive")]
    job = jobs.submit(notebook=PROBE, parameters={"probe_paths": probes}, owner="alice",
                      store=hub.store, settings=hub.settings)
    job = jobs.wait(job.id, timeout_s=180, store=hub.store, settings=hub.settings)
    assert job.state.value == "succeeded", jobs.logs(job.id, store=hub.store, settings=hub.settings)
    report = _probe_report(hub, job.id)

    alice = pwd.getpwnam(accounts.account_name("alice"))
    assert (report["uid"], report["gid"]) == (alice.pw_uid, alice.pw_gid)
    assert report["groups"] in ([], [alice.pw_gid])
    assert set(report["probes"].values()) == {"denied"}, report["probes"]
    assert Path(alice.pw_dir).stat().st_mode & 0o777 == 0o700

    env = report["environment"]
    values = "\n".join(env.values())
    for secret in ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_ALLOW_CODE_EXECUTION", "HUBKIT_JOB_TOKEN"):
        assert secret not in env
    assert str(database) not in values and "sqlite" not in values
    assert not any(token in values for token in hub.tokens.values())
    assert env["JUPYTERHUB_API_TOKEN"].startswith("hkjob-")
    assert env["HUBKIT_HOME"] == str(Path(alice.pw_dir) / ".hubkit")

    # the run went through the service, as alice, and the platform linked it to the job
    assert report["store"] == "ApiStore"
    run = hub.store.get_run(report["run"])
    assert run.owner == "alice" and run.executed_by.value == "user" and run.training_outcome.value == "success"
    assert job.model_id == run.id and "notebook" in run.artifacts
    # its artefacts too: stored in the platform's archive through the service, never by the kernel itself
    assert report["archive"] == "ApiArchive" and report["read_back"] == "an artefact of the probe"
    assert open_archive(hub.settings.archive_root).get_bytes(run.artifacts["probe"]) == b"an artefact of the probe"

    # the job has ended: its token opens nothing any more
    refused = httpx.get(f"{hub.service_url}/v1/me", headers={"Authorization": f"token {env['JUPYTERHUB_API_TOKEN']}"})
    assert refused.status_code == 401


@needs_root
def test_a_job_cannot_claim_someone_elses_run(owner_hub: OwnerHub) -> None:
    """The runs file is the kernel's to write: the platform links only runs of the job's owner."""
    hub = owner_hub
    others = hub.store.create_run(owner="bob", name="bobs", domain="general", base_model="llama3-standin",
                                  seed=0, config={})
    job = jobs.submit(notebook=PROBE, parameters={}, owner="alice", store=hub.store, settings=hub.settings)
    (job_dir(hub.settings, job.id) / "runs").write_text(f"{others.id}\n")
    job = jobs.wait(job.id, timeout_s=180, store=hub.store, settings=hub.settings)
    assert job.state.value == "succeeded"
    assert "notebook" not in hub.store.get_run(others.id).artifacts
    assert job.model_id != others.id


def test_accounts_have_safe_distinct_names() -> None:
    assert accounts.account_name("alice") == "hk-alice"
    odd = ["Alice", "root", "a b", "../etc", "x" * 40, "ünïcode", "hk-alice", "-rf"]
    names = [accounts.account_name(n) for n in odd]
    assert len(set(names)) == len(names)
    assert all(n.startswith(("hk-", "hkx-")) and len(n) <= 32 and n.replace("-", "").isalnum() for n in names)
    assert accounts.account_name("Alice").startswith("hkx-")  # never the same account as "alice"
    with pytest.raises(ConfigError):
        accounts.account_name("")


def test_without_root_the_owner_executor_refuses_and_says_what_to_do(
        owner_hub: OwnerHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "can_switch_users", lambda: False)
    with pytest.raises(ConfigError, match="single-user executor"):
        create_executor(store=owner_hub.store, settings=owner_hub.settings)


def test_a_job_token_is_refused_after_its_job_ends_and_when_forged(owner_hub: OwnerHub) -> None:
    from hubkit.jobs import tokens

    hub = owner_hub
    job = hub.store.create_job(owner="alice", kind="notebook", notebook=PROBE, parameters={}, resources={},
                               executor="nobody")
    token = tokens.mint(hub.settings, job.id)

    def me(t: str) -> httpx.Response:
        return httpx.get(f"{hub.service_url}/v1/me", headers={"Authorization": f"token {t}"})

    answer = me(token)
    assert answer.status_code == 200 and answer.json()["name"] == "alice"
    assert me(token[:-2] + "xx").status_code == 401
    assert me(f"hkjob-{job.id + 1}-" + token.split("-", 2)[2]).status_code == 401
    hub.store.update_job(job.id, state="cancelled", error="test")
    assert me(token).status_code == 401
