"""Bulk reads for the run frames: the database renders rows as text in bulk, Arrow's C++ readers type them.

Fetching 100,000 rows of 30 columns through a DB-API cursor creates millions of
Python objects, and because the driver takes the GIL back for every row, two
reading threads mostly wait for each other. Instead:

- The database renders each row as one CSV line and concatenates a whole range
  of ids into one value (``string_agg`` / ``group_concat``): one driver call,
  during which the GIL is released, so ranges fetched on two connections really
  run side by side. Arrow's CSV reader turns the text into typed columns.
- A stored JSON document (the training configuration) travels as its stored
  text, one line per row with the row id beside it, neither parsed nor
  re-rendered by the database, and Arrow's JSON reader flattens it into typed
  columns (nested keys joined with dots).
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
from sqlalchemy import Engine

from hubkit.research._source import is_postgres

#: Rows per range read from SQLite: keeps each concatenated value far below SQLite's 1 GB limit.
CHUNK_ROWS = 25_000
#: Connections reading ranges at the same time.
READERS = 2
_ID = "__row_id"


@dataclass(frozen=True)
class Field:
    """One output column: its name, the SQL expression, and its Arrow type."""

    name: str
    sql: str
    type: pa.DataType


def _ranges(engine: Engine, table: str, id_col: str) -> list[tuple[int, int]]:
    """Half-open id ranges ``lo <= id < hi`` covering the table, at least one per reader."""
    with engine.connect() as conn:
        lo, hi = conn.exec_driver_sql(f"SELECT MIN({id_col}), MAX({id_col}) FROM {table}").one()
    if lo is None:
        return []
    span = hi - lo + 1
    parts = max(READERS, math.ceil(span / CHUNK_ROWS))
    step = math.ceil(span / parts)
    return [(a, min(a + step, hi + 1)) for a in range(lo, hi + 1, step)]


def _fetch_range(engine: Engine, sql: str, lo: int, hi: int) -> bytes:
    """One concatenated value: a single driver call, which runs with the GIL released."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        if is_postgres(engine):
            with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]  # bytea as raw bytes
                value = cursor.execute(sql, {"lo": lo, "hi": hi}).fetchone()[0]
        else:
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                value = cursor.execute(sql, {"lo": lo, "hi": hi}).fetchone()[0]
            finally:
                cursor.close()
        conn.rollback()
    return bytes(value) if value else b""


def _concat(engine: Engine, line: str, *, table: str, alias: str, joins: str, where: str, id_col: str) -> bytes:
    """``line`` of every row in id order, one per text line; fetched as one value per id range, the
    ranges on :data:`READERS` connections at once."""
    id_sql = f"{alias}.{id_col}"
    if is_postgres(engine):
        rows = (f"SELECT {line} AS line FROM {table} {alias}{joins} WHERE {id_sql} >= %(lo)s AND {id_sql} < %(hi)s"
                f"{where} ORDER BY {id_sql}")
        sql = f"SELECT convert_to(string_agg(s.line, E'\\n'), 'UTF8') FROM ({rows}) s"
    else:
        rows = (f"SELECT {line} AS line FROM {table} {alias}{joins} WHERE {id_sql} >= :lo AND {id_sql} < :hi"
                f"{where} ORDER BY {id_sql}")
        sql = f"SELECT CAST(group_concat(s.line, char(10)) AS BLOB) FROM ({rows}) s"
    ranges = _ranges(engine, table, id_col)
    if len(ranges) <= 1:
        chunks = [_fetch_range(engine, sql, lo, hi) for lo, hi in ranges]
    else:
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            chunks = list(pool.map(lambda r: _fetch_range(engine, sql, *r), ranges))
    return b"\n".join(c for c in chunks if c)


def _csv_value(f: Field) -> str:
    """PostgreSQL SQL rendering one field as a CSV value: "text" (quotes doubled), numbers and booleans
    in their text form (floats exact), NULL as an empty unquoted value."""
    if pa.types.is_string(f.type):
        return f"""COALESCE('"' || replace(CAST({f.sql} AS TEXT), '"', '""') || '"', '')"""
    return f"COALESCE(CAST({f.sql} AS TEXT), '')"


def _printf_line(fields: Sequence[Field]) -> str:
    """SQLite: one ``printf`` call rendering a row as CSV. Text is quoted with single quotes (doubled
    inside), NULL text is the bare word NULL, other NULLs an empty value; REALs get 18 significant
    digits, which bring every double back bit for bit (SQLite's own text has 15). A row with a
    nullable REAL picks between two formats, so that each row still takes a single call."""
    floats = [f for f in fields if pa.types.is_floating(f.type)]
    if len(floats) > 1:
        raise ValueError("one floating-point field per bulk read")

    def render(null_float: bool) -> str:
        conversions, args = [], []
        for f in fields:
            if pa.types.is_string(f.type):
                conversions.append("%Q")
                args.append(f.sql)
            elif pa.types.is_floating(f.type):
                if not null_float:
                    conversions.append("%!.18g")
                    args.append(f.sql)
                else:
                    conversions.append("")
            else:
                conversions.append("%s")
                args.append(f.sql)
        return f"printf('{','.join(conversions)}', {', '.join(args)})"

    if not floats:
        return render(False)
    return f"CASE WHEN {floats[0].sql} IS NULL THEN {render(True)} ELSE {render(False)} END"


def _read_csv(data: bytes, schema: pa.Schema, *, postgres: bool) -> pa.Table:
    if postgres:
        parse, nulls = pa_csv.ParseOptions(newlines_in_values=True), [""]
    else:
        parse, nulls = pa_csv.ParseOptions(quote_char="'", double_quote=True, newlines_in_values=True), ["", "NULL"]
    return pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=4 << 20),
        parse_options=parse,
        convert_options=pa_csv.ConvertOptions(  # a quoted value is never NULL: an empty text, the text 'NULL'
            column_types=schema, true_values=["true", "1"], false_values=["false", "0"], null_values=nulls,
            strings_can_be_null=True, quoted_strings_can_be_null=False))


def _sqlite_rows(engine: Engine, fields: Sequence[Field], schema: pa.Schema, sql: str) -> pa.Table:
    """SQLite through the cursor: its C loop builds the rows cheaply, one Arrow column per field."""
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            rows = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
    if not rows:
        return schema.empty_table()
    arrays = []
    for f, values in zip(fields, zip(*rows, strict=True), strict=True):
        if pa.types.is_boolean(f.type):  # SQLite booleans are 0/1
            arrays.append(pc.not_equal(pa.array(values, pa.int64()), 0))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def fetch_table(engine: Engine, fields: Sequence[Field], *, table: str, alias: str, joins: str = "",
                where: str = "", id_col: str = "id", cursor: bool = False) -> pa.Table:
    """``SELECT fields FROM table alias joins WHERE 1=1 where ORDER BY alias.id_col`` as an Arrow table
    with the fields' types (the first field must be the id).

    The database renders CSV, concatenated per id range. On SQLite, ``cursor=True`` fetches through
    the cursor instead, which costs less CPU for wide rows (SQLite's ``printf`` spends about 0.3 µs a
    value) but holds the GIL: use it for at most one read at a time.
    """
    schema = pa.schema([pa.field(f.name, f.type) for f in fields])
    postgres = is_postgres(engine)
    if cursor and not postgres:
        cols = ", ".join(f.sql for f in fields)
        return _sqlite_rows(engine, fields, schema, f"SELECT {cols} FROM {table} {alias}{joins} WHERE 1=1{where} "
                                                    f"ORDER BY {alias}.{id_col}")
    if postgres:
        line = " || ',' || ".join(_csv_value(f) for f in fields)
    else:  # one printf call per row: concatenating with || copies the growing line once per column
        line = _printf_line(fields)
    data = _concat(engine, line, table=table, alias=alias, joins=joins, where=where, id_col=id_col)
    if not data.strip():
        return schema.empty_table()
    result = _read_csv(data, schema, postgres=postgres)
    ids = result.column(0).to_numpy()
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():  # concatenation kept no order: restore it
        result = result.sort_by(schema.names[0])
    return result


def fetch_document(engine: Engine, doc_sql: str, *, table: str, alias: str, where: str = "",
                   id_col: str = "id") -> bytes:
    """One line per row, ``{"__row_id": <id>, "v": <the stored JSON>}``, for :func:`parse_document`.

    The stored JSON is passed through as text: neither database parses it here.
    """
    stored = f"CAST({doc_sql} AS TEXT)"
    if not is_postgres(engine):  # PostgreSQL's JSON text never has line breaks
        stored = f"replace({stored}, char(10), ' ')"  # outside strings a line break is only whitespace
    line = f"""'{{"{_ID}":' || {alias}.{id_col} || ',"v":' || COALESCE({stored}, 'null') || '}}'"""
    return _concat(engine, line, table=table, alias=alias, joins="", where=where, id_col=id_col)


def parse_document(data: bytes, prefix: str) -> pd.DataFrame:
    """Parse :func:`fetch_document` lines: a frame indexed by row id, nested keys as ``prefix.<key>``."""
    if not data.strip():
        return pd.DataFrame(index=pd.Index([], dtype="int64", name=_ID))
    try:
        table = pa_json.read_json(io.BytesIO(data), parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema([pa.field(_ID, pa.int64())]), unexpected_field_behavior="infer"),
            read_options=pa_json.ReadOptions(block_size=8 << 20))
    except pa.ArrowInvalid:  # a key whose type changes between rows
        frame = _parse_slowly(data.strip().split(b"\n"))
    else:
        frame = to_pandas(_join_lists(_flatten(table)))
    frame = frame.set_index(_ID)
    frame.columns = [prefix + c[1:] for c in frame.columns]  # "v.key" -> "<prefix>.key"
    return frame


def _join_lists(table: pa.Table) -> pa.Table:
    """List columns (e.g. target modules) become comma-joined text, so they group and compare."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            column = table.column(i)
            if not pa.types.is_string(field.type.value_type):
                column = pc.cast(column, pa.list_(pa.string()))
            table = table.set_column(i, field.name, pc.binary_join(column, ","))
    return table


def _flatten(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Integers stay int64 unless they have gaps (then nullable Int64); text is pandas str."""
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count:
            columns[name] = pd.Series(column.to_pandas(types_mapper={column.type: pd.Int64Dtype()}.get))
        elif pa.types.is_null(column.type):
            columns[name] = pd.Series([None] * len(column), dtype=object)
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)


def _flatten_dict(prefix: str, value: object, out: dict[str, object]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten_dict(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list):
        out[prefix] = ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    elif not isinstance(value, dict):
        out[prefix] = value


def _parse_slowly(lines: Sequence[bytes | str]) -> pd.DataFrame:
    """Rows whose JSON keys change type between rows (e.g. a number here, text there)."""
    rows = []
    for raw in lines:
        flat: dict[str, object] = {}
        _flatten_dict("", json.loads(raw), flat)
        rows.append(flat)
    frame = pd.DataFrame.from_records(rows)
    out = {}
    for name in frame.columns:
        col = frame[name]
        kinds = set(col.map(type, na_action="ignore").dropna())
        if col.dtype == object and kinds and kinds <= {int}:
            out[name] = col.astype("Int64")
        elif col.dtype == object and kinds and kinds <= {bool}:
            out[name] = col.astype("boolean")
        elif col.dtype == object and kinds and not kinds <= {int, float}:
            out[name] = col.map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype("str")
        else:
            out[name] = col
    return pd.DataFrame(out)


def latest_pivot(row_ids: np.ndarray, order: np.ndarray, owner: np.ndarray, keys: pa.ChunkedArray | pa.Array,
                 values: np.ndarray, rename: Callable[[str], str] = str) -> pd.DataFrame:
    """Wide frame, one row per ``row_ids`` (ascending), one column per distinct key (sorted by name):
    for each (owner, key) the value of the row with the highest ``order``; NaN where there is none.

    Owners that are not among ``row_ids`` still contribute their keys (all-NaN columns there).
    """
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    encoded = pc.dictionary_encode(keys)
    names = encoded.dictionary.to_pylist()
    ranked = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[ranked] = np.arange(len(names))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    out = np.full((len(row_ids), len(names)), np.nan)
    if len(row_ids) and len(owner):
        newest_first = np.argsort(order, kind="stable")[::-1]
        pos = np.searchsorted(row_ids, owner).clip(max=len(row_ids) - 1)
        known = (row_ids[pos] == owner)[newest_first]
        cells = (pos * len(names) + codes)[newest_first][known]
        cells, first = np.unique(cells, return_index=True)
        out.flat[cells] = values[newest_first][known][first]
    return pd.DataFrame(out, columns=[rename(names[i]) for i in ranked])
