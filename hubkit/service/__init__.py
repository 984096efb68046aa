"""The hubkit service: the HTTP API user kernels, apps and workers share.

``create_app()`` builds it; JupyterHub runs it as a managed service
(``python -m hubkit.service``) behind its proxy. See docs/service.md.
"""
from hubkit.service.app import create_app
from hubkit.service.auth import (
    Authenticator,
    Identity,
    JupyterHubAuthenticator,
    StaticTokenAuthenticator,
)
from hubkit.service.caller import ACT_AS_HEADER
from hubkit.service.server import BackgroundServer, serve

__all__ = [
    "ACT_AS_HEADER", "Authenticator", "BackgroundServer", "Identity", "JupyterHubAuthenticator",
    "StaticTokenAuthenticator", "create_app", "serve",
]
