"""Read a data directory's log into pandas for independent checks (tests only)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from streams.embedded import EmbeddedLog
from streams.serde import Serde

__all__ = ["log_frame"]


def log_frame(data_dir: Path, topic_names: tuple[str, ...]) -> pd.DataFrame:
    """Every message of the topics, one row each: topic, partition, offset, type, envelope and body fields."""
    log = EmbeddedLog(data_dir / "log.sqlite")
    try:
        serde = Serde(log)
        rows = []
        for topic in topic_names:
            for p in range(log.partitions(topic)):
                offset = 0
                while batch := log.read(topic, p, offset, 10_000):
                    for r in batch:
                        m = serde.decode(r.value)
                        rows.append(
                            {
                                "topic": topic,
                                "partition": p,
                                "offset": r.offset,
                                "type": m.type,
                                **asdict(m.envelope),
                                **asdict(m.body),
                            }
                        )
                    offset = batch[-1].offset + 1
        return pd.DataFrame(rows)
    finally:
        log.close()
