"""Live stats: conservation, interval attribution, short abandons, SL/ASA, the views."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from given import at, run

from processors import metrics
from processors.acd import ACD
from processors.decider import Invalid, Rejected
from processors.live_stats import LiveStats, StatsState, day_series, interval_counts, queue_view, totals
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
from schemas.envelope import Envelope, Message, derive

T0 = 1_699_920_000_000 + 8 * 3_600_000  # 2023-11-14 08:00 UTC, an interval start
SETUP = (
    at(T0),
    DefineQueue("q1", "Sales", sl_threshold_s=20, short_abandon_s=5),
    DefineQueue("q2", "Support"),
)


def fold(events: list[Message[Any]], stats: LiveStats | None = None) -> StatsState:
    stats = stats or LiveStats()
    state = stats.initial_state()
    for e in events:
        state, out = stats.process(state, e)
        assert out == ()
    return state


def counts(state: StatsState, queue: str, start: int) -> metrics.QueueCounts:
    assert start in state.tenants["t1"].intervals[queue]
    return interval_counts(state, "t1", queue, start)


def drive(rng: random.Random, steps: int) -> list[Message[Any]]:
    """Drive the ACD with random but mostly sensible commands; the decided events."""
    acd = ACD()
    state = acd.initial_state()
    events: list[Message[Any]] = []
    now = T0

    def send(body: object) -> None:
        nonlocal state
        msg = Message(Envelope(f"m{len(events)}-{now}-{rng.random()}", "t1", now, "x"), body)
        try:
            bodies = acd.decide(state, msg)
        except (Rejected, Invalid):
            return
        for i, b in enumerate(bodies):
            e = derive(msg, b, i)
            state = acd.evolve(state, e)
            events.append(e)

    send(DefineQueue("q1", "Sales", ring_timeout_s=10, wrap_up_s=30))
    send(DefineQueue("q2", "Support", short_abandon_s=8))
    for i in range(6):
        send(DefineAgent(f"a{i}", f"A{i}", ("q1",) if i % 3 else ("q1", "q2")))
        send(LogInAgent(f"a{i}"))
    for n in range(steps):
        now += rng.randint(0, 6_000)
        t = state.tenant("t1")
        a = rng.choice(sorted(t.agents.values(), key=lambda x: x.agent_id))
        waiting = sorted(c.contact_id for c in t.contacts.values() if c.phase in ("waiting", "offered"))
        r = rng.random()
        if r < 0.3:
            send(RouteContact(f"c{n}", rng.choice(("q1", "q2")), priority=rng.randint(0, 1)))
        elif r < 0.4 and waiting:
            send(HangUpContact(rng.choice(waiting), "caller"))
        elif r < 0.45:
            send(rng.choice((SetAgentNotReady(a.agent_id, "break"), LogOutAgent(a.agent_id))))
        elif r < 0.55:
            send(Tick())
        elif a.state in ("logged_out", "not_ready"):
            send(LogInAgent(a.agent_id) if a.state == "logged_out" else SetAgentReady(a.agent_id))
        elif a.state == "reserved":
            k = rng.random()
            send(AcceptOffer(a.contact_id, a.agent_id) if k < 0.8 else DeclineOffer(a.contact_id, a.agent_id))
        elif a.state == "handling":
            k = rng.random()
            if k < 0.2:
                send(rng.choice((HoldContact, ResumeContact))(a.contact_id, a.agent_id))
            else:
                send(HangUpContact(a.contact_id, rng.choice(("caller", "agent"))))
        elif a.state == "wrap_up":
            send(CompleteWrapUp(a.contact_id, a.agent_id, "ok"))
    return events


def test_conservation_after_every_event_of_a_long_random_run() -> None:
    events = drive(random.Random(7), 4_000)
    stats = LiveStats()
    state = stats.initial_state()
    seen = set()
    for e in events:
        state, _ = stats.process(state, e)
        for queue, per_queue in state.tenants["t1"].intervals.items():
            for start in per_queue:
                c = interval_counts(state, "t1", queue, start)
                assert c.conserved(), c
        seen.add(type(e.body).__name__)
    assert {"ContactConnected", "WrapUpCompleted", "OfferTimedOut", "ContactHeld", "OfferDeclined"} <= seen
    total = metrics.QueueCounts()
    for queue, per_queue in state.tenants["t1"].intervals.items():
        for start in per_queue:
            total = total + interval_counts(state, "t1", queue, start)
    queued = sum(type(e.body).__name__ == "ContactQueued" for e in events)
    assert total.offered + total.short_abandoned == queued
    assert total.answered > 200 and total.abandoned > 20 and total.short_abandoned > 0
    assert total.handled > 100


def test_contact_belongs_to_the_interval_it_entered() -> None:
    entered = T0 + 899_000  # 1 s before the interval ends
    events = run(
        *SETUP,
        DefineAgent("a1", "A", ("q1",)),
        LogInAgent("a1"),
        at(entered),
        RouteContact("c1", "q1"),
    )
    state = fold(events)
    assert counts(state, "q1", T0).waiting == 1, "still waiting after the roll-over: stays in its interval"
    view = queue_view(state, "t1", T0 + 930_000)[0]
    assert (view["waiting"], view["longest_wait_s"], view["interval_start"]) == (1, 31.0, T0 + 900_000)
    assert view["current"]["offered"] == 0
    events = run(
        *SETUP,
        DefineAgent("a1", "A", ("q1",)),
        LogInAgent("a1"),
        at(entered),
        RouteContact("c1", "q1"),
        at(T0 + 930_000),
        SetAgentReady("a1"),
        AcceptOffer("c1", "a1"),
    )
    state = fold(events)
    c = counts(state, "q1", T0)
    assert (c.offered, c.answered, c.waiting, c.answer_wait_ms, c.answered_in_sl) == (1, 1, 0, 31_000, 0)
    assert T0 + 900_000 not in state.tenants["t1"].intervals["q1"]


def test_short_abandons_leave_offered() -> None:
    events = run(
        *SETUP,
        at(T0 + 1_000),
        RouteContact("c1", "q1"),
        RouteContact("c2", "q1"),
        at(T0 + 6_000),
        HangUpContact("c1", "caller"),  # 5 s: short (inclusive)
        at(T0 + 7_000),
        HangUpContact("c2", "caller"),  # 6 s: abandoned
    )
    c = counts(fold(events), "q1", T0)
    assert (c.offered, c.short_abandoned, c.abandoned, c.abandoned_in_sl, c.abandon_wait_ms) == (
        1,
        1,
        1,
        1,
        6_000,
    )
    assert c.conserved()


def test_service_level_and_asa_agree_with_a_hand_computation() -> None:
    events = run(
        *SETUP,
        DefineAgent("a1", "A", ("q1",)),
        DefineAgent("a2", "B", ("q1",)),
        LogInAgent("a1"),
        LogInAgent("a2"),
        at(T0),
        RouteContact("c1", "q1"),
        RouteContact("c2", "q1"),
        RouteContact("c3", "q1"),
        RouteContact("c4", "q1"),
        at(T0 + 2_000),
        HangUpContact("c4", "caller"),  # short abandon
        at(T0 + 10_000),
        SetAgentReady("a1"),
        AcceptOffer("c1", "a1"),  # answered in 10 s
        at(T0 + 15_000),
        HangUpContact("c3", "caller"),  # abandoned in 15 s
        at(T0 + 30_000),
        SetAgentReady("a2"),
        AcceptOffer("c2", "a2"),  # answered in 30 s
    )
    state = fold(events)
    c = counts(state, "q1", T0)
    # offered 3 (c4 is a short abandon), answered 2 (1 within 20 s), abandoned 1 (within 20 s)
    assert (c.offered, c.answered, c.answered_in_sl, c.abandoned, c.abandoned_in_sl) == (3, 2, 1, 1, 1)
    assert metrics.service_level(c, "abandons_against") == pytest.approx(1 / 3)
    assert metrics.service_level(c, "abandons_ignored") == pytest.approx(1 / 2)
    assert metrics.service_level(c, "abandons_for") == pytest.approx(2 / 3)
    assert metrics.service_level(c, "answered_only") == pytest.approx(1 / 2)
    assert metrics.asa(c) == pytest.approx(20.0)
    view = queue_view(state, "t1", T0 + 31_000)[0]
    assert view["current"]["service_level"] == pytest.approx(1 / 3)
    assert view["current"]["asa_s"] == pytest.approx(20.0)
    assert view["current"]["longest_wait_s"] == 30.0


def test_handled_talk_hold_and_wrap_up() -> None:
    events = run(
        *SETUP,
        DefineAgent("a1", "A", ("q1",)),
        LogInAgent("a1"),
        SetAgentReady("a1"),
        at(T0 + 1_000),
        RouteContact("c1", "q1"),
        AcceptOffer("c1", "a1"),
        at(T0 + 11_000),
        HoldContact("c1", "a1"),
        at(T0 + 15_000),
        ResumeContact("c1", "a1"),
        at(T0 + 41_000),
        HangUpContact("c1", "caller"),
        at(T0 + 51_000),
        CompleteWrapUp("c1", "a1", "ok"),
    )
    state = fold(events)
    c = counts(state, "q1", T0)
    assert (c.handled, c.talk_ms, c.hold_ms, c.held, c.wrap_ms) == (1, 36_000, 4_000, 1, 10_000)
    assert state.tenants["t1"].contacts == {}


def test_queue_view_agents_by_state_counts_multi_queue_agents_in_each_queue() -> None:
    events = run(
        *SETUP,
        DefineAgent("a1", "A", ("q1", "q2")),
        DefineAgent("a2", "B", ("q1",)),
        DefineAgent("a3", "C", ("q2",)),
        LogInAgent("a1"),
        LogInAgent("a2"),
        SetAgentReady("a1"),
        at(T0 + 5_000),
        RouteContact("c1", "q2", priority=3),
        RouteContact("c2", "q2"),
    )
    views = {v["queue_id"]: v for v in queue_view(fold(events), "t1", T0 + 8_000)}
    assert views["q1"]["agents"] == {
        "available": 0,
        "reserved": 1,
        "handling": 0,
        "wrap_up": 0,
        "not_ready": 1,
        "logged_out": 0,
    }
    assert views["q2"]["agents"]["reserved"] == 1 and views["q2"]["agents"]["logged_out"] == 1
    assert (views["q2"]["name"], views["q2"]["waiting"], views["q2"]["longest_wait_s"]) == ("Support", 2, 3.0)
    assert views["q2"]["waiting_by_priority"] == [
        {"priority": 3, "waiting": 1},
        {"priority": 0, "waiting": 1},
    ]
    json.dumps(list(views.values()))


def test_day_series_keeps_the_current_day_only() -> None:
    day = 86_400_000
    start = T0 - T0 % day
    events = run(
        at(start + 1_000),
        DefineQueue("q1", "Sales"),
        RouteContact("c1", "q1"),
        at(start + 3_600_000),
        RouteContact("c2", "q1"),
    )
    state = fold(events)
    series = day_series(state, "t1", "q1")
    assert [s["interval_start"] for s in series] == [start, start + 3_600_000]
    assert [s["offered"] for s in series] == [1, 1]
    state = fold([*events, *run(at(start + day + 10), DefineQueue("q1", "Sales"), RouteContact("c3", "q1"))])
    assert [s["interval_start"] for s in day_series(state, "t1", "q1")] == [start + day]
    json.dumps(series)


def test_views_of_an_unknown_tenant_are_empty() -> None:
    assert queue_view(LiveStats().initial_state(), "nobody", 0) == []
    assert day_series(LiveStats().initial_state(), "nobody", "q1") == []


def test_totals_sum_every_interval_of_the_day_per_queue_and_overall() -> None:
    events = run(
        *SETUP,
        at(T0 + 1_000),
        RouteContact("c1", "q1"),
        at(T0 + 2_000),
        HangUpContact("c1", "caller"),  # short abandon
        at(T0 + 1_000_000),
        RouteContact("c2", "q1"),
        RouteContact("c3", "q2"),
        at(T0 + 1_030_000),
        HangUpContact("c2", "caller"),
    )
    out = totals(fold(events), "t1")
    assert (out["contacts"], out["offered"], out["short_abandoned"], out["abandoned"], out["waiting"]) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert [(q["queue_id"], q["offered"], q["waiting"]) for q in out["queues"]] == [
        ("q1", 1, 0),
        ("q2", 1, 1),
    ]
    json.dumps(out)
    view = queue_view(fold(events), "t1", T0 + 1_031_000)
    assert [(v["queue_id"], v["offered"], v["waiting"]) for v in view] == [("q1", 1, 0), ("q2", 1, 1)]


def test_totals_cover_the_whole_log_across_midnight_while_the_day_series_restarts() -> None:
    day = 86_400_000
    midnight = T0 - T0 % day + day
    events = run(
        at(midnight - 60_000),
        DefineQueue("q1", "Sales"),
        RouteContact("c1", "q1"),
        at(midnight - 30_000),
        RouteContact("c2", "q1"),
        at(midnight + 30_000),
        HangUpContact("c1", "caller"),  # entered yesterday, abandons today
        RouteContact("c3", "q1"),
    )
    state = fold(events)
    out = totals(state, "t1")
    assert (out["contacts"], out["offered"], out["abandoned"], out["waiting"]) == (3, 3, 1, 2)
    assert [s["offered"] for s in day_series(state, "t1", "q1")] == [1]  # today: c3 only


def test_overflow_and_callback_are_counted_where_the_contact_left_and_conserve() -> None:
    from schemas.commands import RequestCallback
    from schemas.routing import OverflowRule

    rules = (OverflowRule("wait", "queue", "q2", after_s=30),)
    events = run(
        *SETUP,
        DefineQueue("q1", "Sales", overflow=rules),
        RouteContact("c1", "q1", ani="+1555"),
        RouteContact("c2", "q1", ani="+1556"),
        at(T0 + 10_000),
        RequestCallback("c2"),
        at(T0 + 31_000),
        Tick(),
    )
    q1, q2 = counts(fold(events), "q1", T0), counts(fold(events), "q2", T0)
    # c1 overflowed to q2 (offered in both); c2 chose a callback, whose contact c2-cb waits in q1
    assert (q1.offered, q1.overflowed, q1.callback, q1.waiting) == (3, 1, 1, 1)
    assert (q2.offered, q2.waiting) == (1, 1)
    assert q1.conserved() and q2.conserved()
