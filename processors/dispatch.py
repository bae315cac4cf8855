"""Dispatch: match waiting contacts to agents, strategy **longest idle eligible agent**.

Waiting (un-offered) contacts are served by priority (higher first), then arrival order
(FIFO). Each is offered to the eligible agent that has been available longest (ties by
agent id). Eligible = logged in, available, a member of the contact's queue, and not one
who declined or let this contact ring out. Every offer carries its explanation: the
candidates with their idle seconds (best first) and a sentence naming the winner.

`Draft` accumulates one command's events while folding them into a working state, so
dispatch after a command sees that command's effects; `expire` is the `Tick` handler
(ring no answer, wrap-up timeout).
"""

from __future__ import annotations

from datetime import UTC, datetime

from processors.acd_state import OFFERED, WAITING, WRAP_UP, Agent, Contact, TenantState, apply
from schemas.agent import AgentStateChanged
from schemas.config import QueueDefined
from schemas.contact import Candidate, ContactOffered, OfferTimedOut, WrapUpCompleted

__all__ = ["STRATEGIES", "Draft", "dispatch", "eligible", "expire", "offer_for"]

STRATEGIES = ("longest_idle",)


def _iso(ms: int) -> str:
    """UTC timestamp of `ms` with milliseconds (pure: formats the number, reads no clock)."""
    stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}Z"


def eligible(agents: list[Agent], contact: Contact) -> list[Agent]:
    """The agents that may take `contact`, longest idle first (ties by agent id)."""
    found = [
        a
        for a in agents
        if a.state == "available" and contact.queue_id in a.queues and a.agent_id not in contact.excluded
    ]
    return sorted(found, key=lambda a: (a.since, a.agent_id))


def offer_for(queue: QueueDefined, contact: Contact, ranked: list[Agent], now: int) -> ContactOffered:
    """The offer of `contact` to `ranked[0]`, explained by every candidate's idle time."""
    best = ranked[0]
    candidates = tuple(
        Candidate(
            a.agent_id,
            (now - a.since) / 1000,
            f"idle {(now - a.since) / 1000:.1f} s" + ("; chosen" if i == 0 else ""),
        )
        for i, a in enumerate(ranked)
    )
    n = len(ranked)
    reason = (
        f"longest idle among {n} eligible agent{'s' if n != 1 else ''}: {best.agent_id} idle since "
        f"{_iso(best.since)} ({(now - best.since) / 1000:.1f} s)"
    )
    if contact.excluded:
        reason += f"; excluded after decline or no answer: {', '.join(contact.excluded)}"
    return ContactOffered(
        contact_id=contact.contact_id,
        queue_id=contact.queue_id,
        agent_id=best.agent_id,
        strategy=queue.strategy,
        rule_version=queue.rule_version,
        candidates=candidates,
        reason=reason,
        expires_at=now + queue.ring_timeout_s * 1000,
    )


def dispatch(t: TenantState, now: int) -> tuple[TenantState, list[object]]:
    """Offer every waiting contact that has an eligible agent; the new state and the events.

    One pass in service order suffices: an offer only takes an agent away, so a contact
    skipped for lack of agents cannot gain one later in the same pass.
    """
    free = [a for a in t.agents.values() if a.state == "available"]
    if not free:
        return t, []
    waiting = sorted(
        (c for c in t.contacts.values() if c.phase == WAITING), key=lambda c: (-c.priority, c.seq)
    )
    events: list[object] = []
    for contact in waiting:
        if not free:
            break
        queue = t.queues.get(contact.queue_id)
        ranked = eligible(free, contact)
        if queue is None or not ranked:
            continue
        offer = offer_for(queue, contact, ranked, now)
        reserve = AgentStateChanged(offer.agent_id, "reserved", "available", "", contact.contact_id)
        for body in (offer, reserve):
            t = apply(t, body, now)
            events.append(body)
        free = [a for a in free if a.agent_id != offer.agent_id]
    return t, events


class Draft:
    """The events decided so far for one command and the tenant state they lead to."""

    def __init__(self, t: TenantState, now: int) -> None:
        self.t = t
        self.now = now
        self.events: list[object] = []

    def emit(self, *bodies: object) -> None:
        for body in bodies:
            self.t = apply(self.t, body, self.now)
            self.events.append(body)

    def change(self, agent_id: str, state: str, reason: str = "", contact_id: str = "") -> None:
        agent = self.t.agents.get(agent_id)
        previous = agent.state if agent is not None else "logged_out"
        self.emit(AgentStateChanged(agent_id, state, previous, reason, contact_id))

    def dispatch(self) -> None:
        self.t, events = dispatch(self.t, self.now)
        self.events.extend(events)


def expire(d: Draft) -> None:
    """On a tick: time out offers past their deadline (RONA) and wrap-ups past the queue's
    `wrap_up_s`, then dispatch what they freed."""
    contacts = sorted(d.t.contacts.values(), key=lambda c: c.seq)
    for c in contacts:
        if c.phase == OFFERED and d.now >= c.expires_at:
            d.emit(OfferTimedOut(c.contact_id, c.agent_id))
            d.change(c.agent_id, "not_ready", "rona")
    for c in contacts:
        queue = d.t.queues.get(c.queue_id)
        if c.phase == WRAP_UP and queue is not None and d.now - c.wrap_started_at >= queue.wrap_up_s * 1000:
            d.emit(WrapUpCompleted(c.contact_id, c.agent_id, "timeout", ""))
            d.change(c.agent_id, "available")
    if d.events:
        d.dispatch()
