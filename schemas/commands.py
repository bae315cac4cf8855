"""Commands: what edges (switch, simulator, API) ask the ACD to do. Imperative names.

Every command goes to `cc.commands`, keyed by tenant, so one ACD instance decides all of
a tenant's commands serially. Switch facts the ACD must react to (a caller hanging up)
are commands too (`HangUpContact`), so the ACD's input is one totally ordered topic and
a replay sees exactly the order the first run saw (docs/adr/0003).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AcceptOffer",
    "CompleteWrapUp",
    "DeclineOffer",
    "DefineAgent",
    "DefineQueue",
    "HangUpContact",
    "HoldContact",
    "LogInAgent",
    "LogOutAgent",
    "ResumeContact",
    "RouteContact",
    "SetAgentNotReady",
    "SetAgentReady",
    "Tick",
]


@dataclass(frozen=True, slots=True)
class DefineQueue:
    """Create or change a queue and its thresholds (per METRICS.md, all per queue)."""

    queue_id: str
    name: str
    sl_threshold_s: int = 20
    short_abandon_s: int = 5
    ring_timeout_s: int = 15
    wrap_up_s: int = 60
    strategy: str = "longest_idle"


@dataclass(frozen=True, slots=True)
class DefineAgent:
    """Create or change an agent and the queues the agent serves."""

    agent_id: str
    name: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteContact:
    """A contact wants service in a queue (from the IVR, the switch or the simulator)."""

    contact_id: str
    queue_id: str
    channel: str = "voice"
    priority: int = 0
    ani: str = ""
    dnis: str = ""


@dataclass(frozen=True, slots=True)
class AcceptOffer:
    """The agent answers the contact offered to them."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class DeclineOffer:
    """The agent declines the contact offered to them; the contact is offered elsewhere."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class HoldContact:
    """The agent puts the connected contact on hold."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ResumeContact:
    """The agent takes the contact off hold."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class HangUpContact:
    """A party hung up (`party` is "caller", "agent" or "system")."""

    contact_id: str
    party: str


@dataclass(frozen=True, slots=True)
class CompleteWrapUp:
    """The agent finishes after-call work with a disposition.

    `next_state` is "ready" or "not_ready" (then `not_ready_reason` says why), so an agent
    can go on break straight from wrap-up without being offered a contact in between.
    """

    contact_id: str
    agent_id: str
    disposition: str
    notes: str = ""
    next_state: str = "ready"
    not_ready_reason: str = ""


@dataclass(frozen=True, slots=True)
class LogInAgent:
    """The agent logs in (and starts not ready, reason "login")."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class LogOutAgent:
    """The agent logs out (only when not handling a contact)."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class SetAgentReady:
    """The agent is ready for contacts."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class SetAgentNotReady:
    """The agent is not ready, with a reason code (break, lunch, training, ...)."""

    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes: the runtime appends one per tenant each second; the time is the envelope's."""
