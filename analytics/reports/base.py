"""What the contact reports share: the period, each queue's thresholds, and one SQL source.

`source(time_column)` is a subquery over `contacts FINAL` (one CDR per finished contact)
that every contact report selects from, so they all classify a contact the same way
(METRICS.md), as `processors.metrics` does for the wallboard:

- thresholds: the queue's latest definition (`queues FINAL`), else the defaults (20 s SL,
  5 s short abandon), unless the caller overrides them per queue or for every queue;
- `is_short`: abandoned with wait <= the short-abandon threshold (`metrics.is_short_abandon`);
- `is_abandon`: abandoned and not short; `is_answer`: answered;
- `is_offered`: outcome in `RESOLVED` and not a short abandon (closed, blocked, full and
  ended-in-IVR contacts are not offered to a queue);
- `known_ani`: the caller's number has a digit 1-9 (empty, "anonymous", "withheld" … do not).

The period `[start, end)` bounds `time_column`: `queued_at` for the queue reports (a contact
belongs to the interval in which it entered the queue; contacts that never queued are not
counted), `arrived_at` for the contact reports (geography, repeat contacts, IVR).
Query parameters: `tenant`, `start_ms`, `end_ms` (`period_params`) and the threshold
arrays (`Overrides.params`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from processors.metrics import Thresholds

__all__ = [
    "ALL_QUEUES",
    "RESOLVED",
    "Overrides",
    "period_params",
    "source",
    "to_ms",
    "typed",
]

ALL_QUEUES = "*"
"""A `thresholds` key that overrides every queue not named on its own."""

RESOLVED = ("answered", "abandoned", "overflowed", "timed_out", "callback")
"""CDR outcomes that count as offered (a short abandon is an abandon under the threshold)."""

NEVER = 2**62
"""Beyond any millisecond timestamp: the open ends of a period."""

_SOURCE = """
SELECT
    c.tenant AS tenant, c.contact_id AS contact_id, c.queue_id AS queue_id, c.ani AS ani,
    toUnixTimestamp64Milli(assumeNotNull(c.arrived_at)) AS arrived_ms,
    c.queued_at AS queued_at, c.outcome AS outcome, c.disposition AS disposition,
    c.wait_ms AS wait_ms, c.talk_ms AS talk_ms, c.hold_ms AS hold_ms, c.holds AS holds,
    c.wrap_up_ms AS wrap_up_ms,
    toInt64(transform(c.queue_id, {o_queues:Array(String)}, {o_sl:Array(Int64)},
        if({all_sl:Int64} >= 0, {all_sl:Int64},
            if(q.defined = 1, toInt64(q.sl_threshold_s), {d_sl:Int64})))) AS sl_s,
    toInt64(transform(c.queue_id, {o_queues:Array(String)}, {o_short:Array(Int64)},
        if({all_short:Int64} >= 0, {all_short:Int64},
            if(q.defined = 1, toInt64(q.short_abandon_s), {d_short:Int64})))) AS short_s,
    sl_s * 1000 AS sl_ms,
    short_s * 1000 AS short_ms,
    c.outcome = 'abandoned' AND c.wait_ms <= short_ms AS is_short,
    c.outcome = 'abandoned' AND NOT is_short AS is_abandon,
    c.outcome = 'answered' AS is_answer,
    c.outcome IN {resolved} AND NOT is_short AS is_offered,
    match(c.ani, '[1-9]') AS known_ani
FROM contacts AS c FINAL
LEFT JOIN
(
    SELECT tenant, queue_id, sl_threshold_s, short_abandon_s, toUInt8(1) AS defined
    FROM queues FINAL
) AS q ON c.tenant = q.tenant AND c.queue_id = q.queue_id
WHERE c.{time} IS NOT NULL
    AND ({tenant:String} = '' OR c.tenant = {tenant:String})
    AND toUnixTimestamp64Milli(c.{time}) >= {start_ms:Int64}
    AND toUnixTimestamp64Milli(c.{time}) < {end_ms:Int64}
"""


def source(time_column: str = "queued_at") -> str:
    """The classified-contacts subquery, its period bounding `time_column`."""
    if time_column not in ("queued_at", "arrived_at"):
        raise ValueError(f"time_column must be queued_at or arrived_at, not {time_column!r}")
    resolved = "(" + ", ".join(f"'{o}'" for o in RESOLVED) + ")"
    return _SOURCE.replace("{time}", time_column).replace("{resolved}", resolved)


def to_ms(value: datetime | int | None, default: int) -> int:
    """An aware datetime or ms since the epoch as ms; `default` for None."""
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("start/end must be timezone-aware datetimes (or ms since the epoch)")
        return round(value.timestamp() * 1000)
    return int(value)


def period_params(
    tenant: str | None, start: datetime | int | None, end: datetime | int | None
) -> dict[str, Any]:
    """`tenant`, `start_ms` (inclusive) and `end_ms` (exclusive) for `source`."""
    return {"tenant": tenant or "", "start_ms": to_ms(start, -NEVER), "end_ms": to_ms(end, NEVER)}


@dataclass(frozen=True)
class Overrides:
    """The caller's thresholds over the queues' definitions.

    `thresholds` by queue id (in every tenant; `ALL_QUEUES` for every queue not named),
    including the SL variant, which queue definitions do not carry (default
    `abandons_against`); `sl_threshold_s`, `short_abandon_s` and `sl_variant` override that
    one setting for every queue (the CLI's `--sl-threshold` etc.).
    """

    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    sl_threshold_s: int | None = None
    short_abandon_s: int | None = None
    sl_variant: str | None = None
    interval_s: int = 900

    def __post_init__(self) -> None:
        for name in ("sl_threshold_s", "short_abandon_s"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, not {value}")
        if self.sl_variant is not None:
            Thresholds(sl_variant=self.sl_variant)  # names the bad variant

    @property
    def _named(self) -> dict[str, Thresholds]:
        return {q: t for q, t in self.thresholds.items() if q != ALL_QUEUES}

    @property
    def _default(self) -> Thresholds:
        every = self.thresholds.get(ALL_QUEUES) or Thresholds(interval_s=self.interval_s)
        if self.sl_variant is None:
            return every
        return Thresholds(every.sl_threshold_s, every.short_abandon_s, self.sl_variant, self.interval_s)

    def params(self) -> dict[str, Any]:
        named, every = self._named, self.thresholds.get(ALL_QUEUES)
        sl = (
            self.sl_threshold_s
            if self.sl_threshold_s is not None
            else (every.sl_threshold_s if every else -1)
        )
        short = (
            self.short_abandon_s
            if self.short_abandon_s is not None
            else (every.short_abandon_s if every else -1)
        )
        return {
            "o_queues": list(named),
            "o_sl": [t.sl_threshold_s for t in named.values()],
            "o_short": [t.short_abandon_s for t in named.values()],
            "all_sl": sl,
            "all_short": short,
            "d_sl": self._default.sl_threshold_s,
            "d_short": self._default.short_abandon_s,
        }

    def thresholds_for(self, queue_id: str, defined: tuple[int, int] | None) -> Thresholds:
        """One queue's thresholds, as `params` resolves them in SQL: the queue's own
        override, else the override for every queue, else `defined` (its latest definition's
        SL and short-abandon seconds), else the defaults; the SL variant by `variant`."""
        p = self.params()
        if queue_id in self._named:
            i = p["o_queues"].index(queue_id)
            sl, short = p["o_sl"][i], p["o_short"][i]
        else:
            d_sl, d_short = defined if defined is not None else (p["d_sl"], p["d_short"])
            sl = p["all_sl"] if p["all_sl"] >= 0 else d_sl
            short = p["all_short"] if p["all_short"] >= 0 else d_short
        return Thresholds(sl, short, self.variant()(queue_id), self.interval_s)

    def variant(self) -> Callable[[str], str]:
        """The SL variant of a queue id."""
        named, default = self._named, self._default.sl_variant
        return lambda queue_id: named[queue_id].sl_variant if queue_id in named else default


def typed(df: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """`df`'s columns in `dtypes`' order with those types ("str" columns as Python str,
    nullable floats NaN for "no data"), an empty frame keeping every column."""
    out = pd.DataFrame({c: df[c] if c in df.columns else [] for c in dtypes}, columns=list(dtypes))
    for column, dtype in dtypes.items():
        if dtype == "str":
            out[column] = out[column].astype(object).map(str)
        else:
            out[column] = out[column].astype(dtype)
    return out.reset_index(drop=True)
