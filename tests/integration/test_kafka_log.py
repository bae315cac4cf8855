"""What only the Kafka adapter promises, on the session's real broker (`kafka_broker`).

Each test opens its logs in a namespace of its own, so tests share the broker and never
see each other's topics, groups or transactional ids.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from schemas.catalog import CATALOG
from schemas.envelope import Envelope, Message
from streams import topics
from streams.kafka import KafkaLog, KafkaLogError, TopicMismatch
from streams.ports import LogBusy, OutRecord, Snapshot
from streams.serde import Serde
from streams.topics import Topic
from tests.unit.test_serde import sample

IN = Topic("in", "tenant", (), partitions=2)
OUT = Topic("out", "tenant", (), partitions=1)


@pytest.fixture
def open_log(kafka_broker: str) -> Iterator[Callable[..., KafkaLog]]:
    namespace = f"k-{uuid.uuid4().hex[:10]}."
    opened: list[KafkaLog] = []

    def open_(**kwargs: object) -> KafkaLog:
        log = KafkaLog(kafka_broker, namespace=namespace, **kwargs)  # type: ignore[arg-type]
        log.ensure_topics([IN, OUT])
        opened.append(log)
        return log

    yield open_
    for log in opened:
        log.close()


def _inputs(log: KafkaLog, n: int = 4) -> dict[tuple[str, int], int]:
    log.append([OutRecord("in", f"k{i}".encode(), f"in-{i}".encode()) for i in range(n)])
    return {("in", p): log.end_offset("in", p) for p in range(2)}


def test_an_aborted_commit_is_invisible_and_moves_no_offsets(open_log: Callable[..., KafkaLog]) -> None:
    log = open_log()
    consumer = log.consumer("g", ["in"])
    ends = _inputs(log)
    got = consumer.poll(100, 0.0)
    assert len(got) == 4 and consumer.positions() == ends
    good = Snapshot(b"one", {("in", 0): 0})
    log.commit("g", [OutRecord("out", b"t", b"first")], {("in", 0): 0, ("in", 1): 0}, good)

    def broken() -> object:
        log._txn["g"].flush()  # the outputs reach the broker inside the open transaction
        raise KafkaLogError("injected failure after the outputs were produced")

    consumer.group_metadata = broken  # type: ignore[method-assign]
    before = log.end_offset("out", 0)
    with pytest.raises(KafkaLogError, match="aborted"):
        log.commit(
            "g",
            [OutRecord("out", b"t", b"lost-1"), OutRecord("out", b"t", b"lost-2")],
            ends,
            Snapshot(b"two", ends),
        )
    # the records were written (the end moves past them and the abort marker) but nobody sees them
    deadline = time.monotonic() + 30
    while log.end_offset("out", 0) <= before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # markers are written after abort_transaction returns
    assert log.end_offset("out", 0) == before + 3
    assert [r.value for r in log.read("out", 0, 0, 100)] == [b"first"]
    assert log.committed("g") == {("in", 0): 0, ("in", 1): 0}
    assert log.load_snapshot("g") == good
    # the same producer goes on after an abort
    del consumer.group_metadata
    log.commit("g", [OutRecord("out", b"t", b"second")], ends, Snapshot(b"three", ends))
    assert [r.value for r in log.read("out", 0, 0, 100)] == [b"first", b"second"]
    assert log.committed("g") == ends
    assert log.load_snapshot("g") == Snapshot(b"three", ends)


def test_a_second_instance_with_the_same_transactional_id_fences_the_first(
    open_log: Callable[..., KafkaLog],
) -> None:
    first = open_log(instance="a")
    ends = _inputs(first)
    c1 = first.consumer("acd", ["in"])
    c1.poll(100, 0.0)
    first.commit("acd", [OutRecord("out", b"t", b"by-first")], c1.positions())

    second = open_log(instance="a")  # the same instance restarted while the old one lingers
    c2 = second.consumer("acd", ["in"])
    with pytest.raises(LogBusy, match=r"'acd'.*ccx-acd-a.*fenced"):
        first.commit("acd", [OutRecord("out", b"t", b"by-zombie")], c1.positions())
    c1.close()
    assert [r.value for r in second.read("out", 0, 0, 100)] == [b"by-first"]
    assert second.committed("acd") == ends
    c2.poll(100, 0.0)
    second.commit("acd", [OutRecord("out", b"t", b"by-second")], c2.positions())
    assert [r.value for r in second.read("out", 0, 0, 100)] == [b"by-first", b"by-second"]

    other = open_log(instance="b")  # another instance has its own transactional id
    other.consumer("acd", ["in"]).close()
    second.commit("acd", [], c2.positions())


def test_messages_round_trip_through_serde_with_the_topic_schema_store(
    open_log: Callable[..., KafkaLog],
) -> None:
    log = open_log()
    log.ensure_topics(topics.ALL)
    serde = Serde(log)
    assert [serde.schema_id(s.name) for s in CATALOG] == list(range(1, len(CATALOG) + 1))
    msgs = [
        Message(Envelope(f"e-{i}", "acme", 1_700_000_000_000 + i, "c"), sample(s.cls))
        for i, s in enumerate(CATALOG)
    ]
    written = log.append([serde.out(m) for m in msgs])

    again = open_log()  # another process: the same ids, and it can read what the first wrote
    other = Serde(again)
    assert [other.schema_id(s.name) for s in CATALOG] == [serde.schema_id(s.name) for s in CATALOG]
    for record, msg in zip(written, msgs, strict=True):
        [read] = again.read(record.topic, record.partition, record.offset, 1)
        assert other.decode(read.value) == msg
    assert again.lookup(1) == log.lookup(1)
    with pytest.raises(KeyError):
        again.lookup(10_000)


def test_apply_topics_names_a_partition_mismatch(open_log: Callable[..., KafkaLog]) -> None:
    log = open_log()
    log.ensure_topics([IN, OUT], strict=True)  # as the registry says: nothing to do
    with pytest.raises(TopicMismatch, match=r"'k-\w+\.in' has 2 partitions .* registry says 5"):
        log.ensure_topics([Topic("in", "tenant", (), partitions=5)], strict=True)
    log.ensure_topics([Topic("in", "tenant", (), partitions=5)])  # the port's ensure leaves it
    assert log.partitions("in") == 2


def test_unknown_topic_errors_name_the_topic(open_log: Callable[..., KafkaLog]) -> None:
    log = open_log()
    with pytest.raises(KeyError, match="nope"):
        log.append([OutRecord("nope", b"k", b"v")])
    with pytest.raises(KafkaLogError, match="nope"):
        log.end_offset("nope", 0)
