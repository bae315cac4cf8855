"""ACD hand-overs: blind transfers, consults, conferences (given / when / then)."""

from __future__ import annotations

from given import at, given

from processors.acd_state import HELD, WAITING
from schemas.agent import AgentStateChanged
from schemas.commands import (
    AcceptOffer,
    CancelConsult,
    CompleteTransfer,
    CompleteWrapUp,
    ConferenceContact,
    ConsultAgent,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    HangUpContact,
    HoldContact,
    LeaveConference,
    LogInAgent,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
    TransferContact,
)
from schemas.contact import (
    AgentLeftConference,
    ConferenceStarted,
    ConsultConnected,
    ConsultEnded,
    ConsultOffered,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    WrapUpCompleted,
    WrapUpStarted,
)

Q1 = DefineQueue("q1", "Sales")
Q2 = DefineQueue("q2", "Support")


def on_call(*extra: object) -> tuple[object, ...]:
    """a1 (q1) on c1 since 12 s (the caller waited from 10 s); a2 (q1) and a3 (q2) logged
    in and not ready; `extra` follows."""
    return (
        Q1,
        Q2,
        DefineAgent("a1", "A1", ("q1",)),
        DefineAgent("a2", "A2", ("q1",)),
        DefineAgent("a3", "A3", ("q2",)),
        LogInAgent("a1"),
        LogInAgent("a2"),
        LogInAgent("a3"),
        at(1_000),
        SetAgentReady("a1"),
        at(10_000),
        RouteContact("c1", "q1", ani="+491"),
        at(12_000),
        AcceptOffer("c1", "a1"),
        *extra,
    )


def state(agent: str, new: str, old: str, contact: str = "c1") -> AgentStateChanged:
    presence = new if new in ("available", "not_ready") else "available"
    return AgentStateChanged(agent, new, old, "", "" if new == presence else contact, presence)


def consulting(*extra: object) -> tuple[object, ...]:
    """a1 consults a2 (ready at 13 s) from 20 s; a2 answers at 21 s."""
    return on_call(
        at(13_000),
        SetAgentReady("a2"),
        at(20_000),
        ConsultAgent("c1", "a1", "a2"),
        at(21_000),
        AcceptOffer("c1", "a2"),
        *extra,
    )


# --- blind transfer --------------------------------------------------------------------


def test_a_blind_transfer_to_a_queue_wraps_the_agent_up_and_queues_the_caller_keeping_its_wait() -> None:
    o = given(*on_call(at(14_000), SetAgentReady("a3"))).when(
        TransferContact("c1", "a1", to_queue="q2"), at=30_000
    )
    assert o.events[:4] == [
        ContactTransferred("c1", "a1", "q2", "", "blind"),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
        ContactQueued("c1", "q2", 0, (), 1, 28_000),  # its 2 s wait before a1 answered goes on
    ]
    offer = o.events[4]
    assert isinstance(offer, ContactOffered) and (offer.queue_id, offer.agent_id) == ("q2", "a3")
    t = o.state.tenant("t1")
    assert t.contacts["c1"].wrap_of("a1") is not None and t.agents["a1"].state == "wrap_up"


def test_the_transferring_agent_wraps_up_while_the_caller_talks_on_and_the_contact_ends_once() -> None:
    g = given(
        *on_call(at(14_000), SetAgentReady("a3"), at(30_000), TransferContact("c1", "a1", to_queue="q2")),
        at(31_000),
        AcceptOffer("c1", "a3"),
    )
    o = g.when(CompleteWrapUp("c1", "a1", "sold"), at=40_000)
    assert o.events[0] == WrapUpCompleted("c1", "a1", "sold", "")
    assert "c1" in o.state.tenant("t1").contacts  # the caller still talks to a3
    g2 = given(
        *on_call(at(14_000), SetAgentReady("a3"), at(30_000), TransferContact("c1", "a1", to_queue="q2")),
        at(31_000),
        AcceptOffer("c1", "a3"),
        at(40_000),
        CompleteWrapUp("c1", "a1", "sold"),
        at(50_000),
        HangUpContact("c1", "caller"),
    )
    ends = [e for e in g2.history if isinstance(e, ContactEnded)]
    assert ends == [ContactEnded("c1", "q2", "completed", "caller", "a3", 3_000)]  # 2 s + 1 s waiting
    done = g2.when(CompleteWrapUp("c1", "a3", "ok"), at=55_000)
    assert "c1" not in done.state.tenant("t1").contacts


def test_a_blind_transfer_to_an_agent_offers_the_contact_to_that_agent() -> None:
    o = given(*on_call(at(13_000), SetAgentReady("a2"))).when(
        TransferContact("c1", "a1", to_agent="a2"), at=30_000
    )
    assert o.events == [
        ContactTransferred("c1", "a1", "", "a2", "blind"),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
        ContactOffered("c1", "q1", "a2", "transfer", 1, (), "transfer", 45_000),
        AgentStateChanged("a2", "reserved", "available", "", "c1", "available"),
    ]


def test_a_declined_transfer_puts_the_caller_back_in_its_queue() -> None:
    o = given(
        *on_call(at(13_000), SetAgentReady("a2"), at(30_000), TransferContact("c1", "a1", to_agent="a2"))
    ).when(DeclineOffer("c1", "a2"), at=31_000)
    c = o.state.tenant("t1").contacts["c1"]
    assert (c.phase, c.queue_id, c.excluded) == (WAITING, "q1", ("a2",))


def test_a_transfer_to_an_agent_not_available_is_rejected() -> None:
    g = given(*on_call())
    assert "a2" in g.when(TransferContact("c1", "a1", to_agent="a2")).rejected("agent_not_available").reason
    g = given(*on_call(at(13_000), SetAgentReady("a2"), RouteContact("c2", "q1")))  # a2 busy with c2
    g.when(TransferContact("c1", "a1", to_agent="a2")).rejected("agent_not_available")


def test_transfer_input_errors_name_the_field() -> None:
    g = given(*on_call(at(13_000), SetAgentReady("a2")))
    g.when(TransferContact("c1", "a1")).invalid("exactly one of to_queue and to_agent")
    g.when(TransferContact("c1", "a1", "q2", "a2")).invalid("exactly one of to_queue and to_agent")
    g.when(TransferContact("c1", "a1", to_queue="nope")).invalid("to_queue: unknown queue 'nope'")
    g.when(TransferContact("c1", "a1", to_agent="nobody")).invalid("to_agent: unknown agent 'nobody'")
    g.when(TransferContact("c1", "a1", to_agent="a1")).invalid("to_agent: agent 'a1' cannot hand")
    g.when(TransferContact("c1", "ghost", to_queue="q2")).invalid("agent_id: unknown agent 'ghost'")


def test_a_transfer_needs_the_agent_with_the_caller() -> None:
    g = given(*on_call(at(13_000), RouteContact("c2", "q1")))
    g.when(TransferContact("c1", "a2", to_queue="q2")).rejected("agent_not_on_contact")
    g.when(TransferContact("c2", "a1", to_queue="q2")).rejected("contact_not_connected")
    g.when(TransferContact("c9", "a1", to_queue="q2")).rejected("contact_not_found")


def test_a_held_caller_can_be_transferred() -> None:
    o = given(*on_call(at(20_000), HoldContact("c1", "a1"))).when(TransferContact("c1", "a1", to_queue="q2"))
    assert o.events[0] == ContactTransferred("c1", "a1", "q2", "", "blind")


# --- consult, transfer after consult, conference -----------------------------------------


def test_a_consult_holds_the_caller_and_reserves_the_consulted_agent() -> None:
    o = given(*on_call(at(13_000), SetAgentReady("a2"))).when(ConsultAgent("c1", "a1", "a2"), at=20_000)
    assert o.events == [
        ContactHeld("c1", "a1"),
        ConsultOffered("c1", "a1", "a2"),
        AgentStateChanged("a2", "reserved", "available", "", "c1", "available"),
    ]


def test_the_consulted_agent_answers_with_accept_offer() -> None:
    o = given(*on_call(at(13_000), SetAgentReady("a2"), at(20_000), ConsultAgent("c1", "a1", "a2"))).when(
        AcceptOffer("c1", "a2"), at=21_000
    )
    assert o.events == [
        ConsultConnected("c1", "a1", "a2"),
        AgentStateChanged("a2", "handling", "reserved", "", "c1", "available"),
    ]


def test_a_declined_consult_leaves_the_caller_held_with_the_first_agent() -> None:
    o = given(*on_call(at(13_000), SetAgentReady("a2"), at(20_000), ConsultAgent("c1", "a1", "a2"))).when(
        DeclineOffer("c1", "a2"), at=21_000
    )
    assert o.events == [
        ConsultEnded("c1", "a1", "a2", "declined"),
        AgentStateChanged("a2", "available", "reserved", "", "", "available"),
    ]
    c = o.state.tenant("t1").contacts["c1"]
    assert (c.phase, c.agent_id, c.consult_to) == (HELD, "a1", "")


def test_complete_transfer_gives_the_caller_to_the_consulted_agent() -> None:
    o = given(*consulting()).when(CompleteTransfer("c1", "a1"), at=30_000)
    assert o.events == [
        ContactTransferred("c1", "a1", "", "a2", "consult"),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
        ContactResumed("c1", "a2"),
    ]
    end = given(*consulting(at(30_000), CompleteTransfer("c1", "a1"))).when(HangUpContact("c1", "caller"))
    assert end.events[:2] == [
        ContactEnded("c1", "q1", "completed", "caller", "a2", 2_000),
        WrapUpStarted("c1", "a2"),
    ]


def test_a_conference_resumes_the_caller_with_both_agents() -> None:
    o = given(*consulting()).when(ConferenceContact("c1", "a1"), at=30_000)
    assert o.events == [ConferenceStarted("c1", ("a1", "a2")), ContactResumed("c1", "a1")]


def test_leaving_a_conference_wraps_up_and_the_last_agent_keeps_the_caller() -> None:
    g = given(*consulting(at(30_000), ConferenceContact("c1", "a1")))
    o = g.when(LeaveConference("c1", "a1"), at=40_000)
    assert o.events == [
        AgentLeftConference("c1", "a1", ("a2",)),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
    ]
    c = o.state.tenant("t1").contacts["c1"]
    assert (c.agent_id, c.others) == ("a2", ())
    g2 = given(
        *consulting(at(30_000), ConferenceContact("c1", "a1"), at(40_000), LeaveConference("c1", "a1"))
    )
    g2.when(HoldContact("c1", "a2")).then(ContactHeld("c1", "a2"))
    g2.when(LeaveConference("c1", "a2")).rejected("agent_not_in_conference")


def test_a_caller_hanging_up_in_a_conference_sends_every_agent_to_wrap_up() -> None:
    o = given(*consulting(at(30_000), ConferenceContact("c1", "a1"))).when(
        HangUpContact("c1", "caller"), at=50_000
    )
    assert o.events == [
        ContactEnded("c1", "q1", "completed", "caller", "a1", 2_000),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
        WrapUpStarted("c1", "a2"),
        AgentStateChanged("a2", "wrap_up", "handling", "", "c1", "available"),
    ]
    t = o.state.tenant("t1")
    assert {w.agent_id for w in t.contacts["c1"].wraps} == {"a1", "a2"}


def test_a_caller_hanging_up_during_a_consult_releases_the_consulted_agent() -> None:
    o = given(*on_call(at(13_000), SetAgentReady("a2"), at(20_000), ConsultAgent("c1", "a1", "a2"))).when(
        HangUpContact("c1", "caller"), at=25_000
    )
    assert o.events == [
        ConsultEnded("c1", "a1", "a2", "caller_left"),
        AgentStateChanged("a2", "available", "reserved", "", "", "available"),
        ContactEnded("c1", "q1", "completed", "caller", "a1", 2_000),
        WrapUpStarted("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "handling", "", "c1", "available"),
    ]


def test_cancel_consult_frees_the_consulted_agent_and_keeps_the_caller_held() -> None:
    o = given(*consulting()).when(CancelConsult("c1", "a1"), at=25_000)
    assert o.events == [
        ConsultEnded("c1", "a1", "a2", "cancelled"),
        AgentStateChanged("a2", "available", "handling", "", "", "available"),
    ]
    assert o.state.tenant("t1").contacts["c1"].phase == HELD


def test_consult_rejections_have_codes() -> None:
    g = given(*on_call(at(13_000), SetAgentReady("a2")))
    g.when(CompleteTransfer("c1", "a1")).rejected("consult_not_found")
    g.when(ConferenceContact("c1", "a1")).rejected("consult_not_found")
    g.when(CancelConsult("c1", "a1")).rejected("consult_not_found")
    g.when(ConsultAgent("c1", "a1", "a3")).rejected("agent_not_available")
    g.when(ConsultAgent("c1", "a1", "zz")).invalid("to_agent: unknown agent 'zz'")
    offered = given(*on_call(at(13_000), SetAgentReady("a2"), at(20_000), ConsultAgent("c1", "a1", "a2")))
    offered.when(CompleteTransfer("c1", "a1")).rejected("consult_not_connected")
    offered.when(ConferenceContact("c1", "a1")).rejected("consult_not_connected")
    offered.when(TransferContact("c1", "a1", to_queue="q2")).rejected("consult_in_progress")
    offered.when(ConsultAgent("c1", "a1", "a3")).rejected("consult_in_progress")
    offered.when(CompleteTransfer("c1", "a2")).rejected("agent_not_on_contact")
    conf = given(*consulting(at(30_000), ConferenceContact("c1", "a1")))
    conf.when(TransferContact("c1", "a1", to_queue="q2")).rejected("conference_in_progress")
    conf.when(LeaveConference("c1", "a3")).rejected("agent_not_in_conference")
    given(*on_call()).when(LeaveConference("c1", "a1")).rejected("agent_not_in_conference")


def test_a_transferred_away_agents_wrap_up_times_out_on_its_own() -> None:
    g = given(*consulting(at(30_000), CompleteTransfer("c1", "a1")))
    o = g.when(Tick(), at=30_000 + 60_000)
    assert o.events[:2] == [
        WrapUpCompleted("c1", "a1", "timeout", ""),
        AgentStateChanged("a1", "available", "wrap_up", "", "", "available"),
    ]
    c = o.state.tenant("t1").contacts["c1"]
    assert (c.agent_id, c.wraps) == ("a2", ())


def test_an_agent_going_not_ready_during_a_consult_is_refused() -> None:
    g = given(*consulting())
    g.when(SetAgentNotReady("a2", "break")).rejected("agent_busy")
