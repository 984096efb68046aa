"""NativeAuthenticator (sign-up, admin approval, password change) on JupyterHub 6, with safe defaults.

NativeAuthenticator 1.3's own login handler reads ``self.statsd``, which
JupyterHub 6 no longer has, so every login failed with a server error. The
login form is JupyterHub's own here; it calls the same ``authenticate`` (the
password check, the approval rule and the failed-login limit), and every
other page (sign-up, authorize, change password) is NativeAuthenticator's.

What this adds to it:

- a password that contains the username (any case) is refused at sign-up and
  at every password change, like a common one, and the sign-up page says so;
- the wait after too many failed logins is measured in whole seconds
  (upstream compares ``timedelta.seconds``, which wraps every day, so an
  account could be blocked again a day later for no reason).

The failed-login counts live in the hub's memory, per account name: they
limit guessing one account's password (the admin's included), and restart
from zero when the hub restarts.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import SignUpHandler

from hubkit.errors import ConfigError

PASSWORD_RULES = ("Choose another password: it needs at least {n} characters, must not contain your "
                  "username and must not be a common password. Usernames cannot contain spaces, "
                  "commas or slashes.")


def whole_number(env: Mapping[str, str], name: str, default: int, *, least: int) -> int:
    """A setting such as HUBKIT_LOGIN_ATTEMPTS: a whole number of at least ``least``."""
    raw = env.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < least:
        raise ConfigError(f"{name} must be a whole number of at least {least} (got {raw!r}).")
    return int(raw)


def contains_username(username: str, password: str) -> bool:
    return bool(username) and username.strip().lower() in password.lower()


class HubkitSignUpHandler(SignUpHandler):
    """NativeAuthenticator's sign-up page, naming every password rule when one is broken."""

    def get_result_message(self, user: Any, assume_user_is_human: bool, username_already_taken: bool,
                           confirmation_matches: bool, user_is_admin: bool) -> tuple[str, str]:
        if user is None and assume_user_is_human and not username_already_taken and confirmation_matches:
            return "alert-danger", PASSWORD_RULES.format(n=self.authenticator.minimum_password_length)
        return super().get_result_message(user, assume_user_is_human, username_already_taken,
                                          confirmation_matches, user_is_admin)


class HubkitNativeAuthenticator(NativeAuthenticator):
    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        handlers = []
        for path, handler in super().get_handlers(app):
            if path == r"/login":
                continue  # JupyterHub's own login form (see the module docstring)
            handlers.append((path, HubkitSignUpHandler if path == r"/signup" else handler))
        return handlers

    def create_user(self, username: str, password: str, **kwargs: Any) -> Any:
        if contains_username(self.normalize_username(username), password):
            return None
        return super().create_user(username, password, **kwargs)

    def change_password(self, username: str, new_password: str) -> Any:
        if contains_username(self.normalize_username(username), new_password):
            return None
        return super().change_password(username, new_password)

    def can_try_to_login_again(self, username: str) -> bool:
        attempts = self.login_attempts.get(username)
        if not attempts:
            return True
        return (datetime.now() - attempts["time"]).total_seconds() > self.seconds_before_next_try
