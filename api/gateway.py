"""The command round trip: append a command, wait for the decider's outcome.

`CommandGateway.round_trip` appends the command to `cc.commands` with a fresh id, the
tenant and the actor, and waits until the deciding group (`DECIDERS`: the ACD, the ticket,
customer or knowledge-base decider) has committed past it. Its runner commits a command's
outputs and its input position atomically, so at that
moment every event the command caused is in the log: the watcher thread, which follows
the output topics, has collected them by `causation_id` (the command's id). The outcome
is then one of:

- the events (the command was accepted);
- a `CommandRejected` (a state conflict, with the decider's code and reason);
- a `DeadLetter` of the command itself (input the decider refused as invalid).

One watcher thread serves every request; requests wait on futures, not on the log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import Envelope, Message
from schemas.system import CommandRejected, DeadLetter
from streams import topics
from streams.ports import EventLog
from streams.serde import Serde
from streams.tail import Tail

__all__ = ["CommandGateway", "Outcome", "event_json"]

log = logging.getLogger("ccx.api.gateway")

OUTPUTS = (
    topics.CONTACT_EVENTS.name,
    topics.AGENT_EVENTS.name,
    topics.CONFIG_EVENTS.name,
    topics.TICKET_EVENTS.name,
    topics.CUSTOMER_EVENTS.name,
    topics.KB_EVENTS.name,
    topics.COMMAND_RESULTS.name,
    topics.DEAD_LETTER.name,
)

DECIDERS = {
    "schemas.commands": "acd",
    "schemas.ticket_commands": "tickets",
    "schemas.customer_commands": "customers",
    "schemas.kb_commands": "kb",
}
"""Which decider (its consumer group) decides the commands of each module on `cc.commands`."""


def decider_of(body: object) -> str:
    """The group deciding `body`; ValueError for a command no decider takes."""
    try:
        return DECIDERS[type(body).__module__]
    except KeyError:
        raise ValueError(f"no decider takes {type(body).__name__} commands") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def event_json(topic: str, message: Message[Any]) -> dict[str, Any]:
    """An event as the API shows it: type, topic, ids, time, actor and its fields."""
    env = message.envelope
    b = message.body
    body = dataclasses.asdict(b) if dataclasses.is_dataclass(b) and not isinstance(b, type) else {}
    return {
        "type": message.type,
        "topic": topic,
        "event_id": env.event_id,
        "occurred_at": env.occurred_at,
        "actor": env.actor,
        "body": _jsonable(body),
    }


@dataclass
class Outcome:
    """What became of a command: its events, or why it was refused."""

    command_id: str
    events: list[tuple[str, Message[Any]]] = field(default_factory=list)
    rejected: CommandRejected | None = None
    invalid: str | None = None


@dataclass
class _Pending:
    command_id: str
    group: str
    partition: int
    offset: int
    future: concurrent.futures.Future[Outcome]
    outcome: Outcome


class CommandGateway:
    """Appends commands and resolves their outcomes from the log (embedded or Kafka)."""

    def __init__(
        self,
        log_: EventLog,
        serde: Serde,
        *,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.005,
    ) -> None:
        self._log = log_
        self._serde = serde
        self._clock = clock
        self._poll_s = poll_s
        self._tail = Tail(log_, serde, OUTPUTS, from_end=True)
        self._pending: dict[str, _Pending] = {}
        self._by_position: dict[tuple[int, int], str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="command-gateway", daemon=True)
        self._thread.start()

    # -- requests ---------------------------------------------------------------------
    def submit(
        self, tenant: str, actor: str, body: object, correlation_id: str = ""
    ) -> concurrent.futures.Future[Outcome]:
        """Append the command; the future resolves with its outcome. Raises ValueError when
        the command cannot be encoded (the message names the field) or no decider takes it."""
        group = decider_of(body)
        command_id = str(uuid.uuid4())
        env = Envelope(
            event_id=command_id,
            tenant=tenant,
            occurred_at=int(self._clock() * 1000),
            correlation_id=correlation_id or getattr(body, "contact_id", "") or command_id,
            actor=actor,
        )
        try:
            record = self._serde.out(Message(env, body))
        except (ValueError, TypeError, OverflowError) as e:
            raise ValueError(f"{type(body).__name__} cannot be encoded: {e}") from None
        future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        with self._lock:  # registered before it can be decided
            (appended,) = self._log.append([record])
            pending = _Pending(
                command_id, group, appended.partition, appended.offset, future, Outcome(command_id)
            )
            self._pending[command_id] = pending
            self._by_position[(appended.partition, appended.offset)] = command_id
        self._wake.set()
        return future

    async def round_trip(
        self, tenant: str, actor: str, body: object, *, correlation_id: str = "", timeout_s: float = 10.0
    ) -> Outcome:
        """Append and wait; TimeoutError when no decider committed it within `timeout_s`."""
        # The append waits for the log's write lock: off the event loop, so a busy log never
        # stalls the other requests and the WebSocket pushes.
        future = await asyncio.to_thread(self.submit, tenant, actor, body, correlation_id)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        finally:
            if not future.done():
                self._forget(future)

    def _forget(self, future: concurrent.futures.Future[Outcome]) -> None:
        with self._lock:
            for cid, p in list(self._pending.items()):
                if p.future is future:
                    del self._pending[cid]
                    self._by_position.pop((p.partition, p.offset), None)

    # -- the watcher ------------------------------------------------------------------
    def _collect(self, batch: Sequence[tuple[Any, Message[Any]]]) -> None:
        commands = topics.COMMANDS.name
        with self._lock:
            for record, message in batch:
                body = message.body
                if isinstance(body, DeadLetter):
                    if body.source_topic != commands:
                        continue
                    cid = self._by_position.get((body.source_partition, body.source_offset))
                    if cid is not None:
                        self._pending[cid].outcome.invalid = body.reason
                    continue
                cause = message.envelope.causation_id
                pending = self._pending.get(cause) if cause else None
                if pending is None:
                    continue
                if isinstance(body, CommandRejected):
                    pending.outcome.rejected = body
                else:
                    pending.outcome.events.append((record.topic, message))

    def _resolve_decided(self) -> None:
        with self._lock:
            if not self._pending:
                return
        with self._lock:
            groups = {p.group for p in self._pending.values()}
        committed = {g: self._log.committed(g) for g in groups}
        commands = topics.COMMANDS.name
        decided = []
        with self._lock:
            for cid, p in self._pending.items():
                if committed.get(p.group, {}).get((commands, p.partition), 0) > p.offset:
                    decided.append(cid)
        if not decided:
            return
        # Everything those commands caused was committed with their positions: read it all.
        while batch := self._tail.poll():
            self._collect(batch)
        with self._lock:
            for cid in decided:
                p = self._pending.pop(cid)
                self._by_position.pop((p.partition, p.offset), None)
                if not p.future.done():
                    p.future.set_result(p.outcome)

    def _watch(self) -> None:
        while not self._stop.is_set():
            mark = self._log.append_mark()
            try:
                batch = self._tail.poll()
                if batch:
                    self._collect(batch)
                self._resolve_decided()
            except Exception:  # the log went away for a moment: keep serving
                log.exception("command gateway: watching the log failed; retrying")
                time.sleep(0.5)
            with self._lock:
                idle = not self._pending
            if idle:
                self._wake.wait(0.25)
                self._wake.clear()
            else:  # a decider's commit in this process wakes it at once
                self._log.wait_for_append(mark, self._poll_s)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
