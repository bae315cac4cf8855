"""The log port: what processors, edges and read models need from a partitioned log.

Two adapters implement it side by side: `streams.embedded` (one SQLite file in WAL mode,
the default) and, later, `streams.kafka`. Both offer the same three things:

- `append` for edges (non-transactional, durable when it returns);
- `consumer(group, topics)` that polls records from the group's committed positions;
- `commit(group, outputs, positions, snapshot)` that appends a batch's outputs, advances
  the group's input positions and stores an optional state snapshot **atomically**.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CommitAborted",
    "Consumer",
    "EventLog",
    "LogBusy",
    "OutRecord",
    "Position",
    "Record",
    "Snapshot",
    "TopicPartition",
    "TopicMismatch",
    "TopicState",
]

TopicPartition = tuple[str, int]
Position = Mapping[TopicPartition, int]
"""Next offset to read per (topic, partition): "committed" in Kafka's sense."""


@dataclass(frozen=True, slots=True)
class OutRecord:
    """A record to append; the adapter picks the partition from the key (`partition_for`)."""

    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Record:
    """A record read from the log."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A processor's state as bytes, and the input positions it reflects."""

    state: bytes
    positions: dict[TopicPartition, int]


class TopicMismatch(RuntimeError):
    """An existing topic does not match the registry (its partition count)."""


class LogBusy(RuntimeError):
    """Another live process already owns what this one asked to own (a group, a file)."""


class CommitAborted(RuntimeError):
    """`EventLog.commit` was rolled back, for a reason that may pass (a rebalance moved the
    group to a new generation, a broker went away): none of it is visible and no position
    moved, so the caller can re-do the work from the committed positions."""


class Consumer(ABC):
    """Reads a group's input topics from its committed positions onward."""

    @property
    def rebalances(self) -> int:
        """How many times the group changed this member's partitions (grows; never on a log
        whose consumer owns every partition). Whoever keeps state per partition rebuilds it
        when this moves: records polled across a change may belong to another member now."""
        return 0

    @abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to `max_records` records after the last ones polled; [] after `timeout_s`."""

    @abstractmethod
    def positions(self) -> dict[TopicPartition, int]:
        """The next offset per assigned partition, counting what was polled."""

    @abstractmethod
    def seek(self, positions: Position) -> None:
        """Continue from these positions (used to restore a snapshot's tail)."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TopicState:
    """A topic as the log has it: partitions, replicas and the settings that matter."""

    partitions: int
    replication_factor: int = 1
    config: Mapping[str, str] = field(default_factory=dict)
    """On Kafka: cleanup.policy, retention.ms, min.insync.replicas."""


class EventLog(ABC):
    """A partitioned, durable, append-only log with consumer groups."""

    def append_mark(self) -> int:
        """A counter of this process's writes to the log (appends and commits), for
        `wait_for_append`; adapters that cannot tell return 0."""
        return 0

    def wait_for_append(self, mark: int, timeout_s: float) -> None:
        """Block until this process wrote to the log after `mark`, or `timeout_s` passed. Idle
        runners wait here instead of a fixed sleep, so a command appended in-process (the API,
        the simulator) is decided at once. Default: sleep (Kafka's poll blocks by itself)."""
        time.sleep(timeout_s)

    @abstractmethod
    def ensure_topics(self, topics: Sequence[object], *, strict: bool = False) -> None:
        """Create the registry's topics that do not exist yet (`streams.topics.Topic`). With
        `strict`, an existing topic whose partition count differs from the registry raises
        `TopicMismatch` naming it (keys would land elsewhere); otherwise it is left alone."""

    @abstractmethod
    def partitions(self, topic: str) -> int: ...

    def describe_topics(self, topics: Sequence[str]) -> dict[str, TopicState | None]:
        """Each topic's state, or None where it does not exist (`ccx topics list`)."""
        out: dict[str, TopicState | None] = {}
        for name in topics:
            try:
                out[name] = TopicState(self.partitions(name))
            except KeyError:
                out[name] = None
        return out

    @abstractmethod
    def append(self, records: Sequence[OutRecord]) -> list[Record]:
        """Append records durably, in order; returns them with partition and offset."""

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        """Up to `limit` records of one partition from `offset` on."""

    @abstractmethod
    def end_offset(self, topic: str, partition: int) -> int:
        """The end of the partition as a read_committed reader sees it (the next offset to read).

        Offsets are positions, not counts: on Kafka, transaction markers take offsets too."""

    def end_offsets(self, topic: str) -> list[int]:
        """`end_offset` of every partition of the topic (one request on Kafka)."""
        return [self.end_offset(topic, p) for p in range(self.partitions(topic))]

    @abstractmethod
    def committed(self, group: str) -> dict[TopicPartition, int]:
        """The group's committed positions."""

    @abstractmethod
    def group_in_use(self, group: str) -> bool:
        """Whether a live consumer (another process, or this log) consumes as `group` now,
        so a tool can tell "an ACD is running" from "nobody decides these commands"."""

    @abstractmethod
    def consumer(self, group: str, topics: Sequence[str]) -> Consumer: ...

    @abstractmethod
    def commit(
        self,
        group: str,
        outputs: Sequence[OutRecord],
        positions: Position,
        snapshot: Snapshot | None = None,
    ) -> None:
        """Append `outputs`, set the group's positions and store `snapshot`, all or nothing."""

    @abstractmethod
    def load_snapshot(self, group: str) -> Snapshot | None: ...

    @abstractmethod
    def close(self) -> None: ...
