"""NativeAuthenticator (sign-up, admin approval, password change) on JupyterHub 6.

NativeAuthenticator 1.3's own login handler reads ``self.statsd``, which
JupyterHub 6 no longer has, so every login failed with a server error. The
login form is JupyterHub's own here; it calls the same ``authenticate`` (the
password check and the approval rule), and every other page (sign-up,
authorize, change password) is NativeAuthenticator's.
"""
from __future__ import annotations

from typing import Any

from nativeauthenticator import NativeAuthenticator


class HubkitNativeAuthenticator(NativeAuthenticator):
    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [(path, handler) for path, handler in super().get_handlers(app) if path != r"/login"]
