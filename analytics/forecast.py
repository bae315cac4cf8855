"""The contact forecast from history: calls and AHT per weekday x time-of-day interval.

Counting is the queue-interval report's (`analytics.reports.queue_intervals`, the one
implementation of METRICS.md over the warehouse's queue legs): calls are the contacts
*offered* to a queue (short abandons and contacts that never queued excluded), in the
interval in which they entered the queue. For one queue (`queue_id`) that includes
contacts that later overflowed elsewhere (they were offered, and waited, there); summed
over queues, a contact offered to two queues through an overflow counts once, in the
queue where it ended (offered less overflowed per queue). For each weekday x interval start, both in the
local time of `tz` (an IANA zone such as "Europe/Berlin"; UTC by default):

- `weeks`: how many times that local interval occurs between the first and the last
  interval with contacts, so intervals without a single call count as 0, not as missing;
- `calls`: offered contacts / `weeks` (the average per occurrence);
- `aht_s`: (talk + hold + wrap-up) / answered over all those occurrences (METRICS.md AHT).
  An interval with calls but no answered call takes the AHT of the whole history; an
  interval without calls has none (NaN).

The report's intervals are UTC, aligned to the epoch; each is labelled with the local
weekday and wall-clock time at which it starts. Daylight saving time follows from that:
on the day clocks go back, the local hour that repeats (02:00-03:00 in Europe/Berlin)
occurs twice and both occurrences count in `weeks`, so `calls` stays an average per
occurrence; on the day clocks go forward, the skipped hour does not occur that day and
does not count. Labelling by the start is exact only when every UTC interval is one
local interval, that is when the zone's UTC offset is a whole number of intervals
throughout the history: a zone whose offset is not (Asia/Kolkata, +05:30, with 3600 s
intervals) raises `StaffingInputError` (a ValueError) rather than re-bucketing, because
the report's counts cannot be split across two local intervals. Use an interval that
divides the offset (1800 s for Kolkata).
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pandas as pd

from analytics.reports.queue_intervals import queue_intervals
from analytics.staffing import StaffingInputError
from analytics.warehouse import Warehouse

__all__ = ["COLUMNS", "WEEKDAYS", "forecast", "time_zone"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLUMNS = ("weekday", "interval_start", "weeks", "offered", "answered", "calls", "aht_s")
DAY_S = 86_400


def time_zone(tz: str) -> ZoneInfo:
    """The IANA zone named `tz` ("Europe/Berlin"); `StaffingInputError` (argument "tz",
    a ValueError) naming it if there is none."""
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError, OSError):  # not found, not a valid key, a directory
        raise StaffingInputError(
            "tz", f"must be an IANA time zone name such as Europe/Berlin, not {tz!r}"
        ) from None


def forecast(
    warehouse: Warehouse,
    *,
    interval_s: int = 1800,
    tenant: str | None = None,
    queue_id: str | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """One row per weekday x interval start ("Mon", "08:30") in the history, Monday first,
    in the local time of the IANA zone `tz` (see the module docstring for DST).

    `interval_s` must divide a day (15, 30 or 60 minutes, for instance); `tenant` and
    `queue_id` restrict the history to one tenant or one queue id. An unknown `tz`, or a
    zone whose UTC offset somewhere in the history is not a multiple of `interval_s`,
    raises `StaffingInputError` (argument "tz", a ValueError).
    """
    if interval_s <= 0 or DAY_S % interval_s:
        raise ValueError(f"interval_s must divide a day (e.g. 900, 1800, 3600), not {interval_s}")
    zone = time_zone(tz)
    report = queue_intervals(warehouse, tenant=tenant, interval_s=interval_s)
    if queue_id is not None:
        report = report[report.queue_id == queue_id]
    else:  # an overflowed contact is offered again in its next queue: count it there only
        report = report.assign(offered=report.offered - report.overflowed)
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
    local = _local_starts(span, zone, interval_s)
    per_interval["day"] = local.day_of_week
    per_interval["interval_start"] = local.strftime("%H:%M")
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


def _local_starts(span: pd.DatetimeIndex, zone: ZoneInfo, interval_s: int) -> pd.DatetimeIndex:
    """The UTC interval starts `span` in `zone`, after checking that each falls on a local
    interval boundary (the zone's offset then is a whole number of intervals)."""
    local = span.tz_convert(zone)
    offsets_s = (local.tz_localize(None) - span.tz_localize(None)).total_seconds().astype("int64")
    misaligned = offsets_s % interval_s != 0
    if misaligned.any():
        at = int(misaligned.argmax())
        offset = int(offsets_s[at])
        sign, minutes = "+" if offset >= 0 else "-", abs(offset) // 60
        fits = math.gcd(interval_s, abs(offset))
        hint = f"; use an interval that divides the offset, e.g. {fits} s" if fits % 60 == 0 else ""
        raise StaffingInputError(
            "tz",
            f"{zone.key} is UTC{sign}{minutes // 60:02d}:{minutes % 60:02d} at "
            f"{span[at].strftime('%Y-%m-%dT%H:%MZ')}, an offset that is not a multiple of the "
            f"{interval_s} s interval: interval boundaries would not align with local time{hint}",
        )
    return local
