"""Checks on user-supplied values, shared by every store implementation."""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from hubkit.errors import ValidationError
from hubkit.store import jsonsafe

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_CONFIG_BYTES = 256_000
MAX_COMMENT_CHARS = 5_000
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

VISIBILITIES = ("public", "unlisted", "private")
OUTCOMES = ("success", "failure", "partial")
RELATIONS = ("fork", "continue", "resume")
ROLES = ("casual", "developer", "educator", "researcher", "admin")


# zero-width (non-)joiners are format characters that scripts (Persian, Indic) and emoji need
_JOINERS = {"\u200c", "\u200d"}


def hidden_character(text: str) -> str | None:
    """The first control or invisible formatting character in ``text`` (e.g. U+202E, which
    reverses the text after it so ``cod\u202etxt.exe`` shows as ``codexe.txt``), else None."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in {"Cc", "Cs", "Zl", "Zp"} or (category == "Cf" and ch not in _JOINERS):
            return ch
    return None


def clean_name(name: str, *, what: str = "name") -> str:
    """Names are shown everywhere: keep them printable and short (escaping happens at display)."""
    if not isinstance(name, str):
        raise ValidationError(f"The {what} must be text.", field=what)
    text = name.strip()
    if not text:
        raise ValidationError(f"The {what} cannot be empty.", field=what)
    if len(text) > MAX_NAME_CHARS:
        raise ValidationError(
            f"The {what} is too long ({len(text)} characters); keep it under {MAX_NAME_CHARS}.",
            field=what,
        )
    hidden = hidden_character(text)
    if hidden is not None:
        raise ValidationError(f"The {what} contains an invisible control character (U+{ord(hidden):04X}); "
                              "type it again without it.", field=what)
    return text


def clean_text(text: str | None, *, what: str, limit: int) -> str | None:
    if text is None:
        return None
    if len(text) > limit:
        raise ValidationError(f"The {what} is too long; keep it under {limit} characters.", field=what)
    if "\x00" in text:
        raise ValidationError(f"The {what} contains a NUL character.", field=what)
    return text


def choice(value: str, allowed: tuple[str, ...], *, what: str) -> str:
    value = getattr(value, "value", value)
    if value not in allowed:
        raise ValidationError(
            f"{what} must be one of {', '.join(allowed)} (got {value!r}).", field=what
        )
    return value


def clean_json(obj: Mapping[str, Any] | None, *, what: str, limit: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """JSON-safe copy (non-finite numbers as strings), bounded in size."""
    if obj is None:
        return {}
    try:
        safe = jsonsafe.encode(dict(obj))
        size = len(json.dumps(safe, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The {what} must be plain JSON data.", field=what, detail=str(exc)) from exc
    if size > limit:
        raise ValidationError(
            f"The {what} is too large ({size} bytes); the limit is {limit} bytes.", field=what
        )
    return safe


def slug_base(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SLUG_STRIP.sub("-", ascii_name.lower()).strip("-")[:60] or "model"
