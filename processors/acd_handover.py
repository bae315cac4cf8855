"""The ACD's hand-overs: blind transfers, consults, conferences and supervisors on a call.

**Blind transfer** (`TransferContact`): the agent with the caller (connected or holding)
hands it to a queue, where it waits again keeping its place, its wait going on from what it
had waited before it was answered (`ContactQueued.waiting_since` = now - that wait, so the
next `ContactConnected.wait_ms` is the caller's total wait, talk time excluded), or
straight to an agent present as available with room (`ContactOffered` with strategy and
reason "transfer"; declined or rung out, the caller waits in its queue). Either way the
agent wraps up as after a hang-up, while the contact goes on.

**Consult** (`ConsultAgent`): the caller is held and the consulted agent is reserved
(`ConsultOffered`); it answers with `AcceptOffer` (`ConsultConnected`) or declines with
`DeclineOffer` (`ConsultEnded`). Then `CompleteTransfer` gives it the caller (the first
agent wraps up), `ConferenceContact` takes the caller off hold with both agents, and
`CancelConsult` frees the consulted agent with the caller still held. `LeaveConference`
sends one agent to wrap-up; the first agent left keeps the caller.

**Supervisors** (`MonitorContact`, `StopMonitoring`) join a connected contact to listen,
whisper or barge; joining again with another mode changes the mode.

`hang_up_parties` is what a caller's hang-up does to the agents of these: a consult ends
("caller_left"), every conferenced agent wraps up, supervisors leave.
"""

from __future__ import annotations

from processors.acd_rules import admit
from processors.acd_state import CONNECTED, HELD, OFFERED, Agent, Contact
from processors.decider import Invalid, Rejected
from processors.dispatch import Draft, can_take
from schemas.commands import (
    CancelConsult,
    CompleteTransfer,
    ConferenceContact,
    ConsultAgent,
    LeaveConference,
    MonitorContact,
    StopMonitoring,
    TransferContact,
)
from schemas.contact import (
    AgentLeftConference,
    ConferenceStarted,
    ConsultConnected,
    ConsultEnded,
    ConsultOffered,
    ContactHeld,
    ContactOffered,
    ContactResumed,
    ContactTransferred,
    SupervisorJoined,
    SupervisorLeft,
    WrapUpStarted,
)

__all__ = [
    "HANDOVER_CODES",
    "MONITOR_MODES",
    "accept_consult",
    "decide_handover",
    "decline_consult",
    "hang_up_parties",
    "is_consult_offer",
]

MONITOR_MODES = ("monitor", "whisper", "barge")
HANDOVER_CODES = (
    "agent_not_available",
    "consult_in_progress",
    "consult_not_found",
    "consult_not_connected",
    "conference_in_progress",
    "agent_not_in_conference",
    "supervisor_already_monitoring",
    "supervisor_not_monitoring",
)

Handover = (
    TransferContact
    | ConsultAgent
    | CompleteTransfer
    | ConferenceContact
    | CancelConsult
    | LeaveConference
    | MonitorContact
    | StopMonitoring
)


def _known_agent(d: Draft, agent_id: str, field: str) -> Agent:
    a = d.t.agents.get(agent_id)
    if a is None:
        raise Invalid(f"{field}: unknown agent {agent_id!r}")
    return a


def _contact(d: Draft, contact_id: str) -> Contact:
    c = d.t.contacts.get(contact_id)
    if c is None:
        raise Rejected("contact_not_found", f"no contact {contact_id!r} in progress")
    return c


def _with_caller(d: Draft, contact_id: str, agent_id: str) -> Contact:
    """The contact, connected or held, whose caller is with `agent_id` (not in a conference)."""
    _known_agent(d, agent_id, "agent_id")
    c = _contact(d, contact_id)
    if c.phase not in (CONNECTED, HELD):
        raise Rejected("contact_not_connected", f"contact {contact_id!r} is {c.phase}, not connected or held")
    if c.agent_id != agent_id:
        raise Rejected("agent_not_on_contact", f"contact {contact_id!r} is not with agent {agent_id!r}")
    if c.others:
        raise Rejected(
            "conference_in_progress",
            f"contact {contact_id!r} is in a conference with {', '.join(c.others)}: leave it first",
        )
    return c


def _free_target(d: Draft, c: Contact, agent_id: str, to_agent: str) -> None:
    target = _known_agent(d, to_agent, "to_agent")
    if to_agent == agent_id:
        raise Invalid(f"to_agent: agent {agent_id!r} cannot hand contact {c.contact_id!r} to itself")
    if target.presence != "available" or not can_take(target, c.channel):
        raise Rejected(
            "agent_not_available",
            f"agent {to_agent!r} is {target.state}"
            + (" without room" if target.presence == "available" else "")
            + f": it cannot take {c.channel} contact {c.contact_id!r}",
        )


def _no_consult(c: Contact) -> None:
    if c.consult_to:
        raise Rejected(
            "consult_in_progress",
            f"contact {c.contact_id!r} has a consult with {c.consult_to!r} ({c.consult}): "
            "complete, conference or cancel it first",
        )


def _consulting(d: Draft, contact_id: str, agent_id: str, connected: bool) -> Contact:
    c = _with_caller(d, contact_id, agent_id)
    if not c.consult_to:
        raise Rejected("consult_not_found", f"agent {agent_id!r} is not consulting on contact {contact_id!r}")
    if connected and c.consult != "connected":
        raise Rejected(
            "consult_not_connected", f"agent {c.consult_to!r} has not answered the consult on {contact_id!r}"
        )
    return c


def _wrap(d: Draft, contact_id: str, agent_id: str) -> None:
    d.emit(WrapUpStarted(contact_id, agent_id))
    d.presence(agent_id, contact_id=contact_id)


def _drop_supervisors(d: Draft, c: Contact) -> None:
    for sid, _mode in c.supervisors:
        d.emit(SupervisorLeft(c.contact_id, sid))


def _transfer(d: Draft, cmd: TransferContact) -> None:
    if bool(cmd.to_queue) == bool(cmd.to_agent):
        raise Invalid("exactly one of to_queue and to_agent must be set")
    if cmd.to_queue and cmd.to_queue not in d.t.queues:
        raise Invalid(f"to_queue: unknown queue {cmd.to_queue!r}")
    c = _with_caller(d, cmd.contact_id, cmd.agent_id)
    _no_consult(c)
    if cmd.to_agent:
        _free_target(d, c, cmd.agent_id, cmd.to_agent)
    cid, aid = c.contact_id, c.agent_id
    _drop_supervisors(d, c)
    d.emit(ContactTransferred(cid, aid, cmd.to_queue, cmd.to_agent, "blind"))
    _wrap(d, cid, aid)
    if cmd.to_queue:
        # its place kept; its wait goes on from the wait it had before it was answered
        admit(d, cid, cmd.to_queue, c.priority, c.skills, place=c.seq, waiting_since=d.now - c.wait_ms)
        return
    q = d.t.queues[c.queue_id]
    expires_at = d.now + q.ring_timeout_s * 1000
    d.emit(
        ContactOffered(cid, c.queue_id, cmd.to_agent, "transfer", q.rule_version, (), "transfer", expires_at)
    )
    d.presence(cmd.to_agent, contact_id=cid)


def _consult(d: Draft, cmd: ConsultAgent) -> None:
    c = _with_caller(d, cmd.contact_id, cmd.agent_id)
    _no_consult(c)
    _free_target(d, c, cmd.agent_id, cmd.to_agent)
    if c.phase == CONNECTED:
        d.emit(ContactHeld(c.contact_id, c.agent_id))
    d.emit(ConsultOffered(c.contact_id, c.agent_id, cmd.to_agent))
    d.presence(cmd.to_agent, contact_id=c.contact_id)


def accept_consult(d: Draft, c: Contact, agent_id: str) -> None:
    """`agent_id`, offered the consult on `c`, answers it."""
    d.emit(ConsultConnected(c.contact_id, c.agent_id, agent_id))
    d.presence(agent_id, contact_id=c.contact_id)


def decline_consult(d: Draft, c: Contact, agent_id: str) -> None:
    """`agent_id`, offered the consult on `c`, declines it; the caller stays held."""
    d.emit(ConsultEnded(c.contact_id, c.agent_id, agent_id, "declined"))
    d.presence(agent_id, contact_id=c.contact_id)


def _conference_leave(d: Draft, cmd: LeaveConference) -> None:
    _known_agent(d, cmd.agent_id, "agent_id")
    c = _contact(d, cmd.contact_id)
    party = (c.agent_id, *c.others)
    if c.phase not in (CONNECTED, HELD) or not c.others or cmd.agent_id not in party:
        raise Rejected(
            "agent_not_in_conference", f"agent {cmd.agent_id!r} is not in a conference on {c.contact_id!r}"
        )
    remaining = tuple(a for a in party if a != cmd.agent_id)
    d.emit(AgentLeftConference(c.contact_id, cmd.agent_id, remaining))
    _wrap(d, c.contact_id, cmd.agent_id)


def _monitor(d: Draft, cmd: MonitorContact | StopMonitoring) -> None:
    if not cmd.supervisor_id:
        raise Invalid("supervisor_id must not be empty")
    if isinstance(cmd, MonitorContact) and cmd.mode not in MONITOR_MODES:
        raise Invalid(f"mode must be one of {', '.join(MONITOR_MODES)}, not {cmd.mode!r}")
    c = _contact(d, cmd.contact_id)
    mode = dict(c.supervisors).get(cmd.supervisor_id)
    if isinstance(cmd, StopMonitoring):
        if mode is None:
            raise Rejected(
                "supervisor_not_monitoring", f"supervisor {cmd.supervisor_id!r} is not on {c.contact_id!r}"
            )
        d.emit(SupervisorLeft(c.contact_id, cmd.supervisor_id))
        return
    if c.phase not in (CONNECTED, HELD) or not c.agent_id:
        raise Rejected("contact_not_connected", f"contact {c.contact_id!r} is {c.phase}, not connected")
    if mode == cmd.mode:
        raise Rejected(
            "supervisor_already_monitoring",
            f"supervisor {cmd.supervisor_id!r} is already on {c.contact_id!r} in mode {mode!r}",
        )
    d.emit(SupervisorJoined(c.contact_id, c.agent_id, cmd.supervisor_id, cmd.mode))


def decide_handover(d: Draft, cmd: Handover) -> None:
    match cmd:
        case TransferContact():
            _transfer(d, cmd)
        case ConsultAgent():
            _consult(d, cmd)
        case CompleteTransfer():
            c = _consulting(d, cmd.contact_id, cmd.agent_id, connected=True)
            to_agent = c.consult_to
            _drop_supervisors(d, c)
            d.emit(ContactTransferred(c.contact_id, c.agent_id, "", to_agent, "consult"))
            _wrap(d, c.contact_id, cmd.agent_id)
            d.emit(ContactResumed(c.contact_id, to_agent))
        case ConferenceContact():
            c = _consulting(d, cmd.contact_id, cmd.agent_id, connected=True)
            d.emit(ConferenceStarted(c.contact_id, (c.agent_id, c.consult_to)))
            if c.phase == HELD:
                d.emit(ContactResumed(c.contact_id, c.agent_id))
        case CancelConsult():
            c = _consulting(d, cmd.contact_id, cmd.agent_id, connected=False)
            d.emit(ConsultEnded(c.contact_id, c.agent_id, c.consult_to, "cancelled"))
            d.presence(c.consult_to, contact_id=c.contact_id)
        case LeaveConference():
            _conference_leave(d, cmd)
        case MonitorContact() | StopMonitoring():
            _monitor(d, cmd)


def hang_up_parties(d: Draft, c: Contact) -> None:
    """Before the caller's `ContactEnded`: end a consult and let supervisors go."""
    if c.consult_to:
        d.emit(ConsultEnded(c.contact_id, c.agent_id, c.consult_to, "caller_left"))
        d.presence(c.consult_to, contact_id=c.contact_id)
    _drop_supervisors(d, c)


def is_consult_offer(c: Contact | None, agent_id: str) -> bool:
    """`agent_id` is being offered a consult on `c` (not the contact itself)."""
    return c is not None and c.consult_to == agent_id and c.consult == "offered" and c.phase != OFFERED
