"""Hourly and weekday trends: the queue metrics by hour of the day or day of the week.

Definition: the contacts that entered a queue in the period, grouped per tenant and queue
by the local hour (0-23) or ISO weekday (1 = Monday … 7 = Sunday) of `queued_at` in
`timezone` (IANA name, default UTC), and counted exactly as the queue-interval report
counts one interval (`counts.COUNTS`, the queue's thresholds and SL variant): offered,
answered, abandoned and short abandoned, then service level, ASA, AHT, abandon and answer
rate from `processors.metrics`. Totals over the whole period, not averages per day; only
hours or weekdays with contacts have a row.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from analytics.reports.base import Overrides, period_params, source
from analytics.reports.counts import COUNTS, summarized
from analytics.warehouse import Warehouse

__all__ = ["BY", "WEEKDAYS", "trends"]

BY = ("hour", "weekday")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_KEYS = {
    "hour": "toHour(toTimeZone(assumeNotNull(queued_at), {timezone:String}))",
    "weekday": "toDayOfWeek(toTimeZone(assumeNotNull(queued_at), {timezone:String}))",
}
_METRICS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "service_level",
    "asa_s",
    "aht_s",
    "abandon_rate",
    "answer_rate",
)


def _sql(by: str) -> str:
    return (
        "SELECT tenant, queue_id, "
        + _KEYS[by]
        + " AS bucket,"
        + COUNTS
        + "FROM ("
        + source("queued_at")
        + ") GROUP BY tenant, queue_id, bucket ORDER BY tenant, queue_id, bucket"
    )


def check_timezone(timezone: str) -> str:
    """`timezone` if it is an IANA zone name, else ValueError naming it."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Berlin") from None
    return timezone


def trends(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    by: str = "hour",
    timezone: str = "UTC",
    sl_threshold_s: int | None = None,
    short_abandon_s: int | None = None,
    sl_variant: str | None = None,
) -> pd.DataFrame:
    """One row per (tenant, queue, hour) or (tenant, queue, weekday, weekday_name)."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    overrides = Overrides(
        sl_threshold_s=sl_threshold_s, short_abandon_s=short_abandon_s, sl_variant=sl_variant
    )
    params = {
        "timezone": check_timezone(timezone),
        **overrides.params(),
        **period_params(tenant, start, end),
    }
    variant = overrides.variant()
    keys = ["hour"] if by == "hour" else ["weekday", "weekday_name"]
    rows = []
    for row in warehouse.query_df(_sql(by), params).to_dict("records"):
        bucket = int(row["bucket"])
        key = {"hour": bucket} if by == "hour" else {"weekday": bucket, "weekday_name": WEEKDAYS[bucket - 1]}
        metrics = summarized(row, variant(str(row["queue_id"])))
        rows.append(
            {"tenant": str(row["tenant"]), "queue_id": str(row["queue_id"]), **key}
            | {m: metrics[m] for m in _METRICS}
        )
    df = pd.DataFrame(rows, columns=["tenant", "queue_id", *keys, *_METRICS])
    counts = ["offered", "answered", "abandoned", "short_abandoned"]
    return df.astype({k: "int64" for k in [*keys[:1], *counts]}).astype(
        {m: "float64" for m in _METRICS if m not in counts}
    )
