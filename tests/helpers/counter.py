"""A tiny deterministic decider for runner tests: it counts `SetAgentReady` commands.

Each accepted command yields one `AgentStateChanged` whose `reason` is the running count;
the state also keeps a hash chain of the decided event ids, so two states are equal only if
the same events were decided in the same order. Agent ids steer the error paths:
"invalid…" raises `Invalid`, "reject…" raises `Rejected`, "crash…" divides by zero.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from processors.decider import DeciderProcessor, Invalid, Rejected
from schemas.agent import AgentStateChanged
from schemas.commands import SetAgentReady
from schemas.envelope import Envelope, Message, derive_event_id

__all__ = ["CounterDecider", "CounterState", "commands", "counter_processor"]


@dataclass(frozen=True, slots=True)
class CounterState:
    count: int = 0
    chain: str = ""


@dataclass(frozen=True)
class CounterDecider:
    name: str = "counter"

    def initial_state(self) -> CounterState:
        return CounterState()

    def decide(self, state: CounterState, command: Message[Any]) -> Sequence[object]:
        body = command.body
        if not isinstance(body, SetAgentReady):
            raise Invalid(f"counter takes SetAgentReady, not {command.type}")
        if body.agent_id.startswith("invalid"):
            raise Invalid(f"unknown agent {body.agent_id!r}")
        if body.agent_id.startswith("reject"):
            raise Rejected("agent_not_ready", f"agent {body.agent_id!r} is not logged in")
        if body.agent_id.startswith("crash"):
            _ = 1 // 0
        return [AgentStateChanged(body.agent_id, "available", "not_ready", str(state.count + 1), "")]

    def evolve(self, state: CounterState, event: Message[Any]) -> CounterState:
        chain = hashlib.sha256(f"{state.chain}{event.envelope.event_id}".encode()).hexdigest()[:16]
        return CounterState(state.count + 1, chain)


def counter_processor(name: str = "counter", version: int = 1) -> DeciderProcessor[CounterState]:
    return DeciderProcessor(
        CounterDecider(name),
        inputs=("cc.commands",),
        version=version,
        outputs=("cc.agent-events", "cc.command-results"),
    )


def commands(n: int, *, tenants: int = 3, start: int = 0, agent: str = "a") -> list[Message[SetAgentReady]]:
    """`n` SetAgentReady commands with deterministic ids and times, spread over tenants."""
    return [
        Message(
            Envelope(
                event_id=derive_event_id("test-commands", i),
                tenant=f"t{i % tenants}",
                occurred_at=1_700_000_000_000 + i * 1000,
                correlation_id=f"c{i}",
                actor="test",
            ),
            SetAgentReady(f"{agent}{i}"),
        )
        for i in range(start, start + n)
    ]
