"""ACD scenarios, one behaviour each: given (history) / when (command) / then (events)."""

from __future__ import annotations

import pickle

from given import at, given

from processors.acd import acd_processor
from processors.acd_state import AcdState
from schemas.agent import AgentLoggedIn, AgentLoggedOut, AgentStateChanged
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
    Candidate,
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    OfferAccepted,
    OfferDeclined,
    OfferTimedOut,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Envelope, Message
from schemas.routing import Capacity, Membership
from schemas.system import CommandRejected

Q1 = DefineQueue("q1", "Sales")
Q2 = DefineQueue("q2", "Support")


def staffed(*agents: str, queues: tuple[str, ...] = ("q1",)) -> tuple[object, ...]:
    """Queues q1 and q2, and the agents defined in `queues` and logged in (not ready)."""
    items: list[object] = [Q1, Q2]
    for a in agents:
        items += [DefineAgent(a, a.upper(), queues), LogInAgent(a)]
    return tuple(items)


def ready(agent: str, ms: int) -> tuple[object, ...]:
    return (at(ms), SetAgentReady(agent))


def offered(contact: str = "c1", agent: str = "a1", ms: int = 10_000) -> tuple[object, ...]:
    """a1 ready at 1 s, contact routed (and offered to a1) at `ms`."""
    return (*staffed(agent), *ready(agent, 1_000), at(ms), RouteContact(contact, "q1"))


def connected(ms: int = 12_000) -> tuple[object, ...]:
    return (*offered(), at(ms), AcceptOffer("c1", "a1"))


def ended(ms: int = 72_000) -> tuple[object, ...]:
    return (*connected(), at(ms), HangUpContact("c1", "caller"))


def state_of(agent: str, state: str, previous: str, reason: str = "", contact: str = "") -> AgentStateChanged:
    presence = state if state in ("available", "not_ready", "logged_out") else "available"
    return AgentStateChanged(agent, state, previous, reason, contact, presence)


# --- configuration ---------------------------------------------------------------------


def test_define_queue_versions_its_rules() -> None:
    given().when(Q1).then(QueueDefined("q1", "Sales", 20, 5, 15, 60, "longest_idle", 1))
    given(Q1).when(DefineQueue("q1", "Sales", ring_timeout_s=20)).then(
        QueueDefined("q1", "Sales", 20, 5, 20, 60, "longest_idle", 2)
    )


def test_define_queue_rejects_unknown_strategy_and_negative_thresholds() -> None:
    given().when(DefineQueue("q1", "Sales", strategy="fastest")).invalid("unknown strategy 'fastest'")
    given().when(DefineQueue("q1", "Sales", wrap_up_s=-1)).invalid(">= 0")


def test_define_agent_needs_existing_queues() -> None:
    given(Q1).when(DefineAgent("a1", "Ann", ("q1",))).then(
        AgentDefined("a1", "Ann", ("q1",), (Membership("q1"),), (), (Capacity("voice", 1),))
    )
    given(Q1).when(DefineAgent("a1", "Ann", ("q1", "q9"))).invalid("unknown queue 'q9'")


def test_adding_a_queue_to_an_available_agent_dispatches() -> None:
    history = (*staffed("a1"), *ready("a1", 1_000), at(2_000), RouteContact("c1", "q2"))
    out = given(*history).when(DefineAgent("a1", "A1", ("q1", "q2")), at=3_000)
    out.then_types("AgentDefined", "ContactOffered", "AgentStateChanged")


# --- presence --------------------------------------------------------------------------


def test_login_starts_not_ready() -> None:
    given(Q1, DefineAgent("a1", "Ann", ("q1",))).when(LogInAgent("a1")).then(
        AgentLoggedIn("a1", ("q1",)), state_of("a1", "not_ready", "logged_out", "login")
    )


def test_unknown_agent_is_invalid_for_every_agent_command() -> None:
    for cmd in (
        LogInAgent("a9"),
        LogOutAgent("a9"),
        SetAgentReady("a9"),
        SetAgentNotReady("a9", "break"),
        AcceptOffer("c1", "a9"),
        DeclineOffer("c1", "a9"),
        HoldContact("c1", "a9"),
        ResumeContact("c1", "a9"),
        CompleteWrapUp("c1", "a9", "sale"),
    ):
        given(*offered()).when(cmd).invalid("unknown agent 'a9'")


def test_login_twice_is_rejected() -> None:
    given(*staffed("a1")).when(LogInAgent("a1")).rejected("agent_already_logged_in")


def test_ready_from_not_ready_and_rejections() -> None:
    given(*staffed("a1")).when(SetAgentReady("a1")).then(state_of("a1", "available", "not_ready"))
    given(*staffed("a1"), SetAgentReady("a1")).when(SetAgentReady("a1")).rejected("agent_already_available")
    given(Q1, DefineAgent("a1", "A", ("q1",))).when(SetAgentReady("a1")).rejected("agent_not_logged_in")
    given(*offered()).when(SetAgentReady("a1")).rejected("agent_busy")


def test_not_ready_from_available_or_not_ready() -> None:
    given(*staffed("a1"), SetAgentReady("a1")).when(SetAgentNotReady("a1", "break")).then(
        state_of("a1", "not_ready", "available", "break")
    )
    given(*staffed("a1")).when(SetAgentNotReady("a1", "lunch")).then(
        state_of("a1", "not_ready", "not_ready", "lunch")
    )
    given(*connected()).when(SetAgentNotReady("a1", "break")).rejected("agent_busy")


def test_logout() -> None:
    given(*staffed("a1"), SetAgentReady("a1")).when(LogOutAgent("a1")).then(
        state_of("a1", "logged_out", "available"), AgentLoggedOut("a1")
    )
    given(*ended()).when(LogOutAgent("a1")).rejected("agent_busy")
    given(*staffed("a1"), LogOutAgent("a1")).when(LogOutAgent("a1")).rejected("agent_not_logged_in")


# --- routing and the explanation --------------------------------------------------------


def test_route_without_agents_queues_the_contact() -> None:
    given(*staffed("a1")).when(RouteContact("c1", "q1", priority=2, ani="+331", dnis="100")).then(
        ContactArrived("c1", "voice", "+331", "100"), ContactQueued("c1", "q1", 2)
    )


def test_route_rejections() -> None:
    given(Q1).when(RouteContact("c1", "q9")).invalid("unknown queue 'q9'")
    given(*offered()).when(RouteContact("c1", "q1")).rejected("contact_already_exists")


def test_offer_goes_to_the_longest_idle_agent_and_explains_why() -> None:
    history = (
        *staffed("a1", "a2", "a3", "a4"),
        *ready("a2", 1_000),
        *ready("a1", 40_000),
        *ready("a3", 40_000),
        at(42_000),
        SetAgentNotReady("a3", "break"),
    )
    out = given(*history).when(RouteContact("c1", "q1"), at=43_000)
    out.then(
        ContactArrived("c1", "voice", "", ""),
        ContactQueued("c1", "q1", 0),
        ContactOffered(
            contact_id="c1",
            queue_id="q1",
            agent_id="a2",
            strategy="longest_idle",
            rule_version=1,
            candidates=(Candidate("a2", 42.0, "idle 42.0 s; chosen"), Candidate("a1", 3.0, "idle 3.0 s")),
            reason="longest idle among 2 eligible agents: a2 idle since 1970-01-01T00:00:01.000Z (42.0 s)",
            expires_at=58_000,
        ),
        state_of("a2", "reserved", "available", contact="c1"),
    )


def test_ties_in_idle_time_go_to_the_lowest_agent_id() -> None:
    history = (*staffed("b", "a"), at(1_000), SetAgentReady("b"), SetAgentReady("a"))
    out = given(*history).when(RouteContact("c1", "q1"), at=2_000)
    assert isinstance(offer := out.events[2], ContactOffered)
    assert offer.agent_id == "a"


def test_an_agent_going_ready_takes_the_waiting_contact() -> None:
    history = (*staffed("a1"), at(5_000), RouteContact("c1", "q1"))
    given(*history).when(SetAgentReady("a1"), at=9_000).then_types(
        "AgentStateChanged", "ContactOffered", "AgentStateChanged"
    )


def test_priority_before_fifo() -> None:
    history = (
        *staffed("a1"),
        at(1_000),
        RouteContact("c1", "q1", priority=0),
        at(2_000),
        RouteContact("c2", "q1", priority=5),
        at(3_000),
        RouteContact("c3", "q1", priority=5),
    )
    out = given(*history).when(SetAgentReady("a1"), at=4_000)
    assert [e.contact_id for e in out.events if isinstance(e, ContactOffered)] == ["c2"]


def test_fifo_within_a_priority() -> None:
    history = (*staffed("a1", "a2"), at(1_000), RouteContact("c1", "q1"), at(2_000), RouteContact("c2", "q1"))
    out = given(*history).when(SetAgentReady("a2"), at=4_000)
    assert [(e.contact_id, e.agent_id) for e in out.events if isinstance(e, ContactOffered)] == [("c1", "a2")]


def test_multi_queue_agent_serves_both_queues_in_arrival_order() -> None:
    history = (
        *staffed("a1", queues=("q1", "q2")),
        at(1_000),
        RouteContact("c1", "q2"),
        at(2_000),
        RouteContact("c2", "q1"),
    )
    out = given(*history).when(SetAgentReady("a1"), at=3_000)
    assert [(e.contact_id, e.queue_id) for e in out.events if isinstance(e, ContactOffered)] == [("c1", "q2")]


def test_agent_only_gets_contacts_of_its_queues() -> None:
    history = (*staffed("a1"), at(1_000), RouteContact("c1", "q2"))
    given(*history).when(SetAgentReady("a1"), at=2_000).then(state_of("a1", "available", "not_ready"))


# --- offers ----------------------------------------------------------------------------


def test_accept_connects_with_the_queue_wait() -> None:
    given(*offered(ms=10_000)).when(AcceptOffer("c1", "a1"), at=13_500).then(
        OfferAccepted("c1", "a1"),
        ContactConnected("c1", "q1", "a1", 3_500),
        state_of("a1", "handling", "reserved", contact="c1"),
    )


def test_accept_rejections() -> None:
    given(*offered(), Q1, DefineAgent("a2", "B", ("q1",))).when(AcceptOffer("c1", "a2")).rejected(
        "contact_not_offered_to_agent"
    )
    given(*offered()).when(AcceptOffer("c7", "a1")).rejected("contact_not_found")
    given(*connected()).when(AcceptOffer("c1", "a1")).rejected("contact_not_offered_to_agent")
    given(*staffed("a1"), RouteContact("c1", "q1")).when(AcceptOffer("c1", "a1")).rejected(
        "contact_not_offered_to_agent"
    )


def test_decline_offers_the_contact_to_the_next_agent() -> None:
    history = (
        *staffed("a1", "a2"),
        *ready("a1", 1_000),
        *ready("a2", 2_000),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    out = given(*history).when(DeclineOffer("c1", "a1"), at=6_000)
    assert out.events[:2] == [OfferDeclined("c1", "a1"), state_of("a1", "available", "reserved")]
    offer = out.events[2]
    assert isinstance(offer, ContactOffered)
    assert offer.agent_id == "a2"
    assert [c.agent_id for c in offer.candidates] == ["a2"]
    assert offer.reason.endswith("excluded after decline or no answer: a1")
    assert out.events[3] == state_of("a2", "reserved", "available", contact="c1")


def test_declined_contact_is_not_offered_again_to_the_same_agent() -> None:
    given(*offered()).when(DeclineOffer("c1", "a1"), at=11_000).then(
        OfferDeclined("c1", "a1"), state_of("a1", "available", "reserved")
    )


def test_ring_no_answer_on_tick() -> None:
    history = (
        *staffed("a1", "a2"),
        *ready("a1", 1_000),
        *ready("a2", 2_000),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    given(*history).when(Tick(), at=19_999).then()
    out = given(*history).when(Tick(), at=20_000)
    assert out.events[:2] == [OfferTimedOut("c1", "a1"), state_of("a1", "not_ready", "reserved", "rona")]
    assert isinstance(out.events[2], ContactOffered)
    assert (out.events[2].agent_id, out.events[2].expires_at) == ("a2", 35_000)


def test_tick_with_nothing_due_emits_nothing() -> None:
    given(*staffed("a1"), RouteContact("c1", "q1")).when(Tick(), at=999_000).then()


# --- talking ---------------------------------------------------------------------------


def test_hold_and_resume() -> None:
    given(*connected()).when(HoldContact("c1", "a1")).then(ContactHeld("c1", "a1"))
    given(*connected(), HoldContact("c1", "a1")).when(ResumeContact("c1", "a1")).then(
        ContactResumed("c1", "a1")
    )


def test_hold_and_resume_rejections() -> None:
    given(*connected(), HoldContact("c1", "a1")).when(HoldContact("c1", "a1")).rejected(
        "contact_already_held"
    )
    given(*connected()).when(ResumeContact("c1", "a1")).rejected("contact_not_held")
    given(*offered()).when(HoldContact("c1", "a1")).rejected("contact_not_connected")
    given(*ended()).when(HoldContact("c1", "a1")).rejected("contact_not_connected")
    history = (*connected(), DefineAgent("a2", "B", ("q1",)))
    given(*history).when(HoldContact("c1", "a2")).rejected("agent_not_on_contact")


# --- ending ----------------------------------------------------------------------------


def test_caller_hangs_up_while_waiting() -> None:
    given(*staffed("a1"), at(5_000), RouteContact("c1", "q1")).when(
        HangUpContact("c1", "caller"), at=9_000
    ).then(ContactEnded("c1", "q1", "abandoned", "caller", "", 4_000))


def test_caller_hangs_up_while_ringing_frees_the_agent_for_the_next_contact() -> None:
    history = (*offered(ms=10_000), at(11_000), RouteContact("c2", "q1"))
    out = given(*history).when(HangUpContact("c1", "caller"), at=12_000)
    assert out.events[:2] == [
        ContactEnded("c1", "q1", "abandoned", "caller", "", 2_000),
        state_of("a1", "available", "reserved"),
    ]
    assert isinstance(out.events[2], ContactOffered)
    assert out.events[2].contact_id == "c2"


def test_hang_up_when_connected_or_held_starts_wrap_up() -> None:
    expected = (
        ContactEnded("c1", "q1", "completed", "agent", "a1", 2_000),
        WrapUpStarted("c1", "a1"),
        state_of("a1", "wrap_up", "handling", contact="c1"),
    )
    given(*connected()).when(HangUpContact("c1", "agent"), at=50_000).then(*expected)
    given(*connected(), HoldContact("c1", "a1")).when(HangUpContact("c1", "agent"), at=50_000).then(*expected)


def test_hang_up_rejections() -> None:
    given(*ended()).when(HangUpContact("c1", "agent")).rejected("contact_ended")
    given(*offered()).when(HangUpContact("c9", "caller")).rejected("contact_not_found")
    given(*offered()).when(HangUpContact("c1", "martian")).invalid("party must be one of")


def test_complete_wrap_up_makes_the_agent_available_and_dispatches() -> None:
    history = (*ended(ms=72_000), at(73_000), RouteContact("c2", "q1"))
    out = given(*history).when(CompleteWrapUp("c1", "a1", "sale", "upsold"), at=80_000)
    assert out.events[:2] == [
        WrapUpCompleted("c1", "a1", "sale", "upsold"),
        state_of("a1", "available", "wrap_up"),
    ]
    assert isinstance(out.events[2], ContactOffered)
    assert out.events[2].contact_id == "c2"


def test_complete_wrap_up_to_not_ready() -> None:
    cmd = CompleteWrapUp("c1", "a1", "sale", next_state="not_ready", not_ready_reason="break")
    given(*ended()).when(cmd).then(
        WrapUpCompleted("c1", "a1", "sale", ""), state_of("a1", "not_ready", "wrap_up", "break")
    )


def test_complete_wrap_up_rejections() -> None:
    given(*connected()).when(CompleteWrapUp("c1", "a1", "sale")).rejected("contact_not_in_wrap_up")
    given(*ended(), DefineAgent("a2", "B", ("q1",))).when(CompleteWrapUp("c1", "a2", "x")).rejected(
        "agent_not_on_contact"
    )
    given(*ended()).when(CompleteWrapUp("c1", "a1", "x", next_state="lunch")).invalid("next_state")
    given(*ended(), CompleteWrapUp("c1", "a1", "x")).when(CompleteWrapUp("c1", "a1", "x")).rejected(
        "contact_not_found"
    )


def test_wrap_up_times_out_on_tick() -> None:
    given(*ended(ms=72_000)).when(Tick(), at=131_999).then()
    given(*ended(ms=72_000)).when(Tick(), at=132_000).then(
        WrapUpCompleted("c1", "a1", "timeout", ""), state_of("a1", "available", "wrap_up")
    )


def test_finished_contacts_leave_the_state() -> None:
    out = given(*ended()).when(CompleteWrapUp("c1", "a1", "sale"))
    state = out.state
    assert isinstance(state, AcdState)
    assert state.tenant("t1").contacts == {}
    abandoned = given(*staffed("a1"), RouteContact("c1", "q1")).when(HangUpContact("c1", "caller"))
    assert abandoned.state.tenant("t1").contacts == {}


def test_tenants_are_independent() -> None:
    g = given(*offered(), tenant="t1")
    assert g.when(AcceptOffer("c1", "a1")).events
    other = given(*staffed("a1"), tenant="t2")
    other.state = other.state.with_tenant("t1", g.state.tenant("t1"))
    other.tenant = "t2"
    other.when(AcceptOffer("c1", "a1")).rejected("contact_not_found")


def test_the_processor_stamps_events_and_turns_rejections_into_results() -> None:
    p = acd_processor()
    assert (p.name, p.inputs) == ("acd", ("cc.commands",))
    state = p.initial_state()
    state, out = p.process(state, Message(Envelope("e1", "t1", 1_000, "q1"), Q1))
    assert [m.body for m in out] == [QueueDefined("q1", "Sales", 20, 5, 15, 60, "longest_idle", 1)]
    assert out[0].envelope.causation_id == "e1"
    state, out = p.process(state, Message(Envelope("e2", "t1", 2_000, "c1"), HangUpContact("c1", "caller")))
    assert [m.body for m in out] == [
        CommandRejected("e2", "HangUpContact", "contact_not_found", out[0].body.reason)
    ]
    assert pickle.loads(pickle.dumps(state)) == state, "snapshots must round-trip"
