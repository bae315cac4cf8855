"""The queue-interval report: METRICS.md counts and rates per tenant, queue and interval.

Each queue leg (`contact_legs`: a contact's stint in a queue) counts in the interval in
which the contact entered that queue, added into a `processors.metrics.Tally` (the
wallboard's own sums) and classified with the queue's thresholds by `Tally.counts`; the
rates come from `processors.metrics.summarize`. An overflowed contact is offered in each
queue it waited in (METRICS.md): `overflowed` in the first, its outcome in the last.
Reading goes through `analytics.reports.tallies`: the 15-minute tallies of the
materialized view when intervals are whole quarter hours and the period is aligned, the
legs otherwise. Thresholds are each queue's latest definition (`queues`) unless the
caller overrides them, so changing a definition recomputes history. A leg is stored once
it is over (an answered one once its wrap-up finished), so `waiting` is always 0 here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from analytics.reports.base import ALL_QUEUES, RESOLVED, Overrides
from analytics.reports.counts import COUNT_FIELDS, RATE_FIELDS
from analytics.reports.tallies import TALLY_INTERVAL_S, QueueThresholds, queue_tallies
from analytics.warehouse import Warehouse
from processors.metrics import Thresholds, summarize

__all__ = ["ALL_QUEUES", "COLUMNS", "RESOLVED", "queue_intervals"]

COLUMNS = ("tenant", "queue_id", "interval_start", *COUNT_FIELDS, *RATE_FIELDS)

_KEY = "intDiv(toUnixTimestamp(at), {step_s:Int64}) * {step_s:Int64}"


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
    thresholds_of = QueueThresholds(warehouse, overrides)
    groups = queue_tallies(
        warehouse,
        key=_KEY,
        params={"step_s": interval_s},
        tenant=tenant,
        start=start,
        end=end,
        whole_intervals=interval_s % TALLY_INTERVAL_S == 0,
    )
    rows = []
    for g in groups:
        th = thresholds_of(g.tenant, g.queue_id)
        rows.append(
            {
                "tenant": g.tenant,
                "queue_id": g.queue_id,
                "interval_start": datetime.fromtimestamp(int(g.key), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                **summarize(g.tally.counts(th), th),
            }
        )
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({c: "float64" for c in RATE_FIELDS}).astype({c: "int64" for c in COUNT_FIELDS})
