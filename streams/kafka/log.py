"""The Kafka log: `EventLog` (and `SchemaStore`) on Apache Kafka through confluent-kafka.

- `append` uses an idempotent producer (`acks=all`), picks each record's partition with
  `streams.partitioner.partition_for` (Kafka's murmur2, as on the embedded log), flushes
  and returns offsets from the delivery reports.
- `commit` runs one transaction per call on the group's transactional producer
  (`transactional.id` = `ccx-<group>-<instance>`, stable across restarts of an instance):
  the outputs, the snapshot (to the compacted `_ccx-snapshots` topic, key = group) and the
  input offsets (`send_offsets_to_transaction` with the consumer's group metadata) commit
  together or not at all. `init_transactions` at `consumer()` fences a zombie of the same
  instance: the fenced one gets `LogBusy` at its next commit. A transaction aborted cleanly
  (e.g. ILLEGAL_GENERATION while the group rebalances) raises `CommitAborted`: nothing of
  it is visible, and the caller re-does the work. After a commit the call waits
  until the outputs are visible to read_committed readers (markers are written
  asynchronously), so a caller reads its own writes.
- Everything is read with `isolation.level=read_committed`; `end_offset` is the last
  stable offset (LSO): where a reader that has read everything stands. Offsets are not
  record counts: every transaction leaves a commit marker that takes an offset.
- One consumer per group per `KafkaLog` (the log pairs a group's commits with its
  consumer); more members of a group are more processes, sharing the partitions.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.kafka.admin import (
    INTERNAL,
    REQUEST_TIMEOUT_S,
    SNAPSHOTS_TOPIC,
    CommitAborted,
    KafkaLogError,
    Names,
    TopicSpec,
    describe,
    offsets,
    provision,
)
from streams.kafka.consumer import KafkaConsumer, Reader, base_config
from streams.kafka.schemas import RegistrySchemaStore, TopicSchemaStore
from streams.partitioner import partition_for
from streams.ports import EventLog, LogBusy, OutRecord, Position, Record, Snapshot, TopicState
from streams.ports import TopicPartition as TP
from streams.serde import SchemaStore

__all__ = ["KafkaLog"]

TIMEOUT_S = 30.0
OFFSETS_TOPIC = "__consumer_offsets"
_COORDINATOR_MOVING = (
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
)
_LEN = struct.Struct(">I")


class KafkaLog(EventLog, SchemaStore):
    """A ccx log on a Kafka cluster (`bootstrap` = "host:port[,host:port…]")."""

    def __init__(
        self,
        bootstrap: str,
        *,
        schema_registry_url: str | None = None,
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        client_id: str = "ccx",
        namespace: str = "",
        instance: str | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.names = Names(namespace)
        self.instance = instance if instance is not None else "0"
        self._client_id = client_id
        self._rf, self._min_isr = replication_factor, min_insync_replicas
        self._admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": client_id})
        self._producer = Producer(self._producer_config(enable_idempotence=True))
        self._reader = Reader(bootstrap, client_id, self.names, self._admin)
        self._lock = threading.RLock()
        self._closed = False
        self._partitions: dict[str, int] = {}
        self._consumers: dict[str, KafkaConsumer] = {}
        self._txn: dict[str, Producer] = {}
        self._offsets_ready = False
        self._offset_readers: dict[str, Consumer] = {}
        self.schemas: SchemaStore = (
            RegistrySchemaStore(schema_registry_url)
            if schema_registry_url
            else TopicSchemaStore(
                self._producer, Reader(bootstrap, client_id, self.names, self._admin), self.names
            )
        )

    def _producer_config(self, **extra: Any) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap,
            "client.id": self._client_id,
            "acks": "all",
            "linger.ms": 1,
            **{k.replace("_", "."): v for k, v in extra.items()},
        }

    # -- topics

    def ensure_topics(self, topics: Sequence[object], *, strict: bool = False) -> None:
        """Create the missing topics (and ccx's internal ones); see `provision`."""
        self._provision(topics, strict=strict)

    def describe_topics(self, topics: Sequence[str]) -> dict[str, TopicState | None]:
        return describe(self._admin, self.names, topics, TIMEOUT_S)

    def _provision(self, topics: Sequence[object], *, strict: bool) -> None:
        provision(
            self._admin,
            self.names,
            [TopicSpec.of(t) for t in topics] + list(INTERNAL),
            replication_factor=self._rf,
            min_insync_replicas=self._min_isr,
            strict=strict,
            timeout_s=TIMEOUT_S,
        )

    def partitions(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            cluster = self.names.topic(topic)
            meta = self._admin.list_topics(topic=cluster, timeout=TIMEOUT_S).topics.get(cluster)
            if meta is None or meta.error is not None or not meta.partitions:
                raise KeyError(f"topic {cluster!r} does not exist on {self.bootstrap} (ensure_topics first)")
            n = self._partitions[topic] = len(meta.partitions)
        return n

    # -- writing

    def _placed(self, records: Sequence[OutRecord]) -> list[tuple[OutRecord, int]]:
        """Each record with its partition; raises before anything is produced."""
        return [(r, partition_for(r.key, self.partitions(r.topic))) for r in records]

    def append(self, records: Sequence[OutRecord]) -> list[Record]:
        if not records:
            return []
        placed = self._placed(records)
        results: list[Record | str | None] = [None] * len(placed)
        done = threading.Event()
        remaining = [len(placed)]

        def report(i: int, rec: OutRecord, p: int) -> Any:
            def delivered(err: Any, msg: Any) -> None:
                if err is not None:
                    results[i] = f"topic {rec.topic!r} partition {p}: {err.str()}"
                else:
                    results[i] = Record(rec.topic, p, msg.offset(), rec.key, rec.value)
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

            return delivered

        for i, (rec, p) in enumerate(placed):
            self._produce(self._producer, rec, p, report(i, rec, p))
        self._producer.flush(TIMEOUT_S)
        if not done.wait(TIMEOUT_S):
            raise KafkaLogError(f"append of {len(records)} records not acknowledged in {TIMEOUT_S}s")
        failed = [r for r in results if isinstance(r, str)]
        if failed:
            raise KafkaLogError(f"append failed: {failed[0]}")
        return [r for r in results if isinstance(r, Record)]

    def _produce(self, producer: Producer, rec: OutRecord, partition: int, on_delivery: Any = None) -> None:
        topic = self.names.topic(rec.topic)
        while True:
            try:
                producer.produce(topic, rec.value, rec.key, partition, on_delivery=on_delivery)
                return
            except BufferError:  # the local queue is full: serve delivery reports, retry
                producer.poll(0.1)
            except KafkaException as exc:
                raise KafkaLogError(f"produce to topic {topic!r} partition {partition}: {exc}") from exc

    # -- reading

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        return self._reader.read(topic, partition, offset, limit)

    def end_offset(self, topic: str, partition: int) -> int:
        return self._reader.end(topic, partition)

    def end_offsets(self, topic: str) -> list[int]:
        cluster = self.names.topic(topic)
        ends = offsets(
            self._admin, [(cluster, p) for p in range(self.partitions(topic))], timeout_s=TIMEOUT_S
        )
        return [ends[(cluster, p)] for p in range(self.partitions(topic))]

    def committed(self, group: str) -> dict[TP, int]:
        """The group's committed positions on its consumer's topics (every ccx topic when this
        log has no consumer of the group), read_committed: an offset commit inside an open
        transaction is waited for (OffsetFetch with require_stable). Asked through a member
        of the group that never joins it, not the AdminClient: librdkafka 2.16's
        ListConsumerGroupOffsets aborts the process (assertion in rd_kafka_enq_once) when
        the group coordinator fails over."""
        deadline = time.monotonic() + TIMEOUT_S
        if not self._offsets_topic_ready(deadline):
            return {}  # no group has ever committed anything on this cluster
        wanted = [
            TopicPartition(self.names.topic(t), p)
            for t in self._group_topics(group)
            for p in range(self.partitions(t))
        ]
        if not wanted:
            return {}
        probe = self._offset_reader(group)
        while True:
            try:
                result = probe.committed(wanted, timeout=REQUEST_TIMEOUT_S)
                break
            except KafkaException as exc:  # an open transaction, or the coordinator failing over
                err = exc.args[0]
                if (err.retriable() or err.code() in _COORDINATOR_MOVING) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                raise KafkaLogError(f"group {group!r}: committed offsets: {err.str()}") from exc
        out: dict[TP, int] = {}
        for tp in result:
            if tp.error is not None:
                raise KafkaLogError(
                    f"group {group!r} topic {tp.topic!r} partition {tp.partition}: {tp.error}"
                )
            name = self.names.ccx_topic(tp.topic)
            if name is not None and tp.offset >= 0:
                out[(name, tp.partition)] = tp.offset
        return out

    def _group_topics(self, group: str) -> list[str]:
        """The topics of this log's consumer of `group`, else every ccx topic on the cluster."""
        consumer = self._consumers.get(group)
        if consumer is not None:
            return list(consumer.topics)
        names = (self.names.ccx_topic(t) for t in self._admin.list_topics(timeout=TIMEOUT_S).topics)
        return sorted(n for n in names if n is not None and not n.startswith("_"))

    def _offset_reader(self, group: str) -> Consumer:
        """A consumer with the group's id that never subscribes (so never joins the group)."""
        with self._lock:
            reader = self._offset_readers.get(group)
            if reader is None:
                config = base_config(self.bootstrap, self._client_id)
                config["group.id"] = self.names.group(group)
                reader = self._offset_readers[group] = Consumer(config)
            return reader

    def _offsets_topic_ready(self, deadline: float) -> bool:
        """Whether `__consumer_offsets` exists (with leaders): before a first group lookup
        creates it, no offset was ever committed (and an OffsetFetch would wait for a
        coordinator that is not there; librdkafka 2.16's ListConsumerGroupOffsets even
        crashes the process with SIGSEGV)."""
        while not self._offsets_ready:
            meta = self._admin.list_topics(timeout=TIMEOUT_S).topics.get(OFFSETS_TOPIC)
            if meta is None:
                return False
            partitions = meta.partitions.values() if meta.error is None else ()
            self._offsets_ready = bool(partitions) and all(p.leader >= 0 for p in partitions)
            if not self._offsets_ready:
                if time.monotonic() > deadline:
                    raise KafkaLogError(f"{OFFSETS_TOPIC} on {self.bootstrap} has no leaders")
                time.sleep(0.05)
        return True

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaConsumer:
        with self._lock:
            if group in self._consumers:
                raise LogBusy(
                    f"group {group!r} already has a consumer on this KafkaLog in pid {os.getpid()}; "
                    f"one per group per log (another process joins the group and shares its partitions)"
                )
            self._transactional(group)  # fences a zombie of this instance before we read
            consumer = KafkaConsumer(
                self.bootstrap,
                self._client_id,
                self.names,
                group,
                tuple(topics),
                self._admin,
                on_close=self._forget,
            )
            self._consumers[group] = consumer
            return consumer

    def _forget(self, consumer: KafkaConsumer) -> None:
        with self._lock:
            if self._consumers.get(consumer.group) is consumer:
                del self._consumers[consumer.group]

    # -- transactions

    def _transactional(self, group: str) -> Producer:
        producer = self._txn.get(group)
        if producer is None:
            txn_id = self.names.transactional_id(group, self.instance)
            producer = Producer(self._producer_config(transactional_id=txn_id, enable_idempotence=True))
            try:
                producer.init_transactions(TIMEOUT_S)
            except KafkaException as exc:
                raise KafkaLogError(f"group {group!r}: init_transactions of {txn_id!r}: {exc}") from exc
            self._txn[group] = producer
        return producer

    def commit(
        self,
        group: str,
        outputs: Sequence[OutRecord],
        positions: Position,
        snapshot: Snapshot | None = None,
    ) -> None:
        placed = self._placed(outputs)  # unknown topics fail here, before the transaction
        snap_value = _snapshot_value(snapshot) if snapshot is not None else None
        offsets = [TopicPartition(self.names.topic(t), p, o) for (t, p), o in positions.items()]
        with self._lock:
            producer = self._transactional(group)
            consumer = self._consumers.get(group)
            written: dict[TP, int] = {}

            def track(err: Any, msg: Any) -> None:
                if err is None:
                    tp = (msg.topic(), msg.partition())
                    written[tp] = max(written.get(tp, -1), msg.offset())

            try:
                producer.begin_transaction()
                for rec, p in placed:
                    self._produce(producer, rec, p, track)
                if snap_value is not None:
                    snap = OutRecord(SNAPSHOTS_TOPIC, group.encode(), snap_value)
                    self._produce(producer, snap, partition_for(snap.key, 1), track)
                if offsets:
                    metadata = consumer.group_metadata() if consumer else self._group_metadata(group)
                    self._send_offsets(group, producer, offsets, metadata)
                producer.commit_transaction(TIMEOUT_S)
            except _Wedged:
                raise
            except (KafkaException, KafkaLogError) as exc:
                self._abort(group, producer, exc)
        self._await_visible(written)
        self._await_committed(group, positions)

    def _send_offsets(
        self, group: str, producer: Producer, offsets: list[TopicPartition], metadata: Any
    ) -> None:
        """`send_offsets_to_transaction`, bounded. librdkafka 2.16 can block in it forever when
        the group coordinator's broker dies and drops out of the metadata (its timeout is not
        checked: confluentinc/librdkafka#5456, #5511). Past the timeout the producer is given
        up (its thread stays blocked) and a new one with the same transactional id takes its
        place now: its `init_transactions` fences the old one and aborts the transaction."""
        outcome: list[BaseException | None] = []

        def send() -> None:
            try:
                producer.send_offsets_to_transaction(offsets, metadata, TIMEOUT_S)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=send, name=f"ccx-send-offsets-{group}", daemon=True)
        worker.start()
        worker.join(TIMEOUT_S + 5)
        if worker.is_alive():
            self._txn.pop(group, None)
            wedged = _Wedged(
                f"group {group!r}: send_offsets_to_transaction blocked for {TIMEOUT_S + 5:.0f}s "
                "(librdkafka#5511: the group coordinator went away); its transaction is fenced"
            )
            try:
                self._transactional(group)
            except KafkaLogError as exc:  # the next commit tries again
                raise wedged from exc
            raise wedged
        if outcome and outcome[0] is not None:
            raise outcome[0]

    def _await_committed(self, group: str, positions: Position) -> None:
        """Read-your-writes for positions: the coordinator applies the transaction's offset
        commit after `commit_transaction` returns, and until then the group reports none."""
        deadline = time.monotonic() + TIMEOUT_S
        while positions:
            now = self.committed(group)
            if all(now.get(tp, -1) >= o for tp, o in positions.items()):
                return
            if time.monotonic() > deadline:
                raise KafkaLogError(f"group {group!r}: committed positions not visible after the transaction")
            time.sleep(0.005)

    def _abort(self, group: str, producer: Producer, exc: Exception) -> None:
        err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        txn_id = self.names.transactional_id(group, self.instance)
        if err is not None and err.fatal():
            self._txn.pop(group, None)
            if err.code() in (
                KafkaError._FENCED,
                KafkaError.PRODUCER_FENCED,
                KafkaError.INVALID_PRODUCER_EPOCH,
            ):
                raise LogBusy(
                    f"group {group!r}: transactional id {txn_id!r} was taken over by another instance "
                    f"(this one is fenced): {err.str()}"
                ) from exc
            raise KafkaLogError(
                f"group {group!r}: fatal transaction error on {txn_id!r}: {err.str()}"
            ) from exc
        try:
            producer.abort_transaction(TIMEOUT_S)
        except KafkaException as abort_exc:
            self._txn.pop(group, None)
            raise KafkaLogError(f"group {group!r}: abort of {txn_id!r} failed: {abort_exc}") from exc
        raise CommitAborted(f"group {group!r}: commit aborted: {exc}") from exc

    def group_in_use(self, group: str) -> bool:
        """Members of the consumer group, asked of its coordinator (DescribeConsumerGroups)."""
        futures = self._admin.describe_consumer_groups([self.names.group(group)], request_timeout=TIMEOUT_S)
        description = next(iter(futures.values())).result()
        return bool(description.members)

    def _group_metadata(self, group: str) -> Any:
        """Group metadata without a live member (a commit from a tool, not a processor)."""
        from confluent_kafka import Consumer

        probe = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.names.group(group)})
        try:
            return probe.consumer_group_metadata()
        finally:
            probe.close()

    def _await_visible(self, written: dict[TP, int]) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        for (cluster_topic, p), last in written.items():
            topic = self.names.ccx_topic(cluster_topic) or cluster_topic
            while self._reader.end(topic, p) <= last:
                if time.monotonic() > deadline:
                    raise KafkaLogError(f"committed records of topic {topic!r} partition {p} not visible")
                time.sleep(0.005)

    def load_snapshot(self, group: str) -> Snapshot | None:
        key, latest, offset = group.encode(), None, 0
        p = partition_for(key, 1)
        while batch := self._reader.read(SNAPSHOTS_TOPIC, p, offset, 10_000):
            for record in batch:
                if record.key == key:
                    latest = record.value
            offset = batch[-1].offset + 1
        return _parse_snapshot(latest) if latest is not None else None

    # -- the schema store

    def register(self, subject: str, schema_json: str) -> int:
        return self.schemas.register(subject, schema_json)

    def lookup(self, schema_id: int) -> tuple[str, str]:
        return self.schemas.lookup(schema_id)

    def close(self) -> None:
        """Close every client; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._consumers.values())
            producers, self._txn = list(self._txn.values()), {}
        for c in consumers:
            c.close()
        with self._lock:
            readers, self._offset_readers = list(self._offset_readers.values()), {}
        for reader in readers:
            reader.close()
        for producer in [*producers, self._producer]:
            producer.flush(TIMEOUT_S)
            producer.close()  # now, not at garbage collection (its threads would live on)
        self._reader.close()
        if isinstance(self.schemas, RegistrySchemaStore | TopicSchemaStore):
            self.schemas.close()


class _Wedged(CommitAborted):
    """The transactional producer hung in a call and was replaced (see `KafkaLog._send_offsets`)."""


def _snapshot_value(snapshot: Snapshot) -> bytes:
    """Positions JSON (length-prefixed) then the state bytes."""
    state = snapshot.state
    if not isinstance(state, bytes | bytearray | memoryview):
        raise TypeError(f"snapshot state must be bytes, got {type(state).__name__}")
    positions = json.dumps(sorted([t, p, o] for (t, p), o in snapshot.positions.items())).encode()
    return _LEN.pack(len(positions)) + positions + bytes(state)


def _parse_snapshot(value: bytes) -> Snapshot:
    (n,) = _LEN.unpack_from(value)
    positions = json.loads(value[_LEN.size : _LEN.size + n])
    return Snapshot(value[_LEN.size + n :], {(t, p): o for t, p, o in positions})
