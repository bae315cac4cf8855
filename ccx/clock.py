"""`ccx clock`: the time source of the log. Appends a `Tick` per tenant every second.

Timeouts (ring no answer, wrap-up) are decisions, so the ACD takes them on a command: the
`Tick`. In fast-forward the simulation driver writes the ticks; in production this process
does, for every tenant that has configuration in `cc.config-events` (it follows that topic,
so a new tenant starts ticking within a second) plus the tenants it is given. A tick's id
is derived from its tenant and second (`tick_message`), so a restarted or second clock
writes the same ids; a repeated tick decides nothing new (what expired has expired).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType

from ccx.bootstrap import open_log
from ccx.health import Heartbeat, heartbeat_path
from ccx.settings import Settings
from schemas.commands import Tick
from schemas.envelope import Envelope, Message, derive_event_id
from streams import topics
from streams.tail import Tail

__all__ = ["TICK_MS", "run_clock", "tick_message"]

TICK_MS = 1000


def tick_message(tenant: str, at_ms: int) -> Message[Tick]:
    """The clock's Tick for a tenant at a time; its id is derived from both, so it is stable."""
    return Message(
        Envelope(derive_event_id(f"tick:{tenant}", at_ms), tenant, at_ms, f"tick:{tenant}", None, "clock"),
        Tick(),
    )


def run_clock(
    settings: Settings,
    stop: threading.Event,
    *,
    tenants: Iterable[str] = (),
    clock: Callable[[], float] = time.time,
) -> int:
    """Tick every known tenant at each whole second until `stop`; the number of ticks written."""
    log, serde = open_log(settings)
    heartbeat = Heartbeat(heartbeat_path(settings, "clock"), "clock")
    known = set(tenants)
    written = 0
    try:
        config = Tail(log, serde, (topics.CONFIG_EVENTS.name,))
        next_ms = (int(clock() * 1000) // TICK_MS + 1) * TICK_MS
        while not stop.is_set():
            known.update(m.envelope.tenant for _r, m in config.poll())
            wait_s = next_ms / 1000 - clock()
            if wait_s > 0:
                stop.wait(wait_s)
                continue
            ticks = [tick_message(t, next_ms) for t in sorted(known)]
            if ticks:
                log.append([serde.out(m) for m in ticks])
                written += len(ticks)
            heartbeat.beat(ticks=written, tenants=len(known))
            # after a pause (suspended host), do not write the missed seconds one by one
            next_ms = max(next_ms + TICK_MS, (int(clock() * 1000) // TICK_MS) * TICK_MS)
        return written
    finally:
        heartbeat.beat("stopped", force=True)
        log.close()


def main(settings: Settings, tenants: Iterable[str]) -> None:
    """Run the clock until SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    written = run_clock(settings, stop, tenants=tenants)
    print(f"clock: {written} ticks written", file=sys.stderr)
