"""The CDR builder: one record per contact, emitted when the contact is finished."""

from __future__ import annotations

from typing import Any

from given import at, run

from processors.contacts import ContactRecorder
from schemas.cdr import ContactRecord
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    HangUpContact,
    HoldContact,
    LogInAgent,
    ResumeContact,
    RouteContact,
    SetAgentReady,
    Tick,
)
from schemas.envelope import Message

SETUP = (
    DefineQueue("q1", "Sales"),
    DefineAgent("a1", "Ann", ("q1",)),
    DefineAgent("a2", "Bob", ("q1",)),
    LogInAgent("a1"),
    LogInAgent("a2"),
)


def records(events: list[Message[Any]]) -> tuple[list[Message[Any]], ContactRecorder, Any]:
    cdr = ContactRecorder()
    state = cdr.initial_state()
    out: list[Message[Any]] = []
    for e in events:
        if type(e.body).__module__ == "schemas.contact":
            state, emitted = cdr.process(state, e)
            out += emitted
    return out, cdr, state


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
