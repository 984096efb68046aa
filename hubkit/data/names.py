"""Upload names are metadata only: never part of a stored path.

Uploads are stored by ``content_hash``; the original name is checked here so
that a name meant to escape a folder (``../``, absolute, encoded, NUL) or to
look like another (bidirectional overrides such as U+202E, zero-width and other
invisible characters) is refused outright rather than "cleaned" into
something surprising.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote

from hubkit.errors import UnsafePath
from hubkit.store.validation import hidden_character

_MAX_NAME = 255
_DRIVE = re.compile(r"^[A-Za-z]:")


def content_hash(data: bytes) -> str:
    """sha256 of the raw bytes: the only name an upload is stored under."""
    return hashlib.sha256(data).hexdigest()


def _decoded_forms(name: str) -> list[str]:
    """The name and every percent-decoding of it (double encoding included)."""
    forms = [name]
    for _ in range(4):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms + [unicodedata.normalize("NFKC", f) for f in forms]


def check_upload_name(name: str) -> str:
    """Return the name unchanged if it is a plain file name; raise ``UnsafePath`` otherwise."""
    shown = repr(name)[:80]
    refusal = (
        f"The file name {shown} is not allowed: give the file a plain name such as data.csv."
    )
    if not isinstance(name, str) or not name.strip():
        raise UnsafePath("The file has no name: give it a plain name such as data.csv.")
    if len(name) > _MAX_NAME:
        raise UnsafePath(refusal, detail=f"name longer than {_MAX_NAME} characters")
    for form in _decoded_forms(name):
        hidden = hidden_character(form)
        if hidden is not None:  # NUL, newlines, and bidi overrides that disguise an extension
            raise UnsafePath(refusal, detail=f"control or invisible character U+{ord(hidden):04X} in name")
        if "/" in form or "\\" in form:
            raise UnsafePath(refusal, detail=f"path separator in {form!r}")
        if _DRIVE.match(form):
            raise UnsafePath(refusal, detail=f"drive letter in {form!r}")
        if form.strip(" .") == "":
            raise UnsafePath(refusal, detail=f"{form!r} names no file")
    return name


def extension_of(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""
