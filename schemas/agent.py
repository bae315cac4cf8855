"""Agent events (public topic `cc.agent-events`).

`AgentStateChanged` is emitted on every transition between the exclusive states of
METRICS.md (available, reserved, handling, wrap_up, not_ready, logged_out), so agent
time per state is the difference between consecutive events.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AGENT_STATES", "AgentLoggedIn", "AgentLoggedOut", "AgentStateChanged"]

AGENT_STATES = ("available", "reserved", "handling", "wrap_up", "not_ready", "logged_out")


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    agent_id: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """`state` is one of AGENT_STATES; `reason` explains not_ready; `contact_id` may be "".

    `state` is the agent's exclusive METRICS.md state (busy on any contact wins); `presence`
    is what the agent chose ("available", "not_ready", "logged_out"): an agent handling one
    chat of three stays present as available and may be offered more. "" in events written
    before presence existed (then the presence is `state` when that is a presence)."""

    agent_id: str
    state: str
    previous: str
    reason: str
    contact_id: str
    presence: str = ""
