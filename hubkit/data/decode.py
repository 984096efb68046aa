"""Bytes to text, with a plain explanation when the bytes are not UTF-8 text.

Accepted: UTF-8 (a BOM is stripped) and UTF-16 with a BOM. Everything else
is refused with a hint, because guessing an encoding silently corrupts text
that then trains a model.
"""
from __future__ import annotations

from hubkit.data.problems import reject

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx file is one)"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
)
_SAMPLE = 4096


def sniff_binary(data: bytes) -> str | None:
    """What a binary file looks like, or None when it does not start like one we know."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    return None


def _looks_utf16(sample: bytes) -> bool:
    """ASCII text in UTF-16 has a NUL in every other byte."""
    if len(sample) < 4:
        return False
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    return max(even, odd) > 0.6 and min(even, odd) < 0.1


def _control_share(sample: bytes) -> float:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls / max(1, len(sample))


def decode_text(data: bytes, *, file: str) -> str:
    """Decode an upload to text; empty and blank files are refused here too."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _non_empty(data.decode("utf-16"), file=file)
        except UnicodeDecodeError as exc:
            reject(f"The file {file} starts like UTF-16 text but is damaged. "
                   "Save it as UTF-8 and upload it again.", file=file, detail=str(exc))
    what = sniff_binary(data)
    if what is not None:
        reject(f"The file {file} looks like {what}, not text. "
               "Upload JSONL, JSON, CSV, Parquet or TXT.", file=file)
    sample = data[:_SAMPLE]
    if _looks_utf16(sample):
        reject(f"The file {file} is saved as UTF-16 text. Save it as UTF-8 and upload it again.",
               file=file, detail="NUL byte in every other position, no byte-order mark")
    if b"\x00" in sample or _control_share(sample) > 0.05:
        reject(f"The file {file} is not text (it looks like binary data). "
               "Upload JSONL, JSON, CSV, Parquet or TXT.", file=file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        reject(
            f"Line {line} of {file} has characters that are not UTF-8 (byte 0x{bad:02x}). "
            "The file may be saved as Latin-1 or Windows-1252: "
            "save it as UTF-8 and upload it again.",
            file=file, detail=f"{exc} (line {line})",
        )
    if "\x00" in text:
        reject(f"The file {file} is not text (it contains NUL bytes).", file=file)
    return _non_empty(text, file=file)


def _non_empty(text: str, *, file: str) -> str:
    text = text.removeprefix("\ufeff")
    if not text:
        reject(f"The file {file} is empty.", file=file)
    if not text.strip():
        reject(f"The file {file} has only blank space and no rows.", file=file)
    return text
