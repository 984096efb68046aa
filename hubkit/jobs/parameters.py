"""Check a job's parameters against its notebook before anything is queued.

A wrong value must fail in the submitting process with one plain sentence,
not minutes later inside a kernel. Checks come in two layers: every notebook
gets name and type checks from its ``parameters`` cell; a notebook whose
``metadata.hubkit.kind`` has an entry in :data:`KIND_CHECKS` also gets that
kind's domain checks (a training notebook: known base model, every training
setting within the bounds ``TrainSpec`` declares).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import pydantic
import yaml

from hubkit.errors import ValidationError
from hubkit.jobs.notebooks import NotebookSource, Parameter
from hubkit.store import Store

_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping",
    "None": "empty (None)",
}


def parse_cli_value(raw: str) -> Any:
    """``-p name value`` on the command line: YAML scalars, like ``papermill -p``."""
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _matches(value: Any, type_name: str) -> bool:
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "list":
        return isinstance(value, list | tuple)
    if type_name == "dict":
        return isinstance(value, dict)
    if type_name == "None":
        return value is None
    return True  # "any" and annotations we do not interpret


def _check_type(source: NotebookSource, param: Parameter, value: Any) -> None:
    options = [part.strip() for part in param.type_name.replace("Optional[", "None|").rstrip("]").split("|")]
    if any(_matches(value, option) for option in options):
        return
    wanted = " or ".join(_WORDS.get(option, option) for option in options)
    raise ValidationError(
        f"The parameter '{param.name}' of {source.name} must be {wanted}; you gave {value!r}.",
        field=param.name)


def validate(source: NotebookSource, given: Mapping[str, Any], *, store: Store,
             owner: str | None = None) -> dict[str, Any]:
    """Return the parameters to inject; raise ``ValidationError`` on the first problem.

    Ids given to the notebook are checked for ``owner`` like every id a caller
    passes: one they may not see raises ``NotFound``, exactly as a missing one.
    """
    if not source.parameters:
        raise ValidationError(
            f"{source.name} has no cell tagged 'parameters', so it cannot run as a job "
            "(tag the cell that holds its settings with 'parameters').", field="parameters")
    unknown = sorted(set(given) - set(source.parameters))
    if unknown:
        raise ValidationError(
            f"{source.name} has no parameter {', '.join(repr(u) for u in unknown)}; "
            f"it takes: {', '.join(source.parameters)}.", field=unknown[0])
    params = dict(given)
    for name, value in params.items():
        _check_type(source, source.parameters[name], value)
    _check_ids(params, store, owner)
    check = KIND_CHECKS.get(source.kind)
    if check is not None:
        effective = {name: p.default for name, p in source.parameters.items()} | params
        check(source, effective, store)
    return params


# parameters that name a record, in every notebook: the job's owner must be able to see it
RUN_ID_PARAMETERS = ("run_id", "parent_model_id")
DATASET_ID_PARAMETERS = ("dataset_id",)


def _check_ids(values: Mapping[str, Any], store: Store, owner: str | None) -> None:
    for name in RUN_ID_PARAMETERS:
        if values.get(name) is not None:
            store.get_run(values[name], viewer=owner)
    for name in DATASET_ID_PARAMETERS:
        if values.get(name) is not None:
            store.get_dataset(values[name], viewer=owner)


# --- kind-specific checks ----------------------------------------------------------
def _check_base_model(source: NotebookSource, values: Mapping[str, Any], store: Store) -> None:
    key = values.get("base_model")
    if key is None:
        return
    known = sorted(b.key for b in store.list_base_models())
    if key not in known:
        raise ValidationError(
            f"There is no base model {key!r}; choose one of: {', '.join(known) or 'none installed yet'}.",
            field="base_model")


def _check_train(source: NotebookSource, values: Mapping[str, Any], store: Store) -> None:
    """Parameters named like a ``TrainSpec`` (or data-source) setting get that setting's bounds."""
    from hubkit.train import preset_names
    from hubkit.train.spec import DatasetRef, TrainSpec

    _check_base_model(source, values, store)
    preset = values.get("preset")
    if preset is not None and preset not in preset_names():
        raise ValidationError(f"There is no preset {preset!r}; choose one of: {', '.join(preset_names())}.",
                              field="preset")
    for name, value in values.items():
        info = TrainSpec.model_fields.get(name) if name not in ("dataset", "base_model") else None
        info = info or DatasetRef.model_fields.get(name)
        if info is None:
            continue
        try:
            pydantic.TypeAdapter(Annotated[info.annotation, info]).validate_python(value)
        except pydantic.ValidationError as exc:
            msg = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
            msg = msg.replace("Input should be", "must be")
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            raise ValidationError(f"{extra.get('label', name)} ('{name}') {msg}; you gave {value!r}.",
                                  field=name, detail=str(exc)) from None


KIND_CHECKS: dict[str, Callable[[NotebookSource, Mapping[str, Any], Store], None]] = {
    "train": _check_train,
    "evaluate": _check_base_model,
}
