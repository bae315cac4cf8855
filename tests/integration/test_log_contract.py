"""The `EventLog` port's contract, run against every backend in `BACKENDS`.

Adding a backend is one entry: a factory that opens a log over the storage `tmp_path`
names (calling it again must reopen the same log). The Kafka factory puts each test in its
own namespace on the session's broker (`kafka_broker`), derived from `tmp_path`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.embedded import EmbeddedLog
from streams.kafka import KafkaLog
from streams.partitioner import partition_for
from streams.ports import EventLog, LogBusy, OutRecord, Snapshot
from streams.topics import Topic


def _namespace(tmp_path: Path) -> str:
    return "contract-" + hashlib.sha1(f"{os.getpid()}:{tmp_path}".encode()).hexdigest()[:12] + "."


BACKENDS: dict[str, Callable[[Path, pytest.FixtureRequest], EventLog]] = {
    "embedded": lambda tmp_path, request: EmbeddedLog(tmp_path / "log.sqlite"),
    "kafka": lambda tmp_path, request: KafkaLog(
        request.getfixturevalue("kafka_broker"),
        namespace=_namespace(tmp_path),
    ),
}

A = Topic("t.a", "tenant", (), partitions=3)
B = Topic("t.b", "tenant", (), partitions=2)
OUT = Topic("t.out", "tenant", (), partitions=1)


@pytest.fixture(params=sorted(BACKENDS))
def open_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], EventLog]]:
    opened: list[EventLog] = []

    def open_() -> EventLog:
        log = BACKENDS[request.param](tmp_path, request)
        log.ensure_topics([A, B, OUT])
        opened.append(log)
        return log

    yield open_
    for log in opened:
        log.close()


@pytest.fixture
def log(open_log: Callable[[], EventLog]) -> EventLog:
    return open_log()


def recs(topic: str, n: int, keys: tuple[bytes, ...] = (b"k0", b"k1", b"k2", b"k3")) -> list[OutRecord]:
    return [OutRecord(topic, keys[i % len(keys)], f"{topic}-{i}".encode()) for i in range(n)]


def test_topics_have_their_partitions(log: EventLog) -> None:
    assert (log.partitions("t.a"), log.partitions("t.b")) == (3, 2)
    log.ensure_topics([Topic("t.a", "tenant", (), partitions=9)])  # existing topics stay as they are
    assert log.partitions("t.a") == 3


def test_append_partitions_by_key_and_numbers_offsets(log: EventLog) -> None:
    written = log.append(recs("t.a", 12))
    assert [r.value for r in written] == [r.value for r in recs("t.a", 12)]
    for r in written:
        assert r.partition == partition_for(r.key, 3)
    for p in range(3):
        mine = [r for r in written if r.partition == p]
        assert [r.offset for r in mine] == list(range(len(mine)))
        assert log.read("t.a", p, 0, 100) == mine
        assert log.end_offset("t.a", p) == len(mine)
        if len(mine) > 1:
            assert log.read("t.a", p, 1, 1) == mine[1:2]
    assert log.end_offsets("t.a") == [log.end_offset("t.a", p) for p in range(3)]
    assert log.end_offsets("t.b") == [0, 0]


def test_end_offset_of_an_empty_partition_is_zero(log: EventLog) -> None:
    assert log.end_offset("t.b", 1) == 0
    assert log.read("t.b", 1, 0, 10) == []


def test_consumer_reads_every_partition_in_order(log: EventLog) -> None:
    written = log.append(recs("t.a", 10) + recs("t.b", 7)) + log.append(recs("t.a", 5, (b"zz",)))
    consumer = log.consumer("g", ["t.a", "t.b"])
    got = consumer.poll(4, 0.0)
    while batch := consumer.poll(4, 0.0):
        got += batch
    assert sorted(got, key=lambda r: (r.topic, r.partition, r.offset)) == sorted(
        written, key=lambda r: (r.topic, r.partition, r.offset)
    )
    for tp in {(r.topic, r.partition) for r in written}:  # per partition: append order
        assert [r.offset for r in got if (r.topic, r.partition) == tp] == sorted(
            r.offset for r in written if (r.topic, r.partition) == tp
        )
    assert consumer.positions() == {
        (t, p): log.end_offset(t, p) for t, n in (("t.a", 3), ("t.b", 2)) for p in range(n)
    }
    assert consumer.poll(10, 0.01) == []
    later = log.append(recs("t.b", 1))
    assert consumer.poll(10, 0.0) == later


def test_consumer_starts_from_committed_positions(log: EventLog) -> None:
    written = log.append(recs("t.a", 9))
    first = log.consumer("g", ["t.a"])
    batch = first.poll(4, 0.0)
    log.commit("g", [], first.positions())
    first.close()
    assert log.committed("g") == first.positions()
    second = log.consumer("g", ["t.a"])
    rest = second.poll(100, 0.0)
    assert {(r.partition, r.offset) for r in batch + rest} == {(r.partition, r.offset) for r in written}
    assert not {(r.partition, r.offset) for r in batch} & {(r.partition, r.offset) for r in rest}


def test_seek_rewinds(log: EventLog) -> None:
    log.append(recs("t.a", 6))
    consumer = log.consumer("g", ["t.a"])
    everything = consumer.poll(100, 0.0)
    consumer.seek({tp: 0 for tp in consumer.positions()})
    assert consumer.poll(100, 0.0) == everything


def test_commit_is_atomic(log: EventLog) -> None:
    log.append(recs("t.a", 3))
    consumer = log.consumer("g", ["t.a"])
    consumer.poll(100, 0.0)
    positions = consumer.positions()
    snap = Snapshot(b"state-1", dict(positions))
    log.commit("g", recs("t.out", 2), positions, snap)
    assert log.committed("g") == positions
    assert log.load_snapshot("g") == snap
    assert [r.value for r in log.read("t.out", 0, 0, 10)] == [b"t.out-0", b"t.out-1"]
    end = log.end_offset("t.out", 0)  # offsets are positions, not counts: Kafka's commit markers take one

    bad_positions = {tp: o + 1 for tp, o in positions.items()}
    with pytest.raises(Exception):  # noqa: B017 - any failure inside must roll back everything
        log.commit("g", recs("t.out", 2), bad_positions, Snapshot(object(), {}))  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017
        log.commit("g", [*recs("t.out", 1), OutRecord("no.such.topic", b"k", b"v")], bad_positions)
    assert log.committed("g") == positions
    assert log.load_snapshot("g") == snap
    assert log.end_offset("t.out", 0) == end
    assert [r.value for r in log.read("t.out", 0, 0, 10)] == [b"t.out-0", b"t.out-1"]


def test_one_live_consumer_per_group(log: EventLog) -> None:
    first = log.consumer("acd", ["t.a"])
    with pytest.raises(LogBusy, match=r"'acd'.*pid \d+"):
        log.consumer("acd", ["t.a"])
    other = log.consumer("stats", ["t.a"])  # another group is fine
    first.close()
    log.consumer("acd", ["t.a"]).close()
    other.close()


def test_group_in_use_while_a_consumer_lives(open_log: Callable[[], EventLog]) -> None:
    log, other = open_log(), open_log()  # `other` stands for another process or tool
    assert not other.group_in_use("acd")
    consumer = log.consumer("acd", ["t.a"])
    consumer.poll(10, 1.0)  # on Kafka a member joins its group on poll
    assert other.group_in_use("acd")
    assert log.group_in_use("acd")
    assert not other.group_in_use("stats")
    consumer.close()
    assert not other.group_in_use("acd")


def test_concurrent_appends_from_threads(log: EventLog) -> None:
    def work(i: int) -> None:
        for j in range(50):
            log.append([OutRecord("t.b", b"same-key", f"{i}-{j}".encode())])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p = partition_for(b"same-key", 2)
    got = log.read("t.b", p, 0, 1000)
    assert [r.offset for r in got] == list(range(200))
    for i in range(4):  # each writer's records keep their order
        assert [r.value for r in got if r.value.startswith(f"{i}-".encode())] == [
            f"{i}-{j}".encode() for j in range(50)
        ]


def test_everything_survives_reopen(open_log: Callable[[], EventLog]) -> None:
    log = open_log()
    written = log.append(recs("t.a", 5))
    consumer = log.consumer("g", ["t.a"])
    consumer.poll(3, 0.0)
    snap = Snapshot(b"s", consumer.positions())
    log.commit("g", recs("t.out", 1), consumer.positions(), snap)
    log.close()
    again = open_log()
    assert [r for p in range(3) for r in again.read("t.a", p, 0, 10)] == sorted(
        written, key=lambda r: (r.partition, r.offset)
    )
    assert again.committed("g") == snap.positions
    assert again.load_snapshot("g") == snap
    assert [r.value for r in again.read("t.out", 0, 0, 10)] == [b"t.out-0"]
    again.consumer("g", ["t.a"]).close()  # the closed log released its group


# ---- embedded-only guarantees


def test_embedded_consumer_follows_the_global_append_order(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    log.ensure_topics([A, B])
    written = []
    for i in range(30):
        written += log.append(recs("t.a" if i % 3 else "t.b", 1, (f"k{i}".encode(),)))
    consumer = log.consumer("g", ["t.a", "t.b"])
    got = consumer.poll(7, 0.0)
    while batch := consumer.poll(7, 0.0):
        got += batch
    assert got == written
    log.close()


def test_embedded_group_lock_names_the_file_and_holder(tmp_path: Path) -> None:
    a, b = EmbeddedLog(tmp_path / "log.sqlite"), EmbeddedLog(tmp_path / "log.sqlite")
    a.ensure_topics([A])
    held = a.consumer("acd", ["t.a"])
    with pytest.raises(LogBusy) as err:
        b.consumer("acd", ["t.a"])
    assert f"pid {os.getpid()}" in str(err.value) and str(tmp_path / "log.sqlite") in str(err.value)
    held.close()
    a.close()
    b.close()


def test_embedded_schema_store_ids_are_stable(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    assert log.register("s.A", "{}") == 1
    assert log.register("s.B", "{}") == 2
    assert log.register("s.A", "{}") == 1
    assert log.lookup(2) == ("s.B", "{}")
    with pytest.raises(KeyError):
        log.lookup(3)
    log.close()
