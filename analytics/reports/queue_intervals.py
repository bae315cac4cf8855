"""The queue-interval report: METRICS.md counts and rates per tenant, queue and interval.

Counting happens in SQL over `contacts FINAL` (one CDR per finished contact), with each
queue's thresholds taken from `queues FINAL` (its latest definition) unless the caller
overrides them, so changing a definition recomputes history. The rates come from
`processors.metrics.summarize`, the one implementation the wallboard also uses.

The classification in `_SQL` mirrors `metrics.is_short_abandon` (wait <= short abandon
threshold) and `metrics.within_threshold` (wait <= SL threshold). A contact belongs to the
interval in which it entered the queue (`queued_at`); contacts that never queued are not
counted. Contacts still waiting have no CDR yet, so `waiting` is always 0 here.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.warehouse import Warehouse
from processors.metrics import QueueCounts, Thresholds, summarize

__all__ = ["ALL_QUEUES", "COLUMNS", "RESOLVED", "queue_intervals"]

ALL_QUEUES = "*"
"""A `thresholds` key that overrides every queue not named on its own."""

RESOLVED = ("answered", "abandoned", "overflowed", "timed_out", "callback")
"""CDR outcomes that count as offered (a short abandon is an abandon under the threshold)."""

_COUNT_FIELDS = tuple(f.name for f in fields(QueueCounts))
COLUMNS = ("tenant", "queue_id", "interval_start", *summarize(QueueCounts(), Thresholds()).keys())
_RATE_COLUMNS = tuple(c for c in COLUMNS[3:] if c not in _COUNT_FIELDS)

_SQL = """
WITH
    outcome = 'abandoned' AND wait_ms <= short_ms AS short,
    outcome = 'abandoned' AND NOT short AS abandon,
    outcome = 'answered' AS answer
SELECT
    tenant,
    queue_id,
    intDiv(toUnixTimestamp64Milli(queued_at), {step_ms:Int64}) * {step_ms:Int64} AS interval_ms,
    any(sl_s) AS sl_threshold_s,
    any(short_s) AS short_abandon_s,
    countIf(outcome IN {resolved:Array(String)} AND NOT short) AS offered,
    countIf(answer) AS answered,
    countIf(abandon) AS abandoned,
    countIf(short) AS short_abandoned,
    countIf(outcome = 'overflowed') AS overflowed,
    countIf(outcome = 'timed_out') AS timed_out,
    countIf(outcome = 'callback') AS callback,
    0 AS waiting,
    countIf(answer AND wait_ms <= sl_ms) AS answered_in_sl,
    countIf(abandon AND wait_ms <= sl_ms) AS abandoned_in_sl,
    sumIf(wait_ms, answer) AS answer_wait_ms,
    sumIf(wait_ms, abandon) AS abandon_wait_ms,
    max(wait_ms) AS longest_wait_ms,
    countIf(answer) AS handled,
    sumIf(talk_ms, answer) AS talk_ms,
    sumIf(hold_ms, answer) AS hold_ms,
    countIf(answer AND holds > 0) AS held,
    sumIf(wrap_up_ms, answer) AS wrap_ms
FROM
(
    SELECT
        c.tenant AS tenant, c.queue_id AS queue_id, c.queued_at AS queued_at,
        c.outcome AS outcome, c.wait_ms AS wait_ms, c.talk_ms AS talk_ms,
        c.hold_ms AS hold_ms, c.holds AS holds, c.wrap_up_ms AS wrap_up_ms,
        toInt64(transform(c.queue_id, {o_queues:Array(String)}, {o_sl:Array(Int64)},
            if({all_sl:Int64} >= 0, {all_sl:Int64},
                if(q.defined = 1, toInt64(q.sl_threshold_s), {d_sl:Int64})))) AS sl_s,
        toInt64(transform(c.queue_id, {o_queues:Array(String)}, {o_short:Array(Int64)},
            if({all_short:Int64} >= 0, {all_short:Int64},
                if(q.defined = 1, toInt64(q.short_abandon_s), {d_short:Int64})))) AS short_s,
        sl_s * 1000 AS sl_ms,
        short_s * 1000 AS short_ms
    FROM contacts AS c FINAL
    LEFT JOIN
    (
        SELECT tenant, queue_id, sl_threshold_s, short_abandon_s, toUInt8(1) AS defined
        FROM queues FINAL
    ) AS q ON c.tenant = q.tenant AND c.queue_id = q.queue_id
    WHERE c.queued_at IS NOT NULL
        AND ({tenant:String} = '' OR c.tenant = {tenant:String})
        AND toUnixTimestamp64Milli(c.queued_at) >= {start_ms:Int64}
        AND toUnixTimestamp64Milli(c.queued_at) < {end_ms:Int64}
)
GROUP BY tenant, queue_id, interval_ms
ORDER BY tenant, queue_id, interval_ms
"""


def _ms(value: datetime | int | None, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("start/end must be timezone-aware datetimes (or ms since the epoch)")
        return round(value.timestamp() * 1000)
    return int(value)


def queue_intervals(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    interval_s: int = 900,
    thresholds: dict[str, Thresholds] | None = None,
    sl_threshold_s: int | None = None,
    short_abandon_s: int | None = None,
    sl_variant: str | None = None,
) -> pd.DataFrame:
    """One row per (tenant, queue, interval start) with `summarize`'s counts and rates.

    `start` (inclusive) and `end` (exclusive) bound `queued_at`: aware datetimes or ms since
    the epoch. `thresholds` overrides the defined thresholds per queue id (in every tenant;
    the key `ALL_QUEUES` = "*" for every queue not named), including the SL variant, which
    queue definitions do not carry (default `abandons_against`). `sl_threshold_s`,
    `short_abandon_s` and `sl_variant`, when given, override that one definition for every
    queue and leave the others as defined (the CLI's `--sl-threshold` etc.).

    `interval_start` is ISO 8601 UTC ("2024-05-01T10:15:00Z"). Counts are int64, rates
    float64 with NaN for "no data" (a zero denominator).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    overrides = {q: t for q, t in (thresholds or {}).items() if q != ALL_QUEUES}
    every = (thresholds or {}).get(ALL_QUEUES)
    default = every or Thresholds(interval_s=interval_s)
    if sl_variant is not None:
        default = Thresholds(default.sl_threshold_s, default.short_abandon_s, sl_variant, interval_s)
    params: dict[str, Any] = {
        "step_ms": interval_s * 1000,
        "resolved": list(RESOLVED),
        "o_queues": list(overrides),
        "o_sl": [t.sl_threshold_s for t in overrides.values()],
        "o_short": [t.short_abandon_s for t in overrides.values()],
        "all_sl": sl_threshold_s if sl_threshold_s is not None else (every.sl_threshold_s if every else -1),
        "all_short": (
            short_abandon_s if short_abandon_s is not None else (every.short_abandon_s if every else -1)
        ),
        "d_sl": default.sl_threshold_s,
        "d_short": default.short_abandon_s,
        "tenant": tenant or "",
        "start_ms": _ms(start, -(2**62)),
        "end_ms": _ms(end, 2**62),
    }
    rows = []
    for row in warehouse.query_df(_SQL, params).to_dict("records"):
        counts = QueueCounts(**{name: int(row[name]) for name in _COUNT_FIELDS})
        variant = (
            overrides[row["queue_id"]].sl_variant if row["queue_id"] in overrides else default.sl_variant
        )
        t = Thresholds(int(row["sl_threshold_s"]), int(row["short_abandon_s"]), variant, interval_s)
        start_at = datetime.fromtimestamp(int(row["interval_ms"]) / 1000, UTC)
        rows.append(
            {
                "tenant": str(row["tenant"]),
                "queue_id": str(row["queue_id"]),
                "interval_start": start_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                **summarize(counts, t),
            }
        )
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({c: "float64" for c in _RATE_COLUMNS}).astype({c: "int64" for c in _COUNT_FIELDS})
