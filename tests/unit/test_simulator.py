"""The traffic simulator: determinism, the statistics of its traffic, its reactions to the
ACD's events, and a closed loop against a stand-in ACD (`FakeAcd` below)."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.agent import AgentStateChanged
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
from schemas.envelope import Envelope, Message, derive
from telephony.sim_schedule import Schedule
from telephony.simulator import QueueSpec, SimConfig, Simulator, parse_duration, parse_rate

T0 = 1_700_000_000_000
HOUR = 3_600_000
Msg = Message[Any]


# -- a stand-in ACD ---------------------------------------------------------------------------


class FakeAcd:
    """A tiny stand-in for processors.acd.ACD (written in parallel), so the simulator's
    closed loop can be tested alone. It emits the events the ACD's contract promises for
    each command (see the simulator brief): FIFO by priority, longest-idle agent, offers
    that time out on the first Tick at or after `expires_at` (RONA), and it records every
    command it would have had to reject in `rejected` instead of raising.
    """

    def __init__(self, ring_timeout_ms: int = 15_000) -> None:
        self.ring_timeout_ms = ring_timeout_ms
        self.agents: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.waiting: list[str] = []
        self.rejected: list[str] = []

    def handle(self, cmd: Msg) -> list[Msg]:
        out: list[object] = []
        t, body = cmd.envelope.occurred_at, cmd.body
        agent = self.agents.get(getattr(body, "agent_id", ""))
        contact = self.contacts.get(getattr(body, "contact_id", ""))
        ok = True
        match body:
            case DefineQueue():
                pass
            case DefineAgent():
                self.agents[body.agent_id] = {"state": "logged_out", "queues": body.queues, "since": t}
            case LogInAgent() if agent and agent["state"] == "logged_out":
                self._state(out, body.agent_id, "not_ready", t, "login")
            case SetAgentReady() if agent and agent["state"] == "not_ready":
                self._state(out, body.agent_id, "available", t)
            case RouteContact() if contact is None:
                self.contacts[body.contact_id] = {
                    "queue": body.queue_id, "prio": body.priority, "at": t, "status": "queued",
                    "agent": "", "declined": set(), "expires": 0,
                }  # fmt: skip
                self.waiting.append(body.contact_id)
                out += [ContactArrived(body.contact_id, "voice", body.ani, body.dnis)]
                out += [ContactQueued(body.contact_id, body.queue_id, body.priority)]
            case AcceptOffer() if (
                contact and contact["status"] == "offered" and contact["agent"] == body.agent_id
            ):
                contact["status"] = "connected"
                out += [OfferAccepted(body.contact_id, body.agent_id)]
                out += [ContactConnected(body.contact_id, contact["queue"], body.agent_id, t - contact["at"])]
                self._state(out, body.agent_id, "handling", t, contact=body.contact_id)
            case DeclineOffer() if (
                contact and contact["status"] == "offered" and contact["agent"] == body.agent_id
            ):
                self._requeue(contact, body.contact_id)
                out += [OfferDeclined(body.contact_id, body.agent_id)]
                self._state(out, body.agent_id, "available", t)
            case HoldContact() | ResumeContact() if contact and contact["status"] == "connected":
                kind = ContactHeld if isinstance(body, HoldContact) else ContactResumed
                out += [kind(body.contact_id, body.agent_id)]
            case HangUpContact() if contact and contact["status"] in ("queued", "offered", "connected"):
                self._hang_up(out, body.contact_id, contact, body.party, t)
            case CompleteWrapUp() if agent and agent["state"] == "wrap_up":
                out += [WrapUpCompleted(body.contact_id, body.agent_id, body.disposition, body.notes)]
                ready = body.next_state == "ready"
                self._state(
                    out, body.agent_id, "available" if ready else "not_ready", t, body.not_ready_reason
                )
            case Tick():
                self._expire(out, t)
            case _:
                ok = False
                self.rejected.append(f"{type(body).__name__} {body}")
        if ok:
            self._match(out, t)
        return [derive(cmd, event, i) for i, event in enumerate(out)]

    def _state(
        self, out: list[object], agent_id: str, state: str, t: int, reason: str = "", contact: str = ""
    ) -> None:
        agent = self.agents[agent_id]
        out.append(AgentStateChanged(agent_id, state, agent["state"], reason, contact))
        agent["state"], agent["since"] = state, t

    def _requeue(self, contact: dict[str, Any], contact_id: str) -> None:
        contact["declined"].add(contact["agent"])
        contact["status"], contact["agent"] = "queued", ""
        self.waiting.append(contact_id)

    def _hang_up(
        self, out: list[object], contact_id: str, contact: dict[str, Any], party: str, t: int
    ) -> None:
        status, agent_id = contact["status"], contact["agent"]
        self.contacts.pop(contact_id)
        if contact_id in self.waiting:
            self.waiting.remove(contact_id)
        reason = "completed" if status == "connected" else "abandoned"
        handled = agent_id if status == "connected" else ""
        out.append(ContactEnded(contact_id, contact["queue"], reason, party, handled, t - contact["at"]))
        if status == "connected":
            out.append(WrapUpStarted(contact_id, agent_id))
            self._state(out, agent_id, "wrap_up", t, contact=contact_id)
        elif status == "offered":
            self._state(out, agent_id, "available", t)

    def _expire(self, out: list[object], t: int) -> None:
        for contact_id, contact in list(self.contacts.items()):
            if contact["status"] == "offered" and t >= contact["expires"]:
                agent_id = contact["agent"]
                self._requeue(contact, contact_id)
                out.append(OfferTimedOut(contact_id, agent_id))
                self._state(out, agent_id, "not_ready", t, "rona")

    def _match(self, out: list[object], t: int) -> None:
        for contact_id in sorted(self.waiting, key=lambda c: -self.contacts[c]["prio"]):
            contact = self.contacts[contact_id]
            free = [
                (a["since"], agent_id)
                for agent_id, a in self.agents.items()
                if a["state"] == "available"
                and contact["queue"] in a["queues"]
                and agent_id not in contact["declined"]
            ]
            if not free:
                continue
            _, agent_id = min(free)
            self.waiting.remove(contact_id)
            contact["status"], contact["agent"], contact["expires"] = (
                "offered",
                agent_id,
                t + self.ring_timeout_ms,
            )
            cands = (Candidate(agent_id, 1.0, "longest idle"),)
            out.append(
                ContactOffered(
                    contact_id, contact["queue"], agent_id, "longest_idle", 1, cands, "fake", t + 15_000
                )
            )
            self._state(out, agent_id, "reserved", t, contact=contact_id)


def run_loop(sim: Simulator, acd: FakeAcd, until_ms: int) -> tuple[list[Msg], list[Msg]]:
    """Drive sim and fake ACD like the runtime: commands in time order, a Tick every second,
    every event observed as soon as the ACD emits it. Returns (commands, events)."""
    commands: list[Msg] = []
    events: list[Msg] = []

    def feed(cmd: Msg) -> None:
        for event in acd.handle(cmd):
            events.append(event)
            sim.observe(event)

    for cmd in sim.setup():
        commands.append(cmd)
        feed(cmd)
    next_tick = T0 + 1000
    while True:
        due = sim.next_due_ms()
        t = next_tick if due is None else min(due, next_tick)
        if t > until_ms:
            return commands, events
        for cmd in sim.advance(t):
            commands.append(cmd)
            feed(cmd)
        if t == next_tick:
            feed(Message(Envelope(f"tick-{t}", "demo", t, "tick"), Tick()))
            next_tick += 1000


def _msg(t: int, body: object, correlation: str = "x") -> Msg:
    return Message(Envelope(f"acd-{t}-{type(body).__name__}", "demo", t, correlation), body)


def _next(sim: Simulator, kind: type) -> Msg:
    """Step the simulator from one due action to the next until it sends a `kind`."""
    while (due := sim.next_due_ms()) is not None:
        for m in sim.advance(due):
            if isinstance(m.body, kind):
                return m
    raise AssertionError(f"no {kind.__name__}")


def _first_route(sim: Simulator) -> Msg:
    return _next(sim, RouteContact)


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_and_events_give_the_same_commands_byte_for_byte() -> None:
    runs = [
        run_loop(Simulator(SimConfig(), seed=42, start_ms=T0), FakeAcd(), T0 + HOUR // 2) for _ in range(2)
    ]
    (first, _), (second, _) = runs
    assert len(first) > 100
    assert [repr(m) for m in first] == [repr(m) for m in second]
    other, _ = run_loop(Simulator(SimConfig(), seed=43, start_ms=T0), FakeAcd(), T0 + HOUR // 2)
    assert [repr(m) for m in other] != [repr(m) for m in first]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=HOUR), max_size=20))
def test_without_feedback_advancing_in_any_steps_gives_the_same_commands(cuts: list[int]) -> None:
    """Traffic does not depend on how the driver slices time (common random numbers)."""
    whole = Simulator(SimConfig(), seed=5, start_ms=T0).advance(T0 + HOUR)
    sim = Simulator(SimConfig(), seed=5, start_ms=T0)
    sliced = [m for cut in sorted(cuts) for m in sim.advance(T0 + cut)] + sim.advance(T0 + HOUR)
    assert sliced == whole


# -- statistics of the traffic ----------------------------------------------------------------


def test_arrivals_are_poisson_at_the_total_rate_split_evenly_across_queues() -> None:
    hours, rate = 10, parse_rate("600/h")
    sim = Simulator(SimConfig(agents=0, arrival_rate_per_hour=rate), seed=11, start_ms=T0)
    routes = [m for m in sim.advance(T0 + hours * HOUR) if isinstance(m.body, RouteContact)]
    expected = rate * hours
    assert abs(len(routes) - expected) < 3 * math.sqrt(expected)
    per_queue = Counter(m.body.queue_id for m in routes)
    assert set(per_queue) == {"sales", "support", "billing"}
    for n in per_queue.values():
        assert abs(n - expected / 3) < 3 * math.sqrt(expected / 3)
    # Poisson counts: variance equals mean (index of dispersion ~1) in one-minute bins
    bins = Counter((m.envelope.occurred_at - T0) // 60_000 for m in routes)
    counts = [bins.get(i, 0) for i in range(hours * 60)]
    dispersion = statistics.variance(counts) / statistics.mean(counts)
    assert 0.8 < dispersion < 1.2
    times = [m.envelope.occurred_at for m in routes]
    assert times == sorted(times)


def test_callers_without_agents_abandon_after_their_patience_mean_120s() -> None:
    sim = Simulator(SimConfig(agents=0, arrival_rate_per_hour=600), seed=3, start_ms=T0)
    out = sim.advance(T0 + 11 * HOUR)
    arrived = {m.body.contact_id: m.envelope.occurred_at for m in out if isinstance(m.body, RouteContact)}
    waits = [
        (m.envelope.occurred_at - arrived[m.body.contact_id]) / 1000
        for m in out
        if isinstance(m.body, HangUpContact) and arrived[m.body.contact_id] < T0 + 10 * HOUR
    ]
    assert all(isinstance(m.body, RouteContact | HangUpContact) for m in out)
    assert {m.body.party for m in out if isinstance(m.body, HangUpContact)} == {"caller"}
    assert abs(statistics.mean(waits) - 120) < 3 * 120 / math.sqrt(len(waits))
    stats = sim.stats()  # abandoned callers are forgotten: ~ rate x patience remain (Little)
    assert stats.active_contacts == stats.commands["RouteContact"] - stats.commands["HangUpContact"] < 60


def test_priority_ani_and_dnis_look_like_a_contact_center() -> None:
    sim = Simulator(SimConfig(agents=0, arrival_rate_per_hour=3000), seed=8, start_ms=T0)
    routes = [m.body for m in sim.advance(T0 + HOUR) if isinstance(m.body, RouteContact)]
    assert 0.07 < sum(r.priority == 1 for r in routes) / len(routes) < 0.13
    assert all(r.ani.startswith("+1") and len(r.ani) == 12 and r.ani[1:].isdigit() for r in routes)
    assert len({r.ani for r in routes}) < len(routes)  # repeat callers
    dnis = {r.queue_id: r.dnis for r in routes}
    assert len(set(dnis.values())) == 3


# -- setup and envelopes ----------------------------------------------------------------------


def test_setup_defines_queues_and_agents_and_logs_everyone_in_ready() -> None:
    sim = Simulator(SimConfig(queues=2, agents=8), seed=1, start_ms=T0)
    out = sim.setup()
    kinds = [m.type for m in out]
    assert kinds == ["DefineQueue"] * 2 + ["DefineAgent"] * 8 + ["LogInAgent"] * 8 + ["SetAgentReady"] * 8
    agents = {m.body.agent_id: m.body.queues for m in out if isinstance(m.body, DefineAgent)}
    assert agents["a01"] == ("sales",) and agents["a02"] == ("support",) and agents["a03"] == ("sales",)
    assert agents["a04"] == agents["a08"] == ("sales", "support")
    assert {m.envelope.occurred_at for m in out} == {T0}
    assert {m.envelope.actor for m in out if isinstance(m.body, LogInAgent)} == {
        f"agent:a0{i}" for i in range(1, 9)
    }


def test_envelopes_are_deterministic_unique_and_name_the_conversation() -> None:
    cmds, _ = run_loop(Simulator(SimConfig(), seed=9, start_ms=T0), FakeAcd(), T0 + HOUR // 2)
    assert len({m.envelope.event_id for m in cmds}) == len(cmds)
    assert all(m.envelope.tenant == "demo" and m.envelope.causation_id is None for m in cmds)
    times = [m.envelope.occurred_at for m in cmds]
    assert times == sorted(times)
    for m in cmds:
        key = getattr(m.body, "contact_id", None) or getattr(m.body, "agent_id", None) or m.body.queue_id
        assert m.envelope.correlation_id == key
        agent_id = getattr(m.body, "agent_id", None)
        if isinstance(m.body, DefineAgent | DefineQueue | RouteContact):
            assert m.envelope.actor == "simulator"
        elif agent_id:
            assert m.envelope.actor == f"agent:{agent_id}"


# -- reactions --------------------------------------------------------------------------------


def _offer_scenario(**overrides: Any) -> tuple[Simulator, Msg, int]:
    config = SimConfig(queues=1, agents=1, **overrides)
    sim = Simulator(config, seed=2, start_ms=T0)
    sim.setup()
    route = _first_route(sim)
    cid, t = route.body.contact_id, route.envelope.occurred_at
    sim.observe(_msg(t, ContactQueued(cid, "sales", 0), cid))
    sim.observe(
        _msg(t, ContactOffered(cid, "sales", "a01", "longest_idle", 1, (), "only agent", t + 15_000), cid)
    )
    sim.observe(_msg(t, AgentStateChanged("a01", "reserved", "available", "", cid), "a01"))
    return sim, route, t


def test_an_offer_is_accepted_after_the_ring_delay() -> None:
    sim, route, t = _offer_scenario(decline_probability=0.0, no_answer_probability=0.0)
    out = [m for m in sim.advance(t + 5_000) if m.body != route.body]
    answers = [m for m in out if isinstance(m.body, AcceptOffer)]
    assert len(answers) == 1
    (accept,) = answers
    assert accept.body == AcceptOffer(route.body.contact_id, "a01")
    assert t + 1_000 <= accept.envelope.occurred_at <= t + 5_000
    assert accept.envelope.actor == "agent:a01"
    assert accept.envelope.correlation_id == route.body.contact_id


def test_an_offer_seen_before_the_state_changes_that_preceded_it_is_still_answered() -> None:
    """A reader of several topics (the real-time driver's Tail) sees contact events before
    agent events: here the offer, then the agent's 'available' that came before it. The
    simulated agent must still answer (it once let such offers ring into RONA)."""
    sim, route, t = _offer_scenario(decline_probability=0.0, no_answer_probability=0.0)
    sim.observe(_msg(t, AgentStateChanged("a01", "available", "wrap_up", "", ""), "a01"))
    sim.observe(_msg(t, AgentStateChanged("a01", "reserved", "available", "", route.body.contact_id), "a01"))
    answers = [m for m in sim.advance(t + 5_000) if isinstance(m.body, AcceptOffer)]
    assert [a.body for a in answers] == [AcceptOffer(route.body.contact_id, "a01")]


def test_an_offer_is_declined_or_left_ringing_then_the_agent_recovers_from_rona() -> None:
    sim, route, t = _offer_scenario(decline_probability=1.0, no_answer_probability=0.0)
    assert [m.body for m in sim.advance(t + 5_000) if isinstance(m.body, DeclineOffer)]

    sim, route, t = _offer_scenario(decline_probability=0.0, no_answer_probability=1.0)
    cid = route.body.contact_id
    assert not [m for m in sim.advance(t + 15_000) if getattr(m.body, "agent_id", "") == "a01"]
    sim.observe(_msg(t + 15_000, OfferTimedOut(cid, "a01"), cid))
    sim.observe(_msg(t + 15_000, AgentStateChanged("a01", "not_ready", "reserved", "rona", ""), "a01"))
    readies = [m for m in sim.advance(t + 40_000) if isinstance(m.body, SetAgentReady)]
    assert len(readies) == 1
    assert t + 20_000 <= readies[0].envelope.occurred_at <= t + 30_000


def test_nothing_is_sent_for_a_contact_after_it_ended() -> None:
    # ended while ringing: no answer, no abandonment
    sim, route, t = _offer_scenario(decline_probability=0.0, no_answer_probability=0.0)
    cid = route.body.contact_id
    sim.observe(_msg(t + 500, ContactEnded(cid, "sales", "abandoned", "system", "", 500), cid))
    later = sim.advance(t + 2 * HOUR)
    assert not [m for m in later if getattr(m.body, "contact_id", None) == cid]

    # ended while connected: no hold, no hang-up
    sim, route, t = _offer_scenario(decline_probability=0.0, no_answer_probability=0.0)
    cid = route.body.contact_id
    sim.observe(_msg(t + 1_000, ContactConnected(cid, "sales", "a01", 1_000), cid))
    sim.observe(_msg(t + 2_000, ContactEnded(cid, "sales", "completed", "system", "a01", 1_000), cid))
    later = sim.advance(t + 2 * HOUR)
    assert not [m for m in later if getattr(m.body, "contact_id", None) == cid]


def test_a_break_after_wrap_up_ends_with_ready() -> None:
    sim, route, t = _offer_scenario(break_probability=1.0, breaks=SimConfig().breaks[:1])
    cid = route.body.contact_id
    sim.observe(_msg(t, WrapUpStarted(cid, "a01"), cid))
    sim.observe(_msg(t, AgentStateChanged("a01", "wrap_up", "handling", "", cid), "a01"))
    done = _next(sim, CompleteWrapUp)
    assert (done.body.next_state, done.body.not_ready_reason) == ("not_ready", "break")
    assert done.body.disposition in dict(SimConfig().dispositions)
    at = done.envelope.occurred_at
    sim.observe(_msg(at, AgentStateChanged("a01", "not_ready", "wrap_up", "break", ""), "a01"))
    ready = _next(sim, SetAgentReady)
    assert at + 150_000 <= ready.envelope.occurred_at <= at + 450_000


# -- closed loop ------------------------------------------------------------------------------


def test_closed_loop_runs_two_hours_without_a_single_rejected_command() -> None:
    sim, acd = Simulator(SimConfig(), seed=21, start_ms=T0), FakeAcd()
    commands, events = run_loop(sim, acd, T0 + 2 * HOUR)
    assert acd.rejected == []
    kinds = Counter(m.type for m in commands)
    for kind in ("AcceptOffer", "HoldContact", "ResumeContact", "CompleteWrapUp", "HangUpContact"):
        assert kinds[kind] > 0, kind
    ended = Counter(m.body.reason for m in events if isinstance(m.body, ContactEnded))
    assert ended["completed"] > 300 and ended["abandoned"] > 0
    assert any(isinstance(m.body, OfferTimedOut) for m in events)  # no-answer leads to RONA
    reasons = {m.body.not_ready_reason for m in commands if isinstance(m.body, CompleteWrapUp)}
    assert reasons & {"break", "training", "lunch"}
    assert sim.stats().commands == dict(kinds)
    assert sim.stats().contacts == kinds["RouteContact"]


@pytest.mark.parametrize("step_ms", [1_000, 30_000])
def test_guards_hold_when_the_driver_advances_in_coarse_batches(step_ms: int) -> None:
    """A driver that advances in big steps sees events late; stale actions stay quiet."""
    sim, acd = Simulator(SimConfig(), seed=3, start_ms=T0), FakeAcd()
    batches = [sim.setup()]
    for t in range(T0, T0 + HOUR, step_ms):
        for cmd in [*batches.pop(), Message(Envelope(f"tick-{t}", "demo", t, "tick"), Tick())]:
            for event in acd.handle(cmd):
                sim.observe(event)
        batches.append(sim.advance(t + step_ms))
    assert acd.rejected == []
    assert sim.stats().commands["CompleteWrapUp"] > 100


def test_closed_loop_never_acts_on_a_contact_after_its_end() -> None:
    sim, acd = Simulator(SimConfig(agents=6), seed=4, start_ms=T0), FakeAcd()
    commands, events = run_loop(sim, acd, T0 + HOUR)
    ended_at = {m.body.contact_id: m.envelope.occurred_at for m in events if isinstance(m.body, ContactEnded)}
    assert ended_at
    for m in commands:
        cid = getattr(m.body, "contact_id", None)
        if cid in ended_at and not isinstance(m.body, CompleteWrapUp):  # wrap-up follows the end
            assert m.envelope.occurred_at <= ended_at[cid], m


def test_events_of_other_tenants_and_unknown_contacts_are_ignored() -> None:
    sim = Simulator(SimConfig(queues=1, agents=1), seed=2, start_ms=T0)
    sim.setup()
    offer = ContactOffered("not-ours", "sales", "a01", "longest_idle", 1, (), "", T0 + 15_000)
    sim.observe(_msg(T0, offer))
    foreign = _first_route(Simulator(SimConfig(queues=1, agents=1), seed=2, start_ms=T0))
    cid = foreign.body.contact_id
    sim.observe(Message(replace(_msg(T0, offer).envelope, tenant="other"), replace(offer, contact_id=cid)))
    assert not [m for m in sim.advance(T0 + 10_000) if isinstance(m.body, AcceptOffer)]


# -- configuration and parsing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "per_hour"),
    [("300/h", 300.0), ("300", 300.0), ("5/min", 300.0), ("0.1/s", 360.0), (" 12 / hour ", 12.0)],
)
def test_parse_rate(text: str, per_hour: float) -> None:
    assert parse_rate(text) == pytest.approx(per_hour)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1h", HOUR),
        ("30m", 1_800_000),
        ("90s", 90_000),
        ("1h30m", 5_400_000),
        ("2m30s", 150_000),
        ("250ms", 250),
    ],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_parse_duration_adds_up_its_parts(h: int, m: int, s: int) -> None:
    assert parse_duration(f"{h}h{m}m{s}s") == ((h * 60 + m) * 60 + s) * 1000


@pytest.mark.parametrize("bad", ["3/fortnight", "-5/h", "fast", "", "/h"])
def test_parse_rate_errors_name_the_input(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid rate " + re.escape(repr(bad))):
        parse_rate(bad)


@pytest.mark.parametrize("bad", ["90", "1x", "30m1h", "1h1h", "", "h", "1h 30m"])
def test_parse_duration_errors_name_the_input(bad: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_duration(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decline_probability", 1.5),
        ("agents", -1),
        ("talk_mean_s", 0.0),
        ("queues", 0),
        ("answer_delay_s", (5, 1)),
    ],
)
def test_config_errors_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        SimConfig(**{field: value})


def test_explicit_queues_keep_their_ids_and_get_a_dnis() -> None:
    config = SimConfig(
        queues=(QueueSpec("vip", "VIP", "+18005550999"), QueueSpec("gen", "General")), agents=4
    )
    assert [(q.queue_id, q.dnis) for q in config.queue_specs] == [
        ("vip", "+18005550999"),
        ("gen", "+18005550002"),
    ]
    assert [a.queues for a in config.agent_specs] == [("vip",), ("gen",), ("vip",), ("vip", "gen")]


def test_schedule_cancels_by_mark_and_skip_and_keeps_ties_in_order() -> None:
    schedule: Schedule[str] = Schedule()
    a, _, c = schedule.push(5, "a"), schedule.push(5, "b"), schedule.push(1, "c")
    schedule.cancel(c)
    schedule.cancel(a)
    assert schedule.next_due_ms() == 5
    item = schedule.pop_due(5)
    assert item is not None and item.action == "b"
    assert schedule.pop_due(10) is None and schedule.next_due_ms() is None
