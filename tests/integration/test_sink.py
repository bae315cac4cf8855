"""The warehouse sink on real chDB: every topic lands, and a replayed batch changes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics import open_warehouse
from analytics.sink import WarehouseSink
from analytics.warehouse import ClickHouseWarehouse
from schemas.agent import AgentStateChanged
from schemas.cdr import ContactRecord
from schemas.config import QueueDefined
from schemas.contact import ContactArrived
from schemas.envelope import Envelope, Message
from schemas.system import CommandRejected, DeadLetter
from streams.ports import Record

T0 = 1_714_557_600_000  # 2024-05-01T10:00:00Z


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('sink')}") as wh:
        yield wh  # type: ignore[misc]


def _cdr(contact_id: str, **changes: object) -> ContactRecord:
    values: dict[str, object] = dict(
        contact_id=contact_id, queue_id="sales", channel="voice", ani="+4930123", dnis="+4930999",
        priority=1, arrived_at=T0, queued_at=T0 + 2_000, answered_at=T0 + 12_000,
        ended_at=T0 + 100_000, finished_at=T0 + 130_000, outcome="answered", end_party="caller",
        agent_id="a1", offers=1, wait_ms=10_000, talk_ms=80_000, hold_ms=8_000, holds=1,
        wrap_up_ms=30_000, disposition="sale",
    )  # fmt: skip
    values.update(changes)
    return ContactRecord(**values)  # type: ignore[arg-type]


def _abandoned(contact_id: str) -> ContactRecord:
    nothing = dict(answered_at=0, agent_id="", talk_ms=0, hold_ms=0, holds=0, wrap_up_ms=0)
    return _cdr(contact_id, outcome="abandoned", finished_at=T0 + 40_000, **nothing)


def _queue(rule_version: int, sl: int) -> QueueDefined:
    return QueueDefined("sales", "Sales", sl, 5, 15, 30, "longest_idle", rule_version)


def _batch(tenant: str, topic_offset: int = 0) -> list[tuple[Record, Message[object]]]:
    bodies: list[tuple[str, object]] = [
        ("cc.config-events", _queue(1, 20)),
        ("cc.config-events", _queue(3, 30)),
        ("cc.config-events", _queue(2, 25)),  # an older version arriving later must not win
        ("cc.contact-events", ContactArrived("c1", "voice", "+4930123", "+4930999")),
        ("cc.agent-events", AgentStateChanged("a1", "ready", "not_ready", "", "")),
        ("cc.cdr", _cdr("c1")),
        ("cc.cdr", _abandoned("c2")),
        ("cc.command-results", CommandRejected("cmd-9", "SetAgentReady", "agent_unknown", "no agent a9")),
        ("cc.dead-letter", DeadLetter("cc.commands", 0, 17, b"k", b"\x00\xffjunk", "acd", "Bad", "bad")),
    ]
    batch: list[tuple[Record, Message[object]]] = []
    for i, (topic, body) in enumerate(bodies):
        key = f"{tenant}".encode()
        env = Envelope(f"{tenant}-e{i}", tenant, T0 + i, "c1", None if i == 0 else f"{tenant}-e0", "acd")
        batch.append((Record(topic, 0, topic_offset + i, key, b"avro"), Message(env, body)))
    return batch


def _count(wh: ClickHouseWarehouse, table: str, tenant: str, final: bool = True) -> int:
    sql = f"SELECT count() FROM {table} {'FINAL' if final else ''} WHERE tenant = {{t:String}}"
    return int(wh.query_rows(sql, {"t": tenant})[0][0])


def test_every_message_lands_once_per_table(warehouse: ClickHouseWarehouse) -> None:
    sink = WarehouseSink(warehouse)
    assert sink.name == "sink" and "cc.cdr" in sink.inputs and "cc.dead-letter" in sink.inputs
    batch = _batch("acme")
    sink.write(batch)
    assert dict(sink.rows_written) == {"raw_events": 9, "contacts": 2, "queues": 3, "agent_states": 1}
    assert sink.last_occurred_at == T0 + 8
    assert (_count(warehouse, "raw_events", "acme"), _count(warehouse, "contacts", "acme")) == (9, 2)
    assert warehouse.query_rows(
        "SELECT rule_version, sl_threshold_s FROM queues FINAL WHERE tenant = 'acme'"
    ) == [(3, 30)]


def test_a_replayed_batch_changes_nothing(warehouse: ClickHouseWarehouse) -> None:
    sink = WarehouseSink(warehouse)
    batch = _batch("replay")
    sink.write(batch)

    def snapshot() -> list[list[tuple[object, ...]]]:
        return [
            warehouse.query_rows(f"SELECT * FROM {table} FINAL WHERE tenant = 'replay' ORDER BY ALL")
            for table in ("raw_events", "contacts", "queues")
        ]

    before = snapshot()
    sink.write(batch)
    sink.write(batch[3:])  # a partial replay, as after a crash mid-way
    assert snapshot() == before
    assert _count(warehouse, "raw_events", "replay", final=False) > 9  # the copies exist until merged
    assert sink.rows_written["raw_events"] == 9 + 9 + 6


def test_raw_events_keep_the_envelope_and_the_body_as_json(warehouse: ClickHouseWarehouse) -> None:
    WarehouseSink(warehouse).write(_batch("audit", topic_offset=100))
    rows = warehouse.query_rows(
        "SELECT topic, offset, key, type, toUnixTimestamp64Milli(occurred_at), correlation_id, causation_id,"
        " actor, payload FROM raw_events FINAL WHERE tenant = 'audit' ORDER BY topic, offset"
    )
    by_type = {r[3]: r for r in rows}
    dead = by_type["DeadLetter"]
    assert dead[:8] == ("cc.dead-letter", 108, "audit", "DeadLetter", T0 + 8, "c1", "audit-e0", "acd")
    payload = json.loads(dead[8])
    assert base64.b64decode(payload["value"]) == b"\x00\xffjunk" and payload["source_offset"] == 17
    assert [r[6] for r in rows if r[1] == 100] == [None]  # the first message has no cause
    assert json.loads(by_type["ContactRecord"][8])["wait_ms"] == 10_000


def test_contacts_hold_every_cdr_field_with_unset_times_as_null(warehouse: ClickHouseWarehouse) -> None:
    WarehouseSink(warehouse).write(_batch("cdr"))
    df = warehouse.query_df(
        "SELECT * EXCEPT (arrived_at, queued_at, answered_at, ended_at, finished_at),"
        " toUnixTimestamp64Milli(queued_at) AS queued_ms, toUnixTimestamp64Milli(answered_at) AS answered_ms"
        " FROM contacts FINAL WHERE tenant = 'cdr' ORDER BY contact_id"
    )
    first, second = df.to_dict("records")
    expected = _cdr("c1")
    for name in (
        "contact_id",
        "queue_id",
        "outcome",
        "agent_id",
        "wait_ms",
        "talk_ms",
        "holds",
        "disposition",
    ):
        assert first[name] == getattr(expected, name)
    assert first["queued_ms"] == T0 + 2_000 and first["answered_ms"] == T0 + 12_000
    assert first["event_id"] == "cdr-e5"
    assert second["outcome"] == "abandoned" and second["answered_ms"] is None


def test_an_empty_batch_writes_nothing(warehouse: ClickHouseWarehouse) -> None:
    sink = WarehouseSink(warehouse)
    sink.write([])
    assert sum(sink.rows_written.values()) == 0 and sink.batches_written == 1


def test_the_tables_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/warehouse.md").read_text()
    for table in ("raw_events", "contacts", "queues", "agent_states", "offers", "schema_migrations"):
        assert f"`{table}`" in doc
