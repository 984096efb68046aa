"""Each hub user's system account: the identity their code runs as on one machine.

JupyterHub's own model (``LocalProcessSpawner`` with real Unix users): a
user's server, kernels and notebook jobs run as that user's account, so the
kernel simply cannot open the platform's database, the hub's cookie secret
or another user's home. Accounts are made on first use (first approved
login, first spawn, first job) with ``useradd``, which needs root; homes are
``0700``.

Names: a hub name that is already a safe Unix name (lower-case letters,
digits, ``_`` and ``-``, starting with a letter, at most 29 characters) maps
to ``hk-<name>``; any other name maps to ``hkx-<16 hex of its sha256>``. The
two forms never collide, and no hub name can pick an existing system
account (``root``, ``www-data``) or one of another user.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from hubkit.errors import ConfigError

PREFIX = "hk-"
HASHED_PREFIX = "hkx-"
_SAFE = re.compile(r"^[a-z][a-z0-9_-]{0,28}$")
_CREATING = threading.Lock()
ACCOUNT_HOMES = Path(os.environ.get("HUBKIT_ACCOUNT_HOMES", "/home"))


@dataclass(frozen=True)
class Account:
    """A hub user's system account."""

    hub_name: str
    name: str
    uid: int
    gid: int
    home: Path


def account_name(hub_name: str) -> str:
    """The system account name of hub user ``hub_name`` (see the module docstring)."""
    if not hub_name:
        raise ConfigError("A job or server needs a hub user to run as.")
    if _SAFE.match(hub_name):
        return PREFIX + hub_name
    return HASHED_PREFIX + hashlib.sha256(hub_name.encode()).hexdigest()[:16]


def can_switch_users() -> bool:
    """Whether this process may start processes as other accounts (it runs as root)."""
    return os.geteuid() == 0


def lookup(hub_name: str) -> Account | None:
    """The account of ``hub_name`` if it exists."""
    name = account_name(hub_name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(hub_name=hub_name, name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=Path(entry.pw_dir))


def ensure(hub_name: str, *, homes: Path | None = None) -> Account:
    """The account of ``hub_name``, created (with a private home) the first time it is needed."""
    found = lookup(hub_name)
    if found is None:
        if not can_switch_users():
            raise ConfigError(
                "Running users' code as their own accounts needs the platform to run as root; "
                "run it as root, or choose the single-user executor for a machine with one user.")
        name = account_name(hub_name)
        home = (homes or ACCOUNT_HOMES) / name
        with _CREATING:
            if lookup(hub_name) is None:
                done = subprocess.run(
                    ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                     "--user-group", "--comment", "hubkit user", name],
                    capture_output=True, text=True, check=False)
                if done.returncode != 0 and lookup(hub_name) is None:
                    raise ConfigError(f"Could not create the system account for {hub_name!r}.",
                                      detail=done.stderr.strip())
        found = lookup(hub_name)
        assert found is not None
    if can_switch_users():
        found.home.mkdir(parents=True, exist_ok=True)
        os.chown(found.home, found.uid, found.gid)
        found.home.chmod(0o700)
    return found


def private_folder_on_path(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other accounts cannot pass (None: all can)."""
    target = path.resolve()
    for folder in reversed(target.parents):
        if not folder.stat().st_mode & 0o001:
            return folder
    return None if target.stat().st_mode & 0o005 == 0o005 else target
