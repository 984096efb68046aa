"""The educator template gallery: list what can be run, publish what runs cleanly.

A template is a notebook whose ``metadata.hubkit`` says ``template: true`` with
a name, a version and a description, and which has a ``parameters`` cell.
Publishing checks all of that, then runs the template with its defaults as an
ordinary job (so the check run is recorded like any other); only the exact
bytes that passed are copied into the gallery, under the sanitised name.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hubkit.archive import safe_join
from hubkit.config import Settings, load_settings
from hubkit.errors import Conflict, JobError, ValidationError
from hubkit.jobs import notebooks
from hubkit.jobs.api import submit, wait
from hubkit.store import Store, open_store
from hubkit.store.records import JobRecord


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    version: str
    description: str
    kind: str
    origin: str
    """"gallery" (published on this hub) or "shipped" (comes with hubkit)."""
    path: Path
    parameters: dict[str, notebooks.Parameter]


def _info(source: notebooks.NotebookSource, origin: str) -> TemplateInfo:
    return TemplateInfo(name=source.name, version=source.version or "", description=source.description,
                        kind=source.kind, origin=origin, path=source.path, parameters=source.parameters)


def list_templates(*, settings: Settings | None = None) -> list[TemplateInfo]:
    """Every template by name; a published one hides a shipped one of the same name."""
    settings = settings or load_settings()
    found: dict[str, TemplateInfo] = {}
    for origin, folder in (("shipped", notebooks.SHIPPED_TEMPLATES), ("gallery", notebooks.gallery_dir(settings))):
        for path in sorted(folder.glob("*.ipynb")):
            source = notebooks.load(path, ref=f"template:{path.stem}")
            if source.is_template:
                found[source.name] = _info(source, origin)
    return sorted(found.values(), key=lambda t: t.name)


def check_template(path: Path) -> notebooks.NotebookSource:
    """The static checks: template metadata complete and a ``parameters`` cell present."""
    source = notebooks.load(path, ref=str(path))
    if not source.is_template:
        raise ValidationError(f"{path.name} is not marked as a template: set metadata.hubkit.template to true.",
                              field="template")
    notebooks.check_name(source.name)
    for key in ("version", "description"):
        if not getattr(source, key):
            raise ValidationError(f"The template {source.name} has no {key}: set metadata.hubkit.{key}.",
                                  field=key)
    if not source.parameters:
        raise ValidationError(f"The template {source.name} has no cell tagged 'parameters'; students change "
                              "its settings there, so it needs one.", field="parameters")
    return source


def publish(path: Path, *, owner: str, store: Store | None = None, settings: Settings | None = None,
            timeout_s: float = 1800, on_update: Callable[[JobRecord], None] | None = None) -> TemplateInfo:
    """Check ``path``, run it with its defaults, and add it to the gallery only if it ran cleanly."""
    settings = settings or load_settings()
    store = store or open_store(settings.database_url, settings=settings)
    data = Path(path).read_bytes()
    gallery = notebooks.gallery_dir(settings)
    staging = gallery / ".staging" / f"{hashlib.sha256(data).hexdigest()}.ipynb"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_bytes(data)
    try:
        source = check_template(staging)
        target = safe_join(gallery, f"{source.name}.ipynb")
        if target.exists():
            current = notebooks.load(target, ref=str(target))
            if current.version == source.version:
                raise Conflict(f"Version {source.version} of {source.name} is already published; "
                               "raise the version number to publish a change.")
        job = submit(notebook=str(staging), parameters={}, owner=owner, store=store, settings=settings)
        job = wait(job.id, timeout_s=timeout_s, on_update=on_update, store=store, settings=settings)
        if job.state.value != "succeeded":
            raise JobError(f"The template {source.name} did not run cleanly with its defaults, so it was not "
                           f"published (job {job.id}: {job.state.value}).", detail=job.error)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return _info(notebooks.load(target, ref=f"template:{source.name}"), "gallery")
