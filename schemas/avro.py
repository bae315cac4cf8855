"""Avro schemas derived from the dataclasses, and the codec for message bodies.

The dataclass is the single source of a type's fields; `avro_schema(spec)` turns it into
an Avro record (envelope first, then the body's fields), and the generated schemas are
checked in under `schemas/avro/` so a change to a contract shows in review and is tested
for backward compatibility. Encoding is schemaless Avro (fastavro); framing it for the
wire (magic byte + schema id) belongs to `streams/serde.py`.

Run `python -m schemas.avro --write` after changing a type.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

from schemas.catalog import BY_NAME, CATALOG, SchemaSpec
from schemas.envelope import Envelope, Message

__all__ = ["AVRO_DIR", "SchemaMismatch", "avro_schema", "decode", "encode", "parsed", "write_all"]

AVRO_DIR = Path(__file__).with_name("avro")

_PRIMITIVES: dict[Any, str] = {str: "string", int: "long", float: "double", bool: "boolean", bytes: "bytes"}


class SchemaMismatch(ValueError):
    """Bytes that do not decode with the schema they claim to be written with."""


def _avro_type(tp: Any, namespace: str, seen: set[str]) -> Any:
    if tp in _PRIMITIVES:
        return _PRIMITIVES[tp]
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(tp)
        return {"type": "array", "items": _avro_type(item, namespace, seen)}
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return ["null", _avro_type(args[0], namespace, seen)]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = f"{namespace}.{tp.__name__}"
        if name in seen:
            return name
        seen.add(name)
        return {"type": "record", "name": name, "fields": _fields(tp, namespace, seen)}
    raise TypeError(f"no Avro mapping for {tp!r}")


def _fields(cls: type, namespace: str, seen: set[str]) -> list[dict[str, Any]]:
    hints = typing.get_type_hints(cls)
    out: list[dict[str, Any]] = []
    for f in dataclasses.fields(cls):
        field: dict[str, Any] = {"name": f.name, "type": _avro_type(hints[f.name], namespace, seen)}
        if f.default is not dataclasses.MISSING:
            field["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
        out.append(field)
    return out


@cache
def avro_schema(spec: SchemaSpec) -> dict[str, Any]:
    """The Avro record schema of one catalog entry: `envelope` then the body's fields."""
    seen: set[str] = {"ccx.Envelope"}
    envelope = {"type": "record", "name": "ccx.Envelope", "fields": _fields(Envelope, "ccx", set())}
    return {
        "type": "record",
        "name": spec.subject,
        "doc": (spec.cls.__doc__ or "").strip().splitlines()[0] if spec.cls.__doc__ else "",
        "ccx.version": spec.version,
        "fields": [{"name": "envelope", "type": envelope}, *_fields(spec.cls, spec.namespace, seen)],
    }


@cache
def parsed(spec: SchemaSpec) -> Any:
    return fastavro.parse_schema(avro_schema(spec))


@cache
def parse_json(text: str) -> Any:
    return fastavro.parse_schema(json.loads(text))


def _to_avro(value: Any) -> Any:
    """A dataclass (or tuple of them) as the plain structure fastavro writes."""
    if isinstance(value, tuple):
        return [_to_avro(v) for v in value]
    if dataclasses.is_dataclass(value):
        return _flattener(type(value))(value)  # type: ignore[arg-type]
    return value


@cache
def _flattener(cls: type) -> Any:
    """Per-class converter to a dict: nested dataclasses and tuples of them converted,
    plain fields copied (the slow generic walk is done once per class, not per message)."""
    hints = typing.get_type_hints(cls)
    plain: list[str] = []
    nested: list[str] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp)
        is_nested = (isinstance(tp, type) and dataclasses.is_dataclass(tp)) or (
            typing.get_origin(tp) is tuple and isinstance(args[0], type) and dataclasses.is_dataclass(args[0])
        )
        (nested if is_nested else plain).append(f.name)

    def flatten(value: Any) -> dict[str, Any]:
        out = {n: getattr(value, n) for n in plain}
        for n in nested:
            out[n] = _to_avro(getattr(value, n))
        return out

    return flatten


@cache
def _builder(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    convs: list[tuple[str, Any]] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if typing.get_origin(tp) is tuple:
            (item, _e) = typing.get_args(tp)
            if isinstance(item, type) and dataclasses.is_dataclass(item):
                sub = _builder(item)
                convs.append((f.name, lambda v, sub=sub: tuple(sub(x) for x in v)))
            else:
                convs.append((f.name, tuple))
        else:
            convs.append((f.name, None))

    def build(d: dict[str, Any]) -> Any:
        return cls(**{n: (c(d[n]) if c is not None else d[n]) for n, c in convs})

    return build


def encode(message: Message[Any]) -> bytes:
    """Schemaless Avro bytes of a message with the current schema of its body's type."""
    spec = BY_NAME[type(message.body).__name__]
    record = _flattener(spec.cls)(message.body)
    record["envelope"] = _flattener(Envelope)(message.envelope)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed(spec), record)
    return buf.getvalue()


def decode(data: bytes, type_name: str, writer_schema: Any | None = None) -> Message[Any]:
    """Decode bytes of `type_name` written with `writer_schema` (default: the current one)
    into a message whose body is the current dataclass (Avro schema resolution fills
    fields added since with their defaults)."""
    spec = BY_NAME[type_name]
    reader = parsed(spec)
    try:
        record = fastavro.schemaless_reader(io.BytesIO(data), writer_schema or reader, reader)
    except Exception as exc:  # fastavro raises several types for corrupt bytes
        raise SchemaMismatch(f"cannot decode {type_name}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(record, dict):
        raise SchemaMismatch(f"cannot decode {type_name}: not a record")
    env = record.pop("envelope")
    return Message(Envelope(**env), _builder(spec.cls)(record))


def schema_path(spec: SchemaSpec, version: int | None = None) -> Path:
    return AVRO_DIR / f"{spec.subject}.v{version or spec.version}.avsc"


def write_all() -> list[Path]:
    """Write the current schema of every catalog entry to `schemas/avro/`."""
    AVRO_DIR.mkdir(exist_ok=True)
    written = []
    for spec in CATALOG:
        path = schema_path(spec)
        path.write_text(json.dumps(avro_schema(spec), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    if "--write" in sys.argv:
        for p in write_all():
            print(p)
    else:
        print(json.dumps([avro_schema(s) for s in CATALOG], indent=2))
