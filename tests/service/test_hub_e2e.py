"""The whole hub on loopback: real JupyterHub, proxy, hubkit service and public pages.

Two people sign up through NativeAuthenticator's forms and log in once the admin
approved them; A uploads a dataset and trains a stand-in as a job through the
service; B cannot see A's private model, sees it once public and forks it; a
visitor reads the public profile data; expired and forged tokens are refused;
weak passwords are refused at sign-up; guessing the admin's password is stopped
after 5 tries, even with the right password, until the wait is over.
"""
from __future__ import annotations

import contextlib
import html
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hubkit import accounts
from hubkit.config import load_settings
from hubkit.db import dispose_engines, upgrade
from hubkit.errors import HubkitError, NotFound
from hubkit.service.hub_process import (
    HubProcess,
    approve,
    demo_users,
    hub_environment,
    log_in,
    sign_up,
)
from hubkit.service.server import free_port
from hubkit.store import LocalStore
from hubkit.store.api import ApiStore
from tests.fixtures.db import seed_minimal

pytestmark = pytest.mark.slow
ROWS = [{"instruction": f"What is {i} plus {i}?", "response": str(2 * i)} for i in range(1, 41)]
PASSWORD = "correct-horse-battery-9"
ADMIN_PASSWORD = "staple-lantern-orbit-4"
LOGIN_WAIT_S = 8


def _accounts_possible() -> bool:
    """Users' own accounts need root, and a Python that every account can run."""
    return accounts.can_switch_users() and accounts.private_folder_on_path(Path(sys.executable)) is None


DEPLOYMENT = "local" if _accounts_possible() else "single-user"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, standins_home: Path) -> Iterator[tuple[HubProcess, LocalStore]]:
    """The hub as ``make demo`` runs it: on SQLite, and on PostgreSQL (``make demo DB=postgresql``)
    with the service on its PostgreSQL default of 4 uvicorn workers."""
    base = Path(tempfile.mkdtemp(prefix="hubkit-e2e-"))
    base.chmod(0o711)  # users' accounts pass through to their job folders and the models
    home = base / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "standins").symlink_to(standins_home / "models" / "standins", target_is_directory=True)
    env = hub_environment({
        "HUBKIT_HOME": str(home), "HUBKIT_HUB_URL": f"http://127.0.0.1:{free_port()}",
        "HUBKIT_HUB_API_PORT": str(free_port()), "HUBKIT_PROXY_API_PORT": str(free_port()),
        "HUBKIT_SERVICE_PORT": str(free_port()), "HUBKIT_PUBLIC_PORT": str(free_port()),
        "HUBKIT_PUBLIC_POOL_SIZE": "0", "HUBKIT_MAX_CONCURRENT_JOBS": "1", "HUBKIT_SPAWNER": DEPLOYMENT,
        "HUBKIT_ADMIN_USER": "admin", "HUBKIT_LOGIN_WAIT_S": str(LOGIN_WAIT_S),
    })
    for name in ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_SERVICE_URL", "HUBKIT_SERVICE_WORKERS",
                 "JUPYTERHUB_API_URL", "HUBKIT_OPEN_SIGNUP", "HUBKIT_LOGIN_ATTEMPTS"):
        env.pop(name, None)
    with contextlib.ExitStack() as cleanup:
        db_url = ""
        if request.param == "postgresql":
            db_url = cleanup.enter_context(_pg_schema())
            env["HUBKIT_DB_URL"] = db_url
        settings = load_settings(home=home, db_url=db_url)
        upgrade(settings.database_url)
        local = LocalStore(settings.database_url)
        seed_minimal(local)
        with HubProcess(env, log_path=home / "hub.log") as process:
            if request.param == "postgresql":
                assert _service_workers(home) == 4
            assert sign_up(process.url, "admin", ADMIN_PASSWORD)  # the admin's own account needs no approval
            yield process, local
        dispose_engines()
    shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def _pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for the hub, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    from tests.fixtures.db import PG_ADMIN_URL, _require_pg, pg_schema_url

    _require_pg()
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        dispose_engines()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _service_workers(home: Path) -> int:
    """Worker processes of this hub's hubkit service (spawned by ``python -m hubkit.service``)."""
    import psutil

    mine = f"HUBKIT_HOME={home}"
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if proc.info["cmdline"][-2:] == ["-m", "hubkit.service"] and mine in _environ(proc):
                deadline = time.monotonic() + 60
                while len(_spawned(proc)) < 4 and time.monotonic() < deadline:
                    time.sleep(0.5)
                return len(_spawned(proc))
        except (psutil.Error, TypeError):
            continue
    raise AssertionError("no hubkit service process for this hub")


def _spawned(proc) -> list[object]:  # type: ignore[no-untyped-def]
    """uvicorn's worker processes (multiprocessing spawns them; its resource tracker is not one)."""
    return [c for c in proc.children() if any("spawn_main" in part for part in c.cmdline())]


def _environ(proc) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{k}={v}" for k, v in proc.environ().items()]


def _token(hub_url: str, who: str, *, expires_in: int | None = None, password: str = PASSWORD) -> str:
    """A user logs in through the form and asks the hub for an API token, as the token page does."""
    client = log_in(hub_url, who, password)
    try:
        xsrf = client.cookies.get("_xsrf", path="/hub/")
        body = {"note": "e2e", **({"expires_in": expires_in} if expires_in else {})}
        r = client.post(f"/hub/api/users/{who}/tokens", json=body, headers={"X-XSRFToken": xsrf or ""})
        assert r.status_code in (200, 201), r.text
        return r.json()["token"]
    finally:
        client.close()


def _signed_up_and_approved(url: str, *names: str) -> None:
    admin = log_in(url, "admin", ADMIN_PASSWORD)
    try:
        for who in names:
            assert sign_up(url, who, PASSWORD)
            with pytest.raises(HubkitError, match="Logging in"):  # waits for the admin's approval
                log_in(url, who, PASSWORD)
            approve(admin, who)
    finally:
        admin.close()


def test_the_multi_user_journey(hub):
    process, local = hub
    url, api = process.url, process.url + "/services/hubkit"
    _signed_up_and_approved(url, "alice", "bob")
    tokens = {who: _token(url, who) for who in ("alice", "bob")}
    alice, bob = (ApiStore(api, token=tokens[w]) for w in ("alice", "bob"))

    # A uploads a dataset and trains a stand-in as a job, all through the service
    data = "\n".join(json.dumps(r) for r in ROWS).encode()
    dataset = alice.upload_dataset(data=data, filename="sums.jsonl", name="sums")
    assert dataset.n_rows == len(ROWS)
    http = httpx.Client(base_url=api, headers={"Authorization": f"token {tokens['alice']}"}, timeout=60)
    job = http.post("/v1/jobs", json={"notebook": "train", "parameters": {
        "base_model": "llama3-standin", "domain": "math", "dataset_id": dataset.id, "max_steps": 2,
        "name": "alice math"}}).json()
    assert job["state"] in ("queued", "running"), job
    deadline = time.monotonic() + 600
    while (job := http.get(f"/v1/jobs/{job['id']}").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, http.get(f"/v1/jobs/{job['id']}/logs").json()["text"][-3000:]
        time.sleep(2)
    assert job["state"] == "succeeded", http.get(f"/v1/jobs/{job['id']}/logs").json()["text"][-3000:]
    model = alice.get_run(job["model_id"])
    assert model.owner == "alice" and model.dataset_id == dataset.id and model.training_outcome.value == "success"
    assert len(model.loss_curve_data) >= 1

    # B cannot see A's private model, sees it once public, forks it
    with pytest.raises(NotFound):
        bob.get_run(model.id)
    assert httpx.get(f"{api}/v1/runs/{model.id}").status_code == 404  # a visitor neither
    alice.set_visibility(model.id, "public")
    assert bob.get_run(model.id).id == model.id
    fork = bob.fork_run(model.id, owner="bob", name="bob's fork")
    assert fork.parent_model_id == model.id and fork.owner == "bob" and fork.executed_by.value == "user"
    assert local.get_run(fork.id).parent_model_id == model.id

    # a visitor reads the public profile data without logging in
    profile = httpx.get(f"{api}/v1/runs/{model.id}")
    assert profile.status_code == 200 and profile.json()["name"] == "alice math"
    assert httpx.get(f"{api}/v1/runs/{model.id}/points").status_code == 200
    public = httpx.get(f"{url}/services/public/", follow_redirects=False)
    assert public.status_code == 200  # the public pages need no login
    page = httpx.get(f"{url}/services/public/voila/render/model.ipynb?model={model.slug}", timeout=120)
    assert page.status_code == 200 and "static/plotly-basic.min.js" in page.text  # the apps' template
    assert "jupyterlab-plotly" not in page.text  # voila.json leaves the 4.8 MB renderer out


def test_expired_revoked_and_forged_tokens_get_401(hub):
    process, _ = hub
    url, api = process.url, process.url + "/services/hubkit"
    _signed_up_and_approved(url, "carol")
    short = _token(url, "carol", expires_in=1)
    time.sleep(2.5)
    for token in (short, "forged-token"):
        r = httpx.get(f"{api}/v1/me", headers={"Authorization": f"token {token}"})
        assert r.status_code == 401, (token, r.text)
    good = _token(url, "carol")
    assert httpx.get(f"{api}/v1/me", headers={"Authorization": f"Bearer {good}"}).json()["name"] == "carol"
    assert httpx.get(f"{api}/v1/me?token={good}").status_code == 401  # never in the address
    log = process.log_path
    assert log is not None and log.stat().st_mode & 0o777 == 0o600
    text = log.read_text(errors="replace")
    assert "/v1/me?token=[redacted]" in text and good not in text  # the service's access log


PROBE_SOURCE = """import json, os
def attempt(path):
    try:
        open(path, "rb").close()
        return "opened"
    except PermissionError:
        return "denied"
    except FileNotFoundError:
        return "missing"
print("PROBE " + json.dumps({"uid": os.getuid(), "database": attempt(DATABASE), "environment": sorted(os.environ),
                             "home": os.environ.get("HUBKIT_HOME")}))
"""


@pytest.mark.skipif(DEPLOYMENT != "local", reason="users' own accounts need root and a Python every account can run")
def test_a_users_server_runs_as_their_account_and_its_kernel_cannot_open_the_database(hub):
    import nbformat

    process, local = hub
    url = process.url
    _signed_up_and_approved(url, "dave")
    token = _token(url, "dave")
    headers = {"Authorization": f"token {token}"}
    started = httpx.post(f"{url}/hub/api/users/dave/server", headers=headers, timeout=60)
    assert started.status_code in (201, 202), started.text
    deadline = time.monotonic() + 120
    while not httpx.get(f"{url}/hub/api/users/dave", headers=headers).json()["servers"].get("", {}).get("ready"):
        assert time.monotonic() < deadline, "dave's server did not start"
        time.sleep(1)
    database = local.url.removeprefix("sqlite:///")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"DATABASE = {database!r}\n" + PROBE_SOURCE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    put = httpx.put(f"{url}/user/dave/api/contents/probe.ipynb", headers=headers,
                    json={"type": "notebook", "format": "json", "content": nb})
    assert put.status_code in (200, 201), put.text
    page = httpx.get(f"{url}/user/dave/voila/render/probe.ipynb", headers=headers, timeout=120)
    assert page.status_code == 200, page.text[-2000:]
    line = next(x for x in html.unescape(page.text).splitlines() if "PROBE " in x)
    report = json.loads(line[line.index("PROBE ") + 6:line.rindex("}") + 1])
    account = accounts.lookup("dave")
    assert account is not None and report["uid"] == account.uid != 0
    # SQLite: the file is there and refused; PostgreSQL: no file, and no URL in the environment
    assert report["database"] == ("denied" if local.url.startswith("sqlite") else "missing")
    assert report["home"] == str(account.home / ".hubkit")
    assert "HUBKIT_DB_URL" not in report["environment"]
    assert account.home.stat().st_mode & 0o777 == 0o700
    httpx.delete(f"{url}/hub/api/users/dave/server", headers=headers, timeout=60)


def test_weak_passwords_are_refused_at_sign_up(hub):
    process, _ = hub
    for password in ("mallory-2024", "MALLORY!!xyz", "password1", "short1"):
        with pytest.raises(HubkitError, match="must not contain your username"):
            sign_up(process.url, "mallory", password)
    assert sign_up(process.url, "mallory", PASSWORD)


def test_demo_users_are_approved_and_in_the_group_of_their_role(hub, tmp_path):
    process, _ = hub
    users = {"ada": "developer", "cass": "casual"}
    password = demo_users(process.url, tmp_path, admin="admin", admin_secret=ADMIN_PASSWORD, users=users)
    assert (tmp_path / "hub" / "demo-password").stat().st_mode & 0o777 == 0o600
    assert demo_users(process.url, tmp_path, admin="admin", admin_secret=ADMIN_PASSWORD, users=users) == password
    for who, group in (("ada", "developers"), ("cass", "casual")):  # still approved after the second call
        token = _token(process.url, who, password=password)
        me = httpx.get(f"{process.url}/hub/api/user", headers={"Authorization": f"token {token}"}).json()
        assert group in me["groups"], me


def test_guessing_a_password_is_stopped_for_everyone_the_admin_included(hub):
    process, _ = hub
    for _ in range(5):
        with pytest.raises(HubkitError, match="Logging in"):
            log_in(process.url, "admin", "wrong-guess-123")
    started = time.monotonic()
    with pytest.raises(HubkitError, match="Logging in"):  # the right password, during the wait
        log_in(process.url, "admin", ADMIN_PASSWORD)
    assert time.monotonic() - started < LOGIN_WAIT_S  # (so the refusal above was inside the wait)
    time.sleep(LOGIN_WAIT_S + 1.5)
    log_in(process.url, "admin", ADMIN_PASSWORD).close()
