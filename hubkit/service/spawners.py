"""``AccountSpawner``: each user's server as their own system account (JupyterHub's LocalProcessSpawner).

JupyterHub's ``LocalProcessSpawner`` switches to the Unix user named like the
hub user; this one switches to the hub user's hubkit account
(``hubkit.accounts``), creates it on first spawn, keeps the platform's home
private (``hubkit.jobs.isolation``), copies the apps into the account's home, and hands the server (and so its kernels) the user's own
``HUBKIT_HOME`` instead of the platform's. JupyterHub already passes a
spawned server only the variables it names (``env_keep``, ``environment``),
so the database URL and the hub's secrets never reach it.
"""
from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from starlette.concurrency import run_in_threadpool

from hubkit import accounts
from hubkit.config import load_settings
from hubkit.errors import ConfigError
from hubkit.jobs import isolation


class AccountSpawner(LocalProcessSpawner):
    def _account(self) -> accounts.Account:
        found = accounts.lookup(self.user.name)
        if found is None:
            raise ConfigError(f"The system account of {self.user.name!r} does not exist yet.")
        return found

    async def start(self) -> Any:
        if not accounts.can_switch_users():
            raise ConfigError("Servers run as their users' own accounts, which needs JupyterHub to run as root; "
                              "for a one-person development hub set HUBKIT_SPAWNER=single-user.")
        account = await run_in_threadpool(accounts.ensure, self.user.name)
        await run_in_threadpool(isolation.lock_down_home, load_settings())
        await run_in_threadpool(_seed, account)
        return await super().start()

    def make_preexec_fn(self, name: str) -> Any:
        return set_user_setuid(accounts.account_name(name))

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        account = self._account()
        entry = pwd.getpwnam(account.name)
        env.update({"USER": account.name, "LOGNAME": account.name, "HOME": entry.pw_dir,
                    "SHELL": entry.pw_shell or "/bin/sh", "HUBKIT_HOME": str(Path(entry.pw_dir) / ".hubkit")})
        return env


def _seed(account: accounts.Account) -> None:
    """The apps, notebooks and templates in the account's home, owned by the account."""
    from hubkit.service.hub_config import seed_home

    seed_home(account.home)
    for entry in account.home.iterdir():
        if entry.lstat().st_uid != 0:
            continue  # the user's own
        os.lchown(entry, account.uid, account.gid)
        if entry.is_dir() and not entry.is_symlink():
            for root, folders, files in os.walk(entry):
                for name in [*folders, *files]:
                    os.lchown(os.path.join(root, name), account.uid, account.gid)
