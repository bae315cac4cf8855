"""Hourly and weekday trends: the queue metrics by hour of the day or day of the week.

Definition: the contacts that entered a queue in the period, grouped per tenant and queue
by the local hour (0-23) or ISO weekday (1 = Monday … 7 = Sunday) of the time they
entered it in `timezone` (IANA name, default UTC), and counted exactly as the
queue-interval report counts one interval (queue legs added into `metrics.Tally` by
`analytics.reports.tallies`, classified with the queue's thresholds and SL variant): offered,
answered, abandoned and short abandoned, then service level, ASA, AHT, abandon and answer
rate from `processors.metrics`. Totals over the whole period, not averages per day; only
hours or weekdays with contacts have a row. Every zone's offset is a whole number of
quarter hours, so the 15-minute tallies serve any zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from analytics.reports.base import Overrides
from analytics.reports.tallies import QueueThresholds, queue_tallies
from analytics.warehouse import Warehouse
from processors.metrics import summarize

__all__ = ["BY", "WEEKDAYS", "trends"]

BY = ("hour", "weekday")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_KEYS = {
    "hour": "toHour(toTimeZone(at, {timezone:String}))",
    "weekday": "toDayOfWeek(toTimeZone(at, {timezone:String}))",
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
    params = {"timezone": check_timezone(timezone)}
    thresholds_of = QueueThresholds(warehouse, overrides)
    groups = queue_tallies(warehouse, key=_KEYS[by], params=params, tenant=tenant, start=start, end=end)
    keys = ["hour"] if by == "hour" else ["weekday", "weekday_name"]
    rows = []
    for g in groups:
        bucket = int(g.key)
        key = {"hour": bucket} if by == "hour" else {"weekday": bucket, "weekday_name": WEEKDAYS[bucket - 1]}
        th = thresholds_of(g.tenant, g.queue_id)
        metrics = summarize(g.tally.counts(th), th)
        rows.append({"tenant": g.tenant, "queue_id": g.queue_id, **key} | {m: metrics[m] for m in _METRICS})
    df = pd.DataFrame(rows, columns=["tenant", "queue_id", *keys, *_METRICS])
    counts = ["offered", "answered", "abandoned", "short_abandoned"]
    return df.astype({k: "int64" for k in [*keys[:1], *counts]}).astype(
        {m: "float64" for m in _METRICS if m not in counts}
    )
