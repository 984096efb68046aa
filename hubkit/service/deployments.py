"""Where users' servers and jobs run: one class per kind of deployment, named in configuration.

As JupyterHub picks its ``spawner_class`` and ``authenticator_class`` by
name, ``HUBKIT_SPAWNER`` names a :class:`Deployment`: a short name from
:data:`DEPLOYMENTS`, or ``"package.module:Class"`` for one of your own.
Adding a deployment means adding a class, never editing a branch. Each class
says which JupyterHub spawner runs users' servers (and fills its settings),
which job executor the hubkit service uses unless ``HUBKIT_EXECUTOR`` names
another, and what users' code is given: the service URL and its own home,
never the database URL or the hub's secrets.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hubkit.errors import ConfigError

Env = Mapping[str, str]
USER_CODE_NEVER_GETS = ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_ALLOW_CODE_EXECUTION",
                        "HUBKIT_PLATFORM_TOKEN", "HUBKIT_DEMO_TOKENS", "JUPYTERHUB_API_TOKEN")


class Deployment:
    """The base: user code gets the service URL and offline flags; subclasses add the spawner."""

    name: ClassVar[str]
    spawner_class: ClassVar[str]
    executor: ClassVar[str]
    """The job executor the hubkit service uses here unless ``HUBKIT_EXECUTOR`` is set."""
    multi_user: ClassVar[bool] = True

    def __init__(self, env: Env, *, hub_home: Path, public_url: str) -> None:
        self.env = env
        self.hub_home = hub_home
        self.public_url = public_url

    def configure(self, c: Any) -> None:
        c.JupyterHub.spawner_class = self.spawner_class
        self.configure_spawner(c)

    def configure_spawner(self, c: Any) -> None:
        """Fill the spawner's own settings (nothing by default)."""

    def user_environment(self) -> dict[str, str]:
        """What every user server (and so every kernel) is started with."""
        env = {"HUBKIT_SERVICE_URL": self.public_url + "/services/hubkit",
               "HF_HUB_OFFLINE": self.env.get("HF_HUB_OFFLINE", "1"),
               "HF_DATASETS_OFFLINE": self.env.get("HF_DATASETS_OFFLINE", "1")}
        env.update(self.user_paths())
        return env

    def user_paths(self) -> dict[str, str]:
        """Where user code keeps its files and finds the base models."""
        return {}

    def executor_name(self) -> str:
        return self.env.get("HUBKIT_EXECUTOR") or self.executor


class LocalAccounts(Deployment):
    """One machine: each user's server and jobs run as their own system account (needs root)."""

    name = "local"
    spawner_class = "hubkit.service.spawners.AccountSpawner"
    executor = "local-as-user"

    def configure_spawner(self, c: Any) -> None:
        c.Spawner.notebook_dir = "~"

    def user_paths(self) -> dict[str, str]:
        # HUBKIT_HOME is the account's own (set by the spawner); the models are shared, read-only
        return {"HUBKIT_MODELS_HOME": str(self.hub_home / "models")}


class SingleUser(Deployment):
    """One person's development hub: every server and job runs as the platform's own account.

    User code can then read everything the platform can (the run database
    included): never use it for a hub with several users.
    """

    name = "single-user"
    spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    executor = "local"
    multi_user = False

    def configure_spawner(self, c: Any) -> None:
        c.SimpleLocalProcessSpawner.home_dir_template = str(self.hub_home / "users" / "{username}")
        c.Spawner.notebook_dir = "~"

    def user_paths(self) -> dict[str, str]:
        return {"HUBKIT_HOME": str(self.hub_home)}


class Kubernetes(Deployment):
    """A pod per user (KubeSpawner, GPU profiles); jobs on a Ray cluster. Pods carry no database secret."""

    name = "kubernetes"
    spawner_class = "kubespawner.KubeSpawner"
    executor = "ray"

    def configure_spawner(self, c: Any) -> None:
        c.KubeSpawner.image = self.env.get("HUBKIT_K8S_IMAGE", "hubkit/singleuser:latest")
        c.KubeSpawner.storage_pvc_ensure = True
        c.KubeSpawner.pvc_name_template = "hubkit-home-{username}"
        c.KubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "hubkit-home-{username}"}}]
        c.KubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
        multi = self.env.get("HUBKIT_K8S_MULTI_GPU", "4")
        c.KubeSpawner.profile_list = [
            {"display_name": "CPU", "slug": "cpu", "default": True,
             "description": "4 CPU cores, 16 GB: enough for the stand-ins and small LoRA runs.",
             "kubespawner_override": {"cpu_limit": 4, "mem_limit": "16G"}},
            {"display_name": "1 GPU", "slug": "gpu-1",
             "description": "One NVIDIA GPU for LoRA on 7-8B base models.",
             "kubespawner_override": {"cpu_limit": 8, "mem_limit": "48G",
                                      "extra_resource_limits": {"nvidia.com/gpu": "1"},
                                      "node_selector": {"nvidia.com/gpu.present": "true"}}},
            {"display_name": f"{multi} GPUs", "slug": "gpu-multi",
             "description": "Several GPUs on one node for larger bases or merged-model exports.",
             "kubespawner_override": {"cpu_limit": 32, "mem_limit": "192G",
                                      "extra_resource_limits": {"nvidia.com/gpu": multi},
                                      "node_selector": {"nvidia.com/gpu.present": "true"}}},
        ]

    def user_paths(self) -> dict[str, str]:
        return {"HUBKIT_HOME": "/home/jovyan/.hubkit"}


SLURM_SCRIPT = """#!/bin/bash
#SBATCH --output={{homedir}}/hubkit-server-%j.log
#SBATCH --job-name=hubkit-{{username}}
#SBATCH --chdir={{homedir}}
#SBATCH --partition={{partition}}
#SBATCH --time={{runtime}}
#SBATCH --mem={{memory}}
#SBATCH --cpus-per-task={{nprocs}}
{% if gres %}#SBATCH --gres={{gres}}
{% endif %}#SBATCH --export={{keepvars}}
set -euo pipefail
{{prologue}}
srun {{cmd}}
{{epilogue}}
"""


class Slurm(Deployment):
    """Servers as Slurm jobs of the user (BatchSpawner submits as the user); notebook jobs as their owner."""

    name = "slurm"
    spawner_class = "batchspawner.SlurmSpawner"
    executor = "local-as-user"

    def configure_spawner(self, c: Any) -> None:
        c.SlurmSpawner.batch_script = SLURM_SCRIPT
        c.SlurmSpawner.req_partition = self.env.get("HUBKIT_SLURM_PARTITION", "gpu")
        c.SlurmSpawner.req_runtime = self.env.get("HUBKIT_SLURM_RUNTIME", "8:00:00")
        c.SlurmSpawner.req_memory = self.env.get("HUBKIT_SLURM_MEMORY", "32G")
        c.SlurmSpawner.req_nprocs = self.env.get("HUBKIT_SLURM_CPUS", "8")
        c.SlurmSpawner.req_gres = self.env.get("HUBKIT_SLURM_GRES", "gpu:1")
        c.SlurmSpawner.start_timeout = 600
        # compute nodes reach the hub on its routable address, not loopback
        c.JupyterHub.hub_ip = "0.0.0.0"
        c.JupyterHub.hub_connect_ip = self.env.get("HUBKIT_HUB_CONNECT_IP", "")


DEPLOYMENTS: dict[str, type[Deployment]] = {cls.name: cls for cls in (LocalAccounts, SingleUser, Kubernetes, Slurm)}


def deployment_class(name: str) -> type[Deployment]:
    """A short name from :data:`DEPLOYMENTS`, or ``"package.module:Class"`` naming a subclass."""
    if name in DEPLOYMENTS:
        return DEPLOYMENTS[name]
    module, _, attr = name.partition(":")
    if not attr:
        raise ConfigError(f"HUBKIT_SPAWNER must be one of {', '.join(DEPLOYMENTS)} or 'package.module:Class' "
                          f"(got {name!r}).")
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"HUBKIT_SPAWNER names {name!r}, which cannot be imported.", detail=str(exc)) from exc
    if not (isinstance(found, type) and issubclass(found, Deployment)):
        raise ConfigError(f"HUBKIT_SPAWNER names {name!r}, which is not a hubkit Deployment class.")
    return found


def default_deployment() -> str:
    """Users' own accounts when the hub runs as root; else refuse rather than run everyone as one account."""
    if os.geteuid() == 0:
        return LocalAccounts.name
    raise ConfigError("Running each user's code as their own account needs JupyterHub to run as root. "
                      "For a one-person development hub, set HUBKIT_SPAWNER=single-user (everyone then runs "
                      "as this account, with its access to the run database).")
