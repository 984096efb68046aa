"""Fast frames: the database renders each row as one JSON object, Arrow parses them.

Fetching 100,000 rows of 30 columns through a DB-API cursor creates millions of
Python objects; asking SQLite/PostgreSQL for one JSON text per row and parsing
the lot with Arrow's C++ JSON reader is several times faster, and nested JSON
columns (the training configuration) flatten into typed columns on the way.
"""
from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from sqlalchemy import Engine

from hubkit.research._source import is_postgres


@dataclass(frozen=True)
class Field:
    """One output column: its name, the SQL expression, and its Arrow type (None: infer, may nest)."""

    name: str
    sql: str
    type: pa.DataType | None
    boolean: bool = False  # SQL boolean: rendered as JSON true/false on both backends


def _object_sql(engine: Engine, fields: Sequence[Field]) -> str:
    parts = []
    for f in fields:
        expr = f.sql
        if f.boolean:
            expr = (f"CASE WHEN {expr} THEN json('true') ELSE json('false') END" if not is_postgres(engine)
                    else expr)
        elif f.type is None:  # a JSON column: embed it as JSON, not as a string
            expr = expr if is_postgres(engine) else f"json({expr})"
        parts.append(f"'{f.name}', {expr}")
    build = "json_build_object" if is_postgres(engine) else "json_object"
    text = f"{build}({', '.join(parts)})"
    return f"{text}::text" if is_postgres(engine) else text


def fetch_texts(engine: Engine, fields: Sequence[Field], from_sql: str) -> list[str]:
    sql = f"SELECT {_object_sql(engine, fields)} FROM {from_sql}"
    with engine.connect() as conn:
        return list(conn.exec_driver_sql(sql).scalars().all())


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


def parse(texts: list[str], fields: Sequence[Field]) -> pd.DataFrame:
    """Parse one JSON object per row; nested objects become dotted columns."""
    explicit = pa.schema([pa.field(f.name, f.type) for f in fields if f.type is not None])
    if not texts:
        return pd.DataFrame({f.name: pd.Series(dtype=object) for f in fields if f.type is not None})
    data = "\n".join(texts).encode()
    try:
        table = pa_json.read_json(io.BytesIO(data), parse_options=pa_json.ParseOptions(
            explicit_schema=explicit, unexpected_field_behavior="infer"),
            read_options=pa_json.ReadOptions(block_size=16 << 20))
    except pa.ArrowInvalid:
        return _parse_slowly(texts, fields)
    return to_pandas(_join_lists(_flatten(table)))


def _flatten_dict(prefix: str, value: object, out: dict[str, object]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten_dict(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list):
        out[prefix] = ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    elif not isinstance(value, dict):
        out[prefix] = value


def _parse_slowly(texts: list[str], fields: Sequence[Field]) -> pd.DataFrame:
    """Rows whose JSON keys change type between rows (e.g. a number here, text there)."""
    rows = []
    for raw in texts:
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
