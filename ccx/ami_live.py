"""`ccx run ami`: the live AMI edge. Switch facts into the log, switch actions out of it.

One asyncio loop runs the `AmiClient` (login, reconnect, resync) whose events go through
the `AmiAdapter` and are appended to `cc.telephony` (unmapped or malformed frames to
`cc.dead-letter`), and the `Executor` consuming `cc.switch-actions` as consumer group
`ami-executor`: a batch's actions are performed in order, then its position is committed
together with the `SwitchActionFailed` facts of the ones that failed (and dead letters of
records that do not decode or are no action) in one `EventLog.commit`.

The AMI secret comes from an environment variable named on the command line; it is never
an argument, never logged and never in a repr (`AmiConfig`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from dataclasses import dataclass

from ccx.bootstrap import open_log
from ccx.settings import Settings
from schemas.envelope import Message
from streams import topics
from streams.deadletter import dead_letter
from streams.ports import Consumer, EventLog, OutRecord
from streams.runner import Times, decode_record
from streams.serde import Serde
from telephony.ami.adapter import AmiAdapter, client_for
from telephony.ami.client import AmiClient, AmiConfig
from telephony.ami.executor import ACTIONS, Executor

__all__ = ["GROUP", "AmiEdge", "run_ami", "wall_ms"]

GROUP = "ami-executor"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class AmiEdge:
    """The client, the adapter and the executor on one log (built by `AmiEdge.open`)."""

    log: EventLog
    serde: Serde
    client: AmiClient
    adapter: AmiAdapter
    executor: Executor
    consumer: Consumer
    poll_interval_s: float = 0.05

    @classmethod
    def open(
        cls, log: EventLog, serde: Serde, config: AmiConfig, tenant: str, *, max_age_ms: int = 60_000
    ) -> AmiEdge:
        adapter = AmiAdapter(tenant, f"ami://{config.host}:{config.port}", clock=wall_ms)

        def append(messages: list[Message[object]]) -> None:
            if messages:
                log.append([serde.out(m) for m in messages])

        client = client_for(adapter, config, append)
        executor = Executor(client, clock=wall_ms, max_age_ms=max_age_ms)
        consumer = log.consumer(GROUP, [topics.SWITCH_ACTIONS.name])
        return cls(log, serde, client, adapter, executor, consumer)

    async def execute_once(self, times: Times) -> int:
        """Perform one polled batch of actions and commit it; the records handled."""
        records = self.consumer.poll(100, 0.0)
        if not records:
            return 0
        outputs: list[OutRecord] = []
        for record in records:
            msg, letter = decode_record(self.serde, GROUP, record, times)
            if msg is None:
                assert letter is not None
                outputs.append(letter)
            elif not isinstance(msg.body, ACTIONS):
                reason = f"{msg.type} is not a switch action"
                at = times.get((record.topic, record.partition), 0)
                outputs.append(
                    self.serde.out(dead_letter(record, GROUP, "Invalid", reason, occurred_at=at, cause=msg))
                )
            else:
                outputs += [self.serde.out(m) for m in await self.executor.execute(msg)]
        self.log.commit(GROUP, outputs, self.consumer.positions())
        return len(records)

    async def run(self, stop: asyncio.Event) -> None:
        """Run the client and the executor until `stop` is set."""
        connection = asyncio.create_task(self.client.run())
        times: Times = {}
        try:
            while not stop.is_set():
                if connection.done():
                    connection.result()  # a refused login ends the edge with its error
                    return
                if not self.client.ready.is_set() or not await self.execute_once(times):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_interval_s)
        finally:
            await self.client.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection, 5)

    def close(self) -> None:
        self.consumer.close()


def run_ami(settings: Settings, config: AmiConfig) -> None:
    """`ccx run ami`: the edge on the configured log until SIGTERM or Ctrl-C."""
    log_, serde = open_log(settings)
    edge = AmiEdge.open(log_, serde, config, settings.tenant)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await edge.run(stop)

    try:
        asyncio.run(main())
    finally:
        edge.close()
        log_.close()
        s = edge.executor.stats
        print(
            f"ami: {edge.adapter.stats.facts} facts, {s.executed} actions executed, {s.failed} failed, "
            f"{s.duplicates} duplicates, {s.stale} stale",
            file=sys.stderr,
            flush=True,
        )
