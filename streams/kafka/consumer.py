"""Reading Kafka: the group consumer behind the `Consumer` port, and a group-less reader.

Both use `isolation.level=read_committed`, so they see only committed transactions and
stop at the last stable offset (LSO). `end` offsets here are LSOs: where a reader that has
read everything committed stands (past transaction markers and aborted records).

`KafkaConsumer` joins a consumer group with the cooperative-sticky assignor, never
auto-commits (the log commits offsets inside its transactions) and keeps the current
assignment and the next offset of every assigned partition. `poll(max, timeout)` returns
records that are already in the log whatever the timeout (it asks for the LSOs before
answering []), so "poll until []" means "caught up", as on the embedded log.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.kafka.admin import KafkaLogError, Names, offsets
from streams.ports import Consumer as ConsumerPort
from streams.ports import Position, Record
from streams.ports import TopicPartition as TP

__all__ = ["KafkaConsumer", "Reader"]

_EOF = KafkaError._PARTITION_EOF
CATCH_UP_S = 30.0
"""How long `poll` keeps fetching records it knows are committed before giving up on them."""


def base_config(bootstrap: str, client_id: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "client.id": client_id,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
    }


def _where(msg: Message) -> tuple[str, int, int, int | None]:
    """(topic, partition, offset, error code or None) of a message or an event."""
    err = msg.error()
    return str(msg.topic()), int(msg.partition() or 0), int(msg.offset() or 0), err.code() if err else None


def _bytes(data: str | bytes | None) -> bytes:
    return data.encode() if isinstance(data, str) else (data or b"")


def _raise_for(msg: Message, what: str) -> None:
    err = msg.error()
    if err is not None and err.code() != _EOF and (err.fatal() or not err.retriable()):
        raise KafkaLogError(f"{what}: topic {msg.topic()!r} partition {msg.partition()}: {err.str()}")


class Reader:
    """Reads one partition range at a time (assign, no group): `read` and `end` of the log."""

    def __init__(self, bootstrap: str, client_id: str, names: Names, admin: AdminClient) -> None:
        self._admin = admin
        config = base_config(bootstrap, client_id)
        config.update({"group.id": f"{client_id}-reader", "fetch.wait.max.ms": 50})
        self._c = Consumer(config)
        self._names = names
        self._lock = threading.RLock()  # one assignment at a time; shared by threads

    def end(self, topic: str, partition: int, timeout_s: float = 30.0) -> int:
        """The LSO of a partition: the offset after the last committed record."""
        cluster = self._names.topic(topic)
        return offsets(self._admin, [(cluster, partition)], timeout_s=timeout_s)[(cluster, partition)]

    def read(
        self, topic: str, partition: int, offset: int, limit: int, timeout_s: float = 30.0
    ) -> list[Record]:
        with self._lock:
            return self._read(topic, partition, offset, limit, timeout_s)

    def _read(self, topic: str, partition: int, offset: int, limit: int, timeout_s: float) -> list[Record]:
        end = self.end(topic, partition)
        if offset >= end or limit <= 0:
            return []
        cluster_topic = self._names.topic(topic)
        self._c.assign([TopicPartition(cluster_topic, partition, offset)])
        out: list[Record] = []
        deadline = time.monotonic() + timeout_s
        try:
            while len(out) < limit and time.monotonic() < deadline:
                first = self._c.poll(min(1.0, max(0.0, deadline - time.monotonic())))
                if first is None:
                    continue
                batch = [first, *self._c.consume(min(limit - len(out), 10_000), 0)]
                done = False
                for msg in batch:
                    _raise_for(msg, "read")
                    t, p, o, code = _where(msg)
                    if code is not None:
                        done = done or code == _EOF
                        continue
                    if t != cluster_topic or p != partition or o < offset:
                        continue  # stale prefetch or an offset reset below `offset`
                    out.append(Record(topic, partition, o, _bytes(msg.key()), _bytes(msg.value())))
                    offset = o + 1
                    if len(out) == limit or offset >= end:
                        done = True
                        break
                if done:
                    break
            else:
                if len(out) < limit and offset < end:
                    raise KafkaLogError(
                        f"read of topic {topic!r} partition {partition} stalled at offset {offset} "
                        f"(end {end}) for {timeout_s}s"
                    )
        finally:
            self._c.unassign()
        return out[:limit]

    def close(self) -> None:
        with self._lock:
            self._c.close()


class KafkaConsumer(ConsumerPort):
    """A member of a Kafka consumer group (cooperative-sticky, read_committed, manual commits)."""

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        names: Names,
        group: str,
        topics: tuple[str, ...],
        admin: AdminClient,
        *,
        on_close: Callable[[KafkaConsumer], None] = lambda c: None,
        assign_timeout_s: float = 60.0,
    ) -> None:
        self.group = group
        self.topics = topics
        self._admin = admin
        self._names = names
        self._on_close = on_close
        config = base_config(bootstrap, client_id)
        config.update(
            {
                "group.id": names.group(group),
                "partition.assignment.strategy": "cooperative-sticky",
                "fetch.wait.max.ms": 100,
                "client.id": f"{client_id}-{group}-{os.getpid()}",
            }
        )
        self._c = Consumer(config)
        self._lock = threading.RLock()
        self._pos: dict[TP, int] = {}
        self._assigned: set[TP] = set()
        self._at_end: set[TP] = set()  # partitions whose end (LSO) was reached by the fetcher
        self._buffer: list[Message] = []
        self._rebalanced = False
        self._rebalances = 0
        self._closed = False
        self._c.subscribe(
            [names.topic(t) for t in topics],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        deadline = time.monotonic() + assign_timeout_s
        while not self._rebalanced:
            if time.monotonic() > deadline:
                self._c.close()
                raise KafkaLogError(
                    f"group {group!r} got no assignment of {list(topics)} in {assign_timeout_s}s"
                )
            self._fetch(1000, 0.1)

    # -- rebalancing (callbacks run inside consume())

    def _tp(self, tp: TopicPartition) -> TP:
        name = self._names.ccx_topic(tp.topic)
        return (name if name is not None else tp.topic, tp.partition)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if partitions and not self._closed:  # (closing: the assignment is about to be dropped)
            committed = consumer.committed(partitions, timeout=30)
            for tp in committed:
                if tp.error is not None:
                    raise KafkaLogError(
                        f"group {self.group!r}: committed offset of topic {tp.topic!r} "
                        f"partition {tp.partition}: {tp.error.str()}"
                    )
            fresh = [
                (tp.topic, tp.partition) for tp in committed if tp.offset == OFFSET_INVALID or tp.offset < 0
            ]
            starts = offsets(self._admin, fresh, latest=False)  # auto.offset.reset=earliest
            for tp in committed:
                offset = starts.get((tp.topic, tp.partition), tp.offset)
                self._pos[self._tp(tp)] = int(offset)
                self._assigned.add(self._tp(tp))
            self._rebalances += 1
        self._rebalanced = True

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            key = self._tp(tp)
            self._assigned.discard(key)
            self._at_end.discard(key)
            self._pos.pop(key, None)
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self._buffer = [m for m in self._buffer if (m.topic(), m.partition()) not in gone]
        if partitions:
            self._rebalances += 1

    def assignment(self) -> set[TP]:
        """The partitions this member owns now."""
        return set(self._assigned)

    @property
    def rebalances(self) -> int:
        """How many assignments and revocations of partitions this member has seen."""
        return self._rebalances

    def group_metadata(self) -> Any:
        return self._c.consumer_group_metadata()

    # -- reading

    def _fetch(self, n: int, timeout_s: float) -> int:
        """Buffer what the fetcher has (waiting up to `timeout_s` for the first); how many."""
        first = self._c.poll(timeout_s) if not self._buffer else None
        if first is None:
            return 0
        more = self._c.consume(n, 0)
        self._buffer.append(first)
        self._buffer.extend(more)
        return 1 + len(more)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Records already committed come whatever `timeout_s` (up to `max_records`, until every
        assigned partition reached its end); `timeout_s` bounds only the wait for new ones."""
        with self._lock:
            deadline = time.monotonic() + timeout_s
            give_up = time.monotonic() + max(timeout_s, CATCH_UP_S)
            out: list[Record] = []
            while len(out) < max_records:
                now = time.monotonic()
                caught_up = self._assigned <= self._at_end
                if caught_up and out:
                    break
                if caught_up and now >= deadline and not self._lagging():
                    break
                if now > give_up:
                    break
                wait = min(0.1, deadline - now) if caught_up and now < deadline else 0.005
                fetched = self._fetch(max_records - len(out), wait)
                out.extend(self._take(max_records - len(out)))
                if not fetched and not caught_up:
                    self._lagging()  # the fetcher is quiet: ask the LSOs whether we are at the end
            return sorted(out, key=lambda r: (r.topic, r.partition, r.offset))

    def _take(self, n: int) -> list[Record]:
        out: list[Record] = []
        taken = 0
        for msg in self._buffer:
            if len(out) >= n:
                break
            taken += 1
            _raise_for(msg, f"group {self.group!r}")
            t, p, o, code = _where(msg)
            key = self._tp(TopicPartition(t, p))
            expected = self._pos.get(key)
            if expected is None:
                continue  # revoked meanwhile
            if code is not None:
                if code == _EOF and o >= expected:
                    self._pos[key] = o  # past transaction markers and aborted records
                    self._at_end.add(key)
                continue
            if o < expected:
                continue  # stale: prefetched before a seek
            out.append(Record(key[0], key[1], o, _bytes(msg.key()), _bytes(msg.value())))
            self._pos[key] = o + 1
            self._at_end.discard(key)
        del self._buffer[:taken]
        return out

    def _lagging(self) -> bool:
        """Whether some assigned partition has committed records not yet polled (asks the LSOs);
        marks the partitions whose position reached their LSO as at their end."""
        keys = {(self._names.topic(t), p): (t, p) for t, p in self._pos}
        lagging = False
        for cluster_tp, end in offsets(self._admin, list(keys)).items():
            key = keys[cluster_tp]
            if key not in self._pos:
                continue
            if self._pos[key] < end:
                self._at_end.discard(key)
                lagging = True
            elif key in self._assigned:
                self._at_end.add(key)
        return lagging

    def positions(self) -> dict[TP, int]:
        return dict(self._pos)

    def seek(self, positions: Position) -> None:
        with self._lock:
            moved = set()
            for key, offset in positions.items():
                if key in self._pos:
                    self._seek_one(TopicPartition(self._names.topic(key[0]), key[1], offset))
                    self._pos[key] = offset
                    self._at_end.discard(key)
                    moved.add((self._names.topic(key[0]), key[1]))
            self._buffer = [m for m in self._buffer if (m.topic(), m.partition()) not in moved]

    def _seek_one(self, tp: TopicPartition, timeout_s: float = 30.0) -> None:
        """Seek, waiting while librdkafka refuses with _STATE: right after an assignment the
        partition's fetcher has not started yet ("Erroneous state"); polling starts it. What
        the polls fetch meanwhile is buffered and dropped by `seek` for the moved partitions."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._c.seek(tp)
                return
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError._STATE or time.monotonic() > deadline:
                    raise KafkaLogError(
                        f"group {self.group!r}: seek of topic {tp.topic!r} partition {tp.partition} "
                        f"to offset {tp.offset}: {exc.args[0].str()}"
                    ) from exc
                msg = self._c.poll(0.05)
                if msg is not None:
                    self._buffer.append(msg)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            last = dict(self._pos)  # leaving the group revokes everything: keep what we had
            try:
                self._c.close()
            finally:
                self._pos, self._assigned, self._at_end = last, set(), set()
                self._on_close(self)
