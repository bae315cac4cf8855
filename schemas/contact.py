"""Contact lifecycle events (public topic `cc.contact-events`). Past-tense names.

A contact arrives, is queued, is offered to agents (each offer accepted, declined or
timed out), is connected, may be held and resumed, ends with a reason, and when an agent
handled it, the agent's wrap-up starts and completes with a disposition.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Candidate",
    "ContactArrived",
    "ContactConnected",
    "ContactEnded",
    "ContactHeld",
    "ContactOffered",
    "ContactQueued",
    "ContactResumed",
    "OfferAccepted",
    "OfferDeclined",
    "OfferTimedOut",
    "WrapUpCompleted",
    "WrapUpStarted",
]


@dataclass(frozen=True, slots=True)
class ContactArrived:
    contact_id: str
    channel: str
    ani: str
    dnis: str


@dataclass(frozen=True, slots=True)
class ContactQueued:
    contact_id: str
    queue_id: str
    priority: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """One agent the ACD considered for an offer, its score and why it did or did not win."""

    agent_id: str
    score: float
    note: str


@dataclass(frozen=True, slots=True)
class ContactOffered:
    """The ACD reserved an agent for the contact, and says why that agent.

    `candidates` are the eligible agents it compared (best first) with their scores;
    `reason` is a sentence an auditor can read; `rule_version` is the queue's
    configuration version the decision applied; `expires_at` is the ring deadline (ms).
    """

    contact_id: str
    queue_id: str
    agent_id: str
    strategy: str
    rule_version: int
    candidates: tuple[Candidate, ...]
    reason: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferTimedOut:
    """Ring no answer (RONA): the offer's deadline passed."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactConnected:
    """The contact is connected to an agent; `wait_ms` is its time in queue."""

    contact_id: str
    queue_id: str
    agent_id: str
    wait_ms: int


@dataclass(frozen=True, slots=True)
class ContactHeld:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactResumed:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactEnded:
    """The contact ended. `reason`: "completed" (was connected) or "abandoned" (was waiting).

    `party` is who ended it ("caller", "agent", "system"); `wait_ms` is its time in queue
    until connected or until it ended, `agent_id` is "" when no agent handled it.
    """

    contact_id: str
    queue_id: str
    reason: str
    party: str
    agent_id: str
    wait_ms: int


@dataclass(frozen=True, slots=True)
class WrapUpStarted:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpCompleted:
    """After-call work done; `disposition` is the outcome code ("timeout" when forced)."""

    contact_id: str
    agent_id: str
    disposition: str
    notes: str
