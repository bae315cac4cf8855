"""The ACD's state and its fold: `apply(tenant_state, body, now)` is `evolve` for one tenant.

State is frozen dataclasses; the collections inside are plain dicts typed as read-only
`Mapping`s and replaced copy-on-write (`_put`, `_drop`), never mutated in place, so a
state value once handed out never changes. `apply` never validates and never fails: an
event about an unknown agent or contact leaves the state as it was. Finished contacts
(ended without an agent, or wrap-up completed) are removed, so the state stays bounded by
the contacts in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from schemas.agent import AgentStateChanged
from schemas.config import AgentDefined, QueueDefined
from schemas.contact import (
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    OfferDeclined,
    OfferTimedOut,
    WrapUpCompleted,
    WrapUpStarted,
)

__all__ = [
    "ARRIVED",
    "CONNECTED",
    "HELD",
    "OFFERED",
    "WAITING",
    "WRAP_UP",
    "AcdState",
    "Agent",
    "Contact",
    "TenantState",
    "apply",
]

ARRIVED, WAITING, OFFERED, CONNECTED, HELD, WRAP_UP = (
    "arrived",
    "waiting",
    "offered",
    "connected",
    "held",
    "wrap_up",
)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the ACD sees it; `since` is when it entered `state` (ms)."""

    agent_id: str
    name: str
    queues: tuple[str, ...]
    state: str = "logged_out"
    since: int = 0
    reason: str = ""
    contact_id: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact in progress. `seq` is its arrival order in the tenant (FIFO tie-break);
    `excluded` the agents who declined it or let it ring out."""

    contact_id: str
    queue_id: str = ""
    priority: int = 0
    seq: int = 0
    queued_at: int = 0
    phase: str = ARRIVED
    agent_id: str = ""
    expires_at: int = 0
    excluded: tuple[str, ...] = ()
    wait_ms: int = 0
    wrap_started_at: int = 0


@dataclass(frozen=True, slots=True)
class TenantState:
    """One tenant's routing state (copy-on-write dicts inside a frozen dataclass)."""

    queues: Mapping[str, QueueDefined] = field(default_factory=dict)
    agents: Mapping[str, Agent] = field(default_factory=dict)
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    seq: int = 0


@dataclass(frozen=True, slots=True)
class AcdState:
    """All tenants of one partition: a partition may carry several tenants' commands."""

    tenants: Mapping[str, TenantState] = field(default_factory=dict)

    def tenant(self, name: str) -> TenantState:
        return self.tenants.get(name) or TenantState()

    def with_tenant(self, name: str, state: TenantState) -> AcdState:
        return AcdState(_put(self.tenants, name, state))


def _put(m: Mapping[K, V], key: K, value: V) -> dict[K, V]:
    out = dict(m)
    out[key] = value
    return out


def _drop(m: Mapping[K, V], key: K) -> dict[K, V]:
    return {k: v for k, v in m.items() if k != key}


def _contact(t: TenantState, contact_id: str, **changes: object) -> TenantState:
    c = t.contacts.get(contact_id)
    if c is None:
        return t
    return replace(t, contacts=_put(t.contacts, contact_id, replace(c, **changes)))  # type: ignore[arg-type]


def apply(t: TenantState, body: object, now: int) -> TenantState:
    """The state after `body` happened at `now` (ms). Never validates, never fails."""
    match body:
        case QueueDefined(queue_id=queue_id):
            return replace(t, queues=_put(t.queues, queue_id, body))
        case AgentDefined(agent_id=agent_id, name=name, queues=queues):
            old = t.agents.get(agent_id)
            agent = Agent(agent_id, name, queues) if old is None else replace(old, name=name, queues=queues)
            return replace(t, agents=_put(t.agents, agent_id, agent))
        case AgentStateChanged(agent_id=agent_id, state=state, reason=reason, contact_id=contact_id):
            a = t.agents.get(agent_id)
            if a is None:
                return t
            a = replace(a, state=state, since=now, reason=reason, contact_id=contact_id)
            return replace(t, agents=_put(t.agents, agent_id, a))
        case ContactArrived(contact_id=contact_id):
            if contact_id in t.contacts:
                return t
            return replace(t, contacts=_put(t.contacts, contact_id, Contact(contact_id)))
        case ContactQueued(contact_id=contact_id, queue_id=queue_id, priority=priority):
            base = t.contacts.get(contact_id) or Contact(contact_id)
            c = replace(
                base, queue_id=queue_id, priority=priority, seq=t.seq + 1, queued_at=now, phase=WAITING
            )
            return replace(t, contacts=_put(t.contacts, contact_id, c), seq=t.seq + 1)
        case ContactOffered(contact_id=contact_id, agent_id=agent_id, expires_at=expires_at):
            return _contact(t, contact_id, phase=OFFERED, agent_id=agent_id, expires_at=expires_at)
        case (
            OfferDeclined(contact_id=contact_id, agent_id=agent_id)
            | OfferTimedOut(contact_id=contact_id, agent_id=agent_id)
        ):
            prior = t.contacts.get(contact_id)
            if prior is None:
                return t
            excluded = prior.excluded if agent_id in prior.excluded else (*prior.excluded, agent_id)
            return _contact(t, contact_id, phase=WAITING, agent_id="", expires_at=0, excluded=excluded)
        case ContactConnected(contact_id=contact_id, agent_id=agent_id, wait_ms=wait_ms):
            return _contact(t, contact_id, phase=CONNECTED, agent_id=agent_id, wait_ms=wait_ms)
        case ContactHeld(contact_id=contact_id):
            return _contact(t, contact_id, phase=HELD)
        case ContactResumed(contact_id=contact_id):
            return _contact(t, contact_id, phase=CONNECTED)
        case ContactEnded(contact_id=contact_id, agent_id=agent_id):
            if not agent_id:
                return replace(t, contacts=_drop(t.contacts, contact_id))
            return _contact(t, contact_id, phase=WRAP_UP, agent_id=agent_id, wrap_started_at=now)
        case WrapUpStarted(contact_id=contact_id, agent_id=agent_id):
            return _contact(t, contact_id, phase=WRAP_UP, agent_id=agent_id, wrap_started_at=now)
        case WrapUpCompleted(contact_id=contact_id):
            return replace(t, contacts=_drop(t.contacts, contact_id))
        case _:
            return t
