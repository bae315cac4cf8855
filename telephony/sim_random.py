"""Draws from the simulator's distributions, always from an explicit `random.Random`.

Nothing here holds state but the caller pool; every function takes the generator, so the
simulator decides which stream each draw consumes (see `Simulator` on common random
numbers).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from telephony.sim_config import SimConfig

__all__ = ["CallerPool", "e164", "exponential_ms", "lognormal_ms", "seconds_ms", "weighted"]

# Real North American area codes, so numbers look plausible on a wallboard.
_AREA_CODES = (
    "212", "213", "202", "206", "303", "305", "312", "404", "415", "469", "512", "602",
    "617", "646", "702", "713", "718", "801", "813", "919",
)  # fmt: skip


def seconds_ms(seconds: float) -> int:
    return round(seconds * 1000)


def exponential_ms(rng: random.Random, mean_s: float) -> int:
    """An exponential duration with the given mean, in ms."""
    return seconds_ms(rng.expovariate(1.0 / mean_s))


def lognormal_ms(rng: random.Random, mean_s: float, sigma: float) -> int:
    """A lognormal duration whose *mean* (not median) is `mean_s`, in ms (at least 1 s)."""
    mu = math.log(mean_s) - sigma * sigma / 2.0
    return max(1000, seconds_ms(rng.lognormvariate(mu, sigma)))


def weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    """One name drawn by weight from (name, weight) pairs."""
    return rng.choices([name for name, _ in items], weights=[w for _, w in items])[0]


def e164(rng: random.Random) -> str:
    """A plausible NANP number in E.164 form, e.g. "+14155550123"-shaped."""
    area = rng.choice(_AREA_CODES)
    exchange = rng.randrange(200, 1000)
    line = rng.randrange(0, 10000)
    return f"+1{area}{exchange:03d}{line:04d}"


class CallerPool:
    """Callers' numbers: a fixed pool of repeat callers, plus one-time callers."""

    def __init__(self, rng: random.Random, config: SimConfig) -> None:
        self._pool = tuple(e164(rng) for _ in range(config.caller_pool_size))
        self._repeat = config.repeat_caller_probability

    @property
    def repeat_callers(self) -> tuple[str, ...]:
        """The pool's numbers (E.164): the callers who call again (a demo's known customers)."""
        return self._pool

    def ani(self, rng: random.Random) -> str:
        if rng.random() < self._repeat:
            return rng.choice(self._pool)
        return e164(rng)
