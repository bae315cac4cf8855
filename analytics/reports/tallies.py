"""Queue tallies from the warehouse: `processors.metrics.Tally` per tenant, queue and group.

The queue reports (intervals, trends) and the wallboard count the same thing: each queue
leg (`contact_legs`, one row per stint of a contact in a queue) added into a threshold-free
`Tally` in the interval in which the contact entered the queue, then classified with the
queue's thresholds by `Tally.counts` in Python. Two sources, one meaning:

- `queue_interval_tallies`, the 15-minute tallies a materialized view keeps as legs
  arrive: read whenever each group is made of whole 15-minute intervals (an interval of
  15 min, 30 min, an hour, a day …; an hour of the day in any zone, whose offset is a
  multiple of 15 minutes) and the period's bounds fall on 15-minute boundaries. A report
  over a month reads a few thousand rows instead of millions of contacts;
- `contact_legs` itself, each leg projected with `LEG_TALLY` (the materialized view's own
  projection, word for word: a test compares them), for any other interval or bound.

Thresholds are applied in Python per queue (`Overrides.thresholds_for`: the caller's
override, else the queue's latest definition in `queues`, else the defaults), so a new
threshold or SL variant recomputes all of history from the same tallies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from analytics.reports.base import Overrides, period_params
from analytics.warehouse import Warehouse
from processors.metrics import Tally, Thresholds

__all__ = ["LEG_TALLY", "TALLY_INTERVAL_S", "Grouped", "QueueThresholds", "queue_tallies"]

TALLY_INTERVAL_S = 900
"""The materialized view's interval: 15 minutes, aligned to the epoch (UTC)."""

LEG_TALLY = """
    toInt64(1) AS entered,
    toInt64(outcome = 'answered') AS answered,
    if(outcome = 'answered', wait_ms, 0) AS answer_wait_ms,
    if(outcome = 'answered', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), toInt64(1)),
        CAST(map(), 'Map(UInt32, Int64)')) AS answer_waits,
    if(outcome = 'abandoned', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), toInt64(1)),
        CAST(map(), 'Map(UInt32, Int64)')) AS abandon_waits,
    if(outcome = 'abandoned', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), wait_ms),
        CAST(map(), 'Map(UInt32, Int64)')) AS abandon_wait_ms,
    toInt64(outcome = 'overflowed') AS overflowed,
    toInt64(outcome = 'timed_out') AS timed_out,
    toInt64(outcome = 'callback') AS callback,
    toInt64(outcome IN ('closed', 'full')) AS closed,
    greatest(wait_ms, 0) AS longest_wait_ms,
    toInt64(outcome = 'answered') AS handled,
    if(outcome = 'answered', talk_ms, 0) AS talk_ms,
    if(outcome = 'answered', hold_ms, 0) AS hold_ms,
    toInt64(outcome = 'answered' AND holds > 0) AS held,
    if(outcome = 'answered', wrap_up_ms, 0) AS wrap_ms
"""
"""One leg as a Tally's columns (`Tally.of_leg` in SQL); the view in 0005_queue_legs.sql."""

_TALLY_FIELDS = tuple(f.name for f in fields(Tally) if f.name != "waiting")
_MAPS = frozenset(f.name for f in fields(Tally) if f.default_factory is dict)


def _merge(name: str) -> str:
    function = "max" if name == "longest_wait_ms" else "sumMap" if name in _MAPS else "sum"
    return f"{function}({name}) AS x_{name}"


_MERGE = ",\n    ".join(_merge(f) for f in _TALLY_FIELDS)
_FROM_TALLIES = "SELECT *, interval_start AS at FROM queue_interval_tallies"
_FROM_LEGS = "SELECT tenant, queue_id, queued_at AS at," + LEG_TALLY + "FROM contact_legs FINAL"
_SQL = """
SELECT tenant, queue_id, {key} AS key,
    {merge}
FROM ({source})
WHERE ({{tenant:String}} = '' OR tenant = {{tenant:String}})
    AND toUnixTimestamp64Milli(toDateTime64(at, 3, 'UTC')) >= {{start_ms:Int64}}
    AND toUnixTimestamp64Milli(toDateTime64(at, 3, 'UTC')) < {{end_ms:Int64}}
GROUP BY tenant, queue_id, key
ORDER BY tenant, queue_id, key
"""


@dataclass(frozen=True, slots=True)
class Grouped:
    tenant: str
    queue_id: str
    key: Any
    tally: Tally


def _aligned(ms: int) -> bool:
    return abs(ms) >= 2**61 or ms % (TALLY_INTERVAL_S * 1000) == 0


def queue_tallies(
    warehouse: Warehouse,
    *,
    key: str,
    params: Mapping[str, Any],
    tenant: str | None = None,
    start: Any = None,
    end: Any = None,
    whole_intervals: bool = True,
) -> list[Grouped]:
    """Tallies per tenant, queue and `key`: a SQL expression over `at` (DateTime64 'UTC',
    the time the contact entered the queue, or the 15-minute interval's start) with its
    `params`. `whole_intervals` says that `key` never splits a 15-minute interval; the
    15-minute tallies are read when that holds and the period is aligned, else the legs."""
    period = period_params(tenant, start, end)
    use_tallies = whole_intervals and _aligned(period["start_ms"]) and _aligned(period["end_ms"])
    sql = _SQL.format(key=key, merge=_MERGE, source=_FROM_TALLIES if use_tallies else _FROM_LEGS)
    out: list[Grouped] = []
    for row in warehouse.query_rows(sql, {**params, **period}):
        sums: dict[str, Any] = {}
        for f, v in zip(_TALLY_FIELDS, row[3:], strict=True):
            sums[f] = {k: n for k, n in v.items() if n} if f in _MAPS else v
        out.append(Grouped(str(row[0]), str(row[1]), row[2], Tally(**sums)))
    return out


class QueueThresholds:
    """The thresholds a report applies to each queue: `overrides` over each queue's latest
    definition (`queues FINAL`, read once), memoised per (tenant, queue)."""

    def __init__(self, warehouse: Warehouse, overrides: Overrides) -> None:
        sql = "SELECT tenant, queue_id, sl_threshold_s, short_abandon_s FROM queues FINAL"
        rows = warehouse.query_rows(sql)
        self._defined = {(str(t), str(q)): (int(sl), int(short)) for t, q, sl, short in rows}
        self._overrides = overrides
        self._memo: dict[tuple[str, str], Thresholds] = {}

    def __call__(self, tenant: str, queue_id: str) -> Thresholds:
        key = (tenant, queue_id)
        if key not in self._memo:
            self._memo[key] = self._overrides.thresholds_for(queue_id, self._defined.get(key))
        return self._memo[key]
