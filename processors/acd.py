"""The ACD decider: routes contacts to agents (strategy: longest idle eligible agent).

`decide(state, command)` returns the events a command causes, raising `Invalid` for a
command naming an unknown agent or queue (the runner dead-letters it) and `Rejected` with
a stable code for a well-formed command that conflicts with the current state (see
`REJECTION_CODES`). Time is the command's `envelope.occurred_at` (ms); timeouts (ring no
answer, wrap-up) fire on `Tick`. Each decided event is folded into a working copy of the
state as it is emitted (`processors.acd_state.apply`, the same fold `evolve` uses), so a
command's later decisions, and dispatch, see the effects of its earlier ones.

State is per tenant (`AcdState.tenants`), so one instance can own a partition that carries
several tenants. The dispatch rules and their explanations live in `processors.dispatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from processors.acd_state import (
    CONNECTED,
    HELD,
    OFFERED,
    WRAP_UP,
    AcdState,
    Agent,
    TenantState,
    apply,
)
from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.dispatch import STRATEGIES, Draft, expire
from schemas.agent import AgentLoggedIn, AgentLoggedOut
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    HangUpContact,
    HoldContact,
    LogInAgent,
    LogOutAgent,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
)
from schemas.config import AgentDefined, QueueDefined
from schemas.contact import (
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    OfferAccepted,
    OfferDeclined,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Message

__all__ = ["ACD", "PARTIES", "REJECTION_CODES", "acd_processor"]

PARTIES = ("caller", "agent", "system")
BUSY = ("reserved", "handling", "wrap_up")
REJECTION_CODES = (
    "agent_already_logged_in",
    "agent_not_logged_in",
    "agent_busy",
    "agent_already_available",
    "agent_not_on_contact",
    "contact_already_exists",
    "contact_not_found",
    "contact_not_offered_to_agent",
    "contact_not_connected",
    "contact_already_held",
    "contact_not_held",
    "contact_not_in_wrap_up",
    "contact_ended",
)


def _agent(t: TenantState, agent_id: str) -> Agent:
    agent = t.agents.get(agent_id)
    if agent is None:
        raise Invalid(f"unknown agent {agent_id!r}")
    return agent


def _logged_in_idle(agent: Agent) -> None:
    """An agent that may change its own presence: logged in and not on a contact."""
    if agent.state == "logged_out":
        raise Rejected("agent_not_logged_in", f"agent {agent.agent_id!r} is not logged in")
    if agent.state in BUSY:
        raise Rejected("agent_busy", f"agent {agent.agent_id!r} is {agent.state} on {agent.contact_id!r}")


def _define_queue(d: Draft, cmd: DefineQueue) -> None:
    if not cmd.queue_id:
        raise Invalid("queue_id must not be empty")
    if cmd.strategy not in STRATEGIES:
        raise Invalid(f"unknown strategy {cmd.strategy!r}; use one of {', '.join(STRATEGIES)}")
    limits = (cmd.sl_threshold_s, cmd.short_abandon_s, cmd.ring_timeout_s, cmd.wrap_up_s)
    if min(limits) < 0:
        raise Invalid("queue thresholds must be >= 0 seconds")
    old = d.t.queues.get(cmd.queue_id)
    version = 1 if old is None else old.rule_version + 1
    d.emit(QueueDefined(cmd.queue_id, cmd.name, *limits, cmd.strategy, version))


def _define_agent(d: Draft, cmd: DefineAgent) -> None:
    if not cmd.agent_id:
        raise Invalid("agent_id must not be empty")
    for q in cmd.queues:
        if q not in d.t.queues:
            raise Invalid(f"unknown queue {q!r}")
    d.emit(AgentDefined(cmd.agent_id, cmd.name, tuple(cmd.queues)))
    d.dispatch()


def _presence(d: Draft, cmd: LogInAgent | LogOutAgent | SetAgentReady | SetAgentNotReady) -> None:
    agent = _agent(d.t, cmd.agent_id)
    match cmd:
        case LogInAgent():
            if agent.state != "logged_out":
                raise Rejected("agent_already_logged_in", f"agent {agent.agent_id!r} is already logged in")
            d.emit(AgentLoggedIn(agent.agent_id, agent.queues))
            d.change(agent.agent_id, "not_ready", "login")
        case LogOutAgent():
            _logged_in_idle(agent)
            d.change(agent.agent_id, "logged_out")
            d.emit(AgentLoggedOut(agent.agent_id))
        case SetAgentReady():
            _logged_in_idle(agent)
            if agent.state == "available":
                raise Rejected("agent_already_available", f"agent {agent.agent_id!r} is already available")
            d.change(agent.agent_id, "available")
            d.dispatch()
        case SetAgentNotReady(reason=reason):
            _logged_in_idle(agent)
            d.change(agent.agent_id, "not_ready", reason)


def _route(d: Draft, cmd: RouteContact) -> None:
    if cmd.queue_id not in d.t.queues:
        raise Invalid(f"unknown queue {cmd.queue_id!r}")
    if not cmd.contact_id:
        raise Invalid("contact_id must not be empty")
    if cmd.contact_id in d.t.contacts:
        raise Rejected("contact_already_exists", f"contact {cmd.contact_id!r} is already in progress")
    d.emit(
        ContactArrived(cmd.contact_id, cmd.channel, cmd.ani, cmd.dnis),
        ContactQueued(cmd.contact_id, cmd.queue_id, cmd.priority),
    )
    d.dispatch()


def _contact_for(d: Draft, contact_id: str, agent_id: str, phases: tuple[str, ...], code: str) -> str:
    """Check the contact is in one of `phases` with `agent_id`; its queue id."""
    if agent_id:
        _agent(d.t, agent_id)
    c = d.t.contacts.get(contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {contact_id!r} in progress")
    if c.phase not in phases:
        raise Rejected(code, f"contact {contact_id!r} is {c.phase}, not {' or '.join(phases)}")
    if agent_id and c.agent_id != agent_id:
        wrong = "contact_not_offered_to_agent" if c.phase == OFFERED else "agent_not_on_contact"
        raise Rejected(wrong, f"contact {contact_id!r} is not with agent {agent_id!r}")
    return c.queue_id


def _on_contact(d: Draft, cmd: AcceptOffer | DeclineOffer | HoldContact | ResumeContact) -> None:
    cid, aid = cmd.contact_id, cmd.agent_id
    match cmd:
        case AcceptOffer():
            queue_id = _contact_for(d, cid, aid, (OFFERED,), "contact_not_offered_to_agent")
            wait = d.now - d.t.contacts[cid].queued_at
            d.emit(OfferAccepted(cid, aid), ContactConnected(cid, queue_id, aid, wait))
            d.change(aid, "handling", contact_id=cid)
        case DeclineOffer():
            _contact_for(d, cid, aid, (OFFERED,), "contact_not_offered_to_agent")
            d.emit(OfferDeclined(cid, aid))
            d.change(aid, "available")
            d.dispatch()
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
    if c.phase in (CONNECTED, HELD):
        d.emit(
            ContactEnded(c.contact_id, c.queue_id, "completed", cmd.party, c.agent_id, c.wait_ms),
            WrapUpStarted(c.contact_id, c.agent_id),
        )
        d.change(c.agent_id, "wrap_up", contact_id=c.contact_id)
        return
    d.emit(ContactEnded(c.contact_id, c.queue_id, "abandoned", cmd.party, "", d.now - c.queued_at))
    if c.phase == OFFERED:
        d.change(c.agent_id, "available")
        d.dispatch()


def _complete_wrap_up(d: Draft, cmd: CompleteWrapUp) -> None:
    if cmd.next_state not in ("ready", "not_ready"):
        raise Invalid(f"next_state must be 'ready' or 'not_ready', not {cmd.next_state!r}")
    _contact_for(d, cmd.contact_id, cmd.agent_id, (WRAP_UP,), "contact_not_in_wrap_up")
    d.emit(WrapUpCompleted(cmd.contact_id, cmd.agent_id, cmd.disposition, cmd.notes))
    if cmd.next_state == "not_ready":
        d.change(cmd.agent_id, "not_ready", cmd.not_ready_reason)
    else:
        d.change(cmd.agent_id, "available")
        d.dispatch()


def _decide(t: TenantState, body: object, now: int) -> list[object]:
    d = Draft(t, now)
    match body:
        case DefineQueue():
            _define_queue(d, body)
        case DefineAgent():
            _define_agent(d, body)
        case LogInAgent() | LogOutAgent() | SetAgentReady() | SetAgentNotReady():
            _presence(d, body)
        case RouteContact():
            _route(d, body)
        case AcceptOffer() | DeclineOffer() | HoldContact() | ResumeContact():
            _on_contact(d, body)
        case HangUpContact():
            _hang_up(d, body)
        case CompleteWrapUp():
            _complete_wrap_up(d, body)
        case Tick():
            expire(d)
        case _:
            raise Invalid(f"the ACD does not handle {type(body).__name__}")
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
    version = 1

    def initial_state(self) -> AcdState:
        return AcdState()

    def decide(self, state: AcdState, command: Message[Any]) -> Sequence[object]:
        env = command.envelope
        return _decide(state.tenant(env.tenant), command.body, env.occurred_at)

    def evolve(self, state: AcdState, event: Message[Any]) -> AcdState:
        env = event.envelope
        return state.with_tenant(env.tenant, apply(state.tenant(env.tenant), event.body, env.occurred_at))


def acd_processor() -> DeciderProcessor[AcdState]:
    """The ACD as the runner drives it: reads `cc.commands`, writes contact/agent/config events."""
    return DeciderProcessor(ACD(), ACD.inputs, ACD.version, ACD.outputs)
