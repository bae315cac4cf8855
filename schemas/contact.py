"""Contact lifecycle events (public topic `cc.contact-events`). Past-tense names.

A contact arrives, is queued, is offered to agents (each offer accepted, declined or
timed out), is connected, may be held and resumed, ends with a reason, and when an agent
handled it, the agent's wrap-up starts and completes with a disposition.

An agent may hand the contact on: a blind transfer (`ContactTransferred`, mode "blind") to
a queue or an agent; or a consult (`ConsultOffered` → `ConsultConnected` or `ConsultEnded`)
that ends in a transfer (mode "consult") or a conference (`ConferenceStarted`, agents
leave it with `AgentLeftConference`). Each agent who leaves the caller gets its own
`WrapUpStarted` / `WrapUpCompleted`. Supervisors join and leave with `SupervisorJoined` /
`SupervisorLeft`.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.routing import SkillLevel

__all__ = [
    "CallbackOffered",
    "CallbackRequested",
    "Candidate",
    "ContactBlocked",
    "ContactArrived",
    "ContactConnected",
    "ContactEnded",
    "ContactHeld",
    "ContactOffered",
    "ContactOverflowed",
    "ContactQueued",
    "ContactResumed",
    "OfferAccepted",
    "OfferDeclined",
    "OfferTimedOut",
    "OfferWithdrawn",
    "WrapUpCompleted",
    "WrapUpExtended",
    "WrapUpStarted",
    "AgentLeftConference",
    "ConferenceStarted",
    "ConsultConnected",
    "ConsultEnded",
    "ConsultOffered",
    "ContactTransferred",
    "SupervisorJoined",
    "SupervisorLeft",
]


@dataclass(frozen=True, slots=True)
class ContactArrived:
    contact_id: str
    channel: str
    ani: str
    dnis: str


@dataclass(frozen=True, slots=True)
class ContactQueued:
    """The contact waits in `queue_id`. `skills` are its own required skills (beside the
    queue's). A contact moved by overflow, or a callback, keeps its place: `place` is the
    arrival order it keeps and `waiting_since` (ms) when its wait began (0: new, now)."""

    contact_id: str
    queue_id: str
    priority: int
    skills: tuple[SkillLevel, ...] = ()
    place: int = 0
    waiting_since: int = 0


@dataclass(frozen=True, slots=True)
class ContactBlocked:
    """A contact from a blocked number was refused at the door (it was never queued)."""

    contact_id: str
    queue_id: str
    ani: str
    reason: str


@dataclass(frozen=True, slots=True)
class ContactOverflowed:
    """A rule took the contact out of `from_queue`: `when` the rule fired ("wait",
    "no_agents", "full", "closed") and its `action`; `to_queue` is set for action "queue"."""

    contact_id: str
    from_queue: str
    to_queue: str
    when: str
    action: str
    target: str


@dataclass(frozen=True, slots=True)
class CallbackOffered:
    """The caller is offered a callback (the switch plays the offer); the contact waits on."""

    contact_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The caller chose a callback: this contact ends (reason "callback") and the linked
    `callback_contact_id` waits in its place to call `number` back."""

    contact_id: str
    callback_contact_id: str
    queue_id: str
    number: str


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
class OfferWithdrawn:
    """The ACD took an offer back before the agent answered (`reason`: "answered_elsewhere"
    for a ring-all offer another agent took, "caller_left", "overflowed")."""

    contact_id: str
    agent_id: str
    reason: str


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

    Since the ACD has rules, also: "timed_out" (a max-wait rule: voicemail or a closing message),
    "callback" (the caller chose a callback), "closed" (outside business hours, never queued), "full"
    (the queue held `max_waiting` contacts and no rule took it; never queued).

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
class WrapUpExtended:
    """The agent asked for more after-call work: wrap-up now ends at `until` (ms)."""

    contact_id: str
    agent_id: str
    until: int


@dataclass(frozen=True, slots=True)
class WrapUpCompleted:
    """After-call work done; `disposition` is the outcome code ("timeout" when forced)."""

    contact_id: str
    agent_id: str
    disposition: str
    notes: str


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """`from_agent` handed the caller on: to queue `to_queue` or agent `to_agent` (one is
    ""); `mode` "blind" (the caller waits or rings) or "consult" (after a consult)."""

    contact_id: str
    from_agent: str
    to_queue: str
    to_agent: str
    mode: str


@dataclass(frozen=True, slots=True)
class ConsultOffered:
    """`agent_id` (the caller on hold) calls `to_agent`, who is reserved for the consult."""

    contact_id: str
    agent_id: str
    to_agent: str


@dataclass(frozen=True, slots=True)
class ConsultConnected:
    """`to_agent` answered the consult of `agent_id`."""

    contact_id: str
    agent_id: str
    to_agent: str


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    """The consult ended without a transfer or conference: `reason` "declined",
    "cancelled" or "caller_left"; `to_agent` is free again."""

    contact_id: str
    agent_id: str
    to_agent: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConferenceStarted:
    """The caller talks with all of `agents` (the first one had the caller)."""

    contact_id: str
    agents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentLeftConference:
    """`agent_id` left the conference (its wrap-up follows); `remaining` stay with the caller."""

    contact_id: str
    agent_id: str
    remaining: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SupervisorJoined:
    """A supervisor joined the contact of `agent_id`: `mode` "monitor", "whisper" or "barge"."""

    contact_id: str
    agent_id: str
    supervisor_id: str
    mode: str


@dataclass(frozen=True, slots=True)
class SupervisorLeft:
    contact_id: str
    supervisor_id: str
