"""The queue recorder (mode 2: Asterisk's app_queue routes, ccx records).

Every scenario runs the whole chain a switch-routed tenant runs: AMI events -> the real
`AmiAdapter` (frames and mapper) -> facts -> `QueueRecorder` -> contact and agent events ->
the CDR builder (`ContactRecorder`: records and queue legs) and `LiveStats` (the wallboard).

**Real recordings** (`../shared/data/ami/`, see its README; cacofonisk and goami2, MIT):
the cacofonisk queue recordings went through an event filter, so they have no
`QueueCallerJoin`, no `Agent*` events and no `Timestamp` header. What that means here:

- `queue_a_cancel.json` is the one with an app_queue event (`QueueCallerAbandon`): the
  recorder learns the contact from it (arrived, queued, abandoned at once) with the wait
  from its `HoldTime`; ring offers cannot be seen;
- `queue_simple.json` and the transfer recordings carry no app_queue event at all: played as
  they are, the recorder must record nothing (it never guesses a queue from channel facts).
  To test the recorder against their real channel traffic (caller id, Local-channel member
  legs, the order of hang-ups, transfers), the tests *splice in* the app_queue events
  app_queue would have sent (`spliced`, marked SYNTHETIC), at the places the events name;
- without timestamps every fact's time is 0, so talk, hold and wrap-up times are 0 and only
  what app_queue states itself (`HoldTime` -> `wait_ms`), outcomes, parties, agents, legs
  and counts can be asserted.

**Synthetic streams** (marked SYNTHETIC; no public recording has them) carry the full
`QueueCallerJoin` / `AgentCalled` / `AgentRingNoAnswer` / `AgentConnect` /
`AgentComplete` sequence with `Timestamp`s, so times (wait, talk, hold, wrap-up) can be
asserted, and the hypothesis property interleaves two callers' streams.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.contacts import ContactRecorder
from processors.decider import Invalid
from processors.live_stats import LiveStats, StatsState, queue_view, totals
from processors.queue_recorder import QueueRecorder, RecorderConfig, agent_part
from schemas import contact as ev
from schemas import telephony as t
from schemas.agent import AgentLoggedIn, AgentLoggedOut, AgentStateChanged
from schemas.cdr import ContactRecord
from schemas.commands import RouteContact, Tick
from schemas.envelope import Envelope, Message
from schemas.legs import QueueLeg
from schemas.system import DeadLetter
from streams.ports import Record
from streams.runner import step
from streams.serde import MemorySchemaStore, Serde
from telephony.ami.adapter import AmiAdapter
from telephony.ami.frames import Frame, read_recording

ROOT = Path(__file__).resolve().parents[2]
AMI = ROOT.parent / "shared/data/ami"
TENANT = "acme"
CONFIG = RecorderConfig(tenants=frozenset({TENANT}))


# -- the chain ----------------------------------------------------------------------------


def recording(rel: str) -> list[dict[str, str]]:
    _, items = read_recording((AMI / rel).read_bytes())
    return [i.headers for i in items if isinstance(i, Frame)]


def facts_of(events: Iterable[dict[str, str]], tenant: str = TENANT) -> list[Message[Any]]:
    """AMI events through the real adapter (mapper, envelopes); dead letters left out."""
    adapter = AmiAdapter(tenant, "ami:test")
    out: list[Message[Any]] = []
    for i, e in enumerate(events):
        out += adapter.feed_event(e, i)
    return [m for m in out if not isinstance(m.body, DeadLetter)]


@dataclass
class Run:
    outputs: list[Message[Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    records: list[ContactRecord] = field(default_factory=list)
    legs: list[QueueLeg] = field(default_factory=list)
    stats: StatsState | None = None

    @property
    def bodies(self) -> list[object]:
        return [m.body for m in self.outputs]

    def contact(self, contact_id: str) -> list[str]:
        return [
            type(b).__name__
            for b in self.bodies
            if getattr(b, "contact_id", None) == contact_id and not isinstance(b, AgentStateChanged)
        ]

    def agents(self) -> list[object]:
        return [b for b in self.bodies if isinstance(b, (AgentStateChanged, AgentLoggedIn, AgentLoggedOut))]

    def states(self, agent_id: str) -> list[tuple[str, str]]:
        return [
            (b.state, b.reason)
            for b in self.bodies
            if isinstance(b, AgentStateChanged) and b.agent_id == agent_id
        ]

    def the(self, kind: type[Any]) -> Any:
        [found] = [b for b in self.bodies if isinstance(b, kind)]
        return found

    def totals(self) -> dict[str, Any]:
        assert self.stats is not None
        return totals(self.stats, TENANT)


def record(messages: Sequence[Message[Any]], config: RecorderConfig = CONFIG) -> Run:
    """Facts through the recorder (an `Invalid` is what the runner dead-letters), its
    events through the CDR builder and live stats."""
    rec = QueueRecorder(config)
    state, run = rec.initial_state(), Run()
    for m in messages:
        try:
            state, outs = rec.process(state, m)
        except Invalid as e:
            run.invalid.append(e.reason)
            continue
        run.outputs += outs
    cdr, stats = ContactRecorder(), LiveStats()
    cs, ss = cdr.initial_state(), stats.initial_state()
    for m in run.outputs:
        cs, outs = cdr.process(cs, m)
        run.records += [o.body for o in outs if isinstance(o.body, ContactRecord)]
        run.legs += [o.body for o in outs if isinstance(o.body, QueueLeg)]
        ss, _ = stats.process(ss, m)
    run.stats = ss
    return run


def tick(at_ms: int, tenant: str = TENANT) -> Message[Tick]:
    return Message(Envelope(f"tick-{at_ms}", tenant, at_ms, f"tick:{tenant}", None, "clock"), Tick())


# -- SYNTHETIC app_queue events -----------------------------------------------------------

BASE_S = 1_767_607_200  # 2026-01-05T10:00:00Z


def _ev(name: str, at: float | None, **headers: str) -> dict[str, str]:
    e = {"Event": name, **headers}
    if at is not None:
        e["Timestamp"] = f"{BASE_S + at:.6f}"
    return e


@dataclass
class Caller:
    """SYNTHETIC: the AMI events app_queue sends for one caller (Asterisk 13+ field names).

    `at` None leaves `Timestamp` out (to splice into a recording that has none)."""

    uid: str
    channel: str
    queue: str = "sales"
    ani: str = "+4930111"

    def h(self, **more: str) -> dict[str, str]:
        return {"Channel": self.channel, "Uniqueid": self.uid, "Linkedid": self.uid, **more}

    def arrive(self, at: float | None) -> list[dict[str, str]]:
        return [
            _ev(
                "Newchannel",
                at,
                **self.h(
                    CallerIDNum=self.ani,
                    CallerIDName="Ann",
                    Context="from-trunk",
                    Exten="8000",
                    ChannelState="4",
                ),
            ),
            _ev("Newstate", at, **self.h(ChannelState="6", ChannelStateDesc="Up")),
        ]

    def join(self, at: float | None, queue: str = "", position: int = 1) -> dict[str, str]:
        return _ev(
            "QueueCallerJoin", at, **self.h(Queue=queue or self.queue, Position=str(position), Count="1")
        )

    def leave(self, at: float | None, queue: str = "") -> dict[str, str]:
        return _ev("QueueCallerLeave", at, **self.h(Queue=queue or self.queue, Position="1", Count="0"))

    def abandon(self, at: float | None, hold_s: int) -> dict[str, str]:
        return _ev("QueueCallerAbandon", at, **self.h(Queue=self.queue, Position="1", OriginalPosition="1",
                                                      HoldTime=str(hold_s)))  # fmt: skip

    def _member(self, interface: str, **more: str) -> dict[str, str]:
        dest = self.agent_channel(interface)
        return self.h(Queue=self.queue, Interface=interface, MemberName=agent_part(interface),
                      DestChannel=dest["Channel"], DestUniqueid=dest["Uniqueid"], **more)  # fmt: skip

    def called(self, at: float | None, interface: str) -> dict[str, str]:
        return _ev("AgentCalled", at, **self._member(interface))

    def no_answer(self, at: float | None, interface: str, ring_ms: int) -> dict[str, str]:
        return _ev("AgentRingNoAnswer", at, **self._member(interface, RingTime=str(ring_ms)))

    def connect(self, at: float | None, interface: str, hold_s: int, ring_s: int = 2) -> dict[str, str]:
        return _ev("AgentConnect", at, **self._member(interface, HoldTime=str(hold_s), RingTime=str(ring_s)))

    def complete(
        self, at: float | None, interface: str, hold_s: int, talk_s: int, reason: str
    ) -> dict[str, str]:
        return _ev("AgentComplete", at, **self._member(interface, HoldTime=str(hold_s), TalkTime=str(talk_s),
                                                       Reason=reason))  # fmt: skip

    def agent_channel(self, interface: str) -> dict[str, str]:
        return {"Channel": f"{interface}-{self.uid}", "Uniqueid": f"{self.uid}-{agent_part(interface)}",
                "Linkedid": self.uid}  # fmt: skip

    def hangup(self, at: float | None, *, agent: str = "") -> dict[str, str]:
        who = self.agent_channel(agent) if agent else self.h()
        return _ev("Hangup", at, **who, Cause="16", **{"Cause-txt": "Normal Clearing"})

    def hold(self, at: float | None, held: bool, interface: str) -> dict[str, str]:
        return _ev("Hold" if held else "Unhold", at, **self.agent_channel(interface))


def spliced(events: list[dict[str, str]], after: dict[int, list[dict[str, str]]]) -> list[dict[str, str]]:
    """The recording with SYNTHETIC events inserted after the given indexes."""
    out: list[dict[str, str]] = []
    for i, e in enumerate(events):
        out.append(e)
        out += after.get(i, [])
    return out


# -- real recordings ----------------------------------------------------------------------


def test_queue_a_cancel_real_abandon_is_learnt_from_queue_caller_abandon() -> None:
    """cacofonisk queue_a_cancel.json: the caller hangs up after 11 s in queue 670100-540100
    while a member rings (no Agent* events in the recording, so no offer is seen)."""
    config = RecorderConfig(tenants=frozenset({TENANT}), queues={"670100-540100": "support"})
    run = record(facts_of(recording("cacofonisk/queue/queue_a_cancel.json")), config)
    cid = "40a7a1f2a669-1585318545.326"
    assert run.contact(cid) == ["ContactArrived", "ContactQueued", "ContactEnded"]
    arrived, queued, ended = run.bodies
    assert arrived == ev.ContactArrived(cid, "voice", "+31150010001", "+31150010004")
    assert queued == ev.ContactQueued(cid, "support", 0)  # no timestamp: its wait cannot be backdated
    assert ended == ev.ContactEnded(cid, "support", "abandoned", "caller", "", 11_000)
    assert not run.invalid and not run.agents()
    [cdr] = run.records
    assert (cdr.outcome, cdr.end_party, cdr.wait_ms, cdr.queue_id, cdr.ani) == (
        "abandoned",
        "caller",
        11_000,
        "support",
        "+31150010001",
    )
    [leg] = run.legs
    assert (leg.leg, leg.queue_id, leg.outcome, leg.wait_ms) == (1, "support", "abandoned", 11_000)
    tot = run.totals()
    assert (tot["offered"], tot["abandoned"], tot["answered"], tot["waiting"]) == (1, 1, 0, 0)


@pytest.mark.parametrize("name", ["queue_simple", "queue_attn_xfer", "queue_blind_xfer", "queue_group"])
def test_recordings_without_app_queue_events_record_nothing(name: str) -> None:
    """The filtered recordings have channel facts only: ccx cannot know a queue was
    involved, and the recorder invents no contact from dials and bridges."""
    facts = facts_of(recording(f"cacofonisk/queue/{name}.json"))
    assert facts and not any(type(m.body).__name__.startswith("Queue") for m in facts)
    run = record(facts)
    assert run.outputs == [] and run.invalid == []


SIMPLE_CALLER = Caller("195176c06ab8-1529939196.518", "SIP/voipgrid-siproute-docker-00000025", "q550315")
MEMBER_3 = "Local/ID730152@osvpi_route_phoneaccount/n"  # rings, busy
MEMBER_2 = "Local/ID730151@osvpi_route_phoneaccount/n"  # answers (SIP/150010002)


def simple_spliced(*, complete: bool) -> list[dict[str, str]]:
    """queue_simple.json with the app_queue events it filtered out (SYNTHETIC, no
    Timestamp like the rest): Join after the caller answered (5), AgentCalled at each
    member's DialBegin (16, 24), RONA for the busy member's NOANSWER (38), Leave then
    Connect when the answering member's dial ends ANSWER (47; app_queue leaves the caller
    before it connects), AgentComplete "agent" after the member's phone hung up (64)."""
    c = SIMPLE_CALLER
    after = {
        5: [c.join(None)],
        16: [c.called(None, MEMBER_3)],
        24: [c.called(None, MEMBER_2)],
        38: [c.no_answer(None, MEMBER_3, 2000)],
        47: [c.leave(None), c.connect(None, MEMBER_2, hold_s=3, ring_s=2)],
    }
    if complete:
        after[64] = [c.complete(None, MEMBER_2, hold_s=3, talk_s=5, reason="agent")]
    return spliced(recording("cacofonisk/queue/queue_simple.json"), after)


def test_queue_simple_with_spliced_app_queue_events_is_an_answered_contact() -> None:
    config = RecorderConfig(
        tenants=frozenset({TENANT}), queues={"q550315": "sales"}, agents={MEMBER_2: "bob"}
    )
    run = record(facts_of(simple_spliced(complete=True)), config)
    cid = SIMPLE_CALLER.uid
    assert run.contact(cid) == [
        "ContactArrived", "ContactQueued",
        "ContactOffered", "ContactOffered", "OfferTimedOut",
        "OfferAccepted", "ContactConnected",
        "ContactEnded", "WrapUpStarted", "WrapUpCompleted",
    ]  # fmt: skip
    first = next(b for b in run.bodies if isinstance(b, ev.ContactOffered))
    assert (first.agent_id, first.strategy, first.candidates, first.rule_version) == (
        "ID730152",
        "asterisk",
        (),
        0,
    )
    assert "AgentCalled" in first.reason and MEMBER_3 in first.reason
    assert run.the(ev.OfferTimedOut) == ev.OfferTimedOut(cid, "ID730152")
    assert run.the(ev.ContactConnected) == ev.ContactConnected(cid, "sales", "bob", 3000)
    assert run.the(ev.ContactEnded) == ev.ContactEnded(cid, "sales", "completed", "agent", "bob", 3000)
    assert run.the(ev.WrapUpCompleted) == ev.WrapUpCompleted(cid, "bob", "", "")
    assert run.states("bob") == [("available", ""), ("reserved", ""), ("handling", ""), ("wrap_up", ""),
                                 ("available", "")]  # fmt: skip
    assert run.states("ID730152") == [("available", ""), ("reserved", ""), ("available", "")]
    [cdr] = run.records
    # no timestamps in the recording: talk and wrap-up are 0, the wait is app_queue's HoldTime
    assert (cdr.outcome, cdr.agent_id, cdr.wait_ms, cdr.talk_ms, cdr.offers, cdr.end_party) == (
        "answered",
        "bob",
        3000,
        0,
        2,
        "agent",
    )
    assert (cdr.ani, cdr.dnis, cdr.queue_id) == ("+31150010001", "+31150010004", "sales")
    [leg] = run.legs
    assert (leg.outcome, leg.agent_id, leg.wait_ms, leg.queue_id) == ("answered", "bob", 3000, "sales")
    tot = run.totals()
    assert (tot["offered"], tot["answered"], tot["abandoned"], tot["waiting"]) == (1, 1, 0, 0)
    [view] = queue_view(run.stats or StatsState(), TENANT, 0)
    assert view["agents"]["available"] == 2 and view["waiting"] == 0


def test_queue_simple_without_agent_complete_ends_at_the_last_hang_up() -> None:
    """The fallback: no AgentComplete (filtered or lost). The caller's channel is the
    call's last to go, so the member's side hung up first: party agent."""
    run = record(facts_of(simple_spliced(complete=False)))
    ended = run.the(ev.ContactEnded)
    assert (ended.reason, ended.party, ended.agent_id) == ("completed", "agent", "ID730151")
    assert run.contact(SIMPLE_CALLER.uid)[-3:] == ["ContactEnded", "WrapUpStarted", "WrapUpCompleted"]
    assert [r.outcome for r in run.records] == ["answered"]


@pytest.mark.parametrize(
    ("name", "caller", "channel", "transfer_at", "hangup_at"),
    [
        ("queue_attn_xfer", "f29ea68048f6-1530022819.2433", "SIP/voipgrid-siproute-docker-00000087", 85, 87),
        ("queue_blind_xfer", "f29ea68048f6-1530023464.2539", "SIP/voipgrid-siproute-docker-0000008d", 42, 45),
    ],
)
def test_queue_transfers_end_the_queue_contact_at_the_transfer(
    name: str, caller: str, channel: str, transfer_at: int, hangup_at: int
) -> None:
    """The member (SIP/150010001 via Local/ID730150) answers the queue call and transfers
    it (attended, blind) to 202. SYNTHETIC splices: Join (5), AgentCalled at the member's
    DialBegin (16), Leave and Connect at the caller's DialEnd ANSWER, AgentComplete
    "transfer" right after the real transfer event. After that the caller talks to the
    transfer target through a plain Dial: no queue work, so nothing more is recorded."""
    c = Caller(caller, channel, "q550310")
    member = "Local/ID730150@osvpi_route_phoneaccount/n"
    events = recording(f"cacofonisk/queue/{name}.json")
    answer = next(
        i for i, e in enumerate(events) if e.get("Event") == "DialEnd" and e.get("Channel") == channel
    )
    assert events[transfer_at]["Event"].endswith("Transfer") and events[hangup_at]["Event"] == "Hangup"
    run = record(facts_of(spliced(events, {
        5: [c.join(None)],
        16: [c.called(None, member)],
        answer: [c.leave(None), c.connect(None, member, hold_s=2)],
        transfer_at: [c.complete(None, member, hold_s=2, talk_s=9, reason="transfer")],
    })))  # fmt: skip
    assert run.contact(caller) == [
        "ContactArrived", "ContactQueued", "ContactOffered", "OfferAccepted", "ContactConnected",
        "ContactEnded", "WrapUpStarted", "WrapUpCompleted",
    ]  # fmt: skip
    assert run.the(ev.ContactEnded) == ev.ContactEnded(
        caller, "q550310", "completed", "agent", "ID730150", 2000
    )
    [cdr] = run.records
    assert (cdr.outcome, cdr.end_party, cdr.agent_id) == ("answered", "agent", "ID730150")
    assert run.totals()["answered"] == 1 and not run.invalid
    assert run.states("ID730150")[-1] == ("available", "")


def test_goami2_queue_member_pause_is_not_ready_with_the_reason() -> None:
    """goami2 queue_member_pause.ami: a realtime member of Books_12 is unpaused, then
    paused with reason "Break" (the QueuePause actions and responses in the stream are
    skipped by the mapper). The member is learnt from its first event (no QueueMemberAdded)."""
    facts = facts_of(recording("goami2/queue_member_pause.ami"))
    assert [type(m.body).__name__ for m in facts] == ["QueueMemberUnpaused", "QueueMemberPaused"]
    run = record(
        facts, RecorderConfig(tenants=frozenset({TENANT}), agents={"Local/9921-12@from-queue/n": "a9921"})
    )
    assert run.agents() == [
        AgentLoggedIn("a9921", ("Books_12",)),
        AgentStateChanged("a9921", "available", "logged_out", "", "", "available"),
        AgentStateChanged("a9921", "not_ready", "available", "Break", "", "not_ready"),
    ]
    # the wallboard's agents (it lists a queue once it is defined or has contacts)
    assert run.stats is not None
    agent = run.stats.tenants[TENANT].agents["a9921"]
    assert (agent.state, agent.queues) == ("not_ready", ("Books_12",))
    # default identity: the interface's agent part
    assert record(facts).states("9921-12") == [("available", ""), ("not_ready", "Break")]


# -- SYNTHETIC full app_queue sequences ---------------------------------------------------

A1, A2 = "PJSIP/a1", "PJSIP/a2"


def answered_call(c: Caller, t0: float = 0.0) -> list[dict[str, str]]:
    """SYNTHETIC (no public recording has QueueCallerJoin or Agent* events): join, a1 rings
    out (RONA), a2 answers after 12 s in queue, holds 5 s, the agent hangs up after 60 s."""
    return [
        *c.arrive(t0),
        c.join(t0 + 1),
        c.called(t0 + 2, A1),
        c.no_answer(t0 + 8, A1, 6000),
        c.called(t0 + 9, A2),
        c.leave(t0 + 13),
        c.connect(t0 + 13, A2, hold_s=12, ring_s=4),
        c.hold(t0 + 20, True, A2),
        c.hold(t0 + 25, False, A2),
        c.hangup(t0 + 73, agent=A2),
        c.complete(t0 + 73, A2, hold_s=12, talk_s=60, reason="agent"),
        c.hangup(t0 + 73.5),
    ]


def members(at: float, *interfaces: str, queue: str = "sales") -> list[dict[str, str]]:
    return [_ev("QueueMemberAdded", at, Queue=queue, Interface=i, MemberName=agent_part(i), Paused="0")
            for i in interfaces]  # fmt: skip


def test_synthetic_answered_call_times_legs_and_wallboard() -> None:
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    run = record(facts_of([*members(-60, A1, A2), *answered_call(c)]))
    assert run.contact(c.uid) == [
        "ContactArrived", "ContactQueued", "ContactOffered", "OfferTimedOut", "ContactOffered",
        "OfferAccepted", "ContactConnected", "ContactHeld", "ContactResumed",
        "ContactEnded", "WrapUpStarted", "WrapUpCompleted",
    ]  # fmt: skip
    assert run.the(ev.ContactEnded) == ev.ContactEnded(c.uid, "sales", "completed", "agent", "a2", 12_000)
    [cdr] = run.records
    assert (cdr.outcome, cdr.wait_ms, cdr.talk_ms, cdr.hold_ms, cdr.holds, cdr.wrap_up_ms, cdr.offers) == (
        "answered",
        12_000,
        55_000,
        5_000,
        1,
        0,
        2,
    )
    assert cdr.answered_at - cdr.queued_at == 12_000
    [leg] = run.legs
    assert (leg.outcome, leg.agent_id, leg.talk_ms, leg.hold_ms) == ("answered", "a2", 55_000, 5_000)
    tot = run.totals()
    assert (tot["offered"], tot["answered"], tot["abandoned"], tot["asa_s"], tot["att_s"]) == (
        1,
        1,
        0,
        12.0,
        55.0,
    )
    assert run.states("a1") == [("available", ""), ("reserved", ""), ("available", "")]
    assert run.states("a2") == [("available", ""), ("reserved", ""), ("handling", ""), ("wrap_up", ""),
                                ("available", "")]  # fmt: skip


def test_synthetic_ringall_abandon_and_timeout() -> None:
    """SYNTHETIC: ringall rings a1 and a2, a2 answers (a1's offer is withdrawn); a second
    caller abandons while a1 rings; a third leaves the queue unconnected (timeout) and
    the call ends later in the dialplan (voicemail)."""
    one, two, three = (Caller(f"1767607200.{n}", f"PJSIP/trunk-{n:08x}") for n in (1, 2, 3))
    events = [
        *members(-60, A1, A2),
        *one.arrive(0), one.join(0), one.called(1, A1), one.called(1, A2),
        one.leave(4), one.connect(4, A2, hold_s=4),
        *two.arrive(5), two.join(5), two.called(6, A1), two.abandon(9, hold_s=4), two.leave(9), two.hangup(9),
        *three.arrive(10), three.join(10), three.leave(40), three.hangup(70),
        one.complete(80, A2, hold_s=4, talk_s=76, reason="caller"), one.hangup(80), one.hangup(80, agent=A2),
    ]  # fmt: skip
    run = record(facts_of(events))
    assert ev.OfferWithdrawn(one.uid, "a1", "answered_elsewhere") in run.bodies
    assert ev.OfferWithdrawn(two.uid, "a1", "caller_left") in run.bodies
    assert run.the(ev.ContactConnected) == ev.ContactConnected(one.uid, "sales", "a2", 4000)
    ends = {b.contact_id: b for b in run.bodies if isinstance(b, ev.ContactEnded)}
    assert ends[one.uid] == ev.ContactEnded(one.uid, "sales", "completed", "caller", "a2", 4000)
    assert ends[two.uid] == ev.ContactEnded(two.uid, "sales", "abandoned", "caller", "", 4000)
    assert ends[three.uid] == ev.ContactEnded(three.uid, "sales", "timed_out", "system", "", 30_000)
    outcomes = {r.contact_id: (r.outcome, r.wait_ms) for r in run.records}
    assert outcomes == {
        one.uid: ("answered", 4000),
        two.uid: ("abandoned", 4000),
        three.uid: ("timed_out", 30_000),
    }
    tot = run.totals()
    # a 4 s abandon is a short abandon (default 5 s): beside offered, not in it
    assert (tot["offered"], tot["answered"], tot["abandoned"], tot["short_abandoned"], tot["timed_out"]) == (
        2,
        1,
        0,
        1,
        1,
    )
    assert run.states("a1") == [("available", ""), ("reserved", ""), ("available", ""), ("reserved", ""),
                                ("available", "")]  # fmt: skip


def test_synthetic_second_queue_is_an_overflow() -> None:
    """SYNTHETIC: the dialplan sends a caller who timed out of `sales` to `support`."""
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    events = [*c.arrive(0), c.join(0), c.leave(30), c.join(31, "support"), c.leave(40, "support"),
              c.connect(40, "PJSIP/b1", hold_s=40) | {"Queue": "support"},
              c.complete(50, "PJSIP/b1", hold_s=40, talk_s=10, reason="caller") | {"Queue": "support"},
              c.hangup(50)]  # fmt: skip
    run = record(facts_of(events))
    assert run.the(ev.ContactOverflowed) == ev.ContactOverflowed(
        c.uid, "sales", "support", "wait", "queue", "support"
    )
    queued = [b for b in run.bodies if isinstance(b, ev.ContactQueued)]
    assert queued[1] == ev.ContactQueued(c.uid, "support", 0, waiting_since=BASE_S * 1000)
    assert [(leg.queue_id, leg.outcome) for leg in run.legs] == [
        ("sales", "overflowed"),
        ("support", "answered"),
    ]
    [cdr] = run.records
    assert (cdr.queue_id, cdr.outcome, cdr.wait_ms) == ("support", "answered", 40_000)


def test_wrap_up_time_from_configuration_completes_on_tick() -> None:
    """SYNTHETIC: a queue configured with 30 s wrap-up keeps the agent in wrap_up until a
    Tick at or after the end; a ring of the agent before that ends it early."""
    config = RecorderConfig(tenants=frozenset({TENANT}), wrap_up_s={"sales": 30})
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    msgs = facts_of([*members(-60, A1, A2), *answered_call(c)])
    end_ms = (BASE_S + 73) * 1000
    run = record([*msgs, tick(end_ms + 29_000), tick(end_ms + 30_000), tick(end_ms + 31_000)], config)
    done = [m for m in run.outputs if isinstance(m.body, ev.WrapUpCompleted)]
    assert [(m.envelope.occurred_at, m.body.disposition) for m in done] == [(end_ms + 30_000, "timeout")]
    [cdr] = run.records
    assert cdr.wrap_up_ms == 30_000
    assert run.totals()["acw_s"] == 30.0
    # app_queue rings a2 again 10 s after the end: its wrap-up is over then
    d = Caller("1767607200.2", "PJSIP/trunk-00000002")
    early = record([*msgs, *facts_of([*d.arrive(80), d.join(80), d.called(83, A2)])], config)
    # (the two adapters number facts per call, so their ids do not collide)
    wrap = [m for m in early.outputs if isinstance(m.body, ev.WrapUpCompleted)]
    assert [(m.body.contact_id, m.envelope.occurred_at, m.body.disposition) for m in wrap] == [
        (c.uid, (BASE_S + 83) * 1000, "")
    ]
    assert early.states("a2")[-3:] == [("wrap_up", ""), ("available", ""), ("reserved", "")]


def test_members_login_pause_and_logout() -> None:
    """SYNTHETIC member events: paused in one of two queues is still available; in all, not
    ready; removed from the last queue, logged out. A static member (no QueueMemberAdded)
    is learnt from its QueueMemberStatus."""
    events = [
        *members(0, A1), *members(1, A1, queue="support"),
        _ev("QueueMemberPause", 2, Queue="sales", Interface=A1, Paused="1", PausedReason="lunch"),
        _ev("QueueMemberPause", 3, Queue="support", Interface=A1, Paused="1", PausedReason="lunch"),
        _ev("QueueMemberPause", 4, Queue="sales", Interface=A1, Paused="0"),
        _ev("QueueMemberRemoved", 5, Queue="sales", Interface=A1),
        _ev("QueueMemberRemoved", 6, Queue="support", Interface=A1),
        _ev("QueueMemberStatus", 7, Queue="sales", Interface="SIP/static7", Status="1", Paused="0",
            InCall="0"),
    ]  # fmt: skip
    run = record(facts_of(events))
    assert run.agents() == [
        AgentLoggedIn("a1", ("sales",)),
        AgentStateChanged("a1", "available", "logged_out", "", "", "available"),
        AgentLoggedIn("a1", ("sales", "support")),
        AgentStateChanged("a1", "not_ready", "available", "lunch", "", "not_ready"),
        AgentStateChanged("a1", "available", "not_ready", "", "", "available"),
        AgentLoggedIn("a1", ("support",)),  # still paused in support, its only queue now
        AgentStateChanged("a1", "not_ready", "available", "lunch", "", "not_ready"),
        AgentStateChanged("a1", "logged_out", "not_ready", "", "", "logged_out"),
        AgentLoggedOut("a1"),
        AgentLoggedIn("static7", ("sales",)),
        AgentStateChanged("static7", "available", "logged_out", "", "", "available"),
    ]


# -- ownership, garbage, dead letters -------------------------------------------------------


def test_only_the_configured_tenants_are_recorded() -> None:
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    events = [*members(0, A1), *answered_call(c)]
    assert record(facts_of(events, "other")).outputs == []
    assert record(facts_of(events), RecorderConfig()).outputs == []  # none by default
    # commands of the ACD's topic other than Tick are not the recorder's business
    route = Message(Envelope("r1", TENANT, 0, "x"), RouteContact("x", "sales", "voice", 0, "", ""))
    assert record([route]).outputs == []


def test_garbage_is_tolerated_or_invalid_with_a_reason() -> None:
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    stray = Caller("1767607200.9", "PJSIP/trunk-00000009")
    events = [
        *stray.arrive(0), stray.complete(1, A1, 0, 5, "agent"),  # AgentComplete without any AgentConnect
        stray.no_answer(1, A1, 1000), stray.leave(1), stray.hangup(2),  # facts of a call never queued
        *c.arrive(3), c.join(3), c.complete(4, A1, 1, 0, "caller"),  # AgentComplete of a waiting caller
        c.connect(5, A1, hold_s=2), c.connect(5.5, A2, hold_s=2),  # a second agent for the same call
        c.complete(9, A1, 2, 4, "caller"), c.complete(9.5, A1, 2, 4, "agent"), c.hangup(10),
    ]  # fmt: skip
    # queued again after its contact ended (the mapper drops events of a hung-up channel:
    # this fact is made by hand, as another source or a resync could deliver it)
    rejoined = Message(
        Envelope("late-1", TENANT, (BASE_S + 11) * 1000, c.uid, None, "switch"),
        t.QueueCallerJoined(c.uid, c.channel, c.uid, "sales", 1, 1, "QueueCallerJoin", (BASE_S + 11) * 1000),
    )
    run = record([*facts_of(events), rejoined])
    assert len(run.invalid) == 4, run.invalid
    assert "AgentComplete of call '1767607200.9'" in run.invalid[0] and "no AgentConnect" in run.invalid[0]
    assert "AgentComplete of call '1767607200.1'" in run.invalid[1]
    assert "already connected to 'a1'" in run.invalid[2]
    assert "after its contact ended" in run.invalid[3]
    assert run.contact(stray.uid) == []
    assert run.contact(c.uid).count("ContactEnded") == 1
    assert [(r.outcome, r.end_party) for r in run.records] == [("answered", "caller")]


def test_invalid_facts_are_dead_lettered_by_the_runner() -> None:
    serde = Serde(MemorySchemaStore())
    rec = QueueRecorder(CONFIG)
    stray = Caller("1767607200.9", "PJSIP/trunk-00000009")
    *_, fact = facts_of([stray.complete(1, A1, 0, 5, "agent")])  # CallStarted (learnt), the fact
    rec_record = Record("cc.telephony", 0, 3, TENANT.encode(), serde.encode(fact))
    state, [letter], dead = step(rec, serde, rec.initial_state(), rec_record, {})
    body = serde.decode(letter.value).body
    assert (
        dead and isinstance(body, DeadLetter) and body.error == "Invalid" and "AgentComplete" in body.reason
    )
    assert state == rec.initial_state()


def test_outputs_are_on_the_declared_topics_and_serialize() -> None:
    serde = Serde(MemorySchemaStore())
    rec = QueueRecorder(CONFIG)
    c = Caller("1767607200.1", "PJSIP/trunk-00000001")
    state = rec.initial_state()
    for i, m in enumerate(facts_of([*members(0, A1, A2), *answered_call(c)])):
        state_before = state
        state, outs, dead = step(
            rec, serde, state, Record("cc.telephony", 0, i, b"acme", serde.encode(m)), {}
        )
        assert not dead
        assert all(o.topic in rec.outputs for o in outs)
        assert [serde.decode(o.value).body for o in outs] == [
            o.body for o in rec.process(state_before, serde.decode(serde.encode(m)))[1]
        ]


# -- the property: two callers interleaved --------------------------------------------------

SCRIPTS = ("answered", "abandoned", "rona_answered", "timeout", "transfer", "ringall")


def script(c: Caller, kind: str) -> list[dict[str, str]]:
    """SYNTHETIC app_queue streams of one caller, without times (set after interleaving)."""
    x = None
    start = [*c.arrive(x), c.join(x)]
    match kind:
        case "answered":
            body = [c.called(x, A1), c.leave(x), c.connect(x, A1, 3), c.hangup(x),
                    c.complete(x, A1, 3, 20, "caller"), c.hangup(x, agent=A1)]  # fmt: skip
        case "abandoned":
            body = [c.called(x, A2), c.abandon(x, 7), c.leave(x), c.hangup(x)]
        case "rona_answered":
            body = [c.called(x, A1), c.no_answer(x, A1, 15000), c.called(x, A2), c.leave(x),
                    c.connect(x, A2, 20), c.hold(x, True, A2), c.hold(x, False, A2), c.hangup(x, agent=A2),
                    c.complete(x, A2, 20, 30, "agent"), c.hangup(x)]  # fmt: skip
        case "timeout":
            body = [c.called(x, A2), c.no_answer(x, A2, 15000), c.leave(x), c.hangup(x)]
        case "transfer":
            body = [c.called(x, A2), c.leave(x), c.connect(x, A2, 1), c.complete(x, A2, 1, 9, "transfer"),
                    c.hangup(x, agent=A2), c.hangup(x)]  # fmt: skip
        case _:  # ringall
            body = [c.called(x, A1), c.called(x, A2), c.leave(x), c.connect(x, A2, 2), c.hangup(x),
                    c.complete(x, A2, 2, 5, "caller"), c.hangup(x, agent=A2)]  # fmt: skip
    return start + body


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[str]]:
    callers = [Caller(f"1767607300.{n}", f"PJSIP/trunk-{n:08x}") for n in (1, 2)]
    kinds = [draw(st.sampled_from(SCRIPTS)) for _ in callers]
    queues = [script(c, k) for c, k in zip(callers, kinds, strict=True)]
    order = draw(st.permutations([i for i, q in enumerate(queues) for _ in q]))
    drop = draw(st.sets(st.integers(0, 40), max_size=3))  # lost app_queue events (filter, outage)
    picked, pos = [], [0, 0]
    for i in order:
        picked.append(queues[i][pos[i]])
        pos[i] += 1
    events = []
    for n, e in enumerate(picked):
        if n in drop and e["Event"].startswith(("Agent", "Queue")):
            continue
        events.append(e | {"Timestamp": f"{BASE_S + n:.6f}"})
    return [*members(-10, A1, A2), *events], kinds


AFTER_END = {"WrapUpStarted", "WrapUpCompleted"}


@settings(max_examples=200, deadline=None)
@given(interleavings())
def test_property_two_callers_end_once_in_order_and_replay_exactly(
    case: tuple[list[dict[str, str]], list[str]],
) -> None:
    events, _ = case
    facts = facts_of(events)
    run = record(facts)
    per_contact: dict[str, list[str]] = defaultdict(list)
    for b in run.bodies:
        cid = getattr(b, "contact_id", None)
        if isinstance(cid, str) and not isinstance(b, AgentStateChanged):
            per_contact[cid].append(type(b).__name__)
    for kinds in per_contact.values():
        # every ContactQueued contact ends exactly once (the calls all end in these streams)
        assert kinds[0] == "ContactArrived" and "ContactQueued" in kinds, kinds
        assert kinds.count("ContactEnded") == 1, kinds
        # nothing about the contact after its end but its wrap-up
        assert set(kinds[kinds.index("ContactEnded") + 1 :]) <= AFTER_END, kinds
        if "ContactConnected" in kinds:
            assert kinds[-2:] == ["WrapUpStarted", "WrapUpCompleted"], kinds
            assert kinds.count("ContactConnected") == 1
    assert sorted(r.contact_id for r in run.records) == sorted(per_contact)
    # agent events chain: each change starts from the state the previous one reported
    last: dict[str, str] = {}
    for b in run.bodies:
        if isinstance(b, AgentStateChanged):
            assert b.previous == last.get(b.agent_id, "logged_out"), b
            last[b.agent_id] = b.state
    assert all(s in ("available", "not_ready") for s in last.values()), last
    tot = run.totals()
    assert tot["waiting"] == 0 and tot["answered"] == Counter(r.outcome for r in run.records)["answered"]
    # replay: the same facts through a fresh recorder give the same messages, byte for byte
    again = record(facts)
    assert [(m.envelope, m.body) for m in again.outputs] == [(m.envelope, m.body) for m in run.outputs]
    assert json.dumps(run.invalid) == json.dumps(again.invalid)


# -- configuration and the runner ---------------------------------------------------------


def test_configuration_file(tmp_path: Path) -> None:
    from ccx.queue_recorder import config_path, load_config
    from ccx.settings import Settings

    path = tmp_path / "queue_recorder.yaml"
    path.write_text(
        "queue_recorder:\n  tenants: [acme]\n  queues: {'670100-540100': support}\n"
        "  agents: {PJSIP/desk-7: a7}\n  wrap_up_s: {support: 30}\n"
    )
    config = load_config(path)
    assert config == RecorderConfig(frozenset({"acme"}), {"670100-540100": "support"}, {"PJSIP/desk-7": "a7"},
                                    {"support": 30}, 0)  # fmt: skip
    assert (config.queue_id("670100-540100"), config.queue_id("sales")) == ("support", "sales")
    assert (config.agent_id("PJSIP/desk-7"), config.agent_id("SIP/bob-1")) == ("a7", "bob-1")
    assert config_path(Settings.from_env(data_dir=str(tmp_path)), None) == path
    assert config_path(Settings.from_env(data_dir=str(tmp_path / "none")), None) is None
    for text, complaint in [
        ("queue_recorder: {tenant: [acme]}", "unknown queue_recorder keys ['tenant']"),
        ("queue_recorder: {tenants: acme}", "tenants must be a list"),
        ("queue_recorder: {wrap_up_s: {support: -1}}", "wrap_up_s.support must be a whole number"),
        ("queue_recorder: {queues: [a]}", "queues must be a mapping"),
    ]:
        path.write_text(text)
        with pytest.raises(ValueError, match=re.escape(complaint)):
            load_config(path)


def test_ccx_run_queue_recorder_on_the_embedded_log(tmp_path: Path) -> None:
    """`ccx run queue-recorder` (run_one) with its YAML: facts of queue_a_cancel on
    cc.telephony in, the abandoned contact on cc.contact-events out."""
    import signal

    from ccx.bootstrap import open_log
    from ccx.run import OPTIONAL, run_one
    from ccx.settings import Settings

    assert "queue-recorder" in OPTIONAL
    (tmp_path / "queue_recorder.yaml").write_text("queue_recorder:\n  tenants: [acme]\n")
    settings = Settings.from_env(data_dir=str(tmp_path), backend="embedded")
    log, serde = open_log(settings)
    try:
        log.append([serde.out(m) for m in facts_of(recording("cacofonisk/queue/queue_a_cancel.json"))])
    finally:
        log.close()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        handled = run_one(settings, "queue-recorder", until_idle=True, batch_size=100)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    assert handled == 13
    log, serde = open_log(settings)
    try:
        topic = "cc.contact-events"
        records = [r for p in range(log.partitions(topic)) for r in log.read(topic, p, 0, 100)]
        kinds = [serde.decode(r.value).type for r in records]
    finally:
        log.close()
    assert kinds == ["ContactArrived", "ContactQueued", "ContactEnded"]
