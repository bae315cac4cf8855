"""The queue recorder: Asterisk's app_queue routes, ccx records (integration mode 2).

For a **switch-routed tenant** the switch picks the agents (`Queue()` in the dialplan) and
ccx only listens. This processor reads the switch facts of `cc.telephony` (the AMI mapper's
`Queue*`/`Agent*` facts and the channel facts) and writes the contact and agent events the
ACD writes for an ACD-routed tenant, so the CDR builder, the queue legs, live stats, the
wallboard and the warehouse reports work unchanged (docs/telephony.md, "Mode 2";
docs/adr/0015-switch-routed-tenants.md).

Fact by fact (the full table is in docs/telephony.md, "Mode 2"):

- `CallStarted`: nothing; the caller's number and the number called wait for
  `ContactArrived`.
- `QueueCallerJoined`: `ContactArrived`, `ContactQueued`; joining another queue later:
  `ContactOverflowed` (when "wait", action "queue"), `ContactQueued`.
- `QueueMemberRinging` (AgentCalled): `ContactOffered` with strategy "asterisk", rule
  version 0, no candidates (ccx compared none), a reason naming the AMI event and no ring
  deadline (`expires_at` 0: app_queue's timeout is not reported); the agent `reserved`.
- `QueueMemberNoAnswer`: `OfferTimedOut`; the agent back to its presence.
- `QueueMemberConnected`: `OfferAccepted`, `ContactConnected` (`wait_ms` from `HoldTime`);
  the agent `handling`; members still ringing (ringall) `OfferWithdrawn`
  ("answered_elsewhere").
- `CallHeld` / `CallResumed` of a connected call: `ContactHeld` / `ContactResumed`.
- `QueueMemberCompleted`: `ContactEnded` (completed; party from the `Reason`: caller,
  agent, transfer -> agent), `WrapUpStarted`, `WrapUpCompleted` (see wrap-up); the agent
  `wrap_up`, then its presence.
- `QueueCallerAbandoned`: `ContactEnded` (abandoned, party caller, `wait_ms` from
  `HoldTime`); members still ringing `OfferWithdrawn` ("caller_left").
- `QueueCallerLeft`: nothing yet (app_queue sends it before `AgentConnect` too); a caller
  who left unconnected and joins no other queue ends `timed_out` (party system, its wait
  until it left) when the call ends.
- `CallHungUp` that ends the call, as a fallback: a connected contact without
  `AgentComplete` ends completed (party: whose channel hung up first), a waiting one
  without `QueueCallerAbandon` abandoned.
- `QueueMemberAdded` / `QueueMemberRemoved`: `AgentLoggedIn` with the member's queues
  now (again at each change of them) / after its last queue `AgentStateChanged`
  logged_out and `AgentLoggedOut`.
- `QueueMemberPaused` / `QueueMemberUnpaused`: `AgentStateChanged` not_ready with the
  `PausedReason` when paused in all its queues / available.
- `QueueMemberStatusChanged`: membership and pause learnt when not known (static
  members of queues.conf send no `QueueMemberAdded`); device status is not a state.
- `Tick` (on `cc.commands`): `WrapUpCompleted` ("timeout") of timed wrap-ups that are due.

**Wrap-up.** app_queue has no wrap-up state (its `wrapuptime` only delays the next call).
By default a handled contact's wrap-up completes at once (`WrapUpCompleted` with
disposition "" right after `WrapUpStarted`, the agent back to its presence), so ACW is
0. A queue with `wrap_up_s` configured keeps the agent in `wrap_up` that long (set it to
the queue's `wrapuptime`): the first `Tick` at or after the end completes it with
disposition "timeout", as the ACD's timer does. When app_queue rings or connects the
agent before that, the wrap-up completes then: the switch says the agent works again.

**Time.** Events carry the fact's time (the AMI `Timestamp`; 0 without
`timestampevents`): `wait_ms` comes from app_queue's `HoldTime` (whole seconds); talk and
hold time downstream are differences of event times, so a switch without timestamps gives
0 talk time.

**Ownership.** One writer per routing domain: the recorder records only the tenants of
its configuration (`RecorderConfig.tenants`), and such a tenant must not be routed by
the ACD (its contacts and agents would have two writers). Facts of other tenants are
ignored. Contact ids are call ids (Asterisk's `Linkedid`), as in mode 1.

**Order and bad input.** Per contact the events are in order (arrived, queued, offers,
connected, held/resumed, ended, wrap-up) and every `ContactQueued` ends in exactly one
`ContactEnded`; facts of a finished contact (a `QueueCallerLeave` after the abandon, a
second `AgentComplete`) change nothing (the last `GONE_MEMORY` finished calls are
remembered per tenant). A contact whose `QueueCallerJoin` was not seen (the recording's
filter, a lost connection) is learnt from its first `Agent*` or abandon fact. A fact that
contradicts what is known — `AgentComplete` of a call no `AgentConnect` connected, an
`AgentConnect` to a second agent, a caller queued again after its contact ended — is
`Invalid`: the runner dead-letters it with the reason and goes on.

Why `process` and not a decider: its state is a fold of its *inputs* (callers' numbers,
queue leaves and hang-ups that emit nothing yet), not of its own events, and it decides
nothing (app_queue did); `processors.decider.DeciderProcessor` would only fold the events.
It stays pure: outputs are stamped with envelopes derived from the fact (`derive`), state
lives in persistent maps, so a replay gives the same events byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.decider import Invalid
from processors.pmap import PMap
from schemas import commands as cmd
from schemas import telephony as t
from schemas.agent import AgentLoggedIn, AgentLoggedOut, AgentStateChanged
from schemas.contact import (
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactOverflowed,
    ContactQueued,
    ContactResumed,
    OfferAccepted,
    OfferTimedOut,
    OfferWithdrawn,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Message, derive

__all__ = [
    "GONE_MEMORY",
    "STRATEGY",
    "Contact",
    "Floor",
    "Member",
    "QueueRecorder",
    "RecorderConfig",
    "RecorderState",
    "agent_part",
]

GONE_MEMORY = 10_000
STRATEGY = "asterisk"
WAITING, CONNECTED, WRAP_UP = "waiting", "connected", "wrap_up"
BUSY = ("reserved", "handling", "wrap_up")
PARTIES = {"caller": "caller", "agent": "agent", "transfer": "agent"}
"""AgentComplete's `Reason` -> ContactEnded's party (a transfer is the agent's doing)."""
_FACTS = tuple(getattr(t, n) for n in t.__all__)


def agent_part(interface: str) -> str:
    """The agent part of a member interface: "PJSIP/a1" -> "a1",
    "Local/9921-12@from-queue/n" -> "9921-12", "a1" -> "a1"."""
    rest = interface.split("/", 1)[1] if "/" in interface else interface
    return rest.split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """Which tenants the switch routes and how its names map to ccx's.

    `tenants` are the switch-routed tenants (the only ones recorded; none by default).
    `queues` maps an app_queue name to a ccx queue id and `agents` a member interface to an
    agent id; names not listed map to themselves, interfaces to their agent part
    (`agent_part`). `wrap_up_s` is the wrap-up time per ccx queue id (others:
    `default_wrap_up_s`; 0: the wrap-up completes at once).
    """

    tenants: frozenset[str] = frozenset()
    queues: Mapping[str, str] = field(default_factory=dict)
    agents: Mapping[str, str] = field(default_factory=dict)
    wrap_up_s: Mapping[str, int] = field(default_factory=dict)
    default_wrap_up_s: int = 0

    def queue_id(self, name: str) -> str:
        return self.queues.get(name, name)

    def agent_id(self, interface: str) -> str:
        return self.agents.get(interface) or agent_part(interface)

    def wrap_up_ms(self, queue_id: str) -> int:
        return 1000 * max(0, self.wrap_up_s.get(queue_id, self.default_wrap_up_s))


@dataclass(frozen=True, slots=True)
class CallInfo:
    """A call's first channel, from `CallStarted`, until its contact arrives."""

    channel: str
    ani: str
    dnis: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A call app_queue has (or had) in a queue, until its wrap-up completed."""

    contact_id: str
    queue_id: str
    caller: str
    """The caller's channel name."""
    waiting_since: int
    phase: str = WAITING
    ringing: tuple[str, ...] = ()
    """Agents rung for it whose offer is open."""
    left_at: int = -1
    """When app_queue reported it left its queue (-1: it did not)."""
    agent_id: str = ""
    agent_channel: str = ""
    wait_ms: int = 0
    held: bool = False
    first_hangup: str = ""
    """Whose channel hung up first while connected ("caller", "agent"; "" none yet)."""
    wrap_until: int = 0


@dataclass(frozen=True, slots=True)
class Member:
    """A queue member as ccx sees it: its queues (ccx ids), the queues it is paused in
    ("" = all), the pause reason, and the last state and presence it was reported in."""

    queues: tuple[str, ...] = ()
    paused: tuple[str, ...] = ()
    reason: str = ""
    state: str = "logged_out"
    presence: str = "logged_out"
    contact_id: str = ""

    @property
    def present(self) -> str:
        if not self.queues:
            return "logged_out"
        if "" in self.paused or set(self.queues) <= set(self.paused):
            return "not_ready"
        return "available"


@dataclass(frozen=True, slots=True)
class Floor:
    """One tenant: calls seen starting, contacts in progress, members, finished calls."""

    calls: PMap[CallInfo] = field(default_factory=PMap)
    contacts: PMap[Contact] = field(default_factory=PMap)
    wrapping: PMap[int] = field(default_factory=PMap)
    """Contacts in a timed wrap-up -> when it ends (ms)."""
    members: PMap[Member] = field(default_factory=PMap)
    gone: PMap[int] = field(default_factory=PMap)
    gone_order: PMap[str] = field(default_factory=PMap)
    gone_count: int = 0

    def finish(self, contact_id: str) -> Floor:
        """The contact is finished: forgotten, but remembered as gone (the last GONE_MEMORY)."""
        contacts = self.contacts.delete(contact_id) if contact_id in self.contacts else self.contacts
        wrapping = self.wrapping.delete(contact_id) if contact_id in self.wrapping else self.wrapping
        n = self.gone_count
        gone, order = self.gone.set(contact_id, n), self.gone_order.set(str(n), contact_id)
        old_key = str(n - GONE_MEMORY)
        if old_key in order:
            old = order[old_key]
            order = order.delete(old_key)
            if gone.get(old) == n - GONE_MEMORY:
                gone = gone.delete(old)
        return replace(
            self, contacts=contacts, wrapping=wrapping, gone=gone, gone_order=order, gone_count=n + 1
        )


@dataclass(frozen=True, slots=True)
class RecorderState:
    tenants: Mapping[str, Floor] = field(default_factory=dict)


class _Draft:
    """The events recorded so far for one input and the floor they lead to."""

    def __init__(self, config: RecorderConfig, floor: Floor, now: int) -> None:
        self.cfg = config
        self.f = floor
        self.now = now
        self.out: list[object] = []

    def emit(self, *bodies: object) -> None:
        self.out.extend(bodies)

    # -- contacts ---------------------------------------------------------------------

    def put(self, c: Contact) -> Contact:
        self.f = replace(self.f, contacts=self.f.contacts.set(c.contact_id, c))
        return c

    def arrive(self, call_id: str, channel: str, queue: str, hold_s: int = 0) -> Contact:
        """A new contact: arrived and queued in `queue` (an app_queue name); a late-learnt
        one that already waited `hold_s` keeps its wait."""
        info = self.f.calls.get(call_id)
        if info is not None:
            self.f = replace(self.f, calls=self.f.calls.delete(call_id))
        queue_id = self.cfg.queue_id(queue)
        since = self.now - hold_s * 1000 if hold_s > 0 and self.now >= hold_s * 1000 else 0
        self.emit(
            ContactArrived(call_id, "voice", info.ani if info else "", info.dnis if info else ""),
            ContactQueued(call_id, queue_id, 0, waiting_since=since),
        )
        return self.put(Contact(call_id, queue_id, info.channel if info else channel, since or self.now))

    def known(self, call_id: str) -> Contact | None:
        return self.f.contacts.get(call_id)

    def gone(self, call_id: str) -> bool:
        return call_id in self.f.gone

    def withdraw(self, c: Contact, reason: str, keep: str = "") -> Contact:
        for aid in c.ringing:
            if aid != keep:
                self.emit(OfferWithdrawn(c.contact_id, aid, reason))
                self.free(aid, c.contact_id)
        return replace(c, ringing=())

    def end_waiting(self, c: Contact, reason: str, party: str, wait_ms: int) -> None:
        c = self.withdraw(c, "caller_left")
        self.emit(ContactEnded(c.contact_id, c.queue_id, reason, party, "", max(0, wait_ms)))
        self.f = self.f.finish(c.contact_id)

    def end_connected(self, c: Contact, party: str) -> None:
        cid, aid = c.contact_id, c.agent_id
        self.emit(ContactEnded(cid, c.queue_id, "completed", party, aid, c.wait_ms), WrapUpStarted(cid, aid))
        self.agent(aid, "wrap_up", cid)
        wrap_ms = self.cfg.wrap_up_ms(c.queue_id)
        if wrap_ms <= 0:
            self.complete_wrap_up(replace(c, phase=WRAP_UP), "")
            return
        until = self.now + wrap_ms
        self.put(replace(c, phase=WRAP_UP, wrap_until=until))
        self.f = replace(self.f, wrapping=self.f.wrapping.set(cid, until))

    def complete_wrap_up(self, c: Contact, disposition: str) -> None:
        self.emit(WrapUpCompleted(c.contact_id, c.agent_id, disposition, ""))
        self.f = self.f.finish(c.contact_id)
        self.free(c.agent_id, c.contact_id)

    # -- agents -----------------------------------------------------------------------

    def member(self, aid: str) -> Member:
        return self.f.members.get(aid) or Member()

    def report(self, aid: str, m: Member, state: str, contact_id: str = "") -> None:
        """Store `m` in `state`; emit `AgentStateChanged` when what an observer sees changed."""
        presence = m.present
        reason = m.reason if state == "not_ready" else ""
        before = self.member(aid)
        if (state, presence, contact_id) != (before.state, before.presence, before.contact_id) or (
            state == "not_ready" and m.reason != before.reason
        ):
            self.emit(AgentStateChanged(aid, state, before.state, reason, contact_id, presence))
        m = replace(m, state=state, presence=presence, contact_id=contact_id)
        self.f = replace(self.f, members=self.f.members.set(aid, m))

    def agent(self, aid: str, state: str, contact_id: str) -> None:
        self.report(aid, self.member(aid), state, contact_id)

    def free(self, aid: str, contact_id: str) -> None:
        """The agent's work on `contact_id` is over: back to its presence (if it is not
        busy with another contact by now)."""
        m = self.member(aid)
        if m.contact_id == contact_id and m.state in BUSY:
            self.report(aid, m, m.present)

    def settle(self, aid: str, m: Member) -> None:
        """Membership or pause changed: the agent keeps a busy state, else shows its presence."""
        before = self.member(aid)
        state = before.state if before.state in BUSY else m.present
        contact_id = before.contact_id if before.state in BUSY else ""
        if m.queues != before.queues and m.queues:
            self.emit(AgentLoggedIn(aid, m.queues))
        if not m.queues and before.queues:
            self.report(aid, m, "logged_out")
            self.emit(AgentLoggedOut(aid))
            return
        self.report(aid, m, state, contact_id)

    def join(self, aid: str, queue: str, paused: bool | None = None, reason: str = "") -> None:
        """The member serves `queue` (a ccx queue id; "" for a pause in every queue), learnt
        or reported, and is paused there or not (`paused` None: unchanged)."""
        before = self.member(aid)
        m = before
        if queue and queue not in m.queues:
            m = replace(m, queues=(*m.queues, queue))
        if paused is not None:
            m = self.pause(m, queue, paused, reason)
        if m != before or aid not in self.f.members:
            self.settle(aid, m)

    @staticmethod
    def pause(m: Member, queue: str, paused: bool, reason: str) -> Member:
        if paused:
            return replace(m, paused=tuple(sorted({*m.paused, queue})), reason=reason)
        if queue == "":
            return replace(m, paused=(), reason="")
        rest = tuple(q for q in m.paused if q != queue)
        return replace(m, paused=rest, reason=m.reason if rest else "")

    def wrapped_before(self, aid: str) -> None:
        """The switch gives the agent new work: a timed wrap-up it is in completes now."""
        m = self.member(aid)
        if m.state == "wrap_up" and m.contact_id:
            c = self.known(m.contact_id)
            if c is not None and c.phase == WRAP_UP:
                self.complete_wrap_up(c, "")


class QueueRecorder:
    """Processor `queue-recorder`: switch facts (and ticks) of switch-routed tenants in,
    contact and agent events out. Other commands on `cc.commands` and other tenants'
    messages are ignored."""

    name = "queue-recorder"
    version = 1
    inputs: tuple[str, ...] = ("cc.telephony", "cc.commands")
    outputs: tuple[str, ...] = ("cc.contact-events", "cc.agent-events")

    def __init__(self, config: RecorderConfig | None = None) -> None:
        self.config = config or RecorderConfig()

    def initial_state(self) -> RecorderState:
        return RecorderState()

    def process(
        self, state: RecorderState, message: Message[Any]
    ) -> tuple[RecorderState, Sequence[Message[Any]]]:
        body = message.body
        tenant = message.envelope.tenant
        if tenant not in self.config.tenants or not isinstance(body, (*_FACTS, cmd.Tick)):
            return state, ()
        d = _Draft(self.config, state.tenants.get(tenant) or Floor(), message.envelope.occurred_at)
        _record(d, body)
        if not d.out and d.f is state.tenants.get(tenant):
            return state, ()
        outputs = tuple(derive(message, b, i) for i, b in enumerate(d.out))
        return replace(state, tenants={**state.tenants, tenant: d.f}), outputs


def _record(d: _Draft, body: object) -> None:
    match body:
        case cmd.Tick():
            _tick(d)
        case t.CallStarted(call_id=cid, channel=channel, ani=ani, dnis=dnis):
            if cid not in d.f.calls and cid not in d.f.contacts and not d.gone(cid):
                d.f = replace(d.f, calls=d.f.calls.set(cid, CallInfo(channel, ani, dnis)))
        case t.QueueCallerJoined():
            _joined(d, body)
        case t.QueueCallerLeft(call_id=cid):
            c = d.known(cid)
            if c is not None and c.phase == WAITING and c.left_at < 0:
                d.put(replace(c, left_at=d.now))
        case t.QueueCallerAbandoned():
            _abandoned(d, body)
        case t.QueueMemberRinging():
            _ringing(d, body)
        case t.QueueMemberNoAnswer(call_id=cid, interface=interface):
            aid = d.cfg.agent_id(interface)
            c = d.known(cid)
            if c is not None and c.phase == WAITING and aid in c.ringing:
                d.emit(OfferTimedOut(cid, aid))
                d.put(replace(c, ringing=tuple(a for a in c.ringing if a != aid)))
                d.free(aid, cid)
        case t.QueueMemberConnected():
            _connected(d, body)
        case t.QueueMemberCompleted():
            _completed(d, body)
        case t.CallHeld(call_id=cid) | t.CallResumed(call_id=cid):
            c = d.known(cid)
            held = isinstance(body, t.CallHeld)
            if c is not None and c.phase == CONNECTED and c.held != held:
                d.emit((ContactHeld if held else ContactResumed)(cid, c.agent_id))
                d.put(replace(c, held=held))
        case t.CallHungUp():
            _hung_up(d, body)
        case t.QueueMemberAdded(queue=queue, interface=interface, paused=paused):
            d.join(d.cfg.agent_id(interface), d.cfg.queue_id(queue), paused)
        case t.QueueMemberRemoved(queue=queue, interface=interface):
            aid, queue_id = d.cfg.agent_id(interface), d.cfg.queue_id(queue)
            m = d.member(aid)
            if queue_id in m.queues:
                rest = tuple(q for q in m.queues if q != queue_id)
                d.settle(aid, replace(m, queues=rest, paused=tuple(q for q in m.paused if q != queue_id)))
        case t.QueueMemberPaused(queue=queue, interface=interface, reason=reason):
            aid = d.cfg.agent_id(interface)
            d.join(aid, d.cfg.queue_id(queue) if queue else "", True, reason)
        case t.QueueMemberUnpaused(queue=queue, interface=interface):
            aid = d.cfg.agent_id(interface)
            d.join(aid, d.cfg.queue_id(queue) if queue else "", False)
        case t.QueueMemberStatusChanged(queue=queue, interface=interface, paused=paused):
            aid, queue_id = d.cfg.agent_id(interface), d.cfg.queue_id(queue)
            m = d.member(aid)
            if queue_id and (queue_id not in m.queues or (queue_id in m.paused) != paused):
                d.join(aid, queue_id, paused, m.reason)
        case _:
            pass  # the other facts (dial, bridge, DTMF, recording, …) say nothing about queues


def _joined(d: _Draft, f: t.QueueCallerJoined) -> None:
    cid = f.call_id
    if d.gone(cid):
        raise Invalid(
            f"QueueCallerJoin of call {cid!r} into {f.queue!r} after its contact ended "
            "(a call queued again after it was handled is not recorded)"
        )
    c = d.known(cid)
    queue_id = d.cfg.queue_id(f.queue)
    if c is None:
        d.arrive(cid, f.channel, f.queue)
        return
    if c.phase != WAITING:
        raise Invalid(f"QueueCallerJoin of call {cid!r} into {f.queue!r} while it is {c.phase} with an agent")
    if c.queue_id == queue_id and c.left_at < 0:
        return  # already waiting there
    c = d.withdraw(c, "overflowed")
    d.emit(
        ContactOverflowed(cid, c.queue_id, queue_id, "wait", "queue", queue_id),
        ContactQueued(cid, queue_id, 0, waiting_since=c.waiting_since),
    )
    d.put(replace(c, queue_id=queue_id, left_at=-1))


def _abandoned(d: _Draft, f: t.QueueCallerAbandoned) -> None:
    cid = f.call_id
    if d.gone(cid):
        return
    c = d.known(cid) or d.arrive(cid, f.channel, f.queue, f.hold_s)
    if c.phase != WAITING:
        raise Invalid(f"QueueCallerAbandon of call {cid!r} while it is {c.phase} with an agent")
    d.end_waiting(c, "abandoned", "caller", f.hold_s * 1000)


def _offer(d: _Draft, c: Contact, aid: str, why: str) -> Contact:
    d.wrapped_before(aid)
    d.join(aid, c.queue_id)
    d.emit(ContactOffered(c.contact_id, c.queue_id, aid, STRATEGY, 0, (), why, 0))
    d.agent(aid, "reserved", c.contact_id)
    return d.put(replace(c, ringing=(*c.ringing, aid)))


def _ringing(d: _Draft, f: t.QueueMemberRinging) -> None:
    cid = f.call_id
    if d.gone(cid):
        return
    c = d.known(cid) or d.arrive(cid, f.channel, f.queue)
    aid = d.cfg.agent_id(f.interface)
    if c.phase != WAITING or aid in c.ringing:
        return  # a late or repeated ring changes nothing
    _offer(d, c, aid, f"app_queue AgentCalled: queue {f.queue} rang member {f.interface}")


def _connected(d: _Draft, f: t.QueueMemberConnected) -> None:
    cid = f.call_id
    if d.gone(cid):
        return
    c = d.known(cid) or d.arrive(cid, f.channel, f.queue, f.hold_s)
    aid = d.cfg.agent_id(f.interface)
    if c.phase != WAITING:
        if c.agent_id == aid:
            return  # repeated
        raise Invalid(f"AgentConnect of call {cid!r} to {aid!r}: it is already connected to {c.agent_id!r}")
    if aid not in c.ringing:
        why = (
            f"app_queue AgentConnect: member {f.interface} of queue {f.queue} answered (no AgentCalled seen)"
        )
        c = _offer(d, c, aid, why)
    wait_ms = f.hold_s * 1000
    d.emit(OfferAccepted(cid, aid), ContactConnected(cid, c.queue_id, aid, wait_ms))
    d.agent(aid, "handling", cid)
    c = d.withdraw(replace(c, ringing=tuple(a for a in c.ringing if a != aid)), "answered_elsewhere")
    d.put(
        replace(c, phase=CONNECTED, agent_id=aid, agent_channel=f.dest_channel, wait_ms=wait_ms, left_at=-1)
    )


def _completed(d: _Draft, f: t.QueueMemberCompleted) -> None:
    cid = f.call_id
    if d.gone(cid):
        return
    c = d.known(cid)
    aid = d.cfg.agent_id(f.interface)
    if c is None or c.phase == WAITING:
        raise Invalid(f"AgentComplete of call {cid!r} (member {f.interface}) that no AgentConnect connected")
    if c.phase == WRAP_UP:
        return  # ended already (by the call's hang-up)
    if c.agent_id != aid:
        raise Invalid(f"AgentComplete of call {cid!r} by {aid!r}: it is connected to {c.agent_id!r}")
    d.end_connected(c, PARTIES.get(f.reason, c.first_hangup or "system"))


def _hung_up(d: _Draft, f: t.CallHungUp) -> None:
    cid = f.call_id
    c = d.known(cid)
    if c is not None and c.phase == CONNECTED and not c.first_hangup:
        c = d.put(replace(c, first_hangup="caller" if f.channel == c.caller else "agent"))
    if not f.ends_call:
        return
    if cid in d.f.calls:
        d.f = replace(d.f, calls=d.f.calls.delete(cid))
    if c is None:
        return
    if c.phase == CONNECTED:  # no AgentComplete came (filtered, lost): the hang-up says who
        d.end_connected(c, c.first_hangup or "caller")
    elif c.phase == WAITING and c.left_at >= 0:  # left unconnected (timeout, exit key, empty queue)
        d.end_waiting(c, "timed_out", "system", c.left_at - c.waiting_since)
    elif c.phase == WAITING:  # the QueueCallerAbandon was not seen
        d.end_waiting(c, "abandoned", "caller", d.now - c.waiting_since)


def _tick(d: _Draft) -> None:
    due = sorted((until, cid) for cid, until in d.f.wrapping.items() if until <= d.now)
    for _, cid in due:
        c = d.known(cid)
        if c is not None and c.phase == WRAP_UP:
            d.complete_wrap_up(c, "timeout")
