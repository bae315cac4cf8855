"""The wire format: Confluent framing around schemaless Avro, and precise decode errors."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import struct
import types
import typing
from typing import Any

import fastavro
import pytest

from schemas.avro import avro_schema
from schemas.catalog import BY_NAME, CATALOG, SchemaSpec
from schemas.cdr import ContactRecord
from schemas.commands import DefineQueue, SetAgentReady
from schemas.envelope import Envelope, Message
from schemas.system import DeadLetter
from streams.serde import DecodeError, MemorySchemaStore, Serde, schema_json
from streams.topics import topic_for

ENV = Envelope("e-1", "acme", 1_700_000_000_000, "corr-1", "cause-1", "agent:7")


def sample(cls: type, salt: str = "") -> Any:
    """An instance of a catalog dataclass with a non-default value in every field."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        tp = hints[f.name]
        values[f.name] = _value(tp, f"{salt}{f.name}", i)
    return cls(**values)


def _value(tp: Any, text: str, i: int) -> Any:
    if tp is str:
        return f"{text}-é"
    if tp is int:
        return 1_000_000_000_000 + i
    if tp is float:
        return 0.25 + i
    if tp is bool:
        return True
    if tp is bytes:
        return b"\x00\xff" + text.encode()
    if typing.get_origin(tp) is tuple:
        (item, _ellipsis) = typing.get_args(tp)
        return (_value(item, text + "0", i), _value(item, text + "1", i))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return sample(tp, text)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return _value(next(a for a in typing.get_args(tp) if a is not type(None)), text, i)
    raise TypeError(tp)


@pytest.fixture
def serde() -> Serde:
    return Serde(MemorySchemaStore())


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_every_catalog_type_round_trips(serde: Serde, spec: SchemaSpec) -> None:
    msg = Message(ENV, sample(spec.cls))
    value = serde.encode(msg)
    assert value[0] == 0
    assert struct.unpack(">I", value[1:5])[0] == serde.schema_id(spec.name)
    assert serde.decode(value) == msg
    assert serde.out(msg).topic == topic_for(spec.name).name


def test_ids_are_registered_in_catalog_order() -> None:
    store = MemorySchemaStore()
    serde = Serde(store)
    assert [serde.schema_id(s.name) for s in CATALOG] == list(range(1, len(CATALOG) + 1))
    assert store.lookup(1) == (CATALOG[0].subject, schema_json(CATALOG[0]))
    assert Serde(store).schema_id(CATALOG[-1].name) == len(CATALOG)  # registering again: same ids


def test_keys_follow_the_topic_registry(serde: Serde) -> None:
    assert serde.key_for(Message(ENV, SetAgentReady("a1"))) == b"acme"
    assert serde.key_for(Message(ENV, sample(ContactRecord))) == "contact_id-é".encode()
    letter = DeadLetter("cc.commands", 0, 1, b"k", b"v", "acd", "DecodeError", "x")
    assert serde.key_for(Message(ENV, letter)) == b"cc.commands"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty value"),
        (b"\x00\x00\x01", "too short: 3 bytes"),
        (b"garbage!", "bad magic byte 103 (expected 0)"),
        (b"\x00" + (9999).to_bytes(4, "big") + b"\x02", "unknown schema id 9999"),
    ],
)
def test_decode_errors_name_the_problem(serde: Serde, value: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as err:
        serde.decode(value)
    assert reason in err.value.reason
    assert str(err.value) == err.value.reason


def test_truncated_body_reports_the_avro_error(serde: Serde) -> None:
    value = serde.encode(Message(ENV, SetAgentReady("a1")))
    with pytest.raises(DecodeError) as err:
        serde.decode(value[:12])
    reason = err.value.reason
    assert reason.startswith(f"schema id {serde.schema_id('SetAgentReady')}: cannot decode SetAgentReady: ")


def test_a_subject_outside_the_catalog_is_named() -> None:
    store = MemorySchemaStore()
    serde = Serde(store)
    bogus = store.register("ccx.command.Bogus", '{"type": "record", "name": "Bogus", "fields": []}')
    with pytest.raises(
        DecodeError, match=rf"schema id {bogus} is 'ccx.command.Bogus', a type not in the catalog"
    ):
        serde.decode(b"\x00" + bogus.to_bytes(4, "big"))


def test_old_writer_schema_resolves_to_the_current_type() -> None:
    """A value written before `strategy` existed reads back with the field's default."""
    store = MemorySchemaStore()
    spec = BY_NAME["DefineQueue"]
    old = copy.deepcopy(avro_schema(spec))
    old["fields"] = [f for f in old["fields"] if f["name"] != "strategy"]
    old_id = store.register(spec.subject, json.dumps(old))
    serde = Serde(store)
    assert serde.schema_id("DefineQueue") != old_id
    record: dict[str, Any] = {"envelope": dataclasses.asdict(ENV), "queue_id": "q1", "name": "Sales"}
    record |= {"sl_threshold_s": 30, "short_abandon_s": 5, "ring_timeout_s": 15, "wrap_up_s": 60}
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(old), record)
    decoded = serde.decode(b"\x00" + old_id.to_bytes(4, "big") + buf.getvalue())
    assert decoded == Message(ENV, DefineQueue("q1", "Sales", 30, 5, 15, 60, "longest_idle"))
