"""Schedules: whether a weekly calendar with holidays is open at a moment.

Queues use a schedule for business hours, memberships for an agent's shifts. A schedule
is in one IANA time zone (so 08:00 stays 08:00 across daylight-saving changes); its
windows are minutes after local midnight per weekday; holidays are local ISO dates. The
time zone rules come from the standard library's `zoneinfo` (the system's tz database or
the `tzdata` package): fixed data, not a clock, so a decision is the same on replay as long
as the tz database in use agrees on that date (ADR 0009).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas.routing import Window

__all__ = ["is_open", "local_time", "schedule_problem"]


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(now_ms: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(_zone(timezone))


def is_open(timezone: str, windows: tuple[Window, ...], holidays: tuple[str, ...], now_ms: int) -> bool:
    """Open at `now_ms`: not a local holiday and inside one of the day's windows."""
    t = local_time(now_ms, timezone)
    if holidays and t.date().isoformat() in holidays:
        return False
    minute = t.hour * 60 + t.minute
    day = t.weekday()
    return any(w.day == day and w.start_min <= minute < w.end_min for w in windows)


def schedule_problem(timezone: str, windows: tuple[Window, ...], holidays: tuple[str, ...]) -> str:
    """What is wrong with a schedule definition, or "" when nothing is."""
    try:
        _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key naming a folder of the tz database ("Europe") or too long a name.
        return f"timezone: unknown time zone {timezone!r} (use an IANA name such as 'Europe/Berlin')"
    for i, w in enumerate(windows):
        if not 0 <= w.day <= 6:
            return f"windows[{i}].day must be 0 (Monday) to 6 (Sunday), not {w.day}"
        if not 0 <= w.start_min < w.end_min <= 1440:
            return f"windows[{i}] must have 0 <= start_min < end_min <= 1440, not {w.start_min}..{w.end_min}"
    for i, h in enumerate(holidays):
        try:
            canonical = date.fromisoformat(h).isoformat() == h
        except ValueError:
            canonical = False
        if not canonical:  # "20241225" parses but would never match `is_open`'s YYYY-MM-DD
            return f"holidays[{i}]: {h!r} is not an ISO date (YYYY-MM-DD)"
    return ""
