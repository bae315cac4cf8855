"""The queue-interval report: METRICS.md counts and rates per tenant, queue and interval.

Counting happens in SQL over `contacts FINAL` (one CDR per finished contact), with each
queue's thresholds taken from `queues FINAL` (its latest definition) unless the caller
overrides them, so changing a definition recomputes history. The rates come from
`processors.metrics.summarize`, the one implementation the wallboard also uses.

The classification (`base.source`, `counts.COUNTS`) mirrors `metrics.is_short_abandon`
(wait <= short abandon threshold) and `metrics.within_threshold` (wait <= SL threshold).
A contact belongs to the interval in which it entered the queue (`queued_at`); contacts
that never queued are not counted. Contacts still waiting have no CDR yet, so `waiting` is
always 0 here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from analytics.reports.base import ALL_QUEUES, RESOLVED, Overrides, period_params, source
from analytics.reports.counts import COUNT_FIELDS, COUNTS, RATE_FIELDS, summarized
from analytics.warehouse import Warehouse
from processors.metrics import Thresholds

__all__ = ["ALL_QUEUES", "COLUMNS", "RESOLVED", "queue_intervals"]

COLUMNS = ("tenant", "queue_id", "interval_start", *COUNT_FIELDS, *RATE_FIELDS)

_SQL = (
    """
SELECT
    tenant,
    queue_id,
    intDiv(toUnixTimestamp64Milli(queued_at), {step_ms:Int64}) * {step_ms:Int64} AS interval_ms,"""
    + COUNTS
    + "FROM ("
    + source("queued_at")
    + """)
GROUP BY tenant, queue_id, interval_ms
ORDER BY tenant, queue_id, interval_ms
"""
)


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
    overrides = Overrides(thresholds or {}, sl_threshold_s, short_abandon_s, sl_variant, interval_s)
    params = {"step_ms": interval_s * 1000, **overrides.params(), **period_params(tenant, start, end)}
    variant = overrides.variant()
    rows = []
    for row in warehouse.query_df(_SQL, params).to_dict("records"):
        start_at = datetime.fromtimestamp(int(row["interval_ms"]) / 1000, UTC)
        rows.append(
            {
                "tenant": str(row["tenant"]),
                "queue_id": str(row["queue_id"]),
                "interval_start": start_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                **summarized(row, variant(str(row["queue_id"]))),
            }
        )
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({c: "float64" for c in RATE_FIELDS}).astype({c: "int64" for c in COUNT_FIELDS})
