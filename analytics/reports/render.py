"""Render a report DataFrame as a text table, CSV, JSON lines, JSON or Parquet.

Missing values (None, NaN, NaT, NA) are "no data": empty in CSV and the table, `null` in JSON
and in Parquet. Floats keep full precision in CSV, JSON and Parquet and are rounded to
`digits` in the table. `render` gives the text formats as `str`; `encode` gives any format
as bytes (Parquet is binary: a file pandas, Arrow, Spark or DuckDB read as it is).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pandas as pd

__all__ = ["BINARY_FORMATS", "FORMATS", "MEDIA_TYPES", "encode", "render"]

FORMATS = ("table", "csv", "jsonl", "json", "parquet")
BINARY_FORMATS = ("parquet",)
MEDIA_TYPES = {
    "table": "text/plain",
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "parquet": "application/octet-stream",
}


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, missing values as None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(c) for c in df.columns]
    return [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in df.itertuples(index=False)]


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(df: pd.DataFrame, digits: int) -> str:
    header = [str(c) for c in df.columns]
    body = [[_cell(v, digits) for v in r.values()] for r in _records(df)]
    widths = [max([len(h), *(len(row[i]) for row in body)]) for i, h in enumerate(header)]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in body)]) + "\n"


def _csv(df: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(c) for c in df.columns])
    for record in _records(df):
        writer.writerow(["" if v is None else v for v in record.values()])
    return out.getvalue()


def render(df: pd.DataFrame, fmt: str = "table", *, digits: int = 3) -> str:
    """`df` as text in `fmt` (one of `FORMATS`); ends with a newline unless empty JSON lines."""
    if fmt == "table":
        return _table(df, digits)
    if fmt == "csv":
        return _csv(df)
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(df))
    if fmt == "json":
        return json.dumps(_records(df), ensure_ascii=False, indent=2) + "\n"
    if fmt in BINARY_FORMATS:
        raise ValueError(f"{fmt} is a binary format: use encode()")
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def encode(df: pd.DataFrame, fmt: str = "table", *, digits: int = 3) -> bytes:
    """`df` in `fmt` (one of `FORMATS`) as bytes: UTF-8 text, or a Parquet file."""
    if fmt == "parquet":
        out = io.BytesIO()
        df.to_parquet(out, engine="pyarrow", index=False)
        return out.getvalue()
    return render(df, fmt, digits=digits).encode("utf-8")
