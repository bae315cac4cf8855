"""`QueueCounts` in SQL, and rates from them with the wallboard's own functions.

`COUNTS` is a select list over `base.source()` that aggregates one group of contacts
(a queue interval, an hour of the day, …) into the fields of `processors.metrics.QueueCounts`
(plus the group's `sl_threshold_s` and `short_abandon_s`); `summarized` turns one such row
into `metrics.summarize`'s counts and rates, so every report computes SL, ASA, AHT and the
rest with the one implementation METRICS.md asks for. Contacts still waiting have no CDR
yet, so `waiting` is always 0 here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from processors.metrics import QueueCounts, Thresholds, summarize

__all__ = ["COUNTS", "COUNT_FIELDS", "RATE_FIELDS", "summarized"]

COUNT_FIELDS = tuple(f.name for f in fields(QueueCounts))
RATE_FIELDS = tuple(k for k in summarize(QueueCounts(), Thresholds()) if k not in COUNT_FIELDS)

COUNTS = """
    any(sl_s) AS sl_threshold_s,
    any(short_s) AS short_abandon_s,
    countIf(is_offered) AS offered,
    countIf(is_answer) AS answered,
    countIf(is_abandon) AS abandoned,
    countIf(is_short) AS short_abandoned,
    countIf(outcome = 'overflowed') AS overflowed,
    countIf(outcome = 'timed_out') AS timed_out,
    countIf(outcome = 'callback') AS callback,
    0 AS waiting,
    countIf(is_answer AND wait_ms <= sl_ms) AS answered_in_sl,
    countIf(is_abandon AND wait_ms <= sl_ms) AS abandoned_in_sl,
    sumIf(wait_ms, is_answer) AS answer_wait_ms,
    sumIf(wait_ms, is_abandon) AS abandon_wait_ms,
    max(wait_ms) AS longest_wait_ms,
    countIf(is_answer) AS handled,
    sumIf(talk_ms, is_answer) AS talk_ms,
    sumIf(hold_ms, is_answer) AS hold_ms,
    countIf(is_answer AND holds > 0) AS held,
    sumIf(wrap_up_ms, is_answer) AS wrap_ms
"""


def summarized(row: Mapping[Any, Any], variant: str) -> dict[str, float | int | None]:
    """Every count and rate of one `COUNTS` row, with the queue's SL `variant`."""
    counts = QueueCounts(**{name: int(row[name]) for name in COUNT_FIELDS})
    thresholds = Thresholds(int(row["sl_threshold_s"]), int(row["short_abandon_s"]), variant)
    return summarize(counts, thresholds)
