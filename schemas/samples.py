"""Encoded samples of every message type, kept as evidence for backward compatibility.

`python -m schemas.samples --write` writes `schemas/samples/<subject>.v<N>.avro` for types
that have no sample at their current version yet; samples are never rewritten. The contract
test decodes every sample (old versions included) with the current schema.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any

from schemas.avro import encode
from schemas.catalog import CATALOG, SchemaSpec
from schemas.envelope import Envelope, Message

__all__ = ["SAMPLES_DIR", "sample_body", "sample_message", "sample_path"]

SAMPLES_DIR = Path(__file__).with_name("samples")


def _value(tp: Any, name: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is str:
        return f"{name}-1"
    if tp is int:
        return 42
    if tp is float:
        return 1.5
    if tp is bool:
        return True
    if tp is bytes:
        return b"\x00\x01raw"
    if origin is tuple:
        return (_value(typing.get_args(tp)[0], name),)
    if origin is not None:  # Optional
        return _value(next(a for a in typing.get_args(tp) if a is not type(None)), name)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return sample_body(tp)
    raise TypeError(f"no sample value for {tp!r}")


def sample_body(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _value(hints[f.name], f.name) for f in dataclasses.fields(cls)})


def sample_message(spec: SchemaSpec) -> Message[Any]:
    env = Envelope(
        "00000000-0000-4000-8000-000000000001", "acme", 1767600000000, "corr-1", "cause-1", "agent:a01"
    )
    return Message(env, sample_body(spec.cls))


def sample_path(spec: SchemaSpec, version: int | None = None) -> Path:
    return SAMPLES_DIR / f"{spec.subject}.v{version or spec.version}.avro"


if __name__ == "__main__" and "--write" in sys.argv:
    SAMPLES_DIR.mkdir(exist_ok=True)
    for spec in CATALOG:
        path = sample_path(spec)
        if not path.exists():
            path.write_bytes(encode(sample_message(spec)))
            print(path)
