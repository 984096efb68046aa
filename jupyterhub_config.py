"""JupyterHub for AI Model Hub: `hubkit serve hub` (or `jupyterhub -f jupyterhub_config.py`).

Every choice is read from the environment; see docs/service.md and
hubkit/service/hub_config.py.
"""
from hubkit.service.hub_config import configure

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
configure(c)
