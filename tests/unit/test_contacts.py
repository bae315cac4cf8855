"""The CDR builder: one record per contact, emitted when the contact is finished, and one
queue leg per stint of the contact in a queue."""

from __future__ import annotations

from collections import Counter
from typing import Any

from given import at, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.acd import ACD
from processors.acd_state import CONNECTED, HELD, OFFERED, WAITING, WRAP_UP
from processors.contacts import ContactRecorder, OpenLeg
from processors.decider import Invalid, Rejected
from schemas.cdr import ContactRecord
from schemas.commands import (
    AcceptOffer,
    BlockNumber,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    DefineSchedule,
    HangUpContact,
    HoldContact,
    LogInAgent,
    LogOutAgent,
    RequestCallback,
    ResumeContact,
    RouteContact,
    SetAgentReady,
    Tick,
)
from schemas.contact import ContactOverflowed, ContactQueued
from schemas.envelope import Envelope, Message, derive, derive_event_id
from schemas.legs import QueueLeg
from schemas.routing import OverflowRule, Window

SETUP = (
    DefineQueue("q1", "Sales"),
    DefineAgent("a1", "Ann", ("q1",)),
    DefineAgent("a2", "Bob", ("q1",)),
    LogInAgent("a1"),
    LogInAgent("a2"),
)


def emitted(events: list[Message[Any]]) -> tuple[list[Message[Any]], ContactRecorder, Any]:
    """Everything the builder emits for `events` (records and legs), the builder, its state."""
    cdr = ContactRecorder()
    state = cdr.initial_state()
    out: list[Message[Any]] = []
    for e in events:
        if type(e.body).__module__ == "schemas.contact":
            state, emitted = cdr.process(state, e)
            out += emitted
    return out, cdr, state


def records(events: list[Message[Any]]) -> tuple[list[Message[Any]], ContactRecorder, Any]:
    """The records the builder emits for `events` (legs left out), the builder, its state."""
    out, cdr, state = emitted(events)
    return [m for m in out if isinstance(m.body, ContactRecord)], cdr, state


def legs(events: list[Message[Any]]) -> list[QueueLeg]:
    return [m.body for m in emitted(events)[0] if isinstance(m.body, QueueLeg)]


def test_answered_contact_with_hold() -> None:
    events = run(
        *SETUP,
        at(1_000),
        SetAgentReady("a1"),
        at(10_000),
        RouteContact("c1", "q1", ani="+331", dnis="100", priority=1),
        at(12_000),
        AcceptOffer("c1", "a1"),
        at(20_000),
        HoldContact("c1", "a1"),
        at(25_000),
        ResumeContact("c1", "a1"),
        at(70_000),
        HangUpContact("c1", "agent"),
        at(80_000),
        CompleteWrapUp("c1", "a1", "sale"),
    )
    out, _, state = records(events)
    assert [m.body for m in out] == [
        ContactRecord(
            contact_id="c1",
            queue_id="q1",
            channel="voice",
            ani="+331",
            dnis="100",
            priority=1,
            arrived_at=10_000,
            queued_at=10_000,
            answered_at=12_000,
            ended_at=70_000,
            finished_at=80_000,
            outcome="answered",
            end_party="agent",
            agent_id="a1",
            offers=1,
            wait_ms=2_000,
            talk_ms=53_000,
            hold_ms=5_000,
            holds=1,
            wrap_up_ms=10_000,
            disposition="sale",
            agents=("a1",),
            transfers=0,
        )
    ]
    assert state.drafts == {}, "finished contacts leave the state"
    finishing = events[-2]
    assert out[0].envelope.causation_id == finishing.envelope.event_id
    assert out[0].envelope.occurred_at == 80_000


def test_abandoned_contact_is_recorded_when_it_ends() -> None:
    events = run(*SETUP, at(5_000), RouteContact("c1", "q1"), at(9_000), HangUpContact("c1", "caller"))
    out, _, state = records(events)
    (record,) = (m.body for m in out)
    assert (record.outcome, record.end_party, record.agent_id, record.wait_ms) == (
        "abandoned",
        "caller",
        "",
        4_000,
    )
    assert (record.ended_at, record.finished_at, record.answered_at) == (9_000, 9_000, 0)
    assert (record.talk_ms, record.wrap_up_ms, record.offers, record.disposition) == (0, 0, 0, "")
    assert state.drafts == {}


def test_abandoned_while_ringing_counts_every_offer() -> None:
    events = run(
        *SETUP,
        at(1_000),
        SetAgentReady("a1"),
        SetAgentReady("a2"),
        at(5_000),
        RouteContact("c1", "q1"),
        at(6_000),
        DeclineOffer("c1", "a1"),
        at(8_000),
        HangUpContact("c1", "caller"),
    )
    (record,) = (m.body for m in records(events)[0])
    assert (record.offers, record.outcome, record.wait_ms, record.agent_id) == (2, "abandoned", 3_000, "")


def test_ended_while_held_counts_hold_until_the_end_and_wrap_up_timeout() -> None:
    events = run(
        *SETUP,
        at(1_000),
        SetAgentReady("a1"),
        at(2_000),
        RouteContact("c1", "q1"),
        at(3_000),
        AcceptOffer("c1", "a1"),
        at(13_000),
        HoldContact("c1", "a1"),
        at(43_000),
        HangUpContact("c1", "caller"),
        at(103_000),
        Tick(),
    )
    (record,) = (m.body for m in records(events)[0])
    assert (record.talk_ms, record.hold_ms, record.holds) == (10_000, 30_000, 1)
    assert (record.disposition, record.wrap_up_ms, record.finished_at) == ("timeout", 60_000, 103_000)


def test_no_record_before_wrap_up_completes() -> None:
    events = run(
        *SETUP, at(1_000), SetAgentReady("a1"), RouteContact("c1", "q1"), AcceptOffer("c1", "a1"), at(9_000)
    )
    out, _, state = records(events)
    assert out == []
    assert set(state.drafts) == {("t1", "c1")}


def test_one_record_per_contact_across_many_contacts() -> None:
    items: list[object] = [*SETUP, at(1_000), SetAgentReady("a1"), SetAgentReady("a2")]
    for i in range(20):
        t = 10_000 * (i + 1)
        c = f"c{i}"
        items += [at(t), RouteContact(c, "q1")]
        if i % 3 == 0:
            items += [at(t + 500), HangUpContact(c, "caller")]
        else:
            agent = "a1" if i % 2 else "a2"
            items += [at(t + 1_000), AcceptOffer(c, agent), at(t + 2_000)]
            items += [HangUpContact(c, "caller"), at(t + 3_000), CompleteWrapUp(c, agent, "ok")]
    out, _, state = records(run(*items))
    ids = [m.body.contact_id for m in out]
    assert sorted(ids) == sorted(f"c{i}" for i in range(20))
    assert state.drafts == {}


# -- queue legs (`cc.contact-legs`)

T0 = 1_767_600_000_000  # Monday 2026-01-05 08:00 UTC


def _leg(
    contact_id: str,
    n: int,
    queue_id: str,
    queued_at: int,
    left_at: int,
    outcome: str,
    wait_ms: int,
    **kw: Any,
) -> QueueLeg:
    fields: dict[str, Any] = {
        "channel": "voice",
        "priority": 0,
        "agent_id": "",
        "talk_ms": 0,
        "hold_ms": 0,
        "holds": 0,
        "wrap_up_ms": 0,
        "to_queue": "",
    }
    return QueueLeg(
        contact_id,
        n,
        queue_id,
        queued_at=queued_at,
        left_at=left_at,
        outcome=outcome,
        wait_ms=wait_ms,
        **{**fields, **kw},
    )


def test_an_answered_single_leg_has_the_numbers_of_the_cdr() -> None:
    events = run(
        *SETUP,
        at(1_000),
        SetAgentReady("a1"),
        at(10_000),
        RouteContact("c1", "q1", ani="+331", dnis="100", priority=1),
        at(12_000),
        AcceptOffer("c1", "a1"),
        at(20_000),
        HoldContact("c1", "a1"),
        at(25_000),
        ResumeContact("c1", "a1"),
        at(70_000),
        HangUpContact("c1", "agent"),
        at(80_000),
        CompleteWrapUp("c1", "a1", "sale"),
    )
    out, _, state = emitted(events)
    leg, record = (m.body for m in out)  # the leg first, then the record
    assert leg == _leg(
        "c1", 1, "q1", 10_000, 12_000, "answered", 2_000, priority=1, agent_id="a1",
        talk_ms=53_000, hold_ms=5_000, holds=1, wrap_up_ms=10_000,
    )  # fmt: skip
    assert isinstance(record, ContactRecord)
    same = ("contact_id", "queue_id", "channel", "priority", "queued_at", "outcome", "agent_id", "wait_ms")
    assert [getattr(leg, f) for f in same] == [getattr(record, f) for f in same]
    handling = ("talk_ms", "hold_ms", "holds", "wrap_up_ms")
    assert [getattr(leg, f) for f in handling] == [getattr(record, f) for f in handling]
    assert leg.left_at == record.answered_at
    assert state.drafts == {}


def test_an_abandoned_contact_has_one_abandoned_leg_before_its_record() -> None:
    events = run(*SETUP, at(5_000), RouteContact("c1", "q1"), at(9_000), HangUpContact("c1", "caller"))
    out, _, state = emitted(events)
    assert [type(m.body).__name__ for m in out] == ["QueueLeg", "ContactRecord"]
    assert out[0].body == _leg("c1", 1, "q1", 5_000, 9_000, "abandoned", 4_000)
    assert out[0].envelope.causation_id == out[1].envelope.causation_id == events[-1].envelope.event_id
    assert state.drafts == {}


def test_an_overflowed_contact_has_one_leg_per_queue_its_wait_counted_from_the_first() -> None:
    events = run(
        at(T0),
        DefineQueue("q2", "Support"),
        DefineQueue("q1", "Sales", overflow=(OverflowRule("wait", "queue", "q2", after_s=30),)),
        DefineAgent("a1", "Ann", ("q2",)),
        LogInAgent("a1"),
        SetAgentReady("a1"),
        RouteContact("c1", "q1", priority=2),
        at(T0 + 30_000),
        Tick(),
        at(T0 + 35_000),
        AcceptOffer("c1", "a1"),
        at(T0 + 95_000),
        HangUpContact("c1", "caller"),
        at(T0 + 100_000),
        CompleteWrapUp("c1", "a1", "ok"),
    )
    out, _, state = emitted(events)
    first, second = (m.body for m in out if isinstance(m.body, QueueLeg))
    assert first == _leg("c1", 1, "q1", T0, T0 + 30_000, "overflowed", 30_000, priority=2, to_queue="q2")
    assert second == _leg(
        "c1", 2, "q2", T0 + 30_000, T0 + 35_000, "answered", 35_000, priority=2, agent_id="a1",
        talk_ms=60_000, wrap_up_ms=5_000,
    )  # fmt: skip
    (record,) = (m.body for m in out if isinstance(m.body, ContactRecord))
    assert (record.queue_id, record.queued_at, record.wait_ms) == ("q2", T0, 35_000)
    assert state.drafts == {}


def test_a_rule_that_ends_the_contact_closes_its_leg_with_the_end_reason() -> None:
    events = run(
        at(T0),
        DefineQueue("q1", "Sales", overflow=(OverflowRule("wait", "voicemail", after_s=60),)),
        RouteContact("c1", "q1"),
        at(T0 + 61_000),
        Tick(),
    )
    assert legs(events) == [_leg("c1", 1, "q1", T0, T0 + 61_000, "timed_out", 61_000)]
    (record,) = (m.body for m in records(events)[0])
    assert (record.outcome, record.wait_ms) == ("timed_out", 61_000)


def test_a_callback_closes_the_callers_leg_and_opens_one_for_the_callback() -> None:
    events = run(*SETUP, at(T0), RouteContact("c1", "q1", ani="+1555"), at(T0 + 5_000), RequestCallback("c1"))
    out, _, state = emitted(events)
    assert [m.body for m in out if isinstance(m.body, QueueLeg)] == [
        _leg("c1", 1, "q1", T0, T0 + 5_000, "callback", 5_000)
    ]
    callback = state.drafts[("t1", "c1-cb")]
    assert callback.open_leg == OpenLeg(1, "q1", 0, T0 + 5_000)  # queued now; its wait began at T0
    assert (callback.channel, callback.queued_at) == ("callback", T0)


def test_a_contact_that_never_queued_has_no_leg() -> None:
    events = run(
        at(T0),
        DefineSchedule("night", "Night", "UTC", (Window(0, 0, 360),)),
        DefineQueue("q1", "Sales"),
        DefineQueue("q2", "Closed", hours="night"),
        BlockNumber("+1666", "abuse"),
        RouteContact("c1", "q1", ani="+1666"),
        RouteContact("c2", "q2"),
    )
    out, _, state = emitted(events)
    assert [(m.body.contact_id, m.body.outcome) for m in out] == [("c1", "blocked"), ("c2", "closed")]
    assert all(isinstance(m.body, ContactRecord) for m in out) and state.drafts == {}


def test_leg_ids_are_distinct_derived_and_the_same_on_replay() -> None:
    events = run(
        at(T0),
        DefineQueue("q2", "Support"),
        DefineQueue("q1", "Sales", overflow=(OverflowRule("wait", "queue", "q2", after_s=30),)),
        RouteContact("c1", "q1"),
        RouteContact("c2", "q1"),
        at(T0 + 4_000),
        HangUpContact("c2", "caller"),
        at(T0 + 30_000),
        Tick(),
        at(T0 + 40_000),
        HangUpContact("c1", "caller"),
    )
    first, second = emitted(events)[0], emitted(events)[0]
    ids = [m.envelope.event_id for m in first]
    assert ids == [m.envelope.event_id for m in second] and len(set(ids)) == len(ids) == 5
    for m in first:
        index = 0 if isinstance(m.body, ContactRecord) else 1
        assert m.envelope.event_id == derive_event_id(m.envelope.causation_id or "", index)
    # the CDR's id did not change when legs were added: index 0 of the finishing event
    (c1,) = (m for m in first if isinstance(m.body, ContactRecord) and m.body.contact_id == "c1")
    assert c1.envelope.event_id == derive_event_id(events[-1].envelope.event_id, 0)


# -- a property over random traffic: legs are well formed whatever the ACD decides

QUEUES = ("q1", "q2")
AGENTS = ("a1", "a2", "a3")
RULES = st.sampled_from(
    [
        (),
        (OverflowRule("wait", "queue", "q2", after_s=20),),
        (OverflowRule("wait", "queue", "q1", after_s=15),),
        (OverflowRule("wait", "voicemail", after_s=30),),
        (OverflowRule("wait", "callback", after_s=10), OverflowRule("wait", "message", "bye", after_s=40)),
        (OverflowRule("no_agents", "queue", "q2"),),
        (OverflowRule("full", "queue", "q2"), OverflowRule("wait", "queue", "q2", after_s=25)),
    ]
)


def _choices(t: Any, n: int) -> list[list[object]]:
    """Commands the ACD would accept now, by kind (arrivals, agents, time, each contact phase)."""
    contacts = sorted(t.contacts.values(), key=lambda c: c.contact_id)
    by_phase: dict[str, list[Any]] = {}
    for c in contacts:
        by_phase.setdefault(c.phase, []).append(c)
    waiting = by_phase.get(WAITING, []) + by_phase.get(OFFERED, [])
    talking = by_phase.get(CONNECTED, []) + by_phase.get(HELD, [])
    return [
        [RouteContact(f"c{n}", q, ani=f"+1{n}", priority=n % 3) for q in QUEUES],
        [Tick()],
        [SetAgentReady(a) for a in AGENTS]
        + [LogInAgent(a) for a in AGENTS]
        + [LogOutAgent(a) for a in AGENTS],
        [AcceptOffer(c.contact_id, a) for c in by_phase.get(OFFERED, []) for a in c.offers],
        [DeclineOffer(c.contact_id, a) for c in by_phase.get(OFFERED, []) for a in c.offers],
        [HangUpContact(c.contact_id, "caller") for c in waiting]
        + [RequestCallback(c.contact_id) for c in waiting],
        [HoldContact(c.contact_id, c.agent_id) for c in by_phase.get(CONNECTED, [])]
        + [ResumeContact(c.contact_id, c.agent_id) for c in by_phase.get(HELD, [])],
        [HangUpContact(c.contact_id, p) for c in talking for p in ("caller", "agent")],
        [CompleteWrapUp(c.contact_id, c.agent_id, "ok") for c in by_phase.get(WRAP_UP, [])],
    ]


def _traffic(
    rules: tuple[tuple[OverflowRule, ...], tuple[OverflowRule, ...]],
    max_waiting: int,
    steps: list[tuple[int, int, int]],
) -> list[Message[Any]]:
    """Contact events of the ACD driven by `steps`: (kind, pick, ms later) choose among the
    commands it would accept at that moment, so most steps do something; a step a second or
    more later is preceded by a `Tick`, as the runtime appends them."""
    acd = ACD()
    state = acd.initial_state()
    events: list[Message[Any]] = []
    now = T0

    def decide(command: object) -> None:
        nonlocal state
        n = len(events)
        msg = Message(Envelope(f"cmd-{n}-{now}", "t1", now, f"corr-{n}"), command)
        try:
            bodies = list(acd.decide(state, msg))
        except (Rejected, Invalid):
            return
        for i, body in enumerate(bodies):
            state = acd.evolve(state, derive(msg, body, i))
            events.append(derive(msg, body, i))

    for command in (
        DefineQueue("q1", "Sales"),
        DefineQueue("q2", "Support"),  # both exist before a rule names one
        DefineQueue("q1", "Sales", overflow=rules[0], max_waiting=max_waiting),
        DefineQueue("q2", "Support", overflow=rules[1]),
        DefineAgent("a1", "Ann", ("q1",)),
        DefineAgent("a2", "Bob", ("q2",)),
        DefineAgent("a3", "Cy", ("q1", "q2")),
        *(LogInAgent(a) for a in AGENTS),
        *(SetAgentReady(a) for a in AGENTS),
    ):
        decide(command)
    for arrivals, (kind, pick, dt) in enumerate(steps):
        if dt >= 1_000:  # time passes: the runtime's tick fires the timers first
            now += dt
            decide(Tick())
        options = [o for o in _choices(state.tenant("t1"), arrivals) if o]
        group = options[kind % len(options)]
        decide(group[pick % len(group)])
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=st.tuples(RULES, RULES),
    max_waiting=st.integers(0, 2),
    steps=st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 7), st.integers(0, 20_000)), min_size=10, max_size=80
    ),
)
def test_legs_are_well_formed_under_random_traffic(
    rules: tuple[tuple[OverflowRule, ...], tuple[OverflowRule, ...]],
    max_waiting: int,
    steps: list[tuple[int, int, int]],
) -> None:
    cdr = ContactRecorder()
    state = cdr.initial_state()
    opened: Counter[str] = Counter()
    seen: dict[str, list[QueueLeg]] = {}
    refused: dict[str, set[str]] = {}  # queues whose door sent the contact on (full, closed)
    for event in _traffic(rules, max_waiting, steps):
        if isinstance(event.body, ContactQueued):
            opened[event.body.contact_id] += 1
        if isinstance(event.body, ContactOverflowed) and event.body.when in ("full", "closed"):
            refused.setdefault(event.body.contact_id, set()).add(event.body.from_queue)
        state, out = cdr.process(state, event)
        kinds = [type(m.body).__name__ for m in out]
        assert kinds in ([], ["QueueLeg"], ["ContactRecord"], ["QueueLeg", "ContactRecord"]), kinds
        for m in out:
            body = m.body
            mine = seen.setdefault(body.contact_id, [])
            if isinstance(body, QueueLeg):
                assert body.left_at >= body.queued_at and body.wait_ms >= 0, body
                assert body.leg == len(mine) + 1, "leg numbers 1..n without gaps"
                if mine:
                    assert body.queued_at >= mine[-1].left_at
                    assert mine[-1].outcome == "overflowed"
                    # the next queue, or one that refused it at the door and sent it on
                    bounced = refused.get(body.contact_id, set())
                    assert mine[-1].to_queue == body.queue_id or mine[-1].to_queue in bounced
                assert (body.outcome == "overflowed") == bool(body.to_queue)
                assert (body.outcome == "answered") == bool(body.agent_id)
                mine.append(body)
            else:  # the record finishes the contact: every leg it opened is closed
                assert opened[body.contact_id] == len(mine), (body, mine)
                if mine:
                    assert mine[-1].queue_id == body.queue_id
                if body.outcome == "answered":
                    last = mine[-1]
                    assert (last.outcome, last.wait_ms, last.agent_id, last.talk_ms, last.wrap_up_ms) == (
                        "answered", body.wait_ms, body.agent_id, body.talk_ms, body.wrap_up_ms,
                    )  # fmt: skip
        for (_tenant, contact_id), draft in state.drafts.items():  # at most one leg open
            open_now = opened[contact_id] - len(seen.get(contact_id, []))
            assert open_now in (0, 1) and (open_now == 1) == (draft.open_leg is not None), (contact_id, draft)


def test_an_answered_contact_without_a_named_agent_has_its_leg_and_one_record() -> None:
    """Imported history may say "answered" without naming the agent: nobody wraps up, so the
    contact is finished when it ends, with its answered leg (and nothing more after)."""
    from schemas.contact import ContactArrived, ContactConnected, ContactEnded, WrapUpCompleted, WrapUpStarted

    steps: list[tuple[int, object]] = [
        (0, ContactArrived("c1", "voice", "+4930123", "")),
        (1_000, ContactQueued("c1", "q1", 0)),
        (3_000, ContactConnected("c1", "q1", "", 2_000)),
        (9_000, ContactEnded("c1", "q1", "completed", "caller", "", 2_000)),
        (9_000, WrapUpStarted("c1", "")),
        (9_000, WrapUpCompleted("c1", "", "imported", "")),
    ]
    p = ContactRecorder()
    state = p.initial_state()
    out: list[object] = []
    for i, (t, body) in enumerate(steps):
        state, emitted = p.process(state, Message(Envelope(f"e{i}", "demo", t, "c1"), body))
        out += [m.body for m in emitted]
    legs = [b for b in out if isinstance(b, QueueLeg)]
    cdrs = [b for b in out if isinstance(b, ContactRecord)]
    assert len(cdrs) == 1 and cdrs[0].outcome == "answered" and cdrs[0].talk_ms == 6_000
    assert [(g.queue_id, g.outcome, g.wait_ms, g.talk_ms) for g in legs] == [("q1", "answered", 2_000, 6_000)]
