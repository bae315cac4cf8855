"""Audit entry points: replay-check every decider against the log, list dead letters."""

from __future__ import annotations

from typing import Any

from ccx.bootstrap import build_processors, open_log
from ccx.settings import Settings
from streams import topics
from streams.replay import replay_check

__all__ = ["dead_letters", "replay_check_all"]


def replay_check_all(settings: Settings) -> tuple[int, int, list[str]]:
    """(decisions re-made, mismatches, readable details) over every processor that emits."""
    log, serde = open_log(settings)
    try:
        decisions = mismatches = 0
        details: list[str] = []
        for name, processor in build_processors().items():
            result = replay_check(log, serde, processor)
            decisions += result.decisions
            mismatches += result.mismatches
            details += [f"{name}: {d}" for d in result.details]
        return decisions, mismatches, details
    finally:
        log.close()


def dead_letters(settings: Settings, limit: int) -> list[dict[str, Any]]:
    log, serde = open_log(settings)
    try:
        rows = []
        for record in log.read(topics.DEAD_LETTER.name, 0, 0, limit):
            dl = serde.decode(record.value).body
            rows.append(
                {
                    "offset": record.offset,
                    "source": f"{dl.source_topic}[{dl.source_partition}]@{dl.source_offset}",
                    "processor": dl.processor,
                    "error": dl.error,
                    "reason": dl.reason,
                }
            )
        return rows
    finally:
        log.close()
