"""Staffing mathematics (METRICS.md, "Staffing"): Erlang B, C and A and their inverses.

This module owns the queueing formulas and nothing else: no I/O, no pandas, only `math`.

- **Erlang B** (M/M/N/N, blocked calls are lost) sizes trunks and IVR ports: the blocking
  probability of N trunks, the trunks for a blocking target (`trunks_for`) and the traffic
  N trunks take at a blocking target (`traffic_for`; carried = offered x (1 - blocking)).
- **Erlang C** (M/M/N, callers never hang up): P(wait) = N B / (N - A (1 - B)) from Erlang B,
  SL = 1 - P(wait) exp(-(N - A) T / AHT), ASA = P(wait) AHT / (N - A), occupancy A / N.
- **Erlang A** (M/M/N+M, exponential patience; Palm 1946, Garnett, Mandelbaum & Reiman
  2002, formulas as summarised by Mandelbaum & Zeltyn): with x = N mu / theta and
  y = lambda / theta, the series S(x, y) = sum_k y^k / ((x+1)...(x+k)) = x e^y y^-x
  gamma(x, y) gives P(wait) = S E / (1 + (S - 1) E) (E = Erlang B), the offered wait
  V has P(V > t | V > 0) = gamma(x, y e^-theta t) / gamma(x, y), and an arrival that finds
  k callers waiting is served with probability x / (x + k + 1). Every measure is a sum of
  positive terms, summed around its largest term on a log scale, so nothing overflows with
  thousands of agents or hours of patience; ratios of such scales are summed as logs of
  numbers near 1 rather than as differences of huge lgamma values.

Times are seconds, traffic A = calls x AHT / interval (erlangs). `service_level` is
METRICS.md's `abandons_against` variant, answered within T / offered (without abandons,
as in Erlang C, every variant gives the same number). `asa_s` is METRICS.md's ASA (wait of
answered calls / answered); `avg_wait_s` is the mean wait of every offered call
(answered or abandoned). Invalid input raises `StaffingInputError` (a ValueError) naming
the argument.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "SL_VARIANT",
    "QueueStats",
    "StaffingInputError",
    "erlang_b",
    "erlang_c",
    "evaluate",
    "offered_traffic",
    "required_agents",
    "scheduled_agents",
    "traffic_for",
    "trunks_for",
]

SL_VARIANT = "abandons_against"
_SERIES_LIMIT = 20_000_000  # terms of one Erlang A series before giving up
_EPS = 1e-9  # slack for "A / cap agents" and "raw / (1 - shrinkage)" that are whole numbers
_MAX_SIZE = 10_000_000  # agents, trunks or erlangs: beyond any contact center, and seconds of work


class StaffingInputError(ValueError):
    """An argument is out of range; `argument` names it (the CLI maps it to its option)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument} {problem}")
        self.argument = argument


@dataclass(frozen=True, slots=True)
class QueueStats:
    """One staffing level of a queue. None is "no data" (no calls) or infinite (N <= A)."""

    model: str  # "erlang_c" or "erlang_a"
    agents: int
    traffic_erlangs: float
    threshold_s: float
    service_level: float | None
    prob_wait: float
    asa_s: float | None
    avg_wait_s: float | None
    occupancy: float | None
    prob_abandon: float = 0.0
    patience_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sl_variant": SL_VARIANT}


# --- validation ---------------------------------------------------------------------------


def _finite(name: str, value: float, *, positive: bool = False) -> float:
    if not isinstance(value, int | float) or math.isnan(value) or math.isinf(value):
        raise StaffingInputError(name, f"must be a finite number, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise StaffingInputError(name, f"must be {'>' if positive else '>='} 0, not {value!r}")
    return float(value)


def _count(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MAX_SIZE:
        raise StaffingInputError(name, f"must be a whole number from {low} to {_MAX_SIZE}, not {value!r}")
    return value


def _traffic(value: float) -> float:
    value = _finite("traffic_erlangs", value)
    if value > _MAX_SIZE:
        raise StaffingInputError("traffic_erlangs", f"must be at most {_MAX_SIZE}, not {value!r}")
    return value


def _open_fraction(name: str, value: float) -> float:
    if not isinstance(value, int | float) or not 0 < value < 1:
        raise StaffingInputError(name, f"must be between 0 and 1 (exclusive), not {value!r}")
    return float(value)


def _patience(value: float | None) -> float | None:
    if value is None or value == math.inf:
        return value
    return _finite("patience_s", value, positive=True)


def offered_traffic(calls: float, interval_s: float, aht_s: float) -> float:
    """Offered traffic in erlangs: `calls` arriving in `interval_s` seconds, each `aht_s` long."""
    calls = _finite("calls", calls)
    interval_s = _finite("interval_s", interval_s, positive=True)
    aht_s = _finite("aht_s", aht_s, positive=True)
    traffic = calls * aht_s / interval_s
    if traffic > _MAX_SIZE:
        raise StaffingInputError("calls", f"make {traffic:g} erlangs, more than {_MAX_SIZE}")
    return traffic


def scheduled_agents(raw: int, shrinkage: float) -> int:
    """Agents to schedule so that `raw` remain after `shrinkage` (breaks, training, absence)."""
    raw = _count("raw", raw, 0)
    if not isinstance(shrinkage, int | float) or not 0 <= shrinkage < 1:
        raise StaffingInputError("shrinkage", f"must be in [0, 1), not {shrinkage!r}")
    return math.ceil(raw / (1 - shrinkage) - _EPS)


# --- Erlang B -----------------------------------------------------------------------------


def _b_next(b: float, n: int, traffic: float) -> float:
    """B(n) from B(n - 1): each step stays in [0, 1], so thousands of trunks are fine."""
    return traffic * b / (n + traffic * b)


def erlang_b(trunks: int, traffic: float) -> float:
    """Probability that a call offered `traffic` erlangs finds all `trunks` busy (lost)."""
    trunks = _count("trunks", trunks, 0)
    traffic = _traffic(traffic)
    b = 1.0
    for n in range(1, trunks + 1):
        b = _b_next(b, n, traffic)
    return b


def trunks_for(traffic: float, blocking: float) -> int:
    """The fewest trunks (or IVR ports) whose blocking at `traffic` erlangs is <= `blocking`."""
    traffic = _traffic(traffic)
    blocking = _open_fraction("blocking", blocking)
    n, b = 0, 1.0
    while b > blocking:
        n += 1
        b = _b_next(b, n, traffic)
    return n


def traffic_for(trunks: int, blocking: float) -> float:
    """The offered traffic (erlangs) at which `trunks` block exactly `blocking` of calls.

    B(N, A) increases continuously from 0 to 1 in A, so bisection finds it; the traffic
    carried is the result times (1 - blocking).
    """
    trunks = _count("trunks", trunks, 1)
    blocking = _open_fraction("blocking", blocking)
    lo, hi = 0.0, float(trunks)
    while erlang_b(trunks, hi) < blocking:
        lo, hi = hi, hi * 2
    while hi - lo > 1e-13 * hi:
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if erlang_b(trunks, mid) < blocking else (lo, mid)
    return (lo + hi) / 2


# --- Erlang C -----------------------------------------------------------------------------


def _c_from_b(b: float, agents: int, traffic: float) -> float:
    if agents <= traffic:
        return 1.0
    return agents * b / (agents - traffic * (1 - b))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits with `agents` agents and `traffic` erlangs (1 if N <= A)."""
    agents = _count("agents", agents, 0)
    return _c_from_b(erlang_b(agents, traffic), agents, traffic)


def _no_calls(model: str, agents: int, threshold_s: float, patience_s: float | None) -> QueueStats:
    occupancy = 0.0 if agents else None
    return QueueStats(model, agents, 0.0, threshold_s, None, 0.0, None, None, occupancy, 0.0, patience_s)


def _stats_c(agents: int, traffic: float, b: float, aht_s: float, threshold_s: float) -> QueueStats:
    if traffic == 0:
        return _no_calls("erlang_c", agents, threshold_s, None)
    if agents <= traffic:  # unstable: the queue grows without bound
        return QueueStats("erlang_c", agents, traffic, threshold_s, 0.0, 1.0, None, None, 1.0)
    c = _c_from_b(b, agents, traffic)
    spare = agents - traffic
    sl = 1 - c * math.exp(-spare * threshold_s / aht_s)
    asa = c * aht_s / spare
    return QueueStats("erlang_c", agents, traffic, threshold_s, sl, c, asa, asa, traffic / agents)


# --- Erlang A -----------------------------------------------------------------------------


def _digamma(v: float) -> float:
    shift = 0.0
    while v < 6:
        shift -= 1 / v
        v += 1
    f = 1 / (v * v)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return shift + math.log(v) - 0.5 / v - series


@dataclass(frozen=True, slots=True)
class _Sums:
    """Sums over k >= 0 of t_k = z^k / ((x+1)...(x+k)), each divided by e^log_scale."""

    log_scale: float  # log t_peak
    peak: int  # the index of the largest term
    s: float  # sum t_k = S(x, z), Mandelbaum's A(x, z)
    u: float  # sum t_k / (x+k+1)
    ab: float  # sum t_k (k+1) / (x+k+1): abandonment of those who find k waiting
    h: float  # sum t_k x / (x+k+1) * sum_{j<=k} 1 / (x+j+1): their wait, if served


def _sums(x: float, z: float) -> _Sums:
    if z == 0:
        return _Sums(0.0, 0, 1.0, 1 / (x + 1), 1 / (x + 1), x / (x + 1) ** 2)
    log_z, base = math.log(z), math.lgamma(x + 1)

    def log_t(k: int) -> float:
        return k * log_z - (math.lgamma(x + k + 1) - base)

    peak = max(0, math.floor(z - x))  # t_k grows while z > x + k
    log_peak = log_t(peak)
    start, hi = 0, peak  # the first term within e^-60 of the largest; log_t rises up to it
    while start < hi:
        mid = (start + hi) // 2
        start, hi = (mid + 1, hi) if log_t(mid) - log_peak < -60 else (start, mid)
    t = math.exp(_log_ratio(x, z, start, peak))  # t_start / t_peak, summed: lgamma's are huge
    harmonic = _digamma(x + start + 1) - _digamma(x + 1) if start else 0.0
    s = u = ab = h = 0.0
    k = start
    while True:
        inv = 1 / (x + k + 1)
        harmonic += inv
        s += t
        u += t * inv
        ab += t * (k + 1) * inv
        h += t * x * inv * harmonic
        ratio = z * inv  # t_{k+1} / t_k, falling with k
        t *= ratio
        k += 1
        if k > peak and ratio < 1 and t <= 1e-17 * s * (1 - z / (x + k + 1)):
            return _Sums(log_peak, peak, s, u, ab, h)  # the rest is below a geometric tail of t
        if k - start > _SERIES_LIMIT:
            raise StaffingInputError("patience_s", "is too long for this load to sum; use Erlang C")


def _log_ratio(x: float, z: float, low: int, high: int) -> float:
    """log(t_low / t_high) = sum over low < i <= high of log((x + i) / z), exactly summed
    when the gap is small enough (then the terms are small), else from lgamma."""
    m, a = high - low, x + low + 1
    if m <= 200_000:
        return math.fsum(math.log((x + i) / z) for i in range(low + 1, high + 1))
    if a < 10:
        return -m * math.log(z) + math.lgamma(a + m) - math.lgamma(a)
    # Stirling for lgamma(a + m) - lgamma(a), arranged so that no two huge numbers cancel

    def c(v: float) -> float:
        return 1 / (12 * v) - 1 / (360 * v**3) + 1 / (1260 * v**5)

    return m * math.log((a + m) / z) + (a - 0.5) * math.log1p(m / a) - m + c(a + m) - c(a)


def _logistic(d: float) -> float:
    """1 / (1 + e^d) without overflow."""
    return 1 / (1 + math.exp(d)) if d < 700 else math.exp(-d)


def _stats_a(
    agents: int, traffic: float, b: float, aht_s: float, threshold_s: float, patience_s: float
) -> QueueStats:
    if traffic == 0:
        return _no_calls("erlang_a", agents, threshold_s, patience_s)
    theta = 1 / patience_s
    x = agents * patience_s / aht_s  # N mu / theta
    z = traffic * patience_s / aht_s  # lambda / theta
    f = _sums(x, z)
    # P(W > 0) = S E / (1 - E + S E)
    wait = _logistic(math.log1p(-b) - (math.log(f.s) + f.log_scale + math.log(b))) if b else 0.0
    abandon = wait * f.ab / f.s
    served_after_wait = x * f.u / f.s  # P(served | waited)
    if threshold_s == 0:
        late = served_after_wait
    else:  # served after more than T: x q^(x+1) e^(z (1-q)) U(x, z q) / S(x, z), q = e^-theta T
        log_q = -theta * threshold_s
        g = _sums(x, z * math.exp(log_q))
        # g's scale over f's: t_g.peak(z q) / t_f.peak(z) = q^g.peak t_g.peak(z) / t_f.peak(z)
        scales = g.peak * log_q + _log_ratio(x, z, g.peak, f.peak)
        log_late = (x + 1) * log_q - z * math.expm1(log_q) + scales + math.log(x * g.u / f.s)
        late = min(served_after_wait, math.exp(log_late))
    sl = (1 - wait) + wait * (served_after_wait - late)
    answered = 1 - abandon
    asa = wait * (f.h / f.s) * patience_s / answered if answered > 0 else None
    occupancy = min(1.0, traffic * answered / agents)
    return QueueStats(
        "erlang_a", agents, traffic, threshold_s, sl, wait, asa, abandon * patience_s, occupancy,
        abandon, patience_s,
    )  # fmt: skip


# --- evaluation and the inverse -----------------------------------------------------------


def _common(traffic: float, aht_s: float, threshold_s: float) -> tuple[float, float, float]:
    return (
        _traffic(traffic),
        _finite("aht_s", aht_s, positive=True),
        _finite("threshold_s", threshold_s),
    )


def evaluate(
    agents: int, traffic: float, aht_s: float, threshold_s: float = 20, patience_s: float | None = None
) -> QueueStats:
    """The queue with `agents` agents: Erlang C, or Erlang A if `patience_s` (mean) is finite."""
    agents = _count("agents", agents, 1)
    traffic, aht_s, threshold_s = _common(traffic, aht_s, threshold_s)
    patience_s = _patience(patience_s)
    b = erlang_b(agents, traffic)
    if patience_s is None or patience_s == math.inf:
        return _stats_c(agents, traffic, b, aht_s, threshold_s)
    return _stats_a(agents, traffic, b, aht_s, threshold_s, patience_s)


def required_agents(
    traffic: float,
    aht_s: float,
    *,
    target_sl: float = 0.8,
    threshold_s: float = 20,
    max_asa_s: float | None = None,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
) -> QueueStats:
    """The fewest agents with SL >= `target_sl`, ASA <= `max_asa_s` (if given) and occupancy
    <= `max_occupancy` (N >= A / cap in Erlang C), by Erlang C or, with a finite
    `patience_s`, Erlang A. No traffic needs no agents.

    All three improve with every agent added, so Erlang C steps up from the lower bound
    and Erlang A (dearer to evaluate) gallops and bisects between a count known to fail
    and one that meets them.
    """
    traffic, aht_s, threshold_s = _common(traffic, aht_s, threshold_s)
    target_sl = _open_fraction("target_sl", target_sl)
    if max_asa_s is not None:
        max_asa_s = _finite("max_asa_s", max_asa_s, positive=True)
    if not isinstance(max_occupancy, int | float) or not 0 < max_occupancy <= 1:
        raise StaffingInputError("max_occupancy", f"must be in (0, 1], not {max_occupancy!r}")
    patience_s = _patience(patience_s)
    if traffic == 0:
        model = "erlang_c" if patience_s is None or patience_s == math.inf else "erlang_a"
        return _no_calls(model, 0, threshold_s, patience_s)

    def meets(stats: QueueStats) -> bool:
        return (
            stats.service_level is not None
            and stats.service_level >= target_sl
            and (max_asa_s is None or (stats.asa_s is not None and stats.asa_s <= max_asa_s))
            and stats.occupancy is not None
            and stats.occupancy <= max_occupancy + _EPS
        )

    limit = math.ceil(traffic) + 100 * math.isqrt(math.ceil(traffic)) + 1000
    unmet = StaffingInputError("target_sl", f"cannot be met with up to {limit} agents")
    if patience_s is None or patience_s == math.inf:  # N > A, and N >= A / cap
        first = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - _EPS))
        b = erlang_b(first - 1, traffic)
        for n in range(first, limit + 1):
            b = _b_next(b, n, traffic)
            stats = _stats_c(n, traffic, b, aht_s, threshold_s)
            if meets(stats):
                return stats
        raise unmet
    patience = patience_s

    def at(n: int) -> QueueStats:
        return _stats_a(n, traffic, erlang_b(n, traffic), aht_s, threshold_s, patience)

    # SL <= answered / offered <= N / A: fewer than target x A agents always fail
    low = max(0, math.ceil(target_sl * traffic) - 1)
    high, step = low + 1, 1
    while not meets(found := at(high)):
        if high >= limit:
            raise unmet
        low, high, step = high, min(limit, high + step), step * 2
    while high - low > 1:
        mid = (low + high) // 2
        if meets(stats := at(mid)):
            high, found = mid, stats
        else:
            low = mid
    return found
