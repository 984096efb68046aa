"""One router per resource; ``ROUTERS`` is the list ``create_app`` mounts."""
from __future__ import annotations

from hubkit.service.routes import (
           advice,
           archive,
           bundles,
           catalog,
           datasets,
           evaluations,
           exports,
           jobs,
           runs,
)

ROUTERS = [catalog.router, datasets.router, runs.router, runs.events, evaluations.router, jobs.router, bundles.router,
           archive.router, advice.router, exports.router]
