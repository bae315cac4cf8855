"""`ccx clock`: ticks every configured tenant each second, with ids a restart repeats."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ccx.bootstrap import open_log
from ccx.clock import run_clock, tick_message
from ccx.health import check_run, heartbeat_path
from ccx.settings import Settings
from schemas.config import QueueDefined
from schemas.envelope import Envelope, Message
from streams import topics


class FakeTime:
    """A clock the test moves; `stop.wait` advances it instead of sleeping (no wall time)."""

    def __init__(self, start_s: float, stop: threading.Event, stop_at_s: float) -> None:
        self.now, self.stop, self.stop_at = start_s, stop, stop_at_s

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float | None = None) -> bool:
        self.now += seconds or 0.0
        if self.now >= self.stop_at:
            self.stop.set()
        return self.stop.is_set()


def ticks(settings: Settings) -> list[tuple[str, int, str]]:
    log, serde = open_log(settings)
    try:
        out = []
        for p in range(log.partitions(topics.COMMANDS.name)):
            for r in log.read(topics.COMMANDS.name, p, 0, 10_000):
                m = serde.decode(r.value)
                out.append((m.envelope.tenant, m.envelope.occurred_at, m.envelope.event_id))
        return sorted(out, key=lambda t: (t[1], t[0]))
    finally:
        log.close()


def test_the_clock_ticks_given_and_configured_tenants_each_second(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    log, serde = open_log(settings)
    queue = QueueDefined("sales", "Sales", 20, 5, 15, 30, "longest_idle", 1)
    log.append([serde.out(Message(Envelope("e1", "acme", 0, "c", None, "admin"), queue))])
    log.close()

    stop = threading.Event()
    fake = FakeTime(1_767_600_000.4, stop, stop_at_s=1_767_600_003.5)
    stop.wait = fake.wait  # type: ignore[method-assign]
    written = run_clock(settings, stop, tenants=["demo"], clock=fake)

    got = ticks(settings)
    seconds = [1_767_600_001_000, 1_767_600_002_000, 1_767_600_003_000]
    assert written == 6 and [(t, at) for t, at, _ in got] == [
        (t, s) for s in seconds for t in ("acme", "demo")
    ]
    assert [i for _t, _at, i in got] == [
        tick_message(t, s).envelope.event_id for s in seconds for t in ("acme", "demo")
    ]
    assert check_run(heartbeat_path(settings, "clock")) == f"clock (pid {os.getpid()}) is stopped"
