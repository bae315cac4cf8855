"""The contact forecast from history: calls and AHT per weekday x time-of-day interval.

Counting is the queue-interval report's (`analytics.reports.queue_intervals`, the one
implementation of METRICS.md over the warehouse's `contacts` table): calls are the
contacts *offered* to a queue (short abandons and contacts that never queued excluded),
in the interval in which they entered the queue, summed over queues (a CDR names one
queue, so no contact is counted twice). For each weekday x interval start (UTC):

- `weeks`: how many times that interval occurs between the first and the last interval
  with contacts, so intervals without a single call count as 0, not as missing;
- `calls`: offered contacts / `weeks` (the average per occurrence);
- `aht_s`: (talk + hold + wrap-up) / answered over all those occurrences (METRICS.md AHT).
  An interval with calls but no answered call takes the AHT of the whole history; an
  interval without calls has none (NaN).
"""

from __future__ import annotations

import pandas as pd

from analytics.reports.queue_intervals import queue_intervals
from analytics.warehouse import Warehouse

__all__ = ["COLUMNS", "WEEKDAYS", "forecast"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLUMNS = ("weekday", "interval_start", "weeks", "offered", "answered", "calls", "aht_s")
DAY_S = 86_400


def forecast(
    warehouse: Warehouse, *, interval_s: int = 1800, tenant: str | None = None, queue_id: str | None = None
) -> pd.DataFrame:
    """One row per weekday x interval start ("Mon", "08:30") in the history, Monday first.

    `interval_s` must divide a day (15, 30 or 60 minutes, for instance); `tenant` and
    `queue_id` restrict the history to one tenant or one queue id.
    """
    if interval_s <= 0 or DAY_S % interval_s:
        raise ValueError(f"interval_s must divide a day (e.g. 900, 1800, 3600), not {interval_s}")
    report = queue_intervals(warehouse, tenant=tenant, interval_s=interval_s)
    if queue_id is not None:
        report = report[report.queue_id == queue_id]
    if report.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("calls", "aht_s") else "object")
                             for c in COLUMNS})  # fmt: skip
    report = report.assign(
        start=pd.to_datetime(report.interval_start, utc=True),
        handle_s=(report.talk_ms + report.hold_ms + report.wrap_ms) / 1000,
    )
    per_interval = report.groupby("start")[["offered", "handled", "handle_s"]].sum()
    per_interval = per_interval.rename(columns={"handled": "answered"})
    span = pd.date_range(per_interval.index.min(), per_interval.index.max(), freq=f"{interval_s}s")
    per_interval = per_interval.reindex(span, fill_value=0)
    per_interval["day"] = span.day_of_week
    per_interval["interval_start"] = span.strftime("%H:%M")
    per_interval["weeks"] = 1
    slots = per_interval.groupby(["day", "interval_start"], as_index=False).sum()
    slots["weekday"] = [WEEKDAYS[d] for d in slots.day]
    slots["calls"] = slots.offered / slots.weeks
    answered = slots.answered.where(slots.answered > 0)
    slots["aht_s"] = slots.handle_s / answered
    overall = slots.handle_s.sum() / slots.answered.sum() if slots.answered.sum() else float("nan")
    slots.loc[slots.aht_s.isna() & (slots.calls > 0), "aht_s"] = overall
    out = slots.sort_values(["day", "interval_start"])[list(COLUMNS)].reset_index(drop=True)
    return out.astype({"weeks": "int64", "offered": "int64", "answered": "int64"})
