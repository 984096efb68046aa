"""Developer mode of the builder: every ``TrainSpec`` setting, its help, its checks, and YAML.

The form is generated from ``hubkit.train.field_help()`` (one source for
labels, help, bounds and choices). Values are typed as YAML scalars, so
numbers, lists and mappings all round-trip; the whole spec is checked by
``TrainSpec.parse`` and its plain-language error is shown next to the form.
Above the settings, the config advisor's failure risk and expected gain are
redrawn whenever a setting changes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as W
import yaml

from hubkit.errors import HubkitError, ValidationError
from hubkit.ui.html import esc, page
from hubkit.ui.widgets import html, message

_SKIP = {"base_model", "domain", "dataset.dataset_id", "dataset.path", "dataset.example"}  # chosen in the guided steps


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _value(text: str, *, is_text: bool) -> Any:
    """The typed value of a form field (text fields stay text; "3e-4" is a number)."""
    if is_text:
        return text
    if not text.strip():
        return None
    value = yaml.safe_load(text)
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                continue
    return value


def _get(spec: dict[str, Any], name: str) -> Any:
    head, _, tail = name.partition(".")
    return (spec.get(head) or {}).get(tail) if tail else spec.get(head)


def _set(spec: dict[str, Any], name: str, value: Any) -> None:
    head, _, tail = name.partition(".")
    if tail:
        spec.setdefault(head, {})[tail] = value
    else:
        spec[head] = value


class DeveloperForm(W.VBox):
    """Edits a spec dict; ``spec()`` returns it, ``load(spec)`` fills the form."""

    def __init__(self, *, on_change: Callable[[], None] | None = None) -> None:
        from hubkit.train import field_help

        self.help = field_help()
        self.fields: dict[str, W.ValueWidget] = {}
        self._loading = False
        self._on_change = on_change
        rows = []
        for name, info in self.help.items():
            if name in _SKIP:
                continue
            if "choices" in info:
                options = ([("(detect)", "")] if not info["required"] and info["default"] is None else []) + [
                    (str(c), c) for c in info["choices"]]
                widget: W.ValueWidget = W.Dropdown(options=options, value=info["default"] or "")
            elif isinstance(info["default"], bool):
                widget = W.Checkbox(value=info["default"], indent=False)
            else:
                widget = W.Text(value=_text(info["default"]), placeholder="(empty)")
            widget.description = info["label"]
            widget.style = {"description_width": "200px"}
            widget.layout = W.Layout(width="520px")
            widget.observe(lambda _: self._changed(), names="value")
            self.fields[name] = widget
            bounds = ", ".join(f"{k} {v}" for k, v in info.items() if k in (
                "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
            rows.append(W.VBox([widget, html(f'<div class="muted" style="margin-left:205px">{esc(info["help"])}'
                                             f'{" (" + esc(bounds) + ")" if bounds else ""} '
                                             f'<code>{esc(name)}</code></div>')]))
        self.errors = W.HTML()
        self.advice = W.HTML()
        self.advice.add_class("hk-devmode-advice")
        self.yaml_out = W.Textarea(layout=W.Layout(width="100%", height="260px"))
        self.yaml_out.add_class("hk-spec-yaml")
        self.yaml_in = W.Textarea(placeholder="Paste a spec (YAML) here", layout=W.Layout(width="100%", height="120px"))
        self.load_button = W.Button(description="Load this spec")
        self.load_button.on_click(lambda _: self.load_yaml(self.yaml_in.value))
        self.base: dict[str, Any] = {}
        super().__init__([html("<h2>Every setting</h2>"), self.advice, *rows, self.errors,
                          html("<h2>The spec as YAML (copy it)</h2>"), self.yaml_out,
                          html("<h2>Paste a spec</h2>"), self.yaml_in, self.load_button])
        self.add_class("hk-devmode")

    def _changed(self) -> None:
        if self._loading:
            return
        self.refresh()
        if self._on_change is not None:
            self._on_change()

    def values(self) -> dict[str, Any]:
        """The spec as the form holds it (on top of the guided choices in ``base``)."""
        spec: dict[str, Any] = yaml.safe_load(yaml.safe_dump(self.base)) if self.base else {}
        for name, widget in self.fields.items():
            raw = widget.value
            is_text = isinstance(self.help[name]["default"], str) or "maxLength" in self.help[name]
            try:
                value = _value(raw, is_text=is_text) if isinstance(widget, W.Text) else (
                    None if raw == "" else raw)
            except yaml.YAMLError:
                value = raw
            _set(spec, name, value)
        spec["dataset"] = {k: v for k, v in (spec.get("dataset") or {}).items()
                           if v is not None and not (k == "columns" and v in ({}, None))}
        return {k: v for k, v in spec.items() if v is not None}

    def spec(self) -> Any:
        """A checked ``TrainSpec`` (raises ``ValidationError`` in plain words)."""
        from hubkit.train import TrainSpec

        return TrainSpec.parse(self.values(), source="developer settings")

    def refresh(self) -> None:
        try:
            spec = self.spec()
        except ValidationError as exc:
            message(self.errors, exc.message)
            return
        message(self.errors, "")
        self.yaml_out.value = spec.to_yaml()
        self.advice.value = page(self._live_advice(spec))

    @staticmethod
    def _live_advice(spec: Any) -> str:
        """Risk and gain for the settings as they stand (the advisor is fitted once, then answers in a blink)."""
        from hubkit.research.advisor import advise
        from hubkit.ui.advice import live_line

        try:
            return live_line(advise(spec))
        except HubkitError as exc:
            return f'<p class="muted hk-live-advice">{esc(exc.message)}</p>'

    def load(self, spec: dict[str, Any]) -> None:
        """Fill the form from a spec dict (guided choices included)."""
        self._loading = True
        try:
            self.base = {k: spec[k] for k in ("base_model", "domain") if k in spec}
            self.base["dataset"] = {k: v for k, v in (spec.get("dataset") or {}).items()
                                    if f"dataset.{k}" in _SKIP}
            for name, widget in self.fields.items():
                value = _get(spec, name)
                if value is None:
                    value = self.help[name]["default"]
                if isinstance(widget, W.Dropdown) and value is None:
                    value = ""
                widget.value = value if not isinstance(widget, W.Text) else _text(value)
        finally:
            self._loading = False
        self.refresh()

    def load_yaml(self, text: str) -> None:
        try:
            data = yaml.safe_load(text)
            if not isinstance(data, dict):
                raise ValidationError("A spec is a YAML mapping of settings (name: value).")
            from hubkit.train import TrainSpec

            TrainSpec.parse(data, source="the pasted spec")
        except yaml.YAMLError as exc:
            self.errors.value = page(f'<p class="error">That is not valid YAML: {esc(exc)}</p>')
            return
        except ValidationError as exc:
            message(self.errors, exc.message)
            return
        self.load(data)
        if self._on_change is not None:
            self._on_change()
