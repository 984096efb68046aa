"""Who is looking, and through which store: decided once for every app.

Inside a user's JupyterHub server the apps talk to the hubkit service with the
user's own token (the kernel never holds database credentials). The public,
read-only pages run without a user and read the run database directly, as a
visitor (``ANONYMOUS``) who sees public models only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from hubkit.config import Settings, load_settings
from hubkit.store import ANONYMOUS, Store, open_store

# Outside JupyterHub (a local demo, the browser tests) the apps act for this user.
APP_USER_ENV = "HUBKIT_APP_USER"
# Set to 1 on the server that shows the public pages to visitors.
PUBLIC_ENV = "HUBKIT_PUBLIC_PAGES"


@dataclass(frozen=True)
class AppSession:
    """The store an app reads and writes, and the person it acts for."""

    store: Store
    user: str | None = None

    @property
    def viewer(self) -> str:
        """The viewer to pass to store queries: the user, or an anonymous visitor."""
        return self.user or ANONYMOUS

    @property
    def signed_in(self) -> bool:
        return bool(self.user)


def open_session(*, settings: Settings | None = None, public: bool | None = None) -> AppSession:
    """The app session for this kernel.

    ``public=True`` (default: ``HUBKIT_PUBLIC_PAGES=1``) is the visitor-facing
    server: no user, the database read directly. Otherwise the user comes from ``JUPYTERHUB_USER`` (with the
    service and ``JUPYTERHUB_API_TOKEN`` when a service URL is configured) or,
    outside JupyterHub, from ``HUBKIT_APP_USER``.
    """
    settings = settings or load_settings()
    if public is None:
        public = os.environ.get(PUBLIC_ENV, "") in ("1", "true", "yes")
    if public:
        return AppSession(store=open_store(settings.database_url, settings=settings), user=None)
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if hub_user and settings.service_url:
        store = open_store(settings.service_url, settings=settings, token=os.environ.get("JUPYTERHUB_API_TOKEN"))
        return AppSession(store=store, user=hub_user)
    user = hub_user or os.environ.get(APP_USER_ENV) or None
    return AppSession(store=open_store(settings.database_url, settings=settings), user=user)
