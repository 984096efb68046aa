"""File readers, one per upload format, in a registry keyed by extension.

Each reader turns bytes into a ``RawTable``: records with their 1-based row
number (and line, where the file has lines) and the columns in order of first
appearance. Readers never guess types: CSV values stay text.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hubkit.data.decode import decode_text, sniff_binary
from hubkit.data.limits import DataLimits, human_bytes
from hubkit.data.problems import ProblemList, reject


@dataclass(frozen=True)
class RawRecord:
    row: int
    line: int | None
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RawTable:
    file: str
    reader: str
    columns: list[str]
    records: list[RawRecord]
    problems: ProblemList
    """Rows that could not be read; reported together with the row checks."""


ReadFn = Callable[[bytes, str, DataLimits], RawTable]


@dataclass(frozen=True)
class Reader:
    name: str
    extensions: tuple[str, ...]
    read: ReadFn


READERS: dict[str, Reader] = {}


def register_reader(name: str, *extensions: str) -> Callable[[ReadFn], ReadFn]:
    """Add a reader for the given extensions; a duplicate extension is a bug."""

    def wrap(fn: ReadFn) -> ReadFn:
        for ext in extensions:
            if ext in READERS:
                raise ValueError(f"extension {ext!r} already has reader {READERS[ext].name!r}")
            READERS[ext] = Reader(name=name, extensions=extensions, read=fn)
        return fn

    return wrap


def supported_extensions() -> list[str]:
    return sorted(READERS)


def where(row: int, line: int | None) -> str:
    """'Row 3' or 'Row 3 (line 4)': the line helps when rows and lines differ."""
    return f"Row {row}" if line in (None, row) else f"Row {row} (line {line})"


def kind_of(value: Any) -> str:
    """A value's kind in everyday words."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _too_many_rows(file: str, limits: DataLimits) -> None:
    reject(
        f"The file {file} has more than {limits.max_rows:,} rows; the limit is "
        f"{limits.max_rows:,}. Upload a smaller part of it.",
        file=file,
    )


def _row_too_big(problems: ProblemList, row: int, line: int | None, size: int,
                 limits: DataLimits) -> None:
    problems.add(
        f"{where(row, line)} is {human_bytes(size)} long; one row may be at most "
        f"{human_bytes(limits.max_row_bytes)}. Split it into several rows.",
        row=row,
    )


def _size(values: Mapping[str, Any]) -> int:
    return len(json.dumps(values, ensure_ascii=False, default=str).encode("utf-8"))


def table_from_records(records: Iterable[Mapping[str, Any]], *, file: str, reader: str,
                       limits: DataLimits) -> RawTable:
    """Rows already parsed (a JSON list, a Hugging Face dataset, generated data)."""
    problems = ProblemList(file=file, limit=limits.max_problems)
    out: list[RawRecord] = []
    for row, obj in enumerate(records, start=1):
        if row > limits.max_rows:
            _too_many_rows(file, limits)
        if not isinstance(obj, Mapping):
            problems.add(
                f"Row {row} is {kind_of(obj)}, not an object with named fields "
                '(like {"question": "...", "answer": "..."}).',
                row=row,
            )
            continue
        size = _size(obj)
        if size > limits.max_row_bytes:
            _row_too_big(problems, row, None, size, limits)
            continue
        out.append(RawRecord(row=row, line=None, values=obj))
    return _table(file, reader, out, problems)


def _table(file: str, reader: str, records: list[RawRecord], problems: ProblemList) -> RawTable:
    if not records:
        problems.raise_if_any()
        reject(f"The file {file} has no rows.", file=file)
    columns: dict[str, None] = {}
    for record in records:
        for key in record.values:
            columns.setdefault(str(key), None)
    return RawTable(file=file, reader=reader, columns=list(columns), records=records,
                    problems=problems)


def _rows_of_lines(text: str, file: str, limits: DataLimits, problems: ProblemList) -> Iterator[tuple[int, int, str]]:
    """(row, line number, line) of each non-blank line; oversized lines become problems."""
    row = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        row += 1
        if row > limits.max_rows:
            _too_many_rows(file, limits)
        size = len(line.encode("utf-8"))
        if size > limits.max_row_bytes:
            _row_too_big(problems, row, lineno, size, limits)
            continue
        yield row, lineno, line


MAX_JSON_DEPTH = 32
"""Rows nest a few levels at most (chat messages: a list of objects); deeper is refused plainly,
never with Python's RecursionError from the parser or from anything reading the rows later."""


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 1)]  # iterative: the check itself must not recurse
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _deep_sentence(what: str) -> str:
    return f"{what} is nested more than {MAX_JSON_DEPTH} levels deep; rows are flat fields or short lists."


def _loads_document(text: str, file: str) -> Any:
    """``json.loads`` of a whole file; nesting too deep is a plain rejection."""
    try:
        whole = json.loads(text)
    except RecursionError:
        whole = None
        deep = True
    else:
        deep = _too_deep(whole, MAX_JSON_DEPTH + 1)  # the list of rows is one level itself
    if deep:
        reject(_deep_sentence(f"The file {file}"), file=file, detail="JSON nesting too deep")
    return whole


def _parse_lines(text: str, file: str, limits: DataLimits) -> RawTable:
    problems = ProblemList(file=file, limit=limits.max_problems)
    records: list[RawRecord] = []
    for row, lineno, line in _rows_of_lines(text, file, limits, problems):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(
                f"Line {lineno} is not valid JSON ({exc.msg} at character {exc.colno}). "
                'Each line must be one JSON object, like {"text": "..."}.',
                row=row, detail=f"line {lineno}: {exc}",
            )
            continue
        except RecursionError:
            problems.add(_deep_sentence(where(row, lineno)), row=row)
            continue
        if _too_deep(obj):
            problems.add(_deep_sentence(where(row, lineno)), row=row)
            continue
        if not isinstance(obj, dict):
            problems.add(
                f"{where(row, lineno)} is {kind_of(obj)}, not an object with named fields "
                '(like {"question": "...", "answer": "..."}).',
                row=row,
            )
            continue
        records.append(RawRecord(row=row, line=lineno, values=obj))
    return _table(file, "jsonl", records, problems)


@register_reader("jsonl", "jsonl", "ndjson")
def read_jsonl(data: bytes, file: str, limits: DataLimits) -> RawTable:
    text = decode_text(data, file=file)
    if text.lstrip().startswith("["):
        try:
            whole = _loads_document(text, file)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            return table_from_records(whole, file=file, reader="json", limits=limits)
    return _parse_lines(text, file, limits)


@register_reader("json", "json")
def read_json(data: bytes, file: str, limits: DataLimits) -> RawTable:
    text = decode_text(data, file=file)
    try:
        whole = _loads_document(text, file)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            # A .json file holding JSON Lines is common; read it as such.
            return _parse_lines(text, file, limits)
        reject(
            f"The file {file} is not valid JSON: {exc.msg} on line {exc.lineno}, "
            f"character {exc.colno}.",
            file=file, detail=str(exc),
        )
    if isinstance(whole, dict):
        reject(
            f"The file {file} holds a single JSON object, not a list of rows. "
            'Put the rows in a list: [{"question": "...", "answer": "..."}, ...].',
            file=file, detail=f"top-level keys: {list(whole)[:10]}",
        )
    if not isinstance(whole, list):
        reject(
            f"The file {file} holds {kind_of(whole)}, not a list of rows. "
            'Put the rows in a list: [{"question": "...", "answer": "..."}, ...].',
            file=file,
        )
    return table_from_records(whole, file=file, reader="json", limits=limits)


def _sniff_delimiter(text: str, default: str) -> str:
    """Comma unless the header clearly uses ';', tab or '|' instead."""
    header = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(header, delimiters=",;\t|")
    except csv.Error:
        return default
    if dialect.delimiter != default and header.count(default) == 0:
        return dialect.delimiter
    return default


def _read_delimited(data: bytes, file: str, limits: DataLimits, default: str) -> RawTable:
    text = decode_text(data, file=file)
    delimiter = _sniff_delimiter(text, default)
    if csv.field_size_limit() < limits.max_row_bytes + 1:
        csv.field_size_limit(limits.max_row_bytes + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems = ProblemList(file=file, limit=limits.max_problems)
    records: list[RawRecord] = []
    header: list[str] | None = None
    row = 0
    last_end = 0
    try:
        for values in reader:
            line, last_end = last_end + 1, reader.line_num
            if header is None:
                header = [h.strip() for h in values]
                _check_header(header, file)
                continue
            if not any(v.strip() for v in values):
                continue
            row += 1
            if row > limits.max_rows:
                _too_many_rows(file, limits)
            size = sum(len(v.encode("utf-8")) for v in values)
            if size > limits.max_row_bytes:
                _row_too_big(problems, row, line, size, limits)
                continue
            if len(values) != len(header):
                problems.add(
                    f"{where(row, line)} has {len(values)} values but the header has "
                    f"{len(header)} columns ({', '.join(header)}). Check for a missing or "
                    "extra comma, or put text with commas in double quotes.",
                    row=row,
                )
                continue
            values_by_column = dict(zip(header, values, strict=True))
            records.append(RawRecord(row=row, line=line, values=values_by_column))
    except csv.Error as exc:
        line = reader.line_num
        reject(
            f"Line {line} of {file} could not be read as CSV ({exc}). "
            "Check for a quote that is opened but never closed.",
            file=file, row=row + 1 if header else None, detail=str(exc),
        )
    if header is None:
        reject(f"The file {file} is empty.", file=file)
    if not records:
        problems.raise_if_any()
        reject(f"The file {file} has a header but no rows.", file=file)
    return RawTable(file=file, reader="csv", columns=header, records=records, problems=problems)


def _check_header(header: list[str], file: str) -> None:
    for i, name in enumerate(header, start=1):
        if not name:
            reject(f"Column {i} of {file} has no name in the header row. "
                   "Give every column a name, like text or question.", file=file)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            reject(f"Two columns of {file} are both named {name!r}. Give each column its own name.",
                   file=file, field=name)
        seen.add(name)


@register_reader("csv", "csv")
def read_csv(data: bytes, file: str, limits: DataLimits) -> RawTable:
    return _read_delimited(data, file, limits, ",")


@register_reader("tsv", "tsv")
def read_tsv(data: bytes, file: str, limits: DataLimits) -> RawTable:
    return _read_delimited(data, file, limits, "\t")


@register_reader("txt", "txt")
def read_txt(data: bytes, file: str, limits: DataLimits) -> RawTable:
    """Plain text: one row per non-blank line, in a column named text."""
    text = decode_text(data, file=file)
    problems = ProblemList(file=file, limit=limits.max_problems)
    records: list[RawRecord] = []
    for row, lineno, line in _rows_of_lines(text, file, limits, problems):
        records.append(RawRecord(row=row, line=lineno, values={"text": line}))
    return _table(file, "txt", records, problems)


def _what_text(head: bytes) -> str:
    try:
        text = head.decode("utf-8").lstrip("\ufeff \r\n\t")
    except UnicodeDecodeError:
        return "something else"
    if "\x00" in text:
        return "something else"
    return "JSON text" if text.startswith(("{", "[")) else "CSV text"


@register_reader("parquet", "parquet")
def read_parquet(data: bytes, file: str, limits: DataLimits) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not data:
        reject(f"The file {file} is empty.", file=file)
    if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
        what = sniff_binary(data)
        if what is None:
            what = _what_text(data[:2048])
        reject(f"The file {file} is named .parquet but is not a Parquet file "
               f"(it looks like {what}). Upload it with its real extension, for example .csv.",
               file=file)
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        n_rows = parquet.metadata.num_rows
        if n_rows > limits.max_rows:
            _too_many_rows(file, limits)
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        reject(f"The file {file} could not be read as Parquet; it may be damaged.",
               file=file, detail=str(exc))
    return table_from_records(table.to_pylist(), file=file, reader="parquet", limits=limits)


def read_upload(data: bytes, *, file: str, extension: str, limits: DataLimits) -> RawTable:
    """Check the size, pick the reader by extension and read."""
    if len(data) > limits.max_bytes:
        reject(f"The file {file} is {human_bytes(len(data))}; the limit is "
               f"{human_bytes(limits.max_bytes)}. Upload a smaller part of it.", file=file)
    reader = READERS.get(extension)
    if reader is None:
        shown = f"ending in .{extension}" if extension else "without an extension"
        reject(f"Files {shown} are not supported. Upload one of: "
               f"{', '.join('.' + e for e in supported_extensions())}.", file=file)
    return reader.read(data, file, limits)
