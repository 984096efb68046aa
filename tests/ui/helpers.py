"""Walk a widget tree the way a browser would see it."""
from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as W


def walk(widget: W.Widget) -> Iterator[W.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget: W.Widget) -> str:
    return "\n".join(w.value for w in walk(widget) if isinstance(w, W.HTML))


def outputs_of(widget: W.Widget) -> list[dict]:
    return [o for w in walk(widget) if isinstance(w, W.Output) for o in w.outputs]


def find(widget: W.Widget, kind: type, **attrs: object) -> W.Widget:
    for w in walk(widget):
        if isinstance(w, kind) and all(getattr(w, k) == v for k, v in attrs.items()):
            return w
    raise LookupError(f"no {kind.__name__} with {attrs}")
