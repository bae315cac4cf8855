"""The metric definitions of METRICS.md, implemented once.

The live wallboard (`processors.live_stats`), the warehouse reports (`analytics.reports`)
and the API all count contacts into `QueueCounts` with the classification functions here
and turn counts into rates with the functions here, so the wallboard at 10:15 agrees with
the report for 10:00-10:15. A rate whose denominator is zero is `None` ("no data").
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "SL_VARIANTS",
    "QueueCounts",
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
        values = {
            f.name: (
                max(getattr(self, f.name), getattr(other, f.name))
                if f.name == "longest_wait_ms"
                else getattr(self, f.name) + getattr(other, f.name)
            )
            for f in fields(self)
        }
        return QueueCounts(**values)

    def conserved(self) -> bool:
        """offered = answered + abandoned + overflowed + timed_out + callback + waiting."""
        resolved = self.answered + self.abandoned + self.overflowed + self.timed_out + self.callback
        return self.offered == resolved + self.waiting


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
    out: dict[str, float | int | None] = {f.name: getattr(c, f.name) for f in fields(c)}
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
