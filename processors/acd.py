"""The ACD decider: configuration, presence, routing and the contact lifecycle.

Commands define skills, schedules, queues (strategy, priorities, skills, tiers and their
relaxation, business hours, overflow, limits, sticky routing, RONA and wrap-up rules),
agents (memberships with tier, weight and shift schedule; skills; channel capacity) and
blocked numbers; every definition becomes an event on `cc.config-events`, so the rules in
force at any moment are a replay away.

`decide(state, command)` returns the events a command causes, raising `Invalid` for a
command naming an unknown agent or queue (the runner dead-letters it) and `Rejected` with
a stable code for a well-formed command that conflicts with the current state (see
`REJECTION_CODES`). Time is the command's `envelope.occurred_at` (ms); timeouts (ring no
answer, wrap-up) fire on `Tick`. Each decided event is folded into a working copy of the
state as it is emitted (`processors.acd_state.apply`, the same fold `evolve` uses), so a
command's later decisions, and dispatch, see the effects of its earlier ones.

State is per tenant (`AcdState.tenants`), so one instance can own a partition that carries
several tenants. Eligibility, service order and offers (with their explanations) live in
`processors.dispatch`, the strategies in `processors.strategies`, admission, overflow and
timers in `processors.acd_rules`, transfers, consults, conferences and supervisors in
`processors.acd_handover`. `ACD(scan=True)` is the baseline that scans every agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from processors.acd_handover import (
    HANDOVER_CODES,
    accept_consult,
    decide_handover,
    decline_consult,
    hang_up_parties,
    is_consult_offer,
)
from processors.acd_rules import admit, on_tick, wrap_deadline
from processors.acd_state import (
    CONNECTED,
    HELD,
    OFFERED,
    WAITING,
    WRAP_UP,
    AcdState,
    Agent,
    TenantState,
    Wrap,
    apply,
)
from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.dispatch import Draft
from processors.schedule import schedule_problem
from processors.strategies import STRATEGIES
from schemas import commands as acd_commands
from schemas.agent import AgentLoggedIn, AgentLoggedOut
from schemas.commands import (
    AcceptOffer,
    BlockNumber,
    CancelConsult,
    CompleteTransfer,
    CompleteWrapUp,
    ConferenceContact,
    ConsultAgent,
    DeclineOffer,
    DefineAgent,
    DefineDisposition,
    DefineQueue,
    DefineSchedule,
    DefineSkill,
    ExtendWrapUp,
    HangUpContact,
    HoldContact,
    LeaveConference,
    LogInAgent,
    LogOutAgent,
    MonitorContact,
    RequestCallback,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentQueues,
    SetAgentReady,
    StopMonitoring,
    Tick,
    TransferContact,
    UnblockNumber,
)
from schemas.config import (
    AgentDefined,
    AgentQueuesChanged,
    DispositionDefined,
    NumberBlocked,
    NumberUnblocked,
    QueueDefined,
    ScheduleDefined,
    SkillDefined,
)
from schemas.contact import (
    CallbackRequested,
    ContactArrived,
    ContactBlocked,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactResumed,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    WrapUpCompleted,
    WrapUpExtended,
    WrapUpStarted,
)
from schemas.envelope import Message
from schemas.routing import CHANNELS, OVERFLOW_ACTIONS, OVERFLOW_WHEN, Capacity, Membership, SkillLevel

__all__ = ["ACD", "PARTIES", "REJECTION_CODES", "acd_processor", "agent_defined"]

PARTIES = ("caller", "agent", "system")
# The ACD decides the commands of `schemas.commands`; every other command on `cc.commands`
# (recordings, tickets, customers, knowledge base, …) belongs to another decider.
_MINE = frozenset(t for t in (getattr(acd_commands, n) for n in acd_commands.__all__) if isinstance(t, type))
REJECTION_CODES = (
    "agent_already_logged_in",
    "agent_not_logged_in",
    "agent_busy",
    "agent_already_available",
    "agent_not_on_contact",
    "contact_already_exists",
    "contact_not_found",
    "contact_not_offered_to_agent",
    "contact_not_waiting",
    "contact_not_connected",
    "contact_already_held",
    "contact_not_held",
    "contact_not_in_wrap_up",
    "contact_ended",
    "unknown_disposition",
    *HANDOVER_CODES,
)
# Overflow actions each trigger allows: a contact refused on arrival cannot wait for a callback.
_ACTIONS_FOR = {
    "wait": OVERFLOW_ACTIONS,
    "no_agents": OVERFLOW_ACTIONS,
    "full": ("queue", "voicemail", "message"),
    "closed": ("queue", "voicemail", "message"),
}


def _agent(t: TenantState, agent_id: str) -> Agent:
    agent = t.agents.get(agent_id)
    if agent is None:
        raise Invalid(f"unknown agent {agent_id!r}")
    return agent


def _logged_in_idle(agent: Agent) -> None:
    """An agent that may change its own presence: logged in and holding no contact."""
    if agent.presence == "logged_out":
        raise Rejected("agent_not_logged_in", f"agent {agent.agent_id!r} is not logged in")
    if agent.work:
        held = ", ".join(f"{w.contact_id} ({w.phase})" for w in agent.work)
        raise Rejected("agent_busy", f"agent {agent.agent_id!r} is {agent.state} on {held}")


def _skills(t: TenantState, skills: tuple[SkillLevel, ...], where: str) -> None:
    for i, s in enumerate(skills):
        if s.skill not in t.skills:
            raise Invalid(f"{where}[{i}]: unknown skill {s.skill!r} (define it with DefineSkill)")
        if not 1 <= s.level <= 5:
            raise Invalid(f"{where}[{i}]: level of {s.skill!r} must be 1 to 5, not {s.level}")


def _define_queue(d: Draft, cmd: DefineQueue) -> None:
    t = d.t
    if not cmd.queue_id:
        raise Invalid("queue_id must not be empty")
    if cmd.strategy not in STRATEGIES:
        raise Invalid(f"unknown strategy {cmd.strategy!r}; use one of {', '.join(STRATEGIES)}")
    limits = (cmd.sl_threshold_s, cmd.short_abandon_s, cmd.ring_timeout_s, cmd.wrap_up_s)
    for name in ("sl_threshold_s", "short_abandon_s", "ring_timeout_s", "wrap_up_s"):
        if getattr(cmd, name) < 0:
            raise Invalid(f"{name} must be >= 0 seconds, not {getattr(cmd, name)}")
    for name in ("priority_aging_s", "max_waiting", "sticky_s"):
        if getattr(cmd, name) < 0:
            raise Invalid(f"{name} must be >= 0, not {getattr(cmd, name)}")
    if cmd.max_tier < -1:
        raise Invalid(f"max_tier must be -1 (any tier) or a tier >= 0, not {cmd.max_tier}")
    _skills(t, cmd.required_skills, "required_skills")
    for i, step in enumerate(cmd.relax):
        for name, low in (("after_s", 0), ("skill_drop", 0), ("max_tier", -1)):
            if getattr(step, name) < low:
                raise Invalid(f"relax[{i}].{name} must be >= {low}, not {getattr(step, name)}")
    if cmd.hours and cmd.hours not in t.schedules:
        raise Invalid(f"hours: unknown schedule {cmd.hours!r}")
    for i, rule in enumerate(cmd.overflow):
        if rule.when not in OVERFLOW_WHEN:
            raise Invalid(f"overflow[{i}].when must be one of {', '.join(OVERFLOW_WHEN)}, not {rule.when!r}")
        if rule.action not in _ACTIONS_FOR[rule.when]:
            allowed = ", ".join(_ACTIONS_FOR[rule.when])
            raise Invalid(
                f"overflow[{i}].action {rule.action!r} is not allowed when {rule.when!r}; use {allowed}"
            )
        if rule.action == "queue" and (rule.target == cmd.queue_id or rule.target not in t.queues):
            raise Invalid(f"overflow[{i}].target must be another defined queue, not {rule.target!r}")
        if rule.after_s < 0:
            raise Invalid(f"overflow[{i}].after_s must be >= 0, not {rule.after_s}")
    old = t.queues.get(cmd.queue_id)
    version = 1 if old is None else old.rule_version + 1
    d.emit(
        QueueDefined(
            cmd.queue_id,
            cmd.name,
            *limits,
            cmd.strategy,
            version,
            cmd.priority,
            cmd.priority_aging_s,
            tuple(cmd.required_skills),
            cmd.max_tier,
            tuple(cmd.relax),
            cmd.hours,
            cmd.max_waiting,
            tuple(cmd.overflow),
            cmd.sticky_s,
            cmd.rona_not_ready,
            cmd.auto_ready,
        )
    )
    d.dirty.add(cmd.queue_id)


def agent_defined(cmd: DefineAgent) -> AgentDefined:
    """The definition the ACD records for a (valid) `DefineAgent`: every queue in `queues`
    gets a tier-0 membership unless `memberships` names it; capacity defaults to one voice."""
    memberships = {q: Membership(q) for q in cmd.queues} | {m.queue_id: m for m in cmd.memberships}
    capacity = tuple(cmd.capacity) or (Capacity("voice", 1),)
    return AgentDefined(
        cmd.agent_id,
        cmd.name,
        tuple(memberships),
        tuple(memberships.values()),
        tuple(cmd.skills),
        capacity,
        cmd.team,
    )


def _define_agent(d: Draft, cmd: DefineAgent) -> None:
    t = d.t
    if not cmd.agent_id:
        raise Invalid("agent_id must not be empty")
    for i, q in enumerate(cmd.queues):
        if q not in t.queues:
            raise Invalid(f"queues[{i}]: unknown queue {q!r}")
    for i, m in enumerate(cmd.memberships):
        if m.queue_id not in t.queues:
            raise Invalid(f"memberships[{i}].queue_id: unknown queue {m.queue_id!r}")
        if m.tier < 0:
            raise Invalid(f"memberships[{i}].tier must be >= 0, not {m.tier}")
        if m.weight < 1:
            raise Invalid(f"memberships[{i}].weight must be >= 1, not {m.weight}")
        if m.schedule and m.schedule not in t.schedules:
            raise Invalid(f"memberships[{i}].schedule: unknown schedule {m.schedule!r}")
    _skills(t, cmd.skills, "skills")
    for i, c in enumerate(cmd.capacity):
        if c.channel not in CHANNELS:
            raise Invalid(f"capacity[{i}].channel must be one of {', '.join(CHANNELS)}, not {c.channel!r}")
        if c.max < 0:
            raise Invalid(f"capacity[{i}].max must be >= 0, not {c.max}")
    old = t.agents.get(cmd.agent_id)
    d.emit(agent_defined(cmd))
    if old is not None:
        # Its old queues too: a contact waiting there for it (sticky) may now go to others.
        d.dirty.update(old.memberships)
        if old.presence == "available":
            d.wake_agent(cmd.agent_id)


def _known_queues(t: TenantState, queues: tuple[str, ...], field: str) -> None:
    for i, q in enumerate(queues):
        if q not in t.queues:
            raise Invalid(f"{field}[{i}]: unknown queue {q!r}")


def _set_agent_queues(d: Draft, cmd: SetAgentQueues) -> None:
    agent = _agent(d.t, cmd.agent_id)
    _known_queues(d.t, tuple(cmd.queues), "queues")
    queues = tuple(dict.fromkeys(cmd.queues))
    previous = tuple(agent.memberships)
    d.emit(AgentQueuesChanged(agent.agent_id, queues, previous))
    d.dirty.update(previous)  # a contact waiting there for it (sticky) may now go to others
    if agent.presence == "available":
        d.wake_agent(agent.agent_id)


def _define_disposition(d: Draft, cmd: DefineDisposition) -> None:
    if not cmd.code:
        raise Invalid("code must not be empty")
    _known_queues(d.t, tuple(cmd.queues), "queues")
    d.emit(DispositionDefined(cmd.code, cmd.name, tuple(cmd.queues)))


def _define_other(d: Draft, cmd: DefineSkill | DefineSchedule | BlockNumber | UnblockNumber) -> None:
    match cmd:
        case DefineSkill(skill_id=skill_id, name=name):
            if not skill_id:
                raise Invalid("skill_id must not be empty")
            d.emit(SkillDefined(skill_id, name))
        case DefineSchedule():
            if not cmd.schedule_id:
                raise Invalid("schedule_id must not be empty")
            problem = schedule_problem(cmd.timezone, tuple(cmd.windows), tuple(cmd.holidays))
            if problem:
                raise Invalid(f"schedule {cmd.schedule_id!r}: {problem}")
            d.emit(
                ScheduleDefined(
                    cmd.schedule_id, cmd.name, cmd.timezone, tuple(cmd.windows), tuple(cmd.holidays)
                )
            )
            d.dirty.update(d.t.waiting)
        case BlockNumber(number=number, reason=reason):
            if not number:
                raise Invalid("number must not be empty")
            d.emit(NumberBlocked(number, reason))
        case UnblockNumber(number=number):
            if not number:
                raise Invalid("number must not be empty")
            d.emit(NumberUnblocked(number))


def _presence(d: Draft, cmd: LogInAgent | LogOutAgent | SetAgentReady | SetAgentNotReady) -> None:
    agent = _agent(d.t, cmd.agent_id)
    aid = agent.agent_id
    match cmd:
        case LogInAgent():
            if agent.presence != "logged_out":
                raise Rejected("agent_already_logged_in", f"agent {aid!r} is already logged in")
            d.emit(AgentLoggedIn(aid, agent.queues))
            d.presence(aid, "not_ready", "login", force=True)
        case LogOutAgent():
            _logged_in_idle(agent)
            d.presence(aid, "logged_out", "", force=True)
            d.emit(AgentLoggedOut(aid))
            d.dirty.update(agent.memberships)  # contacts waiting for it (sticky) may go to others
        case SetAgentReady():
            _logged_in_idle(agent)
            if agent.presence == "available":
                raise Rejected("agent_already_available", f"agent {aid!r} is already available")
            d.presence(aid, "available", "", force=True)
        case SetAgentNotReady(reason=reason):
            _logged_in_idle(agent)
            d.presence(aid, "not_ready", reason, force=True)


def _route(d: Draft, cmd: RouteContact) -> None:
    if cmd.queue_id not in d.t.queues:
        raise Invalid(f"unknown queue {cmd.queue_id!r}")
    if not cmd.contact_id:
        raise Invalid("contact_id must not be empty")
    if cmd.channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}, not {cmd.channel!r}")
    _skills(d.t, cmd.skills, "skills")
    if cmd.contact_id in d.t.contacts:
        raise Rejected("contact_already_exists", f"contact {cmd.contact_id!r} is already in progress")
    blocked = d.t.blocked.get(cmd.ani) if cmd.ani else None
    if blocked is not None:
        d.emit(ContactBlocked(cmd.contact_id, cmd.queue_id, cmd.ani, blocked))
        return
    d.emit(ContactArrived(cmd.contact_id, cmd.channel, cmd.ani, cmd.dnis))
    admit(d, cmd.contact_id, cmd.queue_id, cmd.priority, tuple(cmd.skills))


def _contact_for(d: Draft, contact_id: str, agent_id: str, phases: tuple[str, ...], code: str) -> str:
    """Check the contact is in one of `phases` with `agent_id`; its queue id."""
    if agent_id:
        _agent(d.t, agent_id)
    c = d.t.contacts.get(contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {contact_id!r} in progress")
    if c.phase not in phases:
        raise Rejected(code, f"contact {contact_id!r} is {c.phase}, not {' or '.join(phases)}")
    if agent_id:
        if c.phase == OFFERED and agent_id not in c.offers:
            raise Rejected(
                "contact_not_offered_to_agent", f"contact {contact_id!r} is not offered to agent {agent_id!r}"
            )
        if c.phase != OFFERED and c.agent_id != agent_id:
            raise Rejected("agent_not_on_contact", f"contact {contact_id!r} is not with agent {agent_id!r}")
    return c.queue_id


def _on_contact(d: Draft, cmd: AcceptOffer | DeclineOffer | HoldContact | ResumeContact) -> None:
    cid, aid = cmd.contact_id, cmd.agent_id
    c = d.t.contacts.get(cid)
    if isinstance(cmd, AcceptOffer | DeclineOffer) and c is not None and is_consult_offer(c, aid):
        _agent(d.t, aid)
        (accept_consult if isinstance(cmd, AcceptOffer) else decline_consult)(d, c, aid)
        return
    match cmd:
        case AcceptOffer():
            queue_id = _contact_for(d, cid, aid, (OFFERED,), "contact_not_offered_to_agent")
            c = d.t.contacts[cid]
            others = [a for a in c.offers if a != aid]
            d.emit(OfferAccepted(cid, aid), ContactConnected(cid, queue_id, aid, d.now - c.queued_at))
            d.presence(aid, contact_id=cid)
            for other in others:
                d.emit(OfferWithdrawn(cid, other, "answered_elsewhere"))
                d.presence(other, contact_id=cid)
        case DeclineOffer():
            queue_id = _contact_for(d, cid, aid, (OFFERED,), "contact_not_offered_to_agent")
            d.emit(OfferDeclined(cid, aid))
            d.presence(aid, contact_id=cid)
            d.dirty.add(queue_id)
        case HoldContact():
            _agent(d.t, aid)
            if d.t.contacts.get(cid) is not None and d.t.contacts[cid].phase == HELD:
                raise Rejected("contact_already_held", f"contact {cid!r} is already on hold")
            _contact_for(d, cid, aid, (CONNECTED,), "contact_not_connected")
            d.emit(ContactHeld(cid, aid))
        case ResumeContact():
            _contact_for(d, cid, aid, (HELD,), "contact_not_held")
            d.emit(ContactResumed(cid, aid))


def _hang_up(d: Draft, cmd: HangUpContact) -> None:
    if cmd.party not in PARTIES:
        raise Invalid(f"party must be one of {', '.join(PARTIES)}, not {cmd.party!r}")
    c = d.t.contacts.get(cmd.contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {cmd.contact_id!r} in progress")
    if c.phase == WRAP_UP:
        raise Rejected("contact_ended", f"contact {c.contact_id!r} has already ended")
    hang_up_parties(d, c)
    if c.phase in (CONNECTED, HELD) and c.agent_id:
        d.emit(
            ContactEnded(c.contact_id, c.queue_id, "completed", cmd.party, c.agent_id, c.wait_ms),
            WrapUpStarted(c.contact_id, c.agent_id),
        )
        d.presence(c.agent_id, contact_id=c.contact_id)
        for other in c.others:
            d.emit(WrapUpStarted(c.contact_id, other))
            d.presence(other, contact_id=c.contact_id)
        return
    d.emit(ContactEnded(c.contact_id, c.queue_id, "abandoned", cmd.party, "", d.now - c.queued_at))
    for aid in c.offers:
        d.presence(aid, contact_id=c.contact_id)


def _request_callback(d: Draft, cmd: RequestCallback) -> None:
    c = d.t.contacts.get(cmd.contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {cmd.contact_id!r} in progress")
    if c.phase != WAITING:
        raise Rejected("contact_not_waiting", f"contact {c.contact_id!r} is {c.phase}, not waiting")
    callback_id = f"{c.contact_id}-cb"
    if callback_id in d.t.contacts:
        raise Rejected("contact_already_exists", f"callback {callback_id!r} is already in progress")
    number = cmd.number or c.ani
    if not number:
        raise Invalid(f"contact {c.contact_id!r} has no caller number: give the number to call back")
    d.emit(
        CallbackRequested(c.contact_id, callback_id, c.queue_id, number),
        ContactEnded(c.contact_id, c.queue_id, "callback", "caller", "", d.now - c.queued_at),
        ContactArrived(callback_id, "callback", number, ""),
    )
    admit(
        d, callback_id, c.queue_id, c.priority, c.skills, place=c.seq, waiting_since=c.queued_at, door=False
    )


def _wrapping(d: Draft, contact_id: str, agent_id: str) -> Wrap:
    """The wrap-up of `agent_id` on the contact (Rejected when there is none)."""
    _agent(d.t, agent_id)
    c = d.t.contacts.get(contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {contact_id!r} in progress")
    w = c.wrap_of(agent_id)
    if w is not None:
        return w
    if c.phase == WRAP_UP:
        raise Rejected("agent_not_on_contact", f"contact {contact_id!r} is not with agent {agent_id!r}")
    raise Rejected("contact_not_in_wrap_up", f"contact {contact_id!r} is {c.phase}, not wrap_up")


def _disposition_allowed(d: Draft, cmd: CompleteWrapUp) -> None:
    """Once the tenant defines dispositions, only those allowed for the contact's queue."""
    if not d.t.dispositions:
        return
    queue_id = d.t.contacts[cmd.contact_id].queue_id
    allowed = sorted(code for code, x in d.t.dispositions.items() if not x.queues or queue_id in x.queues)
    if cmd.disposition not in allowed:
        raise Rejected(
            "unknown_disposition",
            f"disposition {cmd.disposition!r} is not defined for queue {queue_id!r}; "
            f"use one of: {', '.join(allowed) or '(none defined for this queue)'}",
        )


def _wrap_up(d: Draft, cmd: CompleteWrapUp | ExtendWrapUp) -> None:
    w = _wrapping(d, cmd.contact_id, cmd.agent_id)
    match cmd:
        case ExtendWrapUp(seconds=seconds):
            if seconds <= 0:
                raise Invalid(f"seconds must be > 0, not {seconds}")
            c = d.t.contacts[cmd.contact_id]
            deadline = max(wrap_deadline(w, d.t.queues.get(c.queue_id)), d.now)
            d.emit(WrapUpExtended(c.contact_id, cmd.agent_id, deadline + seconds * 1000))
        case CompleteWrapUp():
            _disposition_allowed(d, cmd)
            d.emit(WrapUpCompleted(cmd.contact_id, cmd.agent_id, cmd.disposition, cmd.notes))
            if cmd.next_state == "not_ready":
                d.presence(cmd.agent_id, "not_ready", cmd.not_ready_reason, cmd.contact_id, force=True)
            else:
                d.presence(cmd.agent_id, "available", "", cmd.contact_id, force=True)


def _decide(t: TenantState, body: object, now: int, seed: str, scan: bool) -> list[object]:
    d = Draft(t, now, seed, scan)
    match body:
        case DefineQueue():
            _define_queue(d, body)
        case DefineAgent():
            _define_agent(d, body)
        case DefineSkill() | DefineSchedule() | BlockNumber() | UnblockNumber():
            _define_other(d, body)
        case SetAgentQueues():
            _set_agent_queues(d, body)
        case DefineDisposition():
            _define_disposition(d, body)
        case (
            TransferContact()
            | ConsultAgent()
            | CompleteTransfer()
            | ConferenceContact()
            | CancelConsult()
            | LeaveConference()
            | MonitorContact()
            | StopMonitoring()
        ):
            decide_handover(d, body)
        case LogInAgent() | LogOutAgent() | SetAgentReady() | SetAgentNotReady():
            _presence(d, body)
        case RouteContact():
            _route(d, body)
        case AcceptOffer() | DeclineOffer() | HoldContact() | ResumeContact():
            _on_contact(d, body)
        case HangUpContact():
            _hang_up(d, body)
        case RequestCallback():
            _request_callback(d, body)
        case CompleteWrapUp():
            if body.next_state not in ("ready", "not_ready"):
                raise Invalid(f"next_state must be 'ready' or 'not_ready', not {body.next_state!r}")
            _wrap_up(d, body)
        case ExtendWrapUp():
            _wrap_up(d, body)
        case Tick():
            on_tick(d)
        case _:
            raise Invalid(f"the ACD does not handle {type(body).__name__}")
    d.dispatch()
    return d.events


class ACD:
    """The ACD decider (`processors.decider.Decider`), driven by `acd_processor()`."""

    name = "acd"
    inputs: tuple[str, ...] = ("cc.commands",)
    outputs: tuple[str, ...] = (
        "cc.contact-events",
        "cc.agent-events",
        "cc.config-events",
        "cc.command-results",
    )
    version = 3  # 2: persistent maps, routing indexes, agent work and presence; 3: hand-overs, wraps

    def initial_state(self) -> AcdState:
        return AcdState()

    def __init__(self, scan: bool = False) -> None:
        self.scan = scan

    def decide(self, state: AcdState, command: Message[Any]) -> Sequence[object]:
        if type(command.body) not in _MINE:
            return ()
        env = command.envelope
        return _decide(state.tenant(env.tenant), command.body, env.occurred_at, env.event_id, self.scan)

    def evolve(self, state: AcdState, event: Message[Any]) -> AcdState:
        env = event.envelope
        return state.with_tenant(env.tenant, apply(state.tenant(env.tenant), event.body, env.occurred_at))


def acd_processor() -> DeciderProcessor[AcdState]:
    """The ACD as the runner drives it: reads `cc.commands`, writes contact/agent/config events."""
    return DeciderProcessor(ACD(), ACD.inputs, ACD.version, ACD.outputs)
