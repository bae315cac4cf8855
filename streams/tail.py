"""Follow topics without a consumer group: read every partition from where we last were.

Used by edges and read-side helpers that watch the log (the simulator observing the ACD's
decisions, audit tools). It never commits anything and takes no group lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.envelope import Message
from streams.ports import EventLog, Record
from streams.serde import DecodeError, Serde

__all__ = ["Tail", "read_all"]


class Tail:
    def __init__(self, log: EventLog, serde: Serde, topics: Sequence[str], *, from_end: bool = False) -> None:
        self._log = log
        self._serde = serde
        self._topics = tuple(topics)
        self._next: dict[tuple[str, int], int] = {}
        for topic in topics:
            for p, end in enumerate(log.end_offsets(topic)):
                self._next[(topic, p)] = end if from_end else 0
        self.undecodable = 0

    def poll(self, limit: int = 10_000) -> list[tuple[Record, Message[Any]]]:
        """New records of every partition (topic order, then partition, then offset)."""
        out: list[tuple[Record, Message[Any]]] = []
        ends = {(t, p): end for t in self._topics for p, end in enumerate(self._log.end_offsets(t))}
        for (topic, p), offset in self._next.items():
            end = ends[(topic, p)]
            if end <= offset:
                continue
            records = self._log.read(topic, p, offset, limit)
            for record in records:
                try:
                    out.append((record, self._serde.decode(record.value)))
                except DecodeError:
                    self.undecodable += 1
            after = records[-1].offset + 1 if records else offset
            # Short of the limit, `read` returned everything up to at least `end`: skip what
            # lies there without records (Kafka's transaction markers) instead of re-reading it.
            self._next[(topic, p)] = max(after, end) if len(records) < limit else after
        return out


def read_all(log: EventLog, serde: Serde, topics: Sequence[str]) -> list[tuple[Record, Message[Any]]]:
    """Every decodable record of `topics` now (per partition in offset order), for tools."""
    tail = Tail(log, serde, topics)
    out: list[tuple[Record, Message[Any]]] = []
    while batch := tail.poll():
        out.extend(batch)
    return out
