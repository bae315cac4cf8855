"""The live view the API serves: the live-stats projection's current state, read without locks.

The stats runner swaps in a new immutable state after every batch; `LiveView` reads the
reference, renders it with the pure view functions of `processors.live_stats`, and
computes time-dependent numbers (longest wait) against the clock it was given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from processors.live_stats import day_series, queue_view

__all__ = ["LiveView"]


@dataclass
class LiveView:
    state: Callable[[], Any]
    """Returns the live-stats projection's current state."""
    tenant: str = "demo"
    clock: Callable[[], float] = field(default=time.time)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def queues(self) -> dict[str, Any]:
        now = self.now_ms()
        return {"tenant": self.tenant, "as_of": now, "queues": queue_view(self.state(), self.tenant, now)}

    def series(self, queue_id: str) -> list[dict[str, Any]]:
        return day_series(self.state(), self.tenant, queue_id)
