"""jupyterhub_config.py as JupyterHub loads it, for each spawner choice."""
from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import PyFileConfigLoader

from hubkit.errors import ConfigError
from hubkit.service import hub_config

CONFIG = Path(hub_config.REPO / "jupyterhub_config.py")


def load(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent))
    return loader.load_config()


def test_local_default_with_native_authenticator_groups_and_services(monkeypatch, tmp_path):
    monkeypatch.delenv("HUBKIT_SPAWNER", raising=False)
    monkeypatch.delenv("HUBKIT_REQUIRE_APPROVAL", raising=False)
    c = load(monkeypatch, tmp_path, HUBKIT_ADMIN_USER="boss")
    assert c.JupyterHub.authenticator_class == "hubkit.service.native.HubkitNativeAuthenticator"
    assert c.NativeAuthenticator.open_signup is True
    assert c.Authenticator.admin_users == {"boss"}
    assert set(c.JupyterHub.load_groups) == {"casual", "developers", "educators", "researchers", "admins"}
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(tmp_path / "home" / "users" / "{username}")
    assert c.Spawner.environment["HUBKIT_SERVICE_URL"] == "http://127.0.0.1:8000/services/hubkit"
    assert "HUBKIT_DB_URL" not in c.Spawner.environment  # kernels hold no database credentials
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["hubkit"]["command"][1:] == ["-m", "hubkit.service"]
    public = services["public"]["command"]
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


def test_admin_approval_and_a_platform_token_are_configurable(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_REQUIRE_APPROVAL="1", HUBKIT_PLATFORM_TOKEN="s3cret")
    assert c.NativeAuthenticator.open_signup is False
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


def test_slurm_batch_script_asks_for_gpus(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, HUBKIT_SPAWNER="slurm", HUBKIT_SLURM_GRES="gpu:2")
    assert c.JupyterHub.spawner_class == "batchspawner.SlurmSpawner"
    assert c.SlurmSpawner.req_gres == "gpu:2"
    script = c.SlurmSpawner.batch_script
    assert "#SBATCH --gres={{gres}}" in script and "srun {{cmd}}" in script
    assert c.JupyterHub.hub_ip == "0.0.0.0"


def test_an_unknown_spawner_is_a_config_error(monkeypatch, tmp_path):
    with pytest.raises(ConfigError):
        load(monkeypatch, tmp_path, HUBKIT_SPAWNER="docker")


def test_the_local_spawner_takes_its_settings(monkeypatch, tmp_path):
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    c = load(monkeypatch, tmp_path)
    spawner = SimpleLocalProcessSpawner(config=c)
    assert spawner.home_dir_template.endswith("/users/{username}")
    assert spawner.default_url == "/voila/render/builder.ipynb"
    assert "read:users:groups!user" in spawner.server_token_scopes


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
