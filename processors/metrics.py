"""The metric definitions of METRICS.md, implemented once.

The live wallboard (`processors.live_stats`) and the warehouse (`analytics`) keep the same
threshold-free `Tally` per queue and interval: one per queue leg (a contact's stint in a
queue), added up. `Tally.counts(thresholds)` classifies a tally into `QueueCounts` (short
abandons, within service level) and the rate functions here turn counts into rates, so
the wallboard at 10:15 agrees with the report for 10:00-10:15, and a new threshold
recomputes all of history from the same tallies. A rate whose denominator is zero is
`None` ("no data").

A tally keeps waits as histograms by whole seconds, rounded up (`wait_bucket`): thresholds
are whole seconds, and `wait_ms <= T * 1000` exactly when `ceil(wait_ms / 1000) <= T`, so
classifying from the histogram is exact for every threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "LEG_OUTCOMES",
    "SL_VARIANTS",
    "QueueCounts",
    "Tally",
    "Thresholds",
    "abandon_rate",
    "acw",
    "aht",
    "answer_rate",
    "asa",
    "att",
    "avg_abandon_time",
    "avg_hold_time",
    "interval_start",
    "is_short_abandon",
    "occupancy",
    "ratio",
    "service_level",
    "summarize",
    "utilization",
    "wait_bucket",
    "within_threshold",
]

SL_VARIANTS = ("abandons_ignored", "abandons_against", "abandons_for", "answered_only")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Per-queue definitions; changing them and re-running a report recomputes history."""

    sl_threshold_s: int = 20
    short_abandon_s: int = 5
    sl_variant: str = "abandons_against"
    interval_s: int = 900

    def __post_init__(self) -> None:
        if self.sl_variant not in SL_VARIANTS:
            raise ValueError(f"sl_variant must be one of {', '.join(SL_VARIANTS)}, not {self.sl_variant!r}")
        if self.sl_threshold_s < 0 or self.short_abandon_s < 0 or self.interval_s <= 0:
            raise ValueError("thresholds must be >= 0 and interval_s > 0")


def is_short_abandon(wait_ms: int, t: Thresholds) -> bool:
    """An abandon within `short_abandon_s` (inclusive) is a short abandon."""
    return wait_ms <= t.short_abandon_s * 1000


def within_threshold(wait_ms: int, t: Thresholds) -> bool:
    """Answered (or abandoned) with wait <= T counts toward service level."""
    return wait_ms <= t.sl_threshold_s * 1000


def interval_start(ms: int, interval_s: int) -> int:
    """Start (ms, UTC-aligned) of the interval containing `ms`."""
    step = interval_s * 1000
    return ms - ms % step


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Counts and sums for one queue and interval (contacts counted by queue-entry interval).

    `offered` and `abandoned` exclude short abandons, which are counted in
    `short_abandoned`. `waiting` is contacts still in the queue. Time sums are ms.
    `handled` is answered contacts whose handling (talk, hold, wrap-up) has finished.
    """

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    timed_out: int = 0
    callback: int = 0
    waiting: int = 0
    answered_in_sl: int = 0
    abandoned_in_sl: int = 0
    answer_wait_ms: int = 0
    abandon_wait_ms: int = 0
    longest_wait_ms: int = 0
    handled: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    held: int = 0
    wrap_ms: int = 0

    def __add__(self, other: QueueCounts) -> QueueCounts:
        return QueueCounts(**_added(self, other))

    def conserved(self) -> bool:
        """offered = answered + abandoned + overflowed + timed_out + callback + waiting."""
        resolved = self.answered + self.abandoned + self.overflowed + self.timed_out + self.callback
        return self.offered == resolved + self.waiting


LEG_OUTCOMES = ("answered", "abandoned", "overflowed", "timed_out", "callback", "closed", "full")
"""How a contact leaves a queue (`schemas.legs.QueueLeg.outcome`)."""


def wait_bucket(wait_ms: int) -> int:
    """The whole seconds of a wait, rounded up: `wait_ms <= T * 1000` iff this <= T."""
    return max(0, -(-wait_ms // 1000))


def _added(a: Any, b: Any) -> dict[str, Any]:
    """Two counts of one dataclass added field by field: sums, the max of `longest_wait_ms`,
    and histograms (mappings) merged by key."""
    out: dict[str, Any] = {}
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "longest_wait_ms":
            out[f.name] = max(x, y)
        elif isinstance(x, Mapping):
            out[f.name] = _merged(x, y)
        else:
            out[f.name] = x + y
    return out


def _up_to(histogram: Mapping[int, int], limit: int) -> int:
    return sum(n for bucket, n in histogram.items() if bucket <= limit)


def _merged(a: Mapping[int, int], b: Mapping[int, int]) -> dict[int, int]:
    if not b:
        return dict(a)
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True, slots=True)
class Tally:
    """What happened in one queue and interval, before any threshold is applied.

    A sum of legs (`of_leg`), plus `waiting` on the live wallboard (contacts still in the
    queue; 0 in the warehouse, which sees legs once they are over). `entered` counts every
    leg; closed/full legs (a rule ended the contact on arrival) are in no count but
    `longest_wait_ms`. The histograms map `wait_bucket` -> contacts (and, for abandons,
    -> total wait ms). Time sums are ms; the handling sums cover answered legs whose
    wrap-up finished (`handled`).
    """

    entered: int = 0
    waiting: int = 0
    answered: int = 0
    answer_wait_ms: int = 0
    answer_waits: Mapping[int, int] = field(default_factory=dict)
    abandon_waits: Mapping[int, int] = field(default_factory=dict)
    abandon_wait_ms: Mapping[int, int] = field(default_factory=dict)
    overflowed: int = 0
    timed_out: int = 0
    callback: int = 0
    closed: int = 0
    longest_wait_ms: int = 0
    handled: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    held: int = 0
    wrap_ms: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(**_added(self, other))

    @staticmethod
    def entering() -> Tally:
        """A contact entered the queue and waits (live)."""
        return Tally(entered=1, waiting=1)

    @staticmethod
    def leaving(outcome: str, wait_ms: int) -> Tally:
        """A waiting contact left the queue with `outcome` after `wait_ms` (live): the
        change from waiting to resolved. `entering() + leaving(o, w)` is a leg's tally."""
        if outcome not in LEG_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(LEG_OUTCOMES)}, not {outcome!r}")
        bucket = wait_bucket(wait_ms)
        base = Tally(waiting=-1, longest_wait_ms=max(0, wait_ms))
        if outcome == "answered":
            return base + Tally(answered=1, answer_wait_ms=wait_ms, answer_waits={bucket: 1})
        if outcome == "abandoned":
            return base + Tally(abandon_waits={bucket: 1}, abandon_wait_ms={bucket: wait_ms})
        if outcome in ("closed", "full"):
            return base + Tally(closed=1)
        return base + Tally(**{outcome: 1})  # type: ignore[arg-type]

    @staticmethod
    def handling(talk_ms: int, hold_ms: int, holds: int, wrap_ms: int) -> Tally:
        """An answered contact's handling finished (wrap-up completed)."""
        return Tally(handled=1, talk_ms=talk_ms, hold_ms=hold_ms, held=int(holds > 0), wrap_ms=wrap_ms)

    @staticmethod
    def of_leg(
        outcome: str, wait_ms: int, talk_ms: int = 0, hold_ms: int = 0, holds: int = 0, wrap_ms: int = 0
    ) -> Tally:
        """One finished leg (an answered leg's handling included), as the warehouse sees it."""
        t = Tally.entering() + Tally.leaving(outcome, wait_ms)
        return t + Tally.handling(talk_ms, hold_ms, holds, wrap_ms) if outcome == "answered" else t

    def counts(self, t: Thresholds) -> QueueCounts:
        """The METRICS.md counts under `t`'s short-abandon and SL thresholds."""
        short = _up_to(self.abandon_waits, t.short_abandon_s)
        abandons = sum(self.abandon_waits.values())
        in_sl = sum(n for b, n in self.abandon_waits.items() if t.short_abandon_s < b <= t.sl_threshold_s)
        short_ms = sum(ms for b, ms in self.abandon_wait_ms.items() if b <= t.short_abandon_s)
        return QueueCounts(
            offered=self.entered - short - self.closed,
            answered=self.answered,
            abandoned=abandons - short,
            short_abandoned=short,
            overflowed=self.overflowed,
            timed_out=self.timed_out,
            callback=self.callback,
            waiting=self.waiting,
            answered_in_sl=_up_to(self.answer_waits, t.sl_threshold_s),
            abandoned_in_sl=in_sl,
            answer_wait_ms=self.answer_wait_ms,
            abandon_wait_ms=sum(self.abandon_wait_ms.values()) - short_ms,
            longest_wait_ms=self.longest_wait_ms,
            handled=self.handled,
            talk_ms=self.talk_ms,
            hold_ms=self.hold_ms,
            held=self.held,
            wrap_ms=self.wrap_ms,
        )


_COUNT_NAMES = tuple(f.name for f in fields(QueueCounts))


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def service_level(c: QueueCounts, variant: str = "abandons_against") -> float | None:
    """Share of contacts served within the threshold, by the variant's formula (METRICS.md)."""
    if variant == "abandons_ignored":
        return ratio(c.answered_in_sl, c.offered - c.abandoned)
    if variant == "abandons_against":
        return ratio(c.answered_in_sl, c.offered)
    if variant == "abandons_for":
        return ratio(c.answered_in_sl + c.abandoned_in_sl, c.offered)
    if variant == "answered_only":
        return ratio(c.answered_in_sl, c.answered)
    raise ValueError(f"unknown service-level variant {variant!r}; use one of {', '.join(SL_VARIANTS)}")


def asa(c: QueueCounts) -> float | None:
    """Average speed of answer, seconds."""
    return ratio(c.answer_wait_ms / 1000, c.answered)


def avg_abandon_time(c: QueueCounts) -> float | None:
    return ratio(c.abandon_wait_ms / 1000, c.abandoned)


def att(c: QueueCounts) -> float | None:
    """Average talk time (hold excluded), seconds."""
    return ratio(c.talk_ms / 1000, c.handled)


def avg_hold_time(c: QueueCounts) -> float | None:
    return ratio(c.hold_ms / 1000, c.held)


def acw(c: QueueCounts) -> float | None:
    """Average after-call work (wrap-up), seconds."""
    return ratio(c.wrap_ms / 1000, c.handled)


def aht(c: QueueCounts) -> float | None:
    """Average handle time = (talk + hold + wrap-up) / handled, seconds."""
    return ratio((c.talk_ms + c.hold_ms + c.wrap_ms) / 1000, c.handled)


def abandon_rate(c: QueueCounts) -> float | None:
    return ratio(c.abandoned, c.offered)


def answer_rate(c: QueueCounts) -> float | None:
    return ratio(c.answered, c.offered)


def occupancy(handling_ms: int, wrap_ms: int, available_ms: int, reserved_ms: int) -> float | None:
    busy = handling_ms + wrap_ms
    return ratio(busy, busy + available_ms + reserved_ms)


def utilization(
    handling_ms: int, wrap_ms: int, available_ms: int, reserved_ms: int, logged_in_ms: int
) -> float | None:
    return ratio(handling_ms + wrap_ms + available_ms + reserved_ms, logged_in_ms)


def summarize(c: QueueCounts, t: Thresholds) -> dict[str, float | int | None]:
    """Every count and rate of one queue interval, as reports and the wallboard show them."""
    out: dict[str, float | int | None] = {name: getattr(c, name) for name in _COUNT_NAMES}
    out.update(
        service_level=service_level(c, t.sl_variant),
        asa_s=asa(c),
        avg_abandon_s=avg_abandon_time(c),
        att_s=att(c),
        avg_hold_s=avg_hold_time(c),
        acw_s=acw(c),
        aht_s=aht(c),
        abandon_rate=abandon_rate(c),
        answer_rate=answer_rate(c),
        longest_wait_s=c.longest_wait_ms / 1000,
    )
    return out
