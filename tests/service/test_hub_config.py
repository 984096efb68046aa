"""jupyterhub_config.py as JupyterHub loads it, for each spawner choice."""
from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import PyFileConfigLoader

from hubkit.errors import ConfigError
from hubkit.service import hub_config
from hubkit.service.deployments import DEPLOYMENTS, USER_CODE_NEVER_GETS, Deployment

CONFIG = Path(hub_config.REPO / "jupyterhub_config.py")


def load(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent))
    return loader.load_config()


def test_local_default_with_native_authenticator_groups_and_services(monkeypatch, tmp_path):
    monkeypatch.delenv("HUBKIT_SPAWNER", raising=False)
    for name in ("HUBKIT_OPEN_SIGNUP", "HUBKIT_LOGIN_ATTEMPTS", "HUBKIT_LOGIN_WAIT_S", "HUBKIT_HUB_URL"):
        monkeypatch.delenv(name, raising=False)
    c = load(monkeypatch, tmp_path, HUBKIT_ADMIN_USER="boss")
    assert c.JupyterHub.authenticator_class == "hubkit.service.native.HubkitNativeAuthenticator"
    assert c.NativeAuthenticator.open_signup is False  # sign-ups wait for an admin
    assert (c.NativeAuthenticator.allowed_failed_logins, c.NativeAuthenticator.seconds_before_next_try) == (5, 300)
    assert c.NativeAuthenticator.check_common_password is True
    assert "tornado_settings" not in c.JupyterHub  # no Secure-only cookies on plain http
    assert c.Authenticator.admin_users == {"boss"}
    assert set(c.JupyterHub.load_groups) == {"casual", "developers", "educators", "researchers", "admins"}
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    # under root, each user's server and jobs run as their own account
    assert c.JupyterHub.spawner_class == "hubkit.service.spawners.AccountSpawner"
    assert c.Spawner.environment["HUBKIT_SERVICE_URL"] == "http://127.0.0.1:8000/services/hubkit"
    assert c.Spawner.environment["HUBKIT_MODELS_HOME"] == str(tmp_path / "home" / "models")
    assert "HUBKIT_HOME" not in c.Spawner.environment  # the account's own, set by the spawner
    assert not set(USER_CODE_NEVER_GETS) & set(c.Spawner.environment)  # kernels hold no database credentials
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["hubkit"]["command"][1:] == ["-m", "hubkit.service"]
    assert services["hubkit"]["environment"]["HUBKIT_EXECUTOR"] == "local-as-user"
    assert services["hubkit"]["environment"]["HUBKIT_JOB_SERVICE_URL"] == "http://127.0.0.1:8181/services/hubkit"
    public = services["public"]["command"]
    assert public[1:3] == ["-m", "hubkit.service.public_pages"]  # Voilà with the kernel cap and culler
    assert "--base_url=/services/public/" in public  # preheating, template: voila_apps/voila.json
    assert f"--Voila.config_file_paths={hub_config.REPO / 'voila_apps'}" in public
    assert public[-1].endswith("voila_apps")
    assert services["idle-culler"]["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    assert services["eval-worker"]["command"][1:] == ["-m", "hubkit.cli", "serve", "eval-worker"]
    assert "api_token" not in services["eval-worker"]  # it holds the database settings, not a hub token
    culler = next(r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert set(culler["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}
    assert culler["services"] == ["idle-culler"]
    assert "hubkit-platform" not in services


def test_open_sign_up_login_limits_and_a_platform_token_are_configurable(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_OPEN_SIGNUP="1", HUBKIT_PLATFORM_TOKEN="s3cret",
             HUBKIT_LOGIN_ATTEMPTS="3", HUBKIT_LOGIN_WAIT_S="60")
    assert c.NativeAuthenticator.open_signup is True
    assert (c.NativeAuthenticator.allowed_failed_logins, c.NativeAuthenticator.seconds_before_next_try) == (3, 60)
    platform = next(s for s in c.JupyterHub.services if s["name"] == "hubkit-platform")
    assert platform["api_token"] == "s3cret" and "command" not in platform


def test_kubernetes_profiles_request_gpus(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="kubernetes", HUBKIT_K8S_MULTI_GPU="8")
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    profiles = {p["slug"]: p["kubespawner_override"] for p in c.KubeSpawner.profile_list}
    assert set(profiles) == {"cpu", "gpu-1", "gpu-multi"}
    assert "extra_resource_limits" not in profiles["cpu"]
    assert profiles["gpu-1"]["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert profiles["gpu-multi"]["extra_resource_limits"] == {"nvidia.com/gpu": "8"}
    assert c.Spawner.environment["HUBKIT_HOME"] == "/home/jovyan/.hubkit"
    # pods carry no database secret: nothing of the platform's in their environment or mounts
    assert not set(USER_CODE_NEVER_GETS) & set(c.Spawner.environment)
    assert all("secret" not in v for v in c.KubeSpawner.volumes)
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["hubkit"]["environment"]["HUBKIT_EXECUTOR"] == "ray"


def test_slurm_batch_script_asks_for_gpus(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="slurm", HUBKIT_SLURM_GRES="gpu:2")
    assert c.JupyterHub.spawner_class == "batchspawner.SlurmSpawner"
    assert c.SlurmSpawner.req_gres == "gpu:2"
    script = c.SlurmSpawner.batch_script
    assert "#SBATCH --gres={{gres}}" in script and "srun {{cmd}}" in script
    assert c.JupyterHub.hub_ip == "0.0.0.0"


def test_an_unknown_spawner_is_a_config_error(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="one of local, single-user"):
        load(monkeypatch, tmp_path, HUBKIT_SPAWNER="docker")
    with pytest.raises(ConfigError, match="not a hubkit Deployment"):
        load(monkeypatch, tmp_path, HUBKIT_SPAWNER="hubkit.errors:ConfigError")


class Docker(Deployment):
    """A deployment of one's own: a class, named in the configuration, no branch edited."""

    name = "docker"
    spawner_class = "dockerspawner.DockerSpawner"
    executor = "ray"

    def configure_spawner(self, c):
        c.DockerSpawner.image = "hubkit/singleuser:latest"

    def user_paths(self):
        return {"HUBKIT_HOME": "/home/jovyan/.hubkit"}


def test_a_deployment_is_a_class_named_in_the_configuration(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="tests.service.test_hub_config:Docker", HUBKIT_EXECUTOR="local")
    assert c.JupyterHub.spawner_class == "dockerspawner.DockerSpawner"
    assert c.DockerSpawner.image == "hubkit/singleuser:latest"
    assert c.Spawner.environment["HUBKIT_HOME"] == "/home/jovyan/.hubkit"
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["hubkit"]["environment"]["HUBKIT_EXECUTOR"] == "local"  # HUBKIT_EXECUTOR wins
    assert set(DEPLOYMENTS) == {"local", "single-user", "kubernetes", "slurm"}


def test_without_root_the_hub_refuses_unless_single_user_is_chosen(monkeypatch, tmp_path):
    monkeypatch.delenv("HUBKIT_SPAWNER", raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(ConfigError, match="HUBKIT_SPAWNER=single-user"):
        load(monkeypatch, tmp_path)
    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="single-user")
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(tmp_path / "home" / "users" / "{username}")
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["hubkit"]["environment"]["HUBKIT_EXECUTOR"] == "local"


def test_the_local_spawners_take_their_settings(monkeypatch, tmp_path):
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    from hubkit.service.spawners import AccountSpawner

    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="single-user")
    spawner = SimpleLocalProcessSpawner(config=c)
    assert spawner.home_dir_template.endswith("/users/{username}")
    assert spawner.default_url == "/voila/render/builder.ipynb"
    assert "read:users:groups!user" in spawner.server_token_scopes
    monkeypatch.delenv("HUBKIT_SPAWNER")
    spawner = AccountSpawner(config=load(monkeypatch, tmp_path))
    assert spawner.notebook_dir == "~" and "HUBKIT_SERVICE_URL" in spawner.environment


@pytest.mark.parametrize(("groups", "landing"), [
    ([], "/voila/render/builder.ipynb"), (["casual"], "/voila/render/builder.ipynb"),
    (["developers"], "/lab"), (["casual", "researchers"], "/lab"),
])
def test_each_group_lands_where_it_works(groups, landing):
    assert hub_config.landing_for(groups) == landing


def test_a_new_home_gets_the_apps_and_keeps_its_own_notebooks(tmp_path):
    home = tmp_path / "users" / "alice"
    hub_config.seed_home(home)
    apps = sorted(p.name for p in (hub_config.REPO / "voila_apps").glob("*.ipynb"))
    assert apps and all((home / name).is_file() for name in apps)
    assert (home / "voila.json").read_text() == (hub_config.REPO / "voila_apps" / "voila.json").read_text()


def test_cookies_are_secure_when_the_hub_is_served_over_https(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_HUB_URL="https://hub.example.org")
    assert c.JupyterHub.tornado_settings["cookie_options"] == {"secure": True}


@pytest.mark.parametrize("value", ["0", "-1", "five"])
def test_the_failed_login_limit_cannot_be_switched_off_by_accident(monkeypatch, tmp_path, value):
    with pytest.raises(ConfigError, match="HUBKIT_LOGIN_ATTEMPTS"):
        load(monkeypatch, tmp_path, HUBKIT_LOGIN_ATTEMPTS=value)
