"""Which notebook a job runs: references, metadata and the parameters cell.

A job names its notebook by a short reference, never by a path built from
user text:

- ``train`` / ``evaluate``: the platform notebooks in ``notebooks/``;
- ``template:<name>``: a template from the gallery (``HUBKIT_HOME/templates``)
  or one shipped in ``templates/``;
- ``archive:<sha256>``: an archived notebook, exactly as it ran before (reruns);
- a path to an ``.ipynb`` file (developers on their own machine).

A job is code execution, so what a job may run is the security boundary
(:func:`check_may_run`): the platform notebooks, gallery templates, or the
executed notebook of a run or job its owner owns. Any other ``archive:``
reference answers exactly as a missing one does, and archived notebooks are
read only from the archive's notebook namespace, never where uploads live.

Each notebook carries ``metadata.hubkit`` = ``{name, version, description,
kind}``; ``kind`` picks the extra checks its parameters get before a job is
queued, and templates are recorded under their name and version.

Reading is plain JSON: what is read here is metadata and one cell's source,
and nbformat (with its schema validator) would cost every ``submit`` and every
command seconds of imports. Papermill validates the notebook when it runs it.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.config import Settings
from hubkit.errors import JobError, NotFound, UnsafePath, ValidationError
from hubkit.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
PLATFORM_NOTEBOOKS = REPO_ROOT / "notebooks"
SHIPPED_TEMPLATES = REPO_ROOT / "templates"
BUILTIN = ("train", "evaluate")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Parameter:
    """One variable of the ``parameters`` cell: its default and the type that implies."""

    name: str
    default: Any
    type_name: str
    help: str = ""


@dataclass(frozen=True)
class NotebookSource:
    """A resolved notebook: where its bytes are and what it says about itself."""

    ref: str
    path: Path
    name: str
    version: str | None
    description: str
    kind: str
    is_template: bool
    parameters: dict[str, Parameter] = field(default_factory=dict)

    @property
    def template(self) -> str | None:
        return self.name if self.is_template else None

    @property
    def template_version(self) -> str | None:
        return self.version if self.is_template else None


def gallery_dir(settings: Settings) -> Path:
    return settings.home / "templates"


def check_name(name: str) -> str:
    """A template name safe to use as a file name (lower-case letters, digits, '-' and '_')."""
    if not _NAME.match(name or ""):
        raise ValidationError(
            f"{name!r} is not a valid template name: use lower-case letters, digits, '-' and '_' "
            "(at most 63 characters).", field="name")
    return name


def resolve(ref: str, *, settings: Settings, allow_paths: bool = True) -> NotebookSource:
    """Find the notebook a reference names; ``NotFound`` when there is none."""
    ref = (ref or "").strip()
    if ref in BUILTIN:
        return load(PLATFORM_NOTEBOOKS / f"{ref}.ipynb", ref=ref)
    if ref.startswith("template:"):
        name = check_name(ref.removeprefix("template:"))
        for folder in (gallery_dir(settings), SHIPPED_TEMPLATES):
            candidate = folder / f"{name}.ipynb"
            if candidate.is_file():
                return load(candidate, ref=ref)
        raise NotFound(f"There is no template called {name!r}.")
    if ref.startswith("archive:"):
        digest = _digest(ref)
        target = settings.home / "jobs" / "sources" / f"{digest}.ipynb"
        try:  # hash verified on every read
            open_archive(settings.archive_root, namespace=NOTEBOOKS).get_to_file(digest, target)
        except NotFound:
            raise _no_archived(digest) from None
        return load(target, ref=ref)
    if allow_paths and ref.endswith(".ipynb"):
        path = Path(ref).expanduser().resolve()
        if not path.is_file():
            raise NotFound(f"There is no notebook at {ref}.")
        return load(path, ref=str(path))
    raise NotFound(
        f"There is no notebook {ref!r}: use 'train', 'evaluate', 'template:<name>' or a path to an .ipynb file.")


def _digest(ref: str) -> str:
    digest = ref.removeprefix("archive:")
    if not _HASH.match(digest):
        raise UnsafePath(f"{digest!r} is not a content hash.")
    return digest


def _no_archived(digest: str) -> NotFound:
    # one answer for "never archived", "not a notebook" and "not yours": nothing leaks
    return NotFound(f"There is no archived notebook {digest}.")


def check_may_run(ref: str, *, owner: str, store: Store, allow_paths: bool = True) -> None:
    """Raise ``NotFound`` unless ``owner`` may run ``ref`` as a job.

    Allowed: ``train`` / ``evaluate``, ``template:<name>``, a path when
    ``allow_paths`` (the operator's own command line), and ``archive:<sha256>``
    only when that hash is the executed notebook of a run or job ``owner``
    owns: running someone else's archived notebook would run their code as
    ``owner``.
    """
    ref = (ref or "").strip()
    if ref in BUILTIN or ref.startswith("template:") or (allow_paths and ref.endswith(".ipynb")):
        return
    if not ref.startswith("archive:"):
        raise NotFound(f"There is no notebook {ref!r}: use 'train', 'evaluate' or 'template:<name>'.")
    digest = _digest(ref)
    for made in store.list_notebook_runs(archive_hash=digest):
        try:
            if made.model_id is not None and store.get_run(made.model_id, viewer=owner).owner == owner:
                return
            if made.job_id is not None and store.get_job(made.job_id).owner == owner:
                return
        except NotFound:  # hidden from this store's caller: not theirs either
            continue
    raise _no_archived(digest)


def load(path: Path, *, ref: str) -> NotebookSource:
    """Read a notebook's hubkit metadata and its parameters cell."""
    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise JobError(f"{path.name} is not a readable notebook.", detail=str(exc)) from exc
    if not (isinstance(nb, dict) and nb.get("nbformat") == 4 and isinstance(nb.get("cells"), list)):
        raise JobError(f"{path.name} is not a readable notebook.",
                       detail="expected a version 4 notebook with a list of cells")
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    meta = dict(metadata.get("hubkit") or {})
    return NotebookSource(
        ref=ref,
        path=path,
        name=str(meta.get("name") or path.stem),
        version=str(meta["version"]) if meta.get("version") is not None else None,
        description=str(meta.get("description") or ""),
        kind=str(meta.get("kind") or "notebook"),
        is_template=bool(meta.get("template", False)),
        parameters=parameters_of(nb),
    )


def check_executed(source: NotebookSource, executed: bytes) -> None:
    """Refuse an executed copy whose code is not ``source``'s (Papermill's injected parameters aside)."""
    try:
        nb = json.loads(executed)
    except ValueError as exc:
        raise ValidationError("The executed notebook is not valid JSON.", field="body") from exc
    ran = _code_cells(nb) if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None
    if ran != _code_cells(json.loads(source.path.read_bytes())):
        raise ValidationError("The executed notebook does not hold the code of the job's notebook.", field="body")


def _code_cells(nb: dict[str, Any]) -> list[str]:
    found = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        if "injected-parameters" in (meta.get("tags") or []):
            continue
        raw = cell.get("source", "")
        found.append("".join(raw) if isinstance(raw, list) else str(raw))
    return found


def parameters_cell(nb: dict[str, Any]) -> dict[str, Any] | None:
    for cell in nb.get("cells", []):
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        tags = meta.get("tags", []) if isinstance(meta, dict) else []
        if cell.get("cell_type") == "code" and isinstance(tags, list) and "parameters" in tags:
            return cell
    return None


def parameters_of(nb: dict[str, Any]) -> dict[str, Parameter]:
    """Names, literal defaults and implied types of the ``parameters`` cell (empty without one)."""
    cell = parameters_cell(nb)
    if cell is None:
        return {}
    raw = cell.get("source", "")
    source = "".join(raw) if isinstance(raw, list) else str(raw)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise JobError("The notebook's parameters cell is not valid Python.", detail=str(exc)) from exc
    lines = source.splitlines()
    found: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, annotation = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, ast.unparse(node.annotation)
        else:
            continue
        try:
            default = ast.literal_eval(value)
        except ValueError:
            default = None
            type_name = annotation or "any"
        else:
            type_name = annotation or _type_name(default)
        tail = lines[node.end_lineno - 1][node.end_col_offset:] if node.end_lineno else ""
        help_text = tail.split("#", 1)[1].strip() if "#" in tail else ""
        found[name] = Parameter(name=name, default=default, type_name=type_name, help=help_text)
    return found


def _type_name(value: Any) -> str:
    if value is None:
        return "any"
    return type(value).__name__
