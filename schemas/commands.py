"""Commands: what edges (switch, simulator, API) ask the ACD to do. Imperative names.

Every command goes to `cc.commands`, keyed by tenant, so one ACD instance decides all of
a tenant's commands serially. Switch facts the ACD must react to (a caller hanging up)
are commands too (`HangUpContact`), so the ACD's input is one totally ordered topic and
a replay sees exactly the order the first run saw (docs/adr/0003).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.routing import Capacity, Membership, OverflowRule, RelaxStep, SkillLevel, Window

__all__ = [
    "AcceptOffer",
    "BlockNumber",
    "CompleteWrapUp",
    "DeclineOffer",
    "DefineAgent",
    "DefineQueue",
    "DefineSchedule",
    "DefineSkill",
    "ExtendWrapUp",
    "HangUpContact",
    "HoldContact",
    "LogInAgent",
    "LogOutAgent",
    "RequestCallback",
    "ResumeContact",
    "RouteContact",
    "SetAgentNotReady",
    "SetAgentReady",
    "Tick",
    "UnblockNumber",
    "SetAgentQueues",
    "DefineDisposition",
    "TransferContact",
    "ConsultAgent",
    "CompleteTransfer",
    "ConferenceContact",
    "CancelConsult",
    "LeaveConference",
    "MonitorContact",
    "StopMonitoring",
]


@dataclass(frozen=True, slots=True)
class DefineQueue:
    """Create or change a queue: thresholds (per METRICS.md), strategy and routing rules.

    `strategy` is one of `processors.strategies.STRATEGIES`. `priority` is added to each
    contact's own priority; `priority_aging_s` adds 1 more for every that many seconds a
    contact waits (0: no aging). `required_skills` every contact of the queue needs;
    `max_tier` the highest member tier offered at first (-1: any) and `relax` the steps
    that widen tiers and lower skill levels as a contact waits. `hours` names the schedule
    of the queue's business hours ("" = always open). `max_waiting` caps the contacts
    waiting (0: no cap); `overflow` says where contacts go by rule. `sticky_s`: a contact
    waits up to that long for the agent who last served its caller. `rona_not_ready`: an
    agent who lets an offer ring out is set not ready (reason "rona"), else stays ready.
    `auto_ready`: after wrap-up times out the agent is ready again, else not ready.
    """

    queue_id: str
    name: str
    sl_threshold_s: int = 20
    short_abandon_s: int = 5
    ring_timeout_s: int = 15
    wrap_up_s: int = 60
    strategy: str = "longest_idle"
    priority: int = 0
    priority_aging_s: int = 0
    required_skills: tuple[SkillLevel, ...] = ()
    max_tier: int = -1
    relax: tuple[RelaxStep, ...] = ()
    hours: str = ""
    max_waiting: int = 0
    overflow: tuple[OverflowRule, ...] = ()
    sticky_s: int = 0
    rona_not_ready: bool = True
    auto_ready: bool = True


@dataclass(frozen=True, slots=True)
class DefineAgent:
    """Create or change an agent: the queues served, skills and per-channel capacity.

    `queues` lists queues served at tier 0 always; `memberships` adds (or overrides, for
    the same queue) queues with a tier, a weight and a schedule. `capacity` defaults to one
    voice contact at a time. `team` names the agent's team ("" = none): supervisors act on
    the agents of their teams.
    """

    agent_id: str
    name: str
    queues: tuple[str, ...]
    memberships: tuple[Membership, ...] = ()
    skills: tuple[SkillLevel, ...] = ()
    capacity: tuple[Capacity, ...] = ()
    team: str = ""


@dataclass(frozen=True, slots=True)
class DefineSkill:
    """Register a skill that queues, contacts and agents may name."""

    skill_id: str
    name: str


@dataclass(frozen=True, slots=True)
class DefineSchedule:
    """Create or change a schedule: weekly open windows in `timezone` (IANA name), closed on
    `holidays` (ISO dates, local). Queues use it for business hours, memberships for shifts."""

    schedule_id: str
    name: str
    timezone: str = "UTC"
    windows: tuple[Window, ...] = ()
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockNumber:
    """Refuse contacts from `number` (blacklist), with the reason given to auditors."""

    number: str
    reason: str


@dataclass(frozen=True, slots=True)
class UnblockNumber:
    """Accept contacts from `number` again."""

    number: str


@dataclass(frozen=True, slots=True)
class RouteContact:
    """A contact wants service in a queue (from the IVR, the switch or the simulator)."""

    contact_id: str
    queue_id: str
    channel: str = "voice"
    priority: int = 0
    ani: str = ""
    dnis: str = ""
    skills: tuple[SkillLevel, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """The waiting caller chose to be called back at `number` ("" = the caller's number):
    the call ends and a callback contact keeps its place in the queue."""

    contact_id: str
    number: str = ""


@dataclass(frozen=True, slots=True)
class ExtendWrapUp:
    """The agent needs `seconds` more of after-call work than the queue's wrap-up time."""

    contact_id: str
    agent_id: str
    seconds: int


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


@dataclass(frozen=True, slots=True)
class SetAgentQueues:
    """A supervisor moves an agent: `queues` replaces the queues it serves. A membership
    from `DefineAgent` (tier, weight, schedule) is kept for a queue still listed; the other
    queues are served at tier 0."""

    agent_id: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DefineDisposition:
    """Create or change a wrap-up disposition code, allowed in `queues` (empty: every queue).
    Once a tenant defines one, `CompleteWrapUp` accepts only defined codes."""

    code: str
    name: str
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferContact:
    """Blind transfer by the agent on the contact: to a queue (the caller waits there again)
    or straight to an available agent. Exactly one of `to_queue` and `to_agent` is set."""

    contact_id: str
    agent_id: str
    to_queue: str = ""
    to_agent: str = ""


@dataclass(frozen=True, slots=True)
class ConsultAgent:
    """The agent puts the caller on hold and calls `to_agent` (who answers with
    `AcceptOffer` or declines with `DeclineOffer`)."""

    contact_id: str
    agent_id: str
    to_agent: str


@dataclass(frozen=True, slots=True)
class CompleteTransfer:
    """After a consult: the caller goes to the consulted agent; this agent wraps up."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ConferenceContact:
    """After a consult: the caller is taken off hold and talks with both agents."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CancelConsult:
    """The agent ends the consult; the consulted agent is free again, the caller stays held."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class LeaveConference:
    """An agent leaves a conference and wraps up; the last agent left keeps the caller."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class MonitorContact:
    """A supervisor joins a connected contact: `mode` "monitor" (listen), "whisper" (the
    agent hears the supervisor, the caller does not) or "barge" (everyone hears)."""

    contact_id: str
    supervisor_id: str
    mode: str = "monitor"


@dataclass(frozen=True, slots=True)
class StopMonitoring:
    """The supervisor leaves the contact."""

    contact_id: str
    supervisor_id: str
