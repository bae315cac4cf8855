"""Wire serialization of message values: the Confluent framing around schemaless Avro.

A value is `0x00` (magic byte) + the writer schema's id (4 bytes, big-endian) + the
schemaless Avro body (`schemas.avro.encode`). Schema ids come from a `SchemaStore`: a
Schema Registry on Kafka, a table of the embedded log's file otherwise. Subjects follow
the RecordNameStrategy (the record's fully qualified name, e.g. `ccx.contact.ContactEnded`)
because one topic carries several types.

Decoding reads with the writer schema found by id and the current schema as reader, so
records written by older versions resolve to today's dataclasses. Every way a value can
fail to decode raises `DecodeError` whose message names the problem precisely.

With a key vault (`streams.keyvault`), personal fields (`schemas.personal`) are sealed with
their subject's key on encode and opened on decode; an erased key reads as "[erased]"
(`streams.shredding`, docs/adr/0020). Without one, values are written as given and sealed
values read as they are.
"""

from __future__ import annotations

import json
import struct
from abc import ABC, abstractmethod
from typing import Any

from schemas import avro
from schemas.catalog import BY_NAME, CATALOG
from schemas.envelope import Message
from streams.keyvault import KeyVault
from streams.ports import OutRecord
from streams.shredding import SealError, Shredder
from streams.topics import topic_for

__all__ = ["MAGIC", "DecodeError", "MemorySchemaStore", "SchemaStore", "Serde"]

MAGIC = 0
_HEADER = struct.Struct(">bI")


class DecodeError(ValueError):
    """A value that is not a message ccx can read; `reason` says exactly why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SchemaStore(ABC):
    """Schema ids like a Schema Registry's: registering the same schema again returns its id."""

    @abstractmethod
    def register(self, subject: str, schema_json: str) -> int:
        """The id of `schema_json` under `subject`, registering it if new."""

    @abstractmethod
    def lookup(self, schema_id: int) -> tuple[str, str]:
        """(subject, schema_json) of an id; raises `KeyError` for an unknown id."""


class MemorySchemaStore(SchemaStore):
    """A schema store in a dict (unit tests, tools); ids count from 1 in registration order."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self._by_id: dict[int, tuple[str, str]] = {}

    def register(self, subject: str, schema_json: str) -> int:
        key = (subject, schema_json)
        if key not in self._ids:
            self._ids[key] = len(self._ids) + 1
            self._by_id[self._ids[key]] = key
        return self._ids[key]

    def lookup(self, schema_id: int) -> tuple[str, str]:
        return self._by_id[schema_id]


def schema_json(spec: Any) -> str:
    """The canonical JSON text of a catalog entry's current schema (what gets registered)."""
    return json.dumps(avro.avro_schema(spec), separators=(",", ":"), sort_keys=True)


class Serde:
    """Encodes messages to framed values and back; registers the catalog at construction."""

    def __init__(self, store: SchemaStore, vault: KeyVault | None = None, region: str = "") -> None:
        self._store = store
        self.shredder = Shredder(vault, region) if vault is not None else None
        self._ids: dict[str, int] = {}
        self._writers: dict[int, tuple[str, Any]] = {}
        for spec in CATALOG:  # catalog order: ids are deterministic on a fresh store
            schema_id = store.register(spec.subject, schema_json(spec))
            self._ids[spec.name] = schema_id
            self._writers[schema_id] = (spec.name, None)  # None: the reader's own schema

    def schema_id(self, type_name: str) -> int:
        return self._ids[type_name]

    def encode(self, msg: Message[Any]) -> bytes:
        if self.shredder is not None:
            msg = self.shredder.seal(msg)
        return _HEADER.pack(MAGIC, self._ids[msg.type]) + avro.encode(msg)

    def decode(self, value: bytes) -> Message[Any]:
        if not value:
            raise DecodeError("empty value (a framed message has at least 5 bytes)")
        if value[0] != MAGIC:
            raise DecodeError(f"bad magic byte {value[0]} (expected {MAGIC}): not Confluent-framed")
        if len(value) < _HEADER.size:
            raise DecodeError(f"too short: {len(value)} bytes (a framed message has at least 5)")
        _magic, schema_id = _HEADER.unpack_from(value)
        type_name, writer = self._writer(schema_id)
        try:
            msg = avro.decode(value[_HEADER.size :], type_name, writer)
        except avro.SchemaMismatch as exc:
            raise DecodeError(f"schema id {schema_id}: {exc}") from exc
        if self.shredder is None:
            return msg
        try:
            return self.shredder.open(msg)
        except SealError as exc:
            raise DecodeError(f"{type_name}.{exc}") from exc

    def _writer(self, schema_id: int) -> tuple[str, Any]:
        cached = self._writers.get(schema_id)
        if cached is not None:
            return cached
        try:
            subject, text = self._store.lookup(schema_id)
        except KeyError:
            raise DecodeError(f"unknown schema id {schema_id}") from None
        type_name = subject.rsplit(".", 1)[-1]
        spec = BY_NAME.get(type_name)
        if spec is None or spec.subject != subject:
            raise DecodeError(f"schema id {schema_id} is {subject!r}, a type not in the catalog")
        try:
            writer = avro.parse_json(text)
        except Exception as exc:  # fastavro raises several types for a bad schema
            raise DecodeError(f"schema id {schema_id} ({subject}): bad schema: {exc}") from exc
        self._writers[schema_id] = (type_name, writer)
        return type_name, writer

    def key_for(self, msg: Message[Any]) -> bytes:
        """The partition key of a message: its topic's key field, UTF-8."""
        field = topic_for(msg.type).key
        if field == "tenant":
            return msg.envelope.tenant.encode()
        return str(getattr(msg.body, field.replace(" ", "_"))).encode()

    def out(self, msg: Message[Any]) -> OutRecord:
        return OutRecord(topic_for(msg.type).name, self.key_for(msg), self.encode(msg))
