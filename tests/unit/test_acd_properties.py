"""Properties of the ACD under random command sequences (hypothesis state machine).

An independent tracker, built only from the decided events, checks every offer when it is
made (to a logged-in, available member of the queue with no other contact, who did not
decline it, first offers FIFO within a queue and priority) and, after every step, that
dispatch is work-conserving and no agent holds two contacts. The run is then replayed:
the same commands from scratch give the same decisions, and folding the decided events
with `evolve` gives the same state. The events also drive live stats (conservation) and
the CDR builder (one record per finished contact).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from processors.acd import ACD
from processors.acd_state import AcdState
from processors.contacts import ContactRecorder
from processors.decider import Invalid, Rejected
from processors.live_stats import LiveStats, interval_counts
from schemas import agent, config, contact
from schemas.agent import AgentLoggedIn, AgentLoggedOut, AgentStateChanged
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
    LogOutAgent,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
)
from schemas.config import AgentDefined
from schemas.contact import (
    ContactConnected,
    ContactEnded,
    ContactOffered,
    ContactQueued,
    OfferDeclined,
    OfferTimedOut,
)
from schemas.envelope import Envelope, Message, derive

QUEUES = ("q1", "q2")
AGENTS = ("a1", "a2", "a3", "a4")
BUSY = ("reserved", "handling", "wrap_up")


class Tracker:
    """The world as the decided events describe it, checked as each event arrives."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.logged_in: set[str] = set()
        self.queues: dict[str, tuple[str, ...]] = {}
        self.holding: dict[str, str] = {}  # agent -> contact
        self.phase: dict[str, str] = {}  # contact -> waiting/offered/connected/ended
        self.meta: dict[str, tuple[str, int, int]] = {}  # contact -> (queue, priority, order)
        self.excluded: dict[str, set[str]] = {}
        self.ever_offered: set[str] = set()
        self.since: dict[str, int] = {}

    def see(self, e: object, now: int) -> None:
        match e:
            case AgentDefined(agent_id=a, queues=qs):
                self.queues[a] = qs
            case AgentLoggedIn(agent_id=a):
                self.logged_in.add(a)
            case AgentLoggedOut(agent_id=a):
                self.logged_in.discard(a)
            case AgentStateChanged(agent_id=a, state=s, previous=p, contact_id=c):
                assert p == self.state.get(a, "logged_out"), (e, self.state.get(a))
                self.state[a] = s
                self.since[a] = now
                if s in BUSY:
                    assert self.holding.get(a, c) == c, f"{a} would hold two contacts"
                    self.holding[a] = c
                else:
                    self.holding.pop(a, None)
            case ContactQueued(contact_id=c, queue_id=q, priority=p):
                self.phase[c] = "waiting"
                self.meta[c] = (q, p, len(self.meta))
                self.excluded[c] = set()
            case ContactOffered(contact_id=c, agent_id=a, queue_id=q):
                self._check_offer(c, a, q)
                self.phase[c] = "offered"
                self.ever_offered.add(c)
            case OfferDeclined(contact_id=c, agent_id=a) | OfferTimedOut(contact_id=c, agent_id=a):
                self.phase[c] = "waiting"
                self.excluded[c].add(a)
            case ContactConnected(contact_id=c):
                self.phase[c] = "connected"
            case ContactEnded(contact_id=c):
                self.phase[c] = "ended"

    def _check_offer(self, c: str, a: str, q: str) -> None:
        assert self.phase.get(c) == "waiting", f"offer of {c} in phase {self.phase.get(c)}"
        assert a in self.logged_in, f"offer to {a} who is not logged in"
        assert self.state.get(a) == "available", f"offer to {a} who is {self.state.get(a)}"
        assert q == self.meta[c][0] and q in self.queues.get(a, ()), f"offer to {a} outside {q}"
        assert a not in self.excluded[c], f"re-offer of {c} to {a}"
        assert a not in self.holding, f"{a} already has {self.holding.get(a)}"
        rivals = [b for c_, b in self.eligible_idle() if c_ == c]
        assert min(rivals, key=lambda b: (self.since[b], b)) == a, f"{a} is not the longest idle of {rivals}"
        if c not in self.ever_offered:
            q_, p_, order = self.meta[c]
            for other, (q2, p2, o2) in self.meta.items():
                if (q2, p2) == (q_, p_) and o2 < order and self.phase[other] == "waiting":
                    assert other in self.ever_offered, f"{c} offered before earlier {other} (FIFO)"

    def eligible_idle(self) -> list[tuple[str, str]]:
        """(contact, agent) pairs that dispatch should have matched."""
        return [
            (c, a)
            for c, ph in self.phase.items()
            if ph == "waiting"
            for a, s in self.state.items()
            if s == "available" and self.meta[c][0] in self.queues.get(a, ()) and a not in self.excluded[c]
        ]


def run_commands(log: list[Message[Any]]) -> tuple[AcdState, list[object]]:
    acd = ACD()
    state = acd.initial_state()
    outcomes: list[object] = []
    for msg in log:
        try:
            bodies = list(acd.decide(state, msg))
        except (Rejected, Invalid) as e:
            outcomes.append(repr(e))
            continue
        outcomes.append(bodies)
        for i, body in enumerate(bodies):
            state = acd.evolve(state, derive(msg, body, i))
    return state, outcomes


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd = ACD()
        self.state = self.acd.initial_state()
        self.now = 1_700_000_000_000
        self.log: list[Message[Any]] = []
        self.outcomes: list[object] = []
        self.events: list[Message[Any]] = []
        self.tracker = Tracker()
        self.stats = LiveStats()
        self.stats_state = self.stats.initial_state()
        self.cdr = ContactRecorder()
        self.cdr_state = self.cdr.initial_state()
        self.records: list[ContactRecord] = []
        self.routed: list[str] = []

    def run(self, body: object, dt_ms: int = 0) -> None:
        self.now += dt_ms
        msg = Message(Envelope(f"cmd-{len(self.log)}", "t1", self.now, "corr"), body)
        self.log.append(msg)
        try:
            bodies = list(self.acd.decide(self.state, msg))
        except (Rejected, Invalid) as e:
            self.outcomes.append(repr(e))
            return
        self.outcomes.append(bodies)
        for i, b in enumerate(bodies):
            event = derive(msg, b, i)
            self.events.append(event)
            self.state = self.acd.evolve(self.state, event)
            self.tracker.see(b, self.now)
            self.stats_state, _ = self.stats.process(self.stats_state, event)
            for queue, per_queue in self.stats_state.tenants["t1"].intervals.items():
                for start in per_queue:
                    counts = interval_counts(self.stats_state, "t1", queue, start)
                    assert counts.conserved(), counts
            self.cdr_state, out = self.cdr.process(self.cdr_state, event)
            self.records += [m.body for m in out if isinstance(m.body, ContactRecord)]

    def contact(self, i: int) -> str:
        return self.routed[i % len(self.routed)]

    def with_phase(self, phase: str) -> list[str]:
        return [c for c in self.routed if self.tracker.phase.get(c) == phase]

    def agent_of(self, c: str) -> str:
        return next((a for a, x in self.tracker.holding.items() if x == c), "a1")

    @initialize(memberships=st.lists(st.sets(st.sampled_from(QUEUES), min_size=1), min_size=4, max_size=4))
    def setup(self, memberships: list[set[str]]) -> None:
        for q in QUEUES:
            self.run(DefineQueue(q, q.upper(), ring_timeout_s=10, wrap_up_s=20))
        for a, qs in zip(AGENTS, memberships, strict=True):
            self.run(DefineAgent(a, a.upper(), tuple(sorted(qs))))
            self.run(LogInAgent(a))

    @rule(
        kind=st.sampled_from(("queue", "agent")),
        q=st.sampled_from(QUEUES),
        seconds=st.integers(0, 40),
        a=st.sampled_from((*AGENTS, "a9")),
        qs=st.sets(st.sampled_from((*QUEUES, QUEUES[0], "q9")), min_size=1),
    )
    def reconfigure(self, kind: str, q: str, seconds: int, a: str, qs: set[str]) -> None:
        if kind == "queue":
            self.run(DefineQueue(q, q.upper(), ring_timeout_s=seconds // 2, wrap_up_s=seconds))
        else:
            self.run(DefineAgent(a, a.upper(), tuple(sorted(qs))))

    @rule(
        a=st.sampled_from((*AGENTS, "a9")),
        kind=st.sampled_from(("login", "logout", "ready", "ready", "ready", "not_ready")),
        dt=st.integers(0, 3_000),
    )
    def presence(self, a: str, kind: str, dt: int) -> None:
        if kind == "ready" and self.tracker.state.get(a, "logged_out") == "logged_out":
            self.run(LogInAgent(a), dt)
        cmd = {
            "login": LogInAgent(a),
            "logout": LogOutAgent(a),
            "ready": SetAgentReady(a),
            "not_ready": SetAgentNotReady(a, "break"),
        }[kind]
        self.run(cmd, dt)

    @rule(q=st.sampled_from((*QUEUES, *QUEUES, "q9")), priority=st.integers(0, 2), dt=st.integers(0, 3_000))
    def route(self, q: str, priority: int, dt: int) -> None:
        cid = f"c{len(self.routed) + 1}"
        self.routed.append(cid)
        self.run(RouteContact(cid, q, priority=priority), dt)

    @rule(q=st.sampled_from(QUEUES), priorities=st.lists(st.integers(0, 1), min_size=2, max_size=3))
    def route_burst(self, q: str, priorities: list[int]) -> None:
        for p in priorities:
            self.route(q, p, 0)

    @precondition(lambda self: self.routed)
    @rule(
        i=st.integers(0, 50),
        a=st.sampled_from(AGENTS),
        kind=st.sampled_from("ADHRW"),
        dt=st.integers(0, 2_000),
    )
    def any_agent_command(self, i: int, a: str, kind: str, dt: int) -> None:
        c = self.contact(i)
        cmd = {
            "A": AcceptOffer(c, a),
            "D": DeclineOffer(c, a),
            "H": HoldContact(c, a),
            "R": ResumeContact(c, a),
            "W": CompleteWrapUp(c, a, "x"),
        }[kind]
        self.run(cmd, dt)

    @precondition(lambda self: self.with_phase("offered"))
    @rule(i=st.integers(0, 50), accept=st.booleans(), dt=st.integers(0, 5_000))
    def answer_offer(self, i: int, accept: bool, dt: int) -> None:
        offered = self.with_phase("offered")
        c = offered[i % len(offered)]
        a = self.agent_of(c)
        self.run(AcceptOffer(c, a) if accept else DeclineOffer(c, a), dt)

    @precondition(lambda self: self.with_phase("connected"))
    @rule(
        i=st.integers(0, 50), kind=st.sampled_from(("hold", "resume", "hang_up")), dt=st.integers(0, 20_000)
    )
    def talk(self, i: int, kind: str, dt: int) -> None:
        connected = self.with_phase("connected")
        c = connected[i % len(connected)]
        a = self.agent_of(c)
        cmd = {"hold": HoldContact(c, a), "resume": ResumeContact(c, a), "hang_up": HangUpContact(c, "agent")}
        self.run(cmd[kind], dt)

    @precondition(lambda self: self.routed)
    @rule(
        i=st.integers(0, 50), party=st.sampled_from(("caller", "agent", "bogus")), dt=st.integers(0, 20_000)
    )
    def hang_up(self, i: int, party: str, dt: int) -> None:
        self.run(HangUpContact(self.contact(i), party), dt)

    @precondition(lambda self: any(s == "wrap_up" for s in self.tracker.state.values()))
    @rule(i=st.integers(0, 50), next_state=st.sampled_from(("ready", "not_ready")), dt=st.integers(0, 10_000))
    def wrap_up(self, i: int, next_state: str, dt: int) -> None:
        wrapping = sorted(a for a, s in self.tracker.state.items() if s == "wrap_up")
        a = wrapping[i % len(wrapping)]
        self.run(CompleteWrapUp(self.tracker.holding[a], a, "sale", "", next_state, "break"), dt)

    @rule(a=st.sampled_from(AGENTS), choice=st.integers(0, 9), dt=st.integers(0, 8_000))
    def progress(self, a: str, choice: int, dt: int) -> None:
        """The agent's natural next step, so contacts flow through their whole life."""
        state, c = self.tracker.state.get(a, "logged_out"), self.tracker.holding.get(a, "")
        if state == "logged_out":
            self.run(LogInAgent(a), dt)
        elif state == "not_ready":
            self.run(SetAgentReady(a), dt)
        elif state == "reserved":
            self.run(DeclineOffer(c, a) if choice < 2 else AcceptOffer(c, a), dt)
        elif state == "handling":
            if self.tracker.phase.get(c) == "connected" and choice < 2:
                self.run(HoldContact(c, a), dt)
            elif choice < 4:
                self.run(ResumeContact(c, a), dt)
            else:
                self.run(HangUpContact(c, "caller" if choice % 2 else "agent"), dt)
        elif state == "wrap_up":
            self.run(CompleteWrapUp(c, a, "sale", "", "not_ready" if choice == 0 else "ready", "break"), dt)
        else:
            self.run(Tick(), dt)

    @rule(dt=st.integers(0, 30_000))
    def tick(self, dt: int) -> None:
        self.run(Tick(), dt)

    @invariant()
    def work_conserving(self) -> None:
        assert self.tracker.eligible_idle() == []

    @invariant()
    def one_contact_per_agent(self) -> None:
        holders = [c.agent_id for c in self.state.tenant("t1").contacts.values() if c.agent_id]
        assert len(holders) == len(set(holders))
        for a in self.state.tenant("t1").agents.values():
            assert (a.state in BUSY) == bool(a.contact_id), a

    @invariant()
    def one_record_per_finished_contact(self) -> None:
        ids = [r.contact_id for r in self.records]
        assert len(ids) == len(set(ids))
        finished = {
            c for c in self.routed if c in self.tracker.phase and c not in self.state.tenant("t1").contacts
        }
        assert set(ids) == finished

    def teardown(self) -> None:
        replayed = self.acd.initial_state()
        for event in self.events:
            replayed = self.acd.evolve(replayed, event)
        assert replayed == self.state, "folding the decided events must reproduce the state"
        state, outcomes = run_commands(self.log)
        assert outcomes == self.outcomes, "the same commands must give the same decisions"
        assert state == self.state


TestAcdMachine = AcdMachine.TestCase
TestAcdMachine.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- evolve never fails, whatever it is given -------------------------------------------

IDS = st.sampled_from(["", "a1", "c1", "q1", "available", "reserved", "wrap_up", "logged_out"])


def _event_strategy(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if tp is str:
            kwargs[f.name] = IDS
        elif tp is int:
            kwargs[f.name] = st.integers(-(10**6), 10**6)
        elif tp == tuple[str, ...]:
            kwargs[f.name] = st.tuples(IDS, IDS)
        else:
            kwargs[f.name] = st.just(())
    return st.builds(cls, **kwargs)


EVENT_TYPES = [
    getattr(m, n)
    for m in (contact, agent, config)
    for n in m.__all__
    if n not in ("Candidate", "AGENT_STATES")
]
EVENTS = st.one_of([_event_strategy(c) for c in EVENT_TYPES])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(EVENTS, st.integers(0, 10**7)), max_size=40))
def test_evolve_never_raises(events: list[tuple[object, int]]) -> None:
    acd = ACD()
    state = acd.initial_state()
    for i, (body, ms) in enumerate(events):
        state = acd.evolve(state, Message(Envelope(f"e{i}", "t1", ms, "x"), body))
    assert isinstance(state, AcdState)
