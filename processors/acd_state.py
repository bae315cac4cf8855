"""The ACD's state and its fold: `apply(tenant_state, body, now)` is `evolve` for one tenant.

State is frozen dataclasses whose collections are persistent maps (`processors.pmap.PMap`)
or tuples, replaced on change and never mutated, so a state value once handed out never
changes. `apply` never validates and never fails: an event about an unknown agent or
contact leaves the state as it was. Finished contacts (ended without an agent, or wrap-up
completed) are removed, so the state stays bounded by the contacts in progress.

Besides the entities the fold keeps the indexes routing needs so a decision does not scan
every agent: `members` (a queue's agents in the order they joined, Asterisk's member
order), `waiting` (a queue's un-offered contacts in arrival order), `answered` (per agent
and queue, for `fewest_answered`), `rr_last` (the last agent offered per queue, for
`round_robin`) and `last_agent` (who last served a caller number, for sticky routing).

An agent's `work` is the contacts it holds (reserved, handling or wrap-up), kept from the
contact events; its `state` (the exclusive METRICS.md state) and `presence` (what the
agent chose) come from `AgentStateChanged`.

A contact may involve several agents: `agent_id` has the caller, `others` are the agents
conferenced in, `consult_to` the agent being consulted (`consult` "offered" or
"connected"), and `wraps` every agent in wrap-up for it (one who transferred the caller
away wraps up while the caller waits or talks on). Phase `wrap_up` means the caller is
gone; the contact is removed when it is gone and no wrap-up is left.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from processors.pmap import PMap
from schemas.agent import AgentStateChanged
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
    AgentLeftConference,
    CallbackOffered,
    ConferenceStarted,
    ConsultConnected,
    ConsultEnded,
    ConsultOffered,
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    OfferDeclined,
    OfferTimedOut,
    OfferWithdrawn,
    SupervisorJoined,
    SupervisorLeft,
    WrapUpCompleted,
    WrapUpExtended,
    WrapUpStarted,
)
from schemas.routing import Membership, SkillLevel

__all__ = [
    "ARRIVED",
    "CONNECTED",
    "HELD",
    "OFFERED",
    "PRESENCES",
    "WAITING",
    "WRAP_UP",
    "AcdState",
    "Agent",
    "Contact",
    "TenantState",
    "Work",
    "Wrap",
    "apply",
    "summary_state",
]

ARRIVED, WAITING, OFFERED, CONNECTED, HELD, WRAP_UP = (
    "arrived",
    "waiting",
    "offered",
    "connected",
    "held",
    "wrap_up",
)
PRESENCES = ("available", "not_ready", "logged_out")


@dataclass(frozen=True, slots=True)
class Work:
    """A contact an agent holds: `phase` is "reserved", "handling" or "wrap_up"."""

    contact_id: str
    channel: str
    phase: str


@dataclass(frozen=True, slots=True)
class Wrap:
    """An agent's wrap-up of a contact: since `started_at`, extended to `until` (0: not)."""

    agent_id: str
    started_at: int
    until: int = 0


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the ACD sees it; `since` is when it entered `state` (ms)."""

    agent_id: str
    name: str
    queues: tuple[str, ...]
    memberships: Mapping[str, Membership] = field(default_factory=dict)
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=lambda: {"voice": 1})
    state: str = "logged_out"
    presence: str = "logged_out"
    since: int = 0
    reason: str = ""
    contact_id: str = ""
    work: tuple[Work, ...] = ()
    team: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact in progress.

    `seq` is its place (arrival order in the tenant, kept across overflow and callback:
    the FIFO tie-break); `queued_at` when its wait began, `entered_at` when it entered its
    current queue (rule timers count from there). `offers` are the agents ringing now
    (several for ring-all), `excluded` the agents who declined it or let it ring out.
    `sticky_agent` served its caller last; `callback_offered` once per queue stint.
    `supervisors` are (supervisor id, mode) pairs of the supervisors on the contact.
    """

    contact_id: str
    queue_id: str = ""
    channel: str = "voice"
    ani: str = ""
    priority: int = 0
    skills: tuple[SkillLevel, ...] = ()
    seq: int = 0
    queued_at: int = 0
    entered_at: int = 0
    phase: str = ARRIVED
    agent_id: str = ""
    offers: tuple[str, ...] = ()
    expires_at: int = 0
    excluded: tuple[str, ...] = ()
    wait_ms: int = 0
    sticky_agent: str = ""
    callback_offered: bool = False
    others: tuple[str, ...] = ()
    consult_to: str = ""
    consult: str = ""
    wraps: tuple[Wrap, ...] = ()
    supervisors: tuple[tuple[str, str], ...] = ()

    def wrap_of(self, agent_id: str) -> Wrap | None:
        return next((w for w in self.wraps if w.agent_id == agent_id), None)


def _empty() -> PMap[object]:
    return PMap()


@dataclass(frozen=True, slots=True)
class TenantState:
    """One tenant's routing state: entities, configuration and the routing indexes."""

    queues: PMap[QueueDefined] = field(default_factory=_empty)  # type: ignore[arg-type]
    agents: PMap[Agent] = field(default_factory=_empty)  # type: ignore[arg-type]
    contacts: PMap[Contact] = field(default_factory=_empty)  # type: ignore[arg-type]
    skills: PMap[str] = field(default_factory=_empty)  # type: ignore[arg-type]
    schedules: PMap[ScheduleDefined] = field(default_factory=_empty)  # type: ignore[arg-type]
    blocked: PMap[str] = field(default_factory=_empty)  # type: ignore[arg-type]
    members: PMap[tuple[str, ...]] = field(default_factory=_empty)  # type: ignore[arg-type]
    waiting: PMap[tuple[tuple[int, str], ...]] = field(default_factory=_empty)  # type: ignore[arg-type]
    answered: PMap[int] = field(default_factory=_empty)  # type: ignore[arg-type]
    rr_last: PMap[str] = field(default_factory=_empty)  # type: ignore[arg-type]
    last_agent: PMap[str] = field(default_factory=_empty)  # type: ignore[arg-type]
    dispositions: PMap[DispositionDefined] = field(default_factory=_empty)  # type: ignore[arg-type]
    seq: int = 0


@dataclass(frozen=True, slots=True)
class AcdState:
    """All tenants of one partition: a partition may carry several tenants' commands."""

    tenants: Mapping[str, TenantState] = field(default_factory=dict)

    def tenant(self, name: str) -> TenantState:
        return self.tenants.get(name) or TenantState()

    def with_tenant(self, name: str, state: TenantState) -> AcdState:
        tenants = dict(self.tenants)
        tenants[name] = state
        return AcdState(tenants)


def summary_state(presence: str, work: tuple[Work, ...]) -> str:
    """The exclusive METRICS.md state: handling beats reserved beats wrap-up beats presence."""
    phases = {w.phase for w in work}
    for phase in ("handling", "reserved", "wrap_up"):
        if phase in phases:
            return phase
    return presence


def answered_key(agent_id: str, queue_id: str) -> str:
    return f"{agent_id}\x1f{queue_id}"


# --- index helpers -------------------------------------------------------------------------


def _unwait(t: TenantState, c: Contact) -> TenantState:
    entries = t.waiting.get(c.queue_id)
    if not entries or (c.seq, c.contact_id) not in entries:
        return t
    left = tuple(e for e in entries if e[1] != c.contact_id)
    return replace(t, waiting=t.waiting.set(c.queue_id, left) if left else t.waiting.delete(c.queue_id))


def _wait(t: TenantState, c: Contact) -> TenantState:
    entries = list(t.waiting.get(c.queue_id, ()))
    if (c.seq, c.contact_id) in entries:
        return t
    insort(entries, (c.seq, c.contact_id))
    return replace(t, waiting=t.waiting.set(c.queue_id, tuple(entries)))


def _put_contact(t: TenantState, c: Contact) -> TenantState:
    return replace(t, contacts=t.contacts.set(c.contact_id, c))


def _agent_work(t: TenantState, agent_id: str, f: object) -> TenantState:
    a = t.agents.get(agent_id)
    if a is None:
        return t
    work = f(a.work)  # type: ignore[operator]
    return replace(t, agents=t.agents.set(agent_id, replace(a, work=work)))


def _without(contact_id: str) -> object:
    return lambda work: tuple(w for w in work if w.contact_id != contact_id)


def _phase(contact_id: str, phase: str) -> object:
    return lambda work: tuple(replace(w, phase=phase) if w.contact_id == contact_id else w for w in work)


def _set_members(t: TenantState, agent_id: str, old: tuple[str, ...], new: tuple[str, ...]) -> TenantState:
    members = t.members
    for q in old:
        if q not in new:
            left = tuple(a for a in members.get(q, ()) if a != agent_id)
            members = members.set(q, left) if left else members.delete(q)
    for q in new:
        current = members.get(q, ())
        if agent_id not in current:
            members = members.set(q, (*current, agent_id))
    return replace(t, members=members)


# --- the fold ------------------------------------------------------------------------------


def _config(t: TenantState, body: object) -> TenantState:
    match body:
        case QueueDefined(queue_id=queue_id):
            return replace(t, queues=t.queues.set(queue_id, body))
        case SkillDefined(skill_id=skill_id, name=name):
            return replace(t, skills=t.skills.set(skill_id, name))
        case ScheduleDefined(schedule_id=schedule_id):
            return replace(t, schedules=t.schedules.set(schedule_id, body))
        case NumberBlocked(number=number, reason=reason):
            return replace(t, blocked=t.blocked.set(number, reason))
        case NumberUnblocked(number=number):
            return replace(t, blocked=t.blocked.delete(number))
        case AgentDefined(agent_id=agent_id, name=name, queues=queues):
            memberships = {m.queue_id: m for m in body.memberships} or {q: Membership(q) for q in queues}
            for q in queues:
                memberships.setdefault(q, Membership(q))
            skills = {s.skill: s.level for s in body.skills}
            capacity = {c.channel: c.max for c in body.capacity} or {"voice": 1}
            old = t.agents.get(agent_id)
            if old is None:
                agent = Agent(agent_id, name, tuple(queues), memberships, skills, capacity, team=body.team)
            else:
                agent = replace(
                    old,
                    name=name,
                    queues=tuple(queues),
                    memberships=memberships,
                    skills=skills,
                    capacity=capacity,
                    team=body.team,
                )
            t = _set_members(t, agent_id, tuple(old.memberships) if old else (), tuple(memberships))
            return replace(t, agents=t.agents.set(agent_id, agent))
        case AgentQueuesChanged(agent_id=agent_id, queues=queues):
            a = t.agents.get(agent_id)
            if a is None:
                return t
            kept = {q: a.memberships.get(q) or Membership(q) for q in queues}
            t = _set_members(t, agent_id, tuple(a.memberships), tuple(kept))
            return replace(
                t, agents=t.agents.set(agent_id, replace(a, queues=tuple(queues), memberships=kept))
            )
        case DispositionDefined(code=code):
            return replace(t, dispositions=t.dispositions.set(code, body))
    return t


def _agent_changed(t: TenantState, body: AgentStateChanged, now: int) -> TenantState:
    a = t.agents.get(body.agent_id)
    if a is None:
        return t
    presence = body.presence or (body.state if body.state in PRESENCES else a.presence)
    a = replace(
        a, state=body.state, presence=presence, since=now, reason=body.reason, contact_id=body.contact_id
    )
    return replace(t, agents=t.agents.set(body.agent_id, a))


def _queued(t: TenantState, body: ContactQueued, now: int) -> TenantState:
    base = t.contacts.get(body.contact_id) or Contact(body.contact_id)
    t = _unwait(t, base)
    seq = body.place or t.seq + 1
    sticky = t.last_agent.get(base.ani, "") if base.ani else ""
    c = replace(
        base,
        queue_id=body.queue_id,
        priority=body.priority,
        skills=tuple(body.skills),
        seq=seq,
        queued_at=body.waiting_since or now,
        entered_at=now,
        phase=WAITING,
        agent_id="",
        offers=(),
        expires_at=0,
        excluded=(),
        sticky_agent=sticky,
        callback_offered=False,
    )
    t = replace(t, seq=t.seq if body.place else seq)
    return _wait(_put_contact(t, c), c)


def _offer_closed(t: TenantState, contact_id: str, agent_id: str, exclude: bool) -> TenantState:
    """An offer to `agent_id` is over without an answer; the contact waits again when no
    other offer is ringing."""
    c = t.contacts.get(contact_id)
    if c is None:
        return t
    t = _agent_work(t, agent_id, _without(contact_id))
    if agent_id not in c.offers:
        return t
    offers = tuple(a for a in c.offers if a != agent_id)
    excluded = c.excluded if (not exclude or agent_id in c.excluded) else (*c.excluded, agent_id)
    if c.phase != OFFERED:
        return _put_contact(t, replace(c, offers=offers, excluded=excluded))
    if offers:
        return _put_contact(t, replace(c, offers=offers, excluded=excluded))
    c = replace(c, phase=WAITING, offers=(), agent_id="", expires_at=0, excluded=excluded)
    return _wait(_put_contact(t, c), c)


def _contact_event(t: TenantState, body: object, now: int) -> TenantState:
    match body:
        case ContactArrived(contact_id=contact_id, channel=channel, ani=ani):
            if contact_id in t.contacts:
                return t
            return _put_contact(t, Contact(contact_id, channel=channel, ani=ani))
        case ContactQueued():
            return _queued(t, body, now)
        case ContactOffered(contact_id=cid, queue_id=qid, agent_id=aid, expires_at=expires_at):
            c = t.contacts.get(cid)
            if c is None:
                return t
            t = _unwait(t, c)
            c = replace(c, phase=OFFERED, offers=(*c.offers, aid), expires_at=expires_at)
            t = _agent_work(t, aid, lambda work: (*work, Work(cid, c.channel, "reserved")))
            return replace(_put_contact(t, c), rr_last=t.rr_last.set(qid, aid))
        case OfferDeclined(contact_id=cid, agent_id=aid) | OfferTimedOut(contact_id=cid, agent_id=aid):
            return _offer_closed(t, cid, aid, exclude=True)
        case OfferWithdrawn(contact_id=cid, agent_id=aid):
            return _offer_closed(t, cid, aid, exclude=False)
        case ContactConnected(contact_id=cid, queue_id=qid, agent_id=aid, wait_ms=wait_ms):
            c = t.contacts.get(cid)
            if c is None:
                return t
            t = _unwait(t, c)
            t = _agent_work(t, aid, _phase(cid, "handling"))
            key = answered_key(aid, qid)
            t = replace(t, answered=t.answered.set(key, t.answered.get(key, 0) + 1))
            if c.ani:
                t = replace(t, last_agent=t.last_agent.set(c.ani, aid))
            offers = tuple(a for a in c.offers if a != aid)
            return _put_contact(t, replace(c, phase=CONNECTED, agent_id=aid, offers=offers, wait_ms=wait_ms))
        case ContactHeld(contact_id=cid):
            c = t.contacts.get(cid)
            return t if c is None else _put_contact(t, replace(c, phase=HELD))
        case ContactResumed(contact_id=cid):
            c = t.contacts.get(cid)
            return t if c is None else _put_contact(t, replace(c, phase=CONNECTED))
        case ContactEnded(contact_id=cid, agent_id=aid):
            c = t.contacts.get(cid)
            if c is None:
                return t
            t = _unwait(t, c)
            for ringing in c.offers:
                t = _agent_work(t, ringing, _without(cid))
            c = replace(c, phase=WRAP_UP, offers=(), supervisors=())
            if aid:
                t = _agent_work(t, aid, _phase(cid, "wrap_up"))
                c = _wrapping(replace(c, agent_id=aid), aid, now)
            if not c.wraps:
                return replace(t, contacts=t.contacts.delete(cid))
            return _put_contact(t, c)
        case WrapUpStarted(contact_id=cid, agent_id=aid):
            c = t.contacts.get(cid)
            if c is None:
                return t
            t = _agent_work(t, aid, _phase(cid, "wrap_up"))
            return _put_contact(t, _wrapping(c, aid, now))
        case WrapUpExtended(contact_id=cid, agent_id=aid, until=until):
            c = t.contacts.get(cid)
            if c is None:
                return t
            wraps = tuple(replace(w, until=until) if w.agent_id == aid else w for w in c.wraps)
            return _put_contact(t, replace(c, wraps=wraps))
        case WrapUpCompleted(contact_id=cid, agent_id=aid):
            t = _agent_work(t, aid, _without(cid))
            c = t.contacts.get(cid)
            if c is None:
                return t
            c = replace(c, wraps=tuple(w for w in c.wraps if w.agent_id != aid))
            if c.phase == WRAP_UP and not c.wraps:
                return replace(t, contacts=t.contacts.delete(cid))
            return _put_contact(t, c)
        case CallbackOffered(contact_id=cid):
            c = t.contacts.get(cid)
            return t if c is None else _put_contact(t, replace(c, callback_offered=True))
    return _handover(t, body)


def _wrapping(c: Contact, agent_id: str, now: int) -> Contact:
    """`c` with `agent_id` in wrap-up (once) and no longer with the caller."""
    others = tuple(a for a in c.others if a != agent_id)
    if c.wrap_of(agent_id) is not None:
        return replace(c, others=others)
    return replace(c, others=others, wraps=(*c.wraps, Wrap(agent_id, now)))


def _handover(t: TenantState, body: object) -> TenantState:
    """Transfers, consults, conferences and supervisors."""
    c = t.contacts.get(getattr(body, "contact_id", ""))
    if c is None:
        return t
    cid = c.contact_id
    match body:
        case ContactTransferred(to_agent=to_agent, mode=mode):
            if mode == "consult":
                c = replace(c, agent_id=to_agent, consult_to="", consult="")
            else:
                c = replace(c, agent_id="", supervisors=())
        case ConsultOffered(to_agent=to_agent):
            t = _agent_work(t, to_agent, lambda work: (*work, Work(cid, c.channel, "reserved")))
            c = replace(c, consult_to=to_agent, consult="offered")
        case ConsultConnected(to_agent=to_agent):
            t = _agent_work(t, to_agent, _phase(cid, "handling"))
            c = replace(c, consult="connected")
        case ConsultEnded(to_agent=to_agent):
            t = _agent_work(t, to_agent, _without(cid))
            c = replace(c, consult_to="", consult="")
        case ConferenceStarted(agents=agents):
            others = tuple(a for a in agents if a != c.agent_id)
            c = replace(c, others=others, consult_to="", consult="")
        case AgentLeftConference(remaining=remaining):
            if remaining:
                c = replace(c, agent_id=remaining[0], others=tuple(remaining[1:]))
        case SupervisorJoined(supervisor_id=sid, mode=mode):
            kept = tuple(s for s in c.supervisors if s[0] != sid)
            c = replace(c, supervisors=(*kept, (sid, mode)))
        case SupervisorLeft(supervisor_id=sid):
            c = replace(c, supervisors=tuple(s for s in c.supervisors if s[0] != sid))
        case _:
            return t
    return _put_contact(t, c)


def apply(t: TenantState, body: object, now: int) -> TenantState:
    """The state after `body` happened at `now` (ms). Never validates, never fails."""
    if isinstance(body, AgentStateChanged):
        return _agent_changed(t, body, now)
    if isinstance(
        body,
        QueueDefined
        | AgentDefined
        | AgentQueuesChanged
        | DispositionDefined
        | SkillDefined
        | ScheduleDefined
        | NumberBlocked
        | NumberUnblocked,
    ):
        return _config(t, body)
    return _contact_event(t, body, now)
