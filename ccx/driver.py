"""Drives the simulator against the pipeline, on simulated time (fast-forward) or in real time.

Each step takes the next instant at which something happens (a simulated action or the
once-a-second `Tick`), appends the commands due then to `cc.commands`, lets the ACD decide,
and shows the simulator the ACD's decisions so simulated agents and callers react.

In fast-forward the ACD runs synchronously inside the step, so a run is a pure function of
the seed. The simulator sees the decisions as the ACD's runner makes them (`Runner.advance`)
and the runner commits them every `COMMIT_INTERVAL_S` of wall time: the log's content does
not depend on where the commits fall, and on Kafka one transaction covers many instants.
In real time the ACD runs in its own thread (as it would in its own process), the driver
follows its decisions in the log and sleeps until the next instant.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ccx.bootstrap import Pipeline
from ccx.clock import TICK_MS, tick_message
from schemas.envelope import Message
from streams import topics
from streams.tail import Tail
from telephony.simulator import Simulator

__all__ = ["SimulationDriver"]

COMMIT_INTERVAL_S = 0.1
"""Fast-forward: how often (wall time) the ACD's decisions are committed."""


class SimulationDriver:
    def __init__(self, pipeline: Pipeline, simulator: Simulator, tenant: str, start_ms: int) -> None:
        self.pipeline = pipeline
        self.sim = simulator
        self.tenant = tenant
        self.now_ms = start_ms
        self.next_tick_ms = start_ms + TICK_MS
        self.appended = 0
        self._observed = (topics.CONTACT_EVENTS.name, topics.AGENT_EVENTS.name)
        self._tail = Tail(pipeline.log, pipeline.serde, self._observed, from_end=True)
        self._committed_at = time.monotonic()

    # -- one mechanism for both modes -------------------------------------------------
    def _append(self, messages: list[Message[Any]]) -> None:
        if messages:
            self.pipeline.log.append([self.pipeline.serde.out(m) for m in messages])
            self.appended += len(messages)

    def _observe(self) -> int:
        seen = self._tail.poll()
        for _record, message in seen:
            self.sim.observe(message)
        return len(seen)

    def _decide(self) -> None:
        """Fast-forward: the ACD decides what was appended; the simulator sees each decision."""
        for out in self.pipeline.acd.advance():
            if out.topic in self._observed:
                self.sim.observe(self.pipeline.serde.decode(out.value))
        if time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Commit the ACD's pending decisions (fast-forward)."""
        self.pipeline.acd.flush()
        self._committed_at = time.monotonic()

    def _next_instant(self) -> int:
        due = self.sim.next_due_ms()
        return self.next_tick_ms if due is None else min(due, self.next_tick_ms)

    def _commands_at(self, at_ms: int) -> list[Message[Any]]:
        commands = self.sim.advance(at_ms)
        if at_ms >= self.next_tick_ms:
            commands.append(tick_message(self.tenant, self.next_tick_ms))
            self.next_tick_ms += TICK_MS
        self.now_ms = at_ms
        return commands

    # -- fast-forward -------------------------------------------------------------------
    def setup(self) -> None:
        """Fast-forward: configure queues and log the agents in."""
        self._append(self.sim.setup())
        self._decide()

    def _step(self, at: int, progress: Callable[[int], None] | None) -> None:
        self._append(self._commands_at(at))
        self._decide()
        if progress is not None:
            progress(at)

    def run_fast_forward(self, end_ms: int, progress: Callable[[int], None] | None = None) -> None:
        """Simulate until `end_ms` (exclusive), deciding synchronously; deterministic."""
        while (at := self._next_instant()) < end_ms:
            self._step(at, progress)
        self.flush()

    def drain(self, limit_ms: int, progress: Callable[[int], None] | None = None) -> None:
        """Close arrivals, then go on until every simulated contact is finished (served or
        abandoned, wrap-up done) or `limit_ms` is reached: the queue closes for the day."""
        self.sim.close_arrivals()
        while self.sim.busy() and (at := self._next_instant()) < limit_ms:
            self._step(at, progress)
        self.flush()

    # -- real time ----------------------------------------------------------------------
    def run_realtime(
        self,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
        then: Sequence[Message[Any]] = (),
    ) -> None:
        """Append commands as their time comes (the ACD runs in its own thread); stamps
        each command with the wall clock so time never goes backwards in the log. `then`
        is appended right after the simulator's setup (`ccx up`'s desk agents)."""
        self._append([*self.sim.setup(), *then])
        while not stop.is_set():
            self._observe()
            at = self._next_instant()
            wait_s = at / 1000 - clock()
            if wait_s > 0:
                stop.wait(min(wait_s, 0.05))
                continue
            wall_ms = max(int(clock() * 1000), self.now_ms)
            commands = [
                dataclasses.replace(m, envelope=dataclasses.replace(m.envelope, occurred_at=wall_ms))
                for m in self._commands_at(at)
            ]
            self.now_ms = wall_ms
            self._append(commands)
