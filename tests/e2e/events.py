"""Read a ccx log (either backend) into pandas or raw records for independent checks (tests only)."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from ccx.bootstrap import open_log
from ccx.settings import Settings
from streams.serde import Serde

__all__ = ["log_frame", "log_records"]


def log_records(
    settings: Settings, topic_names: tuple[str, ...]
) -> dict[tuple[str, int], list[tuple[bytes, bytes]]]:
    """Every record's (key, value) per (topic, partition), in log order. Offsets are left out:
    on Kafka, transaction markers take offsets, so equal logs have equal records, not offsets.
    Values are re-encoded with personal fields opened: each run seals with its own random
    keys (docs/adr/0020)."""
    log, serde = open_log(settings)
    plain = Serde(log)  # type: ignore[arg-type]
    try:
        out: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
        for topic in topic_names:
            for p in range(log.partitions(topic)):
                rows = out[(topic, p)] = []
                offset = 0
                while batch := log.read(topic, p, offset, 10_000):
                    rows += [(r.key, plain.encode(serde.decode(r.value))) for r in batch]
                    offset = batch[-1].offset + 1
        return out
    finally:
        log.close()


def log_frame(settings: Settings, topic_names: tuple[str, ...]) -> pd.DataFrame:
    """Every message of the topics, one row each: topic, partition, position (its index in the
    partition), type, envelope and body fields."""
    log, serde = open_log(settings)
    try:
        rows = []
        for topic in topic_names:
            for p in range(log.partitions(topic)):
                offset, position = 0, 0
                while batch := log.read(topic, p, offset, 10_000):
                    for r in batch:
                        m = serde.decode(r.value)
                        rows.append(
                            {
                                "topic": topic,
                                "partition": p,
                                "offset": position,
                                "type": m.type,
                                **asdict(m.envelope),
                                **asdict(m.body),
                            }
                        )
                        position += 1
                    offset = batch[-1].offset + 1
        return pd.DataFrame(rows)
    finally:
        log.close()
