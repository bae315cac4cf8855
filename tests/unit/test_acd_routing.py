"""ACD routing scenarios: one test per strategy and per rule, each from documented behaviour.

The comment above each test quotes (in short) what the reference documentation says the
behaviour is: Asterisk's `queues.conf` / `queuerules.conf` samples (strategies, penalties,
penaltychange, joinempty / leavewhenempty, timeout, wrapuptime, autopause, maxlen), Twilio
TaskRouter (workflow targets with timeouts, task priority, known-agent routing, multitasking
capacity, time-of-day routing), Amazon Connect (routing steps, queued callbacks). The last
section checks that every `Invalid` raised for bad configuration names the field.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from given import Outcome, at, given

from processors.acd import ACD
from processors.decider import Invalid, Rejected
from schemas.agent import AgentStateChanged
from schemas.commands import (
    AcceptOffer,
    BlockNumber,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    DefineSchedule,
    DefineSkill,
    ExtendWrapUp,
    HangUpContact,
    LogInAgent,
    LogOutAgent,
    RequestCallback,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
    UnblockNumber,
)
from schemas.contact import (
    CallbackOffered,
    CallbackRequested,
    ContactArrived,
    ContactBlocked,
    ContactConnected,
    ContactEnded,
    ContactOffered,
    ContactOverflowed,
    ContactQueued,
    OfferAccepted,
    OfferTimedOut,
    OfferWithdrawn,
    WrapUpCompleted,
    WrapUpExtended,
)
from schemas.envelope import Envelope, Message, derive
from schemas.routing import Capacity, Membership, OverflowRule, RelaxStep, SkillLevel, Window

SKILLS = (DefineSkill("es", "Spanish"), DefineSkill("fr", "French"), DefineSkill("billing", "Billing"))


def queue(qid: str = "q1", **kw: Any) -> DefineQueue:
    return DefineQueue(qid, qid.upper(), **kw)


def agent(
    aid: str,
    *queues: str,
    memberships: tuple[Membership, ...] = (),
    skills: tuple[SkillLevel, ...] = (),
    capacity: tuple[Capacity, ...] = (),
) -> tuple[object, ...]:
    """The agent defined and logged in (not ready)."""
    return (DefineAgent(aid, aid.upper(), queues, memberships, skills, capacity), LogInAgent(aid))


def ready(ms: int, *aids: str) -> tuple[object, ...]:
    return (at(ms), *(SetAgentReady(a) for a in aids))


def served(contact: str, agent_id: str, ms: int, queue_id: str = "q1", ani: str = "") -> tuple[object, ...]:
    """`contact` arrives at `ms` (and must be offered to `agent_id`), is answered, ends and
    the wrap-up is completed 3 s later."""
    return (
        at(ms),
        RouteContact(contact, queue_id, ani=ani),
        at(ms + 1_000),
        AcceptOffer(contact, agent_id),
        at(ms + 2_000),
        HangUpContact(contact, "agent"),
        at(ms + 3_000),
        CompleteWrapUp(contact, agent_id, "done"),
    )


def offers(out: Outcome) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in out.events if isinstance(e, ContactOffered)]


def the_offer(out: Outcome) -> ContactOffered:
    found = [e for e in out.events if isinstance(e, ContactOffered)]
    assert len(found) == 1, out.events
    return found[0]


def presence(out: Outcome, aid: str) -> str:
    return str(out.state.tenant("t1").agents[aid].presence)


def ms_at(iso: str) -> int:
    """Milliseconds of a UTC ISO timestamp."""
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


# --- strategies -------------------------------------------------------------------------


# Asterisk queues.conf: ringall — ring all available channels until one answers.
def test_ring_all_rings_every_available_member() -> None:
    history = (
        queue(strategy="ring_all"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *agent("a3", "q1"),
        *ready(1_000, "a1", "a2"),
    )
    out = given(*history).when(RouteContact("c1", "q1"), at=5_000)
    assert offers(out) == [("c1", "a1"), ("c1", "a2")]
    found = [e for e in out.events if isinstance(e, ContactOffered)]
    assert {e.expires_at for e in found} == {20_000}
    assert found[0].reason.startswith("ring all 2 eligible agents: a1, a2")


# Asterisk queues.conf: ringall — the call goes to whoever answers first; Twilio TaskRouter:
# with multi-reservation, all other worker reservations are immediately rescinded.
def test_ring_all_first_answer_wins_and_the_others_are_withdrawn() -> None:
    history = (
        queue(strategy="ring_all"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1", "a2"),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    out = given(*history).when(AcceptOffer("c1", "a2"), at=7_000)
    out.then(
        OfferAccepted("c1", "a2"),
        ContactConnected("c1", "q1", "a2", 2_000),
        AgentStateChanged("a2", "handling", "reserved", "", "c1", "available"),
        OfferWithdrawn("c1", "a1", "answered_elsewhere"),
        AgentStateChanged("a1", "available", "reserved", "", "", "available"),
    )


# Asterisk queues.conf: leastrecent — ring the interface least recently hung up by this queue.
def test_longest_idle_offers_the_agent_whose_last_call_ended_longest_ago() -> None:
    history = (
        queue(strategy="longest_idle"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1", "a2"),
        *served("c1", "a1", 2_000),  # a tie at 2 s goes to a1, idle again from 5 s; a2 from 1 s
    )
    offer = the_offer(given(*history).when(RouteContact("c2", "q1"), at=10_000))
    assert offer.agent_id == "a2"
    assert [c.agent_id for c in offer.candidates] == ["a2", "a1"]
    assert offer.candidates[0].note == "idle 9.0 s; chosen"


# Asterisk queues.conf: fewestcalls — ring the one with fewest completed calls from this queue.
def test_fewest_answered_offers_the_agent_with_fewest_calls_of_the_queue() -> None:
    history = (
        queue(strategy="fewest_answered"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1"),
        *served("c1", "a1", 2_000),
        *served("c2", "a1", 10_000),  # a1: 2 answered, idle since 13 s
        *ready(20_000, "a2"),  # a2: 0 answered, idle since 20 s
    )
    offer = the_offer(given(*history).when(RouteContact("c3", "q1"), at=30_000))
    assert offer.agent_id == "a2", "longest idle would have chosen a1"
    assert [(c.agent_id, c.score) for c in offer.candidates] == [("a2", 0.0), ("a1", 2.0)]
    assert offer.reason.startswith("fewest answered among 2 eligible agents: a2 (answered 0 in q1")


# Asterisk queues.conf: rrmemory — round robin with memory, remember where we left off last
# ring pass.
def test_round_robin_continues_after_the_agent_offered_last() -> None:
    history = (
        queue(strategy="round_robin"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *agent("a3", "q1"),
        *ready(1_000, "a1", "a2", "a3"),
        *served("c1", "a1", 2_000),  # a1 got the first call and is free again
    )
    g = given(
        *history,
        at(10_000),
        RouteContact("c2", "q1"),
        at(11_000),
        RouteContact("c3", "q1"),
    )
    assert offers(g.when(RouteContact("c4", "q1"), at=12_000)) == [("c4", "a1")]
    first = given(*history).when(RouteContact("c2", "q1"), at=10_000)
    assert offers(first) == [("c2", "a2")], "a1 is free, but the turn is a2's"
    assert the_offer(first).candidates[0].note == "turns after a1: 0; chosen"


# Asterisk queues.conf: linear — rings interfaces in the order specified; dynamic members
# are rung in the order in which they were added.
def test_linear_always_starts_from_the_first_member() -> None:
    history = (
        queue(strategy="linear"),
        *agent("a3", "q1"),  # joined first
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1", "a2"),
        *ready(5_000, "a3"),  # the least idle, but first in member order
    )
    assert offers(given(*history).when(RouteContact("c1", "q1"), at=10_000)) == [("c1", "a3")]
    again = (*history, *served("c1", "a3", 10_000))
    assert offers(given(*again).when(RouteContact("c2", "q1"), at=20_000)) == [("c2", "a3")]


# Asterisk queues.conf: random — ring random interface. ARCHITECTURE.md: pseudo-random
# strategies seed from the event id, so a replay draws the same.
def test_random_is_seeded_by_the_command_and_spreads_over_the_agents() -> None:
    history = (
        queue(strategy="random"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *agent("a3", "q1"),
        *ready(1_000, "a1", "a2", "a3"),
    )

    def draws() -> list[str]:
        g = given(*history)  # each `when` is a new command id (m<n>) on the same state
        return [the_offer(g.when(RouteContact("c1", "q1"), at=5_000)).agent_id for _ in range(60)]

    first = draws()
    assert first == draws(), "the same commands must draw the same agents"
    counts = Counter(first)
    assert set(counts) == {"a1", "a2", "a3"}, counts
    assert min(counts.values()) >= 8, counts


# Asterisk queues.conf: wrandom — rings random interface, but uses the member's penalty as a
# weight (here the membership `weight`; the tier keeps its penalty meaning).
def test_weighted_random_draws_in_proportion_to_the_weight() -> None:
    history = (
        queue(strategy="weighted_random"),
        *agent("a1", memberships=(Membership("q1", weight=1),)),
        *agent("a2", memberships=(Membership("q1", weight=1),)),
        *agent("a3", memberships=(Membership("q1", weight=8),)),
        *ready(1_000, "a1", "a2", "a3"),
    )
    g = given(*history)
    counts = Counter(the_offer(g.when(RouteContact("c1", "q1"), at=5_000)).agent_id for _ in range(300))
    assert counts["a3"] > 0.65 * 300, counts
    assert counts["a1"] > 5 and counts["a2"] > 5, counts
    assert "(weight 8)" in next(
        c.note for c in the_offer(g.when(RouteContact("c1", "q1"))).candidates if c.agent_id == "a3"
    )


# Amazon Connect routing criteria: agents are matched by proficiency level; best_skill takes
# the highest summed level on the skills the contact needs.
def test_best_skill_offers_the_most_proficient_agent() -> None:
    need = (SkillLevel("es", 2), SkillLevel("billing", 1))
    history = (
        *SKILLS,
        queue(strategy="best_skill", required_skills=need),
        *agent("a1", "q1", skills=(SkillLevel("es", 2), SkillLevel("billing", 5))),
        *agent("a2", "q1", skills=(SkillLevel("es", 5), SkillLevel("billing", 4), SkillLevel("fr", 5))),
        *agent("a3", "q1", skills=(SkillLevel("es", 4), SkillLevel("billing", 1))),
        *ready(1_000, "a1", "a2", "a3"),
    )
    offer = the_offer(given(*history).when(RouteContact("c1", "q1"), at=5_000))
    assert offer.agent_id == "a2"
    assert [(c.agent_id, c.score) for c in offer.candidates] == [("a2", 9.0), ("a1", 7.0), ("a3", 5.0)]


# --- skills, tiers and relaxation ------------------------------------------------------


# Twilio TaskRouter: a TaskQueue's target-workers expression (e.g. a skill level at least N)
# decides which workers may take its tasks; the contact's own requirements add to it.
def test_required_skill_levels_of_queue_and_contact() -> None:
    history = (
        *SKILLS,
        queue(required_skills=(SkillLevel("es", 3),)),
        *agent("a1", "q1", skills=(SkillLevel("es", 2), SkillLevel("fr", 5))),
        *agent("a2", "q1", skills=(SkillLevel("es", 3),)),
        *agent("a3", "q1", skills=(SkillLevel("es", 5), SkillLevel("fr", 2))),
        *agent("a4", "q1"),
        *ready(1_000, "a1", "a4"),
        *ready(2_000, "a2"),
        *ready(3_000, "a3"),
    )
    plain = the_offer(given(*history).when(RouteContact("c1", "q1"), at=5_000))
    assert plain.agent_id == "a2"
    assert [c.agent_id for c in plain.candidates] == ["a2", "a3"]
    assert plain.reason.endswith("needs es>=3")
    french = the_offer(
        given(*history).when(RouteContact("c1", "q1", skills=(SkillLevel("fr", 2),)), at=5_000)
    )
    assert french.agent_id == "a3"
    assert french.reason.endswith("needs es>=3, fr>=2")


# Asterisk queues.conf: member penalty — entries with higher penalties are considered last.
def test_a_higher_tier_is_offered_only_when_no_lower_tier_agent_is_available() -> None:
    history = (
        queue(),
        *agent("a1", memberships=(Membership("q1", tier=0),)),
        *agent("a2", memberships=(Membership("q1", tier=1),)),
        *agent("a3", memberships=(Membership("q1", tier=2),)),
        *ready(1_000, "a2", "a3"),  # idle the longest, but higher tiers
        *ready(5_000, "a1"),
    )
    g = given(*history, at(10_000), RouteContact("c1", "q1"))
    assert [h.agent_id for h in g.history if isinstance(h, ContactOffered)] == ["a1"]
    out = g.when(RouteContact("c2", "q1"), at=11_000)
    offer = the_offer(out)
    assert offer.agent_id == "a2"
    assert [c.agent_id for c in offer.candidates] == ["a2"]
    assert "tier 1 (no agent of a lower tier was available)" in offer.reason


# Asterisk queuerules.conf: penaltychange => 30,+3 — 30 seconds into the call widen
# QUEUE_MAX_PENALTY, so the caller is opened to more members without losing its place.
def test_relax_step_widens_the_tiers_after_waiting() -> None:
    history = (
        queue(max_tier=0, relax=(RelaxStep(30, max_tier=1),)),
        *agent("a1", memberships=(Membership("q1", tier=0),)),
        *agent("a2", memberships=(Membership("q1", tier=1),)),
        *ready(1_000, "a2"),
        at(10_000),
        RouteContact("c1", "q1"),
    )
    assert given(*history).history[-1] == ContactQueued("c1", "q1", 0)
    given(*history).when(Tick(), at=39_999).then()
    offer = the_offer(given(*history).when(Tick(), at=40_000))
    assert offer.agent_id == "a2"
    assert "after 30 s waiting: tiers up to 1, skill levels lowered by 0" in offer.reason


# Amazon Connect routing criteria: when no agent meets a step's requirements for the step's
# duration, routing moves on to the next step (lower proficiency).
def test_relax_step_lowers_required_skill_levels_after_waiting() -> None:
    history = (
        *SKILLS,
        queue(required_skills=(SkillLevel("es", 4),), relax=(RelaxStep(20, max_tier=-1, skill_drop=1),)),
        *agent("a1", "q1", skills=(SkillLevel("es", 3),)),
        *ready(1_000, "a1"),
        at(10_000),
        RouteContact("c1", "q1"),
    )
    given(*history).when(Tick(), at=29_000).then()
    offer = the_offer(given(*history).when(Tick(), at=30_000))
    assert offer.agent_id == "a1"
    assert offer.reason.endswith("tiers up to any, skill levels lowered by 1; needs es>=3")


# --- priorities --------------------------------------------------------------------------


# Twilio TaskRouter TaskQueue: higher priority tasks are always assigned before lower
# priority tasks, regardless of age; among tasks of the same priority the oldest goes first.
def test_contact_priority_before_age_then_oldest_first() -> None:
    history = (
        queue(),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        at(1_000),
        RouteContact("c1", "q1", priority=0),
        at(2_000),
        RouteContact("c2", "q1", priority=5),
        at(3_000),
        RouteContact("c3", "q1", priority=5),
    )
    assert offers(given(*history).when(SetAgentReady("a1"), at=4_000)) == [("c2", "a1")]
    g = given(*history, *ready(4_000, "a1"))
    assert offers(g.when(SetAgentReady("a2"), at=5_000)) == [("c3", "a2")]


# Twilio TaskRouter workflows: a workflow sets each task's priority when it enters a queue
# (here: the queue's priority adds to the contact's).
def test_queue_priority_adds_to_the_contact_priority_across_queues() -> None:
    history = (
        queue("std"),
        queue("vip", priority=10),
        *agent("a1", "std", "vip"),
        at(1_000),
        RouteContact("c1", "std", priority=5),
        at(2_000),
        RouteContact("c2", "vip"),
    )
    assert offers(given(*history).when(SetAgentReady("a1"), at=3_000)) == [("c2", "a1")]


# Twilio TaskRouter workflows: control how tasks escalate in priority over time (aging).
def test_priority_aging_lets_an_old_contact_overtake() -> None:
    history = (
        queue(priority_aging_s=10),
        *agent("a1", "q1"),
        at(1_000),
        RouteContact("c1", "q1", priority=0),
        at(25_000),
        RouteContact("c2", "q1", priority=2),
    )
    # at 31 s c1 has aged by 3 (30 s // 10 s), c2 by 0: 3 > 2, the old contact overtakes
    assert offers(given(*history).when(SetAgentReady("a1"), at=31_000)) == [("c1", "a1")]
    # without aging, c2's priority 2 beats c1's 0 however long c1 waited
    no_aging = (queue(), *history[1:])
    assert offers(given(*no_aging).when(SetAgentReady("a1"), at=31_000)) == [("c2", "a1")]
    # at 20 s c1 has aged by 1 only: 1 < 2, c2 first
    early = (queue(priority_aging_s=10), *agent("a1", "q1"), at(11_000), RouteContact("c1", "q1"))
    early += (at(20_000), RouteContact("c2", "q1", priority=2))
    assert offers(given(*early).when(SetAgentReady("a1"), at=21_000)) == [("c2", "a1")]


# --- business hours ----------------------------------------------------------------------

BERLIN_OFFICE = DefineSchedule(
    "office",
    "Office",
    "Europe/Berlin",
    tuple(Window(day, 9 * 60, 17 * 60) for day in range(5)),
    ("2024-12-25",),
)


# Twilio TaskRouter time-of-day routing: route by the current day of week and time; here in
# the schedule's IANA time zone (so 09:00 stays 09:00 local across daylight saving).
@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        ("2024-01-01T07:59:00", False),  # Monday 08:59 in Berlin (UTC+1)
        ("2024-01-01T08:00:00", True),  # Monday 09:00 in Berlin
        ("2024-07-01T07:30:00", True),  # Monday 09:30 in Berlin (summer time, UTC+2)
        ("2024-07-01T15:00:00", False),  # Monday 17:00 in Berlin: the window end is exclusive
        ("2024-01-06T10:00:00", False),  # Saturday
        ("2024-12-25T10:00:00", False),  # a Wednesday, but a holiday
    ],
)
def test_business_hours_in_the_schedule_time_zone(utc: str, is_open: bool) -> None:
    history = (BERLIN_OFFICE, queue(hours="office"), *agent("a1", "q1"))
    out = given(*history).when(RouteContact("c1", "q1"), at=ms_at(utc))
    if is_open:
        out.then(ContactArrived("c1", "voice", "", ""), ContactQueued("c1", "q1", 0))
    else:
        out.then(ContactArrived("c1", "voice", "", ""), ContactEnded("c1", "q1", "closed", "system", "", 0))


# Amazon Connect: check hours of operation and branch out of hours (here: the "closed" rule
# sends the caller to voicemail, a message, or another queue).
def test_closed_rule_on_arrival() -> None:
    closed = ms_at("2024-01-06T10:00:00")
    history = (
        BERLIN_OFFICE,
        queue("night"),
        queue(hours="office", overflow=(OverflowRule("closed", "voicemail", "vm-sales"),)),
    )
    given(*history).when(RouteContact("c1", "q1"), at=closed).then(
        ContactArrived("c1", "voice", "", ""),
        ContactOverflowed("c1", "q1", "", "closed", "voicemail", "vm-sales"),
        ContactEnded("c1", "q1", "closed", "system", "", 0),
    )
    to_night = (
        BERLIN_OFFICE,
        queue("night"),
        queue(hours="office", overflow=(OverflowRule("closed", "queue", "night"),)),
    )
    given(*to_night).when(RouteContact("c1", "q1", priority=3), at=closed).then(
        ContactArrived("c1", "voice", "", ""),
        ContactOverflowed("c1", "q1", "night", "closed", "queue", "night"),
        ContactQueued("c1", "night", 3),
    )


# Twilio TaskRouter time-of-day routing in target-worker expressions: an agent's shift
# schedule decides when it is a member of the queue.
def test_membership_shift_schedule() -> None:
    shift = DefineSchedule("early", "Early", "UTC", (Window(0, 9 * 60, 12 * 60),))
    t = ms_at("2024-01-01T08:59:00")
    history = (
        shift,
        queue(),
        *agent("a1", memberships=(Membership("q1", schedule="early"),)),
        *ready(t - 60_000, "a1"),
        at(t),
        RouteContact("c1", "q1"),
    )
    given(*history).when(Tick(), at=t + 59_000).then()
    assert offers(given(*history).when(Tick(), at=t + 60_000)) == [("c1", "a1")]


# --- overflow, limits and callbacks ------------------------------------------------------


# Twilio TaskRouter: a workflow target's timeout moves the task to the next target;
# Asterisk queuerules: the caller does not lose his place in the queue.
def test_wait_rule_moves_the_contact_keeping_its_place_and_wait() -> None:
    history = (
        queue("q2"),
        queue(overflow=(OverflowRule("wait", "queue", "q2", after_s=30),)),
        *agent("a2", "q2"),
        at(5_000),
        RouteContact("c1", "q1", priority=1),
        at(10_000),
        RouteContact("c2", "q2", priority=1),
    )
    given(*history).when(Tick(), at=34_999).then()
    given(*history).when(Tick(), at=35_000).then(
        ContactOverflowed("c1", "q1", "q2", "wait", "queue", "q2"),
        ContactQueued("c1", "q2", 1, (), 1, 5_000),
    )
    g = given(*history, at(35_000), Tick())
    assert offers(g.when(SetAgentReady("a2"), at=36_000)) == [("c1", "a2")], "c1 keeps its place before c2"
    connected = given(*history, at(35_000), Tick(), at(36_000), SetAgentReady("a2"))
    assert connected.when(AcceptOffer("c1", "a2"), at=37_000).events[1] == ContactConnected(
        "c1", "q2", "a2", 32_000
    )


# Asterisk queues.conf: timeout (Queue() argument) — the absolute time a caller may stay in
# the queue; then the dialplan goes on (e.g. to voicemail).
def test_wait_rule_to_voicemail_ends_the_contact() -> None:
    history = (
        queue(overflow=(OverflowRule("wait", "voicemail", "vm1", after_s=60),)),
        *agent("a1", "q1"),
        at(1_000),
        RouteContact("c1", "q1"),
    )
    given(*history).when(Tick(), at=61_000).then(
        ContactOverflowed("c1", "q1", "", "wait", "voicemail", "vm1"),
        ContactEnded("c1", "q1", "timed_out", "system", "", 60_000),
    )


# Asterisk queues.conf: joinempty — a caller cannot enter a queue whose members are all
# unavailable (here: none logged in), so the "no_agents" rule takes it at once.
def test_no_agents_rule_on_arrival() -> None:
    history = (
        queue(overflow=(OverflowRule("no_agents", "voicemail", "vm1"),)),
        DefineAgent("a1", "A1", ("q1",)),  # a member, but logged out
    )
    given(*history).when(RouteContact("c1", "q1"), at=5_000).then(
        ContactArrived("c1", "voice", "", ""),
        ContactQueued("c1", "q1", 0),
        ContactOverflowed("c1", "q1", "", "no_agents", "voicemail", "vm1"),
        ContactEnded("c1", "q1", "timed_out", "system", "", 0),
    )
    staffed = (*history, LogInAgent("a1"))  # logged in, not ready: the caller may wait
    given(*staffed).when(RouteContact("c1", "q1"), at=5_000).then(
        ContactArrived("c1", "voice", "", ""), ContactQueued("c1", "q1", 0)
    )


# Asterisk queues.conf: leavewhenempty — members are checked periodically during the
# caller's stay; when all are unavailable the caller is removed from the queue.
def test_no_agents_rule_while_waiting() -> None:
    history = (
        queue("q2"),
        queue(overflow=(OverflowRule("no_agents", "queue", "q2"),)),
        *agent("a1", "q1"),
        at(1_000),
        RouteContact("c1", "q1"),
        at(5_000),
        LogOutAgent("a1"),
    )
    given(*history).when(Tick(), at=6_000).then(
        ContactOverflowed("c1", "q1", "q2", "no_agents", "queue", "q2"),
        ContactQueued("c1", "q2", 0, (), 1, 1_000),
    )


# Asterisk queues.conf: maxlen — maximum number of people waiting in the queue; a caller
# beyond it does not enter (here: the "full" rule, or the contact ends "full").
def test_full_queue() -> None:
    waiting = (at(1_000), RouteContact("c1", "q1"), at(2_000), RouteContact("c2", "q1"))
    given(queue(max_waiting=2), *waiting).when(RouteContact("c3", "q1"), at=3_000).then(
        ContactArrived("c3", "voice", "", ""), ContactEnded("c3", "q1", "full", "system", "", 0)
    )
    with_rule = (queue("q2"), queue(max_waiting=2, overflow=(OverflowRule("full", "queue", "q2"),)))
    given(*with_rule, *waiting).when(RouteContact("c3", "q1"), at=3_000).then(
        ContactArrived("c3", "voice", "", ""),
        ContactOverflowed("c3", "q1", "q2", "full", "queue", "q2"),
        ContactQueued("c3", "q2", 0),
    )
    # offered contacts do not count as waiting
    staffed = (queue(max_waiting=2), *agent("a1", "q1"), *ready(500, "a1"), *waiting)
    given(*staffed).when(RouteContact("c3", "q1"), at=3_000).then(
        ContactArrived("c3", "voice", "", ""), ContactQueued("c3", "q1", 0)
    )


# Amazon Connect queued callback: customers keep their position in the queue without
# staying on the line, and get a callback from an agent when it is their turn.
def test_callback_offer_and_request_keep_the_place() -> None:
    history = (
        queue(overflow=(OverflowRule("wait", "callback", after_s=60),)),
        *agent("a1", "q1"),
        at(1_000),
        RouteContact("c1", "q1", ani="+331"),
        at(2_000),
        RouteContact("c2", "q1", ani="+332"),
    )
    given(*history).when(Tick(), at=61_000).then(CallbackOffered("c1", "q1"))
    given(*history, at(61_000), Tick()).when(Tick(), at=62_000).then(CallbackOffered("c2", "q1"))
    g = given(*history, at(61_000), Tick(), at(62_000), Tick())
    g.when(Tick(), at=70_000).then()
    g.when(RequestCallback("c1"), at=70_000).then(
        CallbackRequested("c1", "c1-cb", "q1", "+331"),
        ContactEnded("c1", "q1", "callback", "caller", "", 69_000),
        ContactArrived("c1-cb", "callback", "+331", ""),
        ContactQueued("c1-cb", "q1", 0, (), 1, 1_000),
    )
    later = given(*history, at(70_000), RequestCallback("c1"))
    assert offers(later.when(SetAgentReady("a1"), at=80_000)) == [("c1-cb", "a1")]


# Amazon Connect queued callback: the callback stays in the queue (its place was taken while
# the queue was open); a queue that closed since does not drop it.
def test_callback_requested_after_closing_keeps_its_place() -> None:
    t = ms_at("2024-01-01T15:59:00")  # Monday 16:59 in Berlin
    history = (
        BERLIN_OFFICE,
        queue(hours="office"),
        *agent("a1", "q1"),
        at(t),
        RouteContact("c1", "q1", ani="+33"),
    )
    out = given(*history).when(RequestCallback("c1"), at=t + 120_000)
    assert out.events[-1] == ContactQueued("c1-cb", "q1", 0, (), 1, t)


# Amazon Connect queued callback: a callback contact is already a callback; it is not offered
# another one.
def test_a_callback_is_not_offered_a_callback() -> None:
    history = (
        queue(overflow=(OverflowRule("wait", "callback", after_s=10),)),
        *agent("a1", "q1"),
        at(1_000),
        RouteContact("c1", "q1", ani="+33"),
        at(5_000),
        RequestCallback("c1"),
    )
    given(*history).when(Tick(), at=30_000).then()


# --- offers: ring no answer, decline, withdrawal -----------------------------------------


# Asterisk queues.conf: timeout — how long to ring a member before considering it
# unavailable; autopause — pause a member who fails to answer.
def test_ring_no_answer_pauses_the_agent_and_offers_the_next() -> None:
    history = (
        queue(ring_timeout_s=15),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1"),
        *ready(2_000, "a2"),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    given(*history).when(Tick(), at=19_999).then()
    out = given(*history).when(Tick(), at=20_000)
    assert out.events[:2] == [
        OfferTimedOut("c1", "a1"),
        AgentStateChanged("a1", "not_ready", "reserved", "rona", "", "not_ready"),
    ]
    assert offers(out) == [("c1", "a2")]
    assert the_offer(out).reason.endswith("excluded after decline or no answer: a1")


# Asterisk queues.conf: autopause=no — the member is not paused when it does not answer.
def test_ring_no_answer_without_pausing() -> None:
    history = (
        queue(ring_timeout_s=15, rona_not_ready=False),
        *agent("a1", "q1"),
        *ready(1_000, "a1"),
        at(5_000),
        RouteContact("c1", "q1"),
        at(6_000),
        RouteContact("c2", "q1"),
    )
    out = given(*history).when(Tick(), at=20_000)
    assert out.events[:2] == [
        OfferTimedOut("c1", "a1"),
        AgentStateChanged("a1", "available", "reserved", "", "", "available"),
    ]
    assert offers(out) == [("c2", "a1")], "c1 is not offered to a1 again"


# Twilio TaskRouter task lifecycle: a task moves back to pending when its reservation is
# rejected, and is offered to another eligible worker.
def test_decline_goes_to_the_next_agent_never_back() -> None:
    history = (
        queue(),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1"),
        *ready(2_000, "a2"),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    assert offers(given(*history).when(DeclineOffer("c1", "a1"), at=6_000)) == [("c1", "a2")]
    both = given(*history, at(6_000), DeclineOffer("c1", "a1"))
    out = both.when(DeclineOffer("c1", "a2"), at=7_000)
    assert offers(out) == [], "both declined: c1 waits"
    assert presence(out, "a1") == presence(out, "a2") == "available"


# Twilio TaskRouter task lifecycle: a canceled task's reservations are rescinded (the
# caller left while it rang): every ringing agent is free again.
def test_caller_leaving_while_ringing_all_frees_every_agent() -> None:
    history = (
        queue(strategy="ring_all"),
        *agent("a1", "q1"),
        *agent("a2", "q1"),
        *ready(1_000, "a1", "a2"),
        at(5_000),
        RouteContact("c1", "q1"),
    )
    given(*history).when(HangUpContact("c1", "caller"), at=8_000).then(
        ContactEnded("c1", "q1", "abandoned", "caller", "", 3_000),
        AgentStateChanged("a1", "available", "reserved", "", "", "available"),
        AgentStateChanged("a2", "available", "reserved", "", "", "available"),
    )


# --- wrap-up -----------------------------------------------------------------------------


# Asterisk queues.conf: wrapuptime — after a successful call, how long to wait before
# sending a potentially free member another call.
def test_wrap_up_time_of_the_queue_then_the_next_call() -> None:
    history = (
        queue(wrap_up_s=30),
        *agent("a1", "q1"),
        *ready(1_000, "a1"),
        at(5_000),
        RouteContact("c1", "q1"),
        at(6_000),
        AcceptOffer("c1", "a1"),
        at(50_000),
        HangUpContact("c1", "caller"),
        at(60_000),
        RouteContact("c2", "q1"),
    )
    given(*history).when(Tick(), at=79_999).then()
    out = given(*history).when(Tick(), at=80_000)
    assert out.events[:2] == [
        WrapUpCompleted("c1", "a1", "timeout", ""),
        AgentStateChanged("a1", "available", "wrap_up", "", "", "available"),
    ]
    assert offers(out) == [("c2", "a1")]


# Twilio TaskRouter: a wrapping task stays with the worker until it is completed; the agent
# may ask for more after-call work (ExtendWrapUp), and without auto-ready stays not ready.
def test_extend_wrap_up_and_no_auto_ready() -> None:
    history = (
        queue(wrap_up_s=30, auto_ready=False),
        *agent("a1", "q1"),
        *ready(1_000, "a1"),
        at(5_000),
        RouteContact("c1", "q1"),
        at(6_000),
        AcceptOffer("c1", "a1"),
        at(50_000),
        HangUpContact("c1", "caller"),
    )
    given(*history).when(ExtendWrapUp("c1", "a1", 20), at=60_000).then(WrapUpExtended("c1", "a1", 100_000))
    extended = (*history, at(60_000), ExtendWrapUp("c1", "a1", 20))
    given(*extended).when(Tick(), at=80_000).then()
    given(*extended).when(Tick(), at=100_000).then(
        WrapUpCompleted("c1", "a1", "timeout", ""),
        AgentStateChanged("a1", "not_ready", "wrap_up", "wrap_up_timeout", "", "not_ready"),
    )
    given(*history).when(ExtendWrapUp("c1", "a1", 0)).invalid("seconds must be > 0")


# --- capacity ----------------------------------------------------------------------------


# Twilio TaskRouter worker channels: workers receive reservations per channel in parallel
# until the configured capacity is reached; Azure Job Router capacity: a worker handling a
# voice job takes no chat job, and one handling chats takes no voice job.
def test_chat_capacity_and_voice_blocking() -> None:
    chatty = (Capacity("voice", 1), Capacity("chat", 2))
    history = (queue(), *agent("a1", "q1", capacity=chatty), *ready(1_000, "a1"))
    one_chat = (
        *history,
        at(2_000),
        RouteContact("c1", "q1", channel="chat"),
        at(3_000),
        AcceptOffer("c1", "a1"),
    )
    assert offers(given(*one_chat).when(RouteContact("c2", "q1", channel="chat"), at=4_000)) == [("c2", "a1")]
    two_chats = given(*one_chat, at(4_000), RouteContact("c2", "q1", channel="chat"))
    assert offers(two_chats.when(RouteContact("c3", "q1", channel="chat"), at=5_000)) == [], "capacity 2"
    assert offers(given(*one_chat).when(RouteContact("v1", "q1"), at=5_000)) == [], "a chat blocks voice"
    on_voice = given(*history, at(2_000), RouteContact("v1", "q1"), at(3_000), AcceptOffer("v1", "a1"))
    out = on_voice.when(RouteContact("c1", "q1", channel="chat"), at=4_000)
    assert offers(out) == [], "voice blocks chat"
    assert presence(out, "a1") == "available"
    # the chat is offered when the voice call's wrap-up is done
    done = (*history, at(2_000), RouteContact("v1", "q1"), at(3_000), AcceptOffer("v1", "a1"))
    done += (at(4_000), RouteContact("c1", "q1", channel="chat"), at(5_000), HangUpContact("v1", "caller"))
    assert offers(given(*done).when(CompleteWrapUp("v1", "a1", "ok"), at=6_000)) == [("c1", "a1")]


# Asterisk queues.conf: autopause pauses the member; the end of another contact's wrap-up
# (wrapuptime) does not unpause it.
def test_a_ring_no_answer_pause_survives_the_wrap_up_timeout_of_another_chat() -> None:
    history = (
        queue(ring_timeout_s=10, wrap_up_s=30),
        *agent("a1", "q1", capacity=(Capacity("chat", 2),)),
        *ready(1_000, "a1"),
        at(2_000),
        RouteContact("c1", "q1", channel="chat"),
        at(3_000),
        AcceptOffer("c1", "a1"),
        at(4_000),
        HangUpContact("c1", "caller"),  # c1 in wrap-up until 34 s
        at(5_000),
        RouteContact("c2", "q1", channel="chat"),  # offered to a1, rings out at 15 s
        at(15_000),
        Tick(),
    )
    g = given(*history)
    assert [h for h in g.history if isinstance(h, AgentStateChanged)][-1].reason == "rona"
    out = g.when(Tick(), at=34_000)
    out.then(
        WrapUpCompleted("c1", "a1", "timeout", ""),
        AgentStateChanged("a1", "not_ready", "wrap_up", "rona", "", "not_ready"),
    )


# --- known agent (sticky) routing --------------------------------------------------------

STICKY = (
    queue(sticky_s=30),
    *agent("a1", "q1"),
    *agent("a2", "q1"),
    *ready(1_000, "a1"),
    *served("old", "a1", 2_000, ani="+331"),  # a1 served +331 last
)


# Twilio TaskRouter known agent routing: attempt to match the caller with the agent who
# served it before ("last agent routing"), for the target's timeout.
def test_sticky_contact_waits_for_the_agent_who_last_served_the_caller() -> None:
    history = (
        *STICKY,
        at(10_000),
        SetAgentNotReady("a1", "break"),
        *ready(11_000, "a2"),
        at(20_000),
        RouteContact("c1", "q1", ani="+331"),
    )
    assert not [h for h in given(*history).history[-3:] if isinstance(h, ContactOffered)]
    offer = the_offer(given(*history).when(SetAgentReady("a1"), at=30_000))
    assert offer.agent_id == "a1"
    assert "sticky: a1 last served caller +331" in offer.reason
    given(*history).when(Tick(), at=49_999).then()
    assert offers(given(*history).when(Tick(), at=50_000)) == [("c1", "a2")]
    other = (*history[:-1], RouteContact("c1", "q1", ani="+339"))
    assert [h.agent_id for h in given(*other).history if isinstance(h, ContactOffered)][-1] == "a2"


# Twilio TaskRouter known agent routing needs the known worker in the queue; a contact
# waits for it only while it is logged in.
def test_sticky_contact_goes_to_others_as_soon_as_the_known_agent_logs_out() -> None:
    history = (
        *STICKY,
        at(10_000),
        SetAgentNotReady("a1", "break"),
        *ready(11_000, "a2"),
        at(20_000),
        RouteContact("c1", "q1", ani="+331"),
    )
    out = given(*history).when(LogOutAgent("a1"), at=21_000)
    assert offers(out) == [("c1", "a2")]
    logged_out = (
        *history[:-2],
        at(15_000),
        LogOutAgent("a1"),
        at(20_000),
        RouteContact("c1", "q1", ani="+331"),
    )
    assert [h.agent_id for h in given(*logged_out).history if isinstance(h, ContactOffered)][-1] == "a2"


# Twilio TaskRouter error 40152: the known worker must be a member of the target queue; a
# known agent taken out of the queue releases the caller waiting for it at once.
def test_sticky_contact_goes_to_others_when_the_known_agent_leaves_the_queue() -> None:
    history = (
        queue("q2"),
        *STICKY,
        at(10_000),
        SetAgentNotReady("a1", "break"),
        *ready(11_000, "a2"),
        at(20_000),
        RouteContact("c1", "q1", ani="+331"),
    )
    out = given(*history).when(DefineAgent("a1", "A1", ("q2",)), at=21_000)
    assert offers(out) == [("c1", "a2")]


# Twilio TaskRouter task lifecycle: a rejected reservation returns the task to pending for
# other workers; a known agent who declined is no reason to wait any longer.
def test_sticky_contact_stops_waiting_for_a_known_agent_who_declined() -> None:
    history = (
        *STICKY,
        at(10_000),
        SetAgentNotReady("a2", "break"),
        at(20_000),
        RouteContact("c1", "q1", ani="+331"),  # offered to a1
        at(21_000),
        SetAgentReady("a2"),  # c1 is ringing at a1, not waiting
    )
    assert offers(given(*history).when(DeclineOffer("c1", "a1"), at=22_000)) == [("c1", "a2")]


# --- blacklist ---------------------------------------------------------------------------


# Asterisk BLACKLIST(): check if the caller id is on the blacklist (and refuse the call).
def test_blocked_numbers_are_refused_at_the_door() -> None:
    history = (queue(), *agent("a1", "q1"), BlockNumber("+666", "fraud"))
    given(*history).when(RouteContact("c1", "q1", ani="+666"), at=1_000).then(
        ContactBlocked("c1", "q1", "+666", "fraud")
    )
    given(*history, UnblockNumber("+666")).when(RouteContact("c1", "q1", ani="+666"), at=1_000).then(
        ContactArrived("c1", "voice", "+666", ""), ContactQueued("c1", "q1", 0)
    )
    given(*history).when(BlockNumber("", "x")).invalid("number must not be empty")


# --- the scanning baseline ---------------------------------------------------------------


def _decide_all(acd: ACD, items: tuple[object, ...]) -> list[object]:
    state, now, out = acd.initial_state(), 0, []
    for n, item in enumerate(items):
        if isinstance(item, at):
            now = item.ms
            continue
        msg = Message(Envelope(f"m{n}", "t1", now, "c"), item)
        try:
            bodies = list(acd.decide(state, msg))
        except (Invalid, Rejected) as e:
            out.append(repr(e))
            continue
        out.append(bodies)
        for i, body in enumerate(bodies):
            state = acd.evolve(state, derive(msg, body, i))
    return out


# ARCHITECTURE.md: decisions replay byte for byte; ACD(scan=True) is the baseline that scans
# every agent and must decide exactly as the membership index does.
def test_scan_baseline_decides_exactly_as_the_index() -> None:
    items: list[object] = [*SKILLS, queue("q2", strategy="ring_all"), queue(strategy="weighted_random")]
    for i in range(8):
        qs = ("q1", "q2") if i % 2 else ("q1",)
        memberships = tuple(Membership(q, tier=i % 3, weight=1 + i % 4) for q in qs)
        items += agent(f"a{i}", memberships=memberships, skills=(SkillLevel("es", 1 + i % 5),))
    items += ready(1_000, *(f"a{i}" for i in range(8)))
    for n in range(12):
        items += [at(2_000 + n * 500), RouteContact(f"c{n}", "q2" if n % 3 == 0 else "q1")]
    items += [at(20_000), Tick(), at(40_000), Tick()]
    assert _decide_all(ACD(scan=True), tuple(items)) == _decide_all(ACD(), tuple(items))


# --- validation: every Invalid names the field -------------------------------------------

BASE = (*SKILLS, DefineSchedule("office", "Office", "UTC", (Window(0, 540, 1020),)), queue())


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (
            queue("q2", required_skills=(SkillLevel("klingon", 1),)),
            "required_skills[0]: unknown skill 'klingon'",
        ),
        (
            queue("q2", required_skills=(SkillLevel("es", 6),)),
            "required_skills[0]: level of 'es' must be 1 to 5",
        ),
        (queue("q2", required_skills=(SkillLevel("es", 0),)), "required_skills[0]"),
        (queue("q2", strategy="fastest"), "unknown strategy 'fastest'"),
        (queue("q2", ring_timeout_s=-1), "ring_timeout_s"),
        (queue("q2", wrap_up_s=-1), "wrap_up_s"),
        (queue("q2", sl_threshold_s=-1), "sl_threshold_s"),
        (queue("q2", priority_aging_s=-1), "priority_aging_s"),
        (queue("q2", max_waiting=-1), "max_waiting"),
        (queue("q2", sticky_s=-1), "sticky_s"),
        (queue("q2", max_tier=-2), "max_tier"),
        (queue("q2", relax=(RelaxStep(-1),)), "relax[0].after_s"),
        (queue("q2", relax=(RelaxStep(10, skill_drop=-1),)), "relax[0].skill_drop"),
        (queue("q2", relax=(RelaxStep(10), RelaxStep(20, max_tier=-2))), "relax[1].max_tier"),
        (queue("q2", hours="night"), "hours: unknown schedule 'night'"),
        (queue("q2", overflow=(OverflowRule("later", "voicemail"),)), "overflow[0].when"),
        (queue("q2", overflow=(OverflowRule("closed", "callback"),)), "overflow[0].action 'callback'"),
        (queue("q2", overflow=(OverflowRule("full", "callback"),)), "overflow[0].action 'callback'"),
        (queue("q2", overflow=(OverflowRule("wait", "teleport"),)), "overflow[0].action 'teleport'"),
        (queue("q2", overflow=(OverflowRule("wait", "queue", "q2"),)), "overflow[0].target"),
        (queue("q2", overflow=(OverflowRule("wait", "queue", "q9"),)), "overflow[0].target"),
        (
            queue(
                "q2", overflow=(OverflowRule("closed", "message"), OverflowRule("wait", "queue", after_s=-5))
            ),
            "overflow[1].target",
        ),
        (queue("q2", overflow=(OverflowRule("wait", "voicemail", after_s=-5),)), "overflow[0].after_s"),
        (DefineAgent("a1", "A", ("q9",)), "queues[0]: unknown queue 'q9'"),
        (DefineAgent("a1", "A", (), (Membership("q9"),)), "memberships[0].queue_id"),
        (DefineAgent("a1", "A", (), (Membership("q1", tier=-1),)), "memberships[0].tier"),
        (DefineAgent("a1", "A", (), (Membership("q1", weight=0),)), "memberships[0].weight"),
        (DefineAgent("a1", "A", (), (Membership("q1", schedule="night"),)), "memberships[0].schedule"),
        (DefineAgent("a1", "A", ("q1",), skills=(SkillLevel("es", 6),)), "skills[0]: level of 'es'"),
        (DefineAgent("a1", "A", ("q1",), skills=(SkillLevel("xx", 1),)), "skills[0]: unknown skill"),
        (DefineAgent("a1", "A", ("q1",), capacity=(Capacity("fax", 1),)), "capacity[0].channel"),
        (
            DefineAgent("a1", "A", ("q1",), capacity=(Capacity("voice", 1), Capacity("chat", -1))),
            "capacity[1].max",
        ),
        (RouteContact("c1", "q1", skills=(SkillLevel("es", 9),)), "skills[0]: level of 'es'"),
        (RouteContact("c1", "q1", channel="fax"), "channel must be one of"),
        (DefineSchedule("s", "S", "Mars/Olympus_Mons"), "timezone: unknown time zone 'Mars/Olympus_Mons'"),
        (DefineSchedule("s", "S", "Europe"), "timezone: unknown time zone 'Europe'"),
        (DefineSchedule("s", "S", "x" * 300), "timezone: unknown time zone"),
        (DefineSchedule("s", "S", "UTC", (Window(7, 0, 60),)), "windows[0].day"),
        (DefineSchedule("s", "S", "UTC", (Window(0, 0, 60), Window(1, 600, 600))), "windows[1]"),
        (DefineSchedule("s", "S", "UTC", (Window(0, 0, 1441),)), "end_min"),
        (DefineSchedule("s", "S", "UTC", (), ("2024-02-30",)), "holidays[0]"),
        (DefineSchedule("s", "S", "UTC", (), ("2024-12-24", "20241225")), "holidays[1]"),
    ],
)
def test_invalid_configuration_names_the_field(command: object, field: str) -> None:
    given(*BASE).when(command).invalid(field)
