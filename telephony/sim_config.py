"""What the traffic simulator simulates: `SimConfig`, queue and agent specs, and the parsers
for the CLI's `--rate` and `--duration` options.

All times in the configuration are seconds (floats); the simulator itself works in
milliseconds since the Unix epoch. Distributions are named by their mean, so a reader can
check them against METRICS.md without knowing the parametrisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "AgentSpec",
    "BreakSpec",
    "QueueSpec",
    "SimConfig",
    "parse_duration",
    "parse_rate",
]

_QUEUE_NAMES = ("Sales", "Support", "Billing", "Retention", "Technical", "Claims")


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A simulated queue; `dnis` is the number callers dial to reach it ("" = generated)."""

    queue_id: str
    name: str
    dnis: str = ""


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """A simulated agent and the queues the agent serves."""

    agent_id: str
    name: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BreakSpec:
    """A not-ready reason an agent may take after wrap-up: relative weight and mean length."""

    reason: str
    weight: float
    mean_s: float


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The simulated contact center and its traffic.

    `queues` is a count (queues named Sales, Support, ... with generated ids) or explicit
    `QueueSpec`s. Agents are "a01".."aNN"; agent i (0-based) serves queue i % len(queues),
    and every 4th agent (a04, a08, ...) serves all queues.

    `arrival_rate_per_hour` is the **total** Poisson arrival rate (what `--rate` sets),
    split evenly across the queues.

    Distributions: caller patience is exponential (`patience_mean_s`); talk, hold and
    wrap-up times are lognormal with the given mean and shape `sigma`; the ring (answer)
    delay is uniform in `answer_delay_s`; after a RONA the agent goes ready again after
    `rona_recovery_s` (uniform in 0.5x..1.5x). After wrap-up an agent goes on a break with
    `break_probability`, the reason drawn from `breaks` by weight, its length uniform in
    0.5x..1.5x the reason's mean. Dispositions are drawn by weight. A share
    `priority_probability` of contacts has priority 1.
    Callers' numbers (ANI) repeat: with `repeat_caller_probability` a caller is drawn from
    a pool of `caller_pool_size` numbers, otherwise a new number is made up.
    """

    tenant: str = "demo"
    queues: int | tuple[QueueSpec, ...] = 3
    agents: int = 24
    arrival_rate_per_hour: float = 300.0
    patience_mean_s: float = 120.0
    talk_mean_s: float = 180.0
    talk_sigma: float = 0.6
    hold_probability: float = 0.15
    hold_mean_s: float = 30.0
    hold_sigma: float = 0.5
    agent_hangs_up_probability: float = 0.3
    answer_delay_s: tuple[float, float] = (1.0, 5.0)
    decline_probability: float = 0.01
    no_answer_probability: float = 0.02
    rona_recovery_s: float = 10.0
    wrap_up_mean_s: float = 25.0
    wrap_up_sigma: float = 0.5
    dispositions: tuple[tuple[str, float], ...] = (
        ("resolved", 60.0),
        ("sale", 12.0),
        ("follow_up", 15.0),
        ("escalated", 8.0),
        ("wrong_number", 5.0),
    )
    break_probability: float = 0.05
    breaks: tuple[BreakSpec, ...] = field(
        default=(
            BreakSpec("break", 70.0, 300.0),
            BreakSpec("training", 20.0, 600.0),
            BreakSpec("lunch", 10.0, 1200.0),
        )
    )
    priority_probability: float = 0.1
    caller_pool_size: int = 500
    repeat_caller_probability: float = 0.3

    def __post_init__(self) -> None:
        _check(bool(self.tenant), "tenant", "must not be empty")
        if isinstance(self.queues, int):
            _check(self.queues >= 1, "queues", f"must be at least 1, got {self.queues}")
        else:
            _check(len(self.queues) >= 1, "queues", "must name at least one queue")
            ids = [q.queue_id for q in self.queues]
            _check(len(set(ids)) == len(ids), "queues", f"has duplicate ids: {ids}")
        _check(self.agents >= 0, "agents", f"must be >= 0, got {self.agents}")
        _check(self.arrival_rate_per_hour >= 0, "arrival_rate_per_hour", "must be >= 0")
        for name in ("patience_mean_s", "talk_mean_s", "hold_mean_s", "wrap_up_mean_s"):
            _check(getattr(self, name) > 0, name, f"must be > 0, got {getattr(self, name)}")
        for name in ("talk_sigma", "hold_sigma", "wrap_up_sigma", "rona_recovery_s"):
            _check(getattr(self, name) >= 0, name, f"must be >= 0, got {getattr(self, name)}")
        for name in (
            "hold_probability",
            "agent_hangs_up_probability",
            "decline_probability",
            "no_answer_probability",
            "break_probability",
            "priority_probability",
            "repeat_caller_probability",
        ):
            p = getattr(self, name)
            _check(0.0 <= p <= 1.0, name, f"must be a probability in [0, 1], got {p}")
        _check(
            self.decline_probability + self.no_answer_probability <= 1.0,
            "decline_probability + no_answer_probability",
            "must not exceed 1",
        )
        lo, hi = self.answer_delay_s
        _check(0 <= lo <= hi, "answer_delay_s", f"must be (min, max) with 0 <= min <= max, got {lo, hi}")
        _check(
            bool(self.dispositions) and all(w > 0 for _, w in self.dispositions),
            "dispositions",
            "must be non-empty with positive weights",
        )
        _check(
            not self.break_probability or (bool(self.breaks) and all(b.weight > 0 for b in self.breaks)),
            "breaks",
            "must be non-empty with positive weights when break_probability > 0",
        )
        _check(self.caller_pool_size >= 1, "caller_pool_size", "must be at least 1")

    @property
    def queue_specs(self) -> tuple[QueueSpec, ...]:
        """The queues, generated from the count if `queues` is an int; every one with a DNIS."""
        if isinstance(self.queues, int):
            specs = tuple(_default_queue(i) for i in range(self.queues))
        else:
            specs = self.queues
        return tuple(
            q if q.dnis else QueueSpec(q.queue_id, q.name, f"+1800555{i + 1:04d}")
            for i, q in enumerate(specs)
        )

    @property
    def agent_specs(self) -> tuple[AgentSpec, ...]:
        """Agent i (0-based) serves queue i % n; every 4th agent serves every queue."""
        ids = tuple(q.queue_id for q in self.queue_specs)
        width = max(2, len(str(self.agents)))
        return tuple(
            AgentSpec(
                agent_id=f"a{i + 1:0{width}d}",
                name=f"Agent {i + 1:0{width}d}",
                queues=ids if (i + 1) % 4 == 0 else (ids[i % len(ids)],),
            )
            for i in range(self.agents)
        )


def _default_queue(i: int) -> QueueSpec:
    if i < len(_QUEUE_NAMES):
        return QueueSpec(_QUEUE_NAMES[i].lower(), _QUEUE_NAMES[i])
    return QueueSpec(f"q{i + 1:02d}", f"Queue {i + 1}")


def _check(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise ValueError(f"SimConfig.{name} {problem}")


_RATE_UNITS = {
    "h": 1.0,
    "hr": 1.0,
    "hour": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "s": 3600.0,
    "sec": 3600.0,
    "second": 3600.0,
}
_RATE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:/\s*([a-z]+))?\s*")


def parse_rate(text: str) -> float:
    """Arrivals per hour from "300/h", "5/min", "0.1/s" (a bare number is per hour).

    >>> parse_rate("5/min")
    300.0
    """
    m = _RATE.fullmatch(text.lower())
    unit = m.group(2) if m else None
    if m is None or (unit is not None and unit not in _RATE_UNITS):
        raise ValueError(
            f"invalid rate {text!r}: expected a non-negative number per unit, "
            "e.g. '300/h', '5/min' or '0.1/s'"
        )
    return float(m.group(1)) * _RATE_UNITS[unit or "h"]


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s)")
_DURATION_MS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
_DURATION_ORDER = ("h", "m", "s", "ms")


def parse_duration(text: str) -> int:
    """Milliseconds from "1h", "30m", "90s", "1h30m", "2m30s", "250ms" (units in that order).

    >>> parse_duration("1h30m")
    5400000
    """
    compact = text.strip().lower()
    parts = list(_DURATION_PART.finditer(compact))
    units = [p.group(2) for p in parts]
    order = [_DURATION_ORDER.index(u) for u in units]
    if (
        not parts
        or "".join(p.group(0) for p in parts) != compact
        or order != sorted(set(order))  # each unit once, largest first
    ):
        raise ValueError(
            f"invalid duration {text!r}: expected e.g. '1h', '30m', '90s' or '1h30m' "
            "(units h, m, s, ms, largest first, each at most once)"
        )
    return round(sum(float(p.group(1)) * _DURATION_MS[p.group(2)] for p in parts))
