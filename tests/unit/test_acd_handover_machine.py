"""Transfers, consults, conferences and supervisors under random commands (hypothesis).

Two queues, four single-voice agents; commands are routing, presence, the agents' steps
(accept, decline, hold, resume, blind transfers to queues and agents, consult, complete
transfer, conference, cancel, leave, wrap-up), callers and agents hanging up, supervisors,
moving agents between queues and ticks — valid or not (a refusal must be a `Rejected` or
`Invalid`, never a crash). After every command:

- no agent holds more than one contact, and its state is the summary of its work;
- on every contact the parties (the agent with the caller, conferenced agents, the
  consulted agent, agents offered it, agents wrapping up) are distinct agents, and each
  holds exactly that contact in the matching phase — every agent's work is one of these;
- a contact ends at most once; a wrap-up starts only for an agent not already wrapping that
  contact, completes only when started, and no agent wraps up a contact more often than
  it took its caller.

At the end every caller hangs up and time passes: every contact has ended exactly once,
every agent who took a caller wrapped up exactly once per time it did, the state holds no
contact and no work, and replaying the commands decides the same events.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from processors.acd import ACD
from processors.acd_state import CONNECTED, HELD, WAITING, AcdState, TenantState, summary_state
from processors.decider import Invalid, Rejected
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
    MonitorContact,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentQueues,
    SetAgentReady,
    StopMonitoring,
    Tick,
    TransferContact,
)
from schemas.contact import (
    ConferenceStarted,
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactTransferred,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Envelope, Message, derive

AGENTS = ("a1", "a2", "a3", "a4")
QUEUES = ("q1", "q2")
STEPS = (
    "accept",
    "decline",
    "hold",
    "resume",
    "to_queue",
    "to_agent",
    "consult",
    "complete",
    "conference",
    "cancel",
    "leave",
    "wrap",
    "hang_up",
)


def _step(kind: str, cid: str, aid: str, other: str, queue: str) -> object:
    match kind:
        case "accept":
            return AcceptOffer(cid, aid)
        case "decline":
            return DeclineOffer(cid, aid)
        case "hold":
            return HoldContact(cid, aid)
        case "resume":
            return ResumeContact(cid, aid)
        case "to_queue":
            return TransferContact(cid, aid, to_queue=queue)
        case "to_agent":
            return TransferContact(cid, aid, to_agent=other)
        case "consult":
            return ConsultAgent(cid, aid, other)
        case "complete":
            return CompleteTransfer(cid, aid)
        case "conference":
            return ConferenceContact(cid, aid)
        case "cancel":
            return CancelConsult(cid, aid)
        case "leave":
            return LeaveConference(cid, aid)
        case "wrap":
            return CompleteWrapUp(cid, aid, "done")
    return HangUpContact(cid, "agent")


def check_parties(t: TenantState) -> None:
    """Every agent's work is exactly its roles on contacts (see the module docstring)."""
    expected: dict[str, dict[str, str]] = {a: {} for a in t.agents}
    for c in t.contacts.values():
        roles: list[tuple[str, str]] = [(a, "reserved") for a in c.offers]
        if c.agent_id and c.phase in (CONNECTED, HELD):  # after the caller left: who had it
            roles.append((c.agent_id, "handling"))
        roles += [(a, "handling") for a in c.others]
        if c.consult_to:
            roles.append((c.consult_to, "reserved" if c.consult == "offered" else "handling"))
        roles += [(w.agent_id, "wrap_up") for w in c.wraps]
        agents = [a for a, _ in roles]
        assert len(agents) == len(set(agents)), f"{c.contact_id}: an agent in two roles: {roles}"
        for a, phase in roles:
            expected[a][c.contact_id] = phase
    for a in t.agents.values():
        work = {w.contact_id: w.phase for w in a.work}
        assert len(a.work) <= 1, f"{a.agent_id} over capacity: {a.work}"
        assert work == expected[a.agent_id], f"{a.agent_id}: work {work} but roles {expected[a.agent_id]}"
        assert a.state == summary_state(a.presence, a.work), a


class HandoverMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd = ACD()
        self.state: AcdState = self.acd.initial_state()
        self.now, self.n, self.contacts = 1_000, 0, 0
        self.commands: list[Message[Any]] = []
        self.decided: list[object] = []
        self.ended: Counter[str] = Counter()
        self.arrived: set[str] = set()
        self.took: Counter[tuple[str, str]] = Counter()
        self.wrapped: Counter[tuple[str, str]] = Counter()
        self.wrapping: set[tuple[str, str]] = set()

    @property
    def t(self) -> TenantState:
        return self.state.tenant("t1")

    def run(self, body: object, dt: int = 0) -> None:
        self.now += dt
        self.n += 1
        msg = Message(Envelope(f"m{self.n}", "t1", self.now, f"c{self.n}"), body)
        self.commands.append(msg)
        try:
            events = list(self.acd.decide(self.state, msg))
        except (Rejected, Invalid):
            return
        for i, e in enumerate(events):
            self.see(e)
            self.state = self.acd.evolve(self.state, derive(msg, e, i))
        self.decided += events
        check_parties(self.t)

    def see(self, e: object) -> None:
        match e:
            case ContactArrived(contact_id=cid):
                self.arrived.add(cid)
            case ContactEnded(contact_id=cid):
                self.ended[cid] += 1
                assert self.ended[cid] == 1, f"{cid} ended twice"
            case ContactConnected(contact_id=cid, agent_id=aid):
                self.took[(cid, aid)] += 1
            case ContactTransferred(contact_id=cid, to_agent=aid, mode="consult"):
                self.took[(cid, aid)] += 1
            case ConferenceStarted(contact_id=cid, agents=agents):
                for aid in agents[1:]:
                    self.took[(cid, aid)] += 1
            case WrapUpStarted(contact_id=cid, agent_id=aid):
                assert (cid, aid) not in self.wrapping, f"{aid} started wrapping {cid} twice"
                self.wrapping.add((cid, aid))
                self.wrapped[(cid, aid)] += 1
                assert self.wrapped[(cid, aid)] <= self.took[(cid, aid)], f"{aid} wraps {cid} it never took"
            case WrapUpCompleted(contact_id=cid, agent_id=aid):
                assert (cid, aid) in self.wrapping, f"{aid} completed a wrap-up of {cid} never started"
                self.wrapping.discard((cid, aid))

    @initialize()
    def setup(self) -> None:
        self.run(DefineQueue("q1", "Sales", ring_timeout_s=10, wrap_up_s=30, rona_not_ready=False))
        self.run(
            DefineQueue(
                "q2", "Support", ring_timeout_s=8, wrap_up_s=20, strategy="round_robin", rona_not_ready=False
            )
        )
        for i, a in enumerate(AGENTS):
            self.run(DefineAgent(a, a.upper(), ("q1",) if i < 2 else ("q2",) if i == 2 else QUEUES))
            self.run(LogInAgent(a))
            self.run(SetAgentReady(a))

    def contact(self, i: int) -> str:
        ids = sorted(self.t.contacts) or ["c0"]
        return ids[i % len(ids)]

    @rule(q=st.sampled_from(QUEUES), dt=st.integers(0, 3_000))
    def route(self, q: str, dt: int) -> None:
        self.contacts += 1
        self.run(RouteContact(f"c{self.contacts}", q), dt)

    @rule(i=st.integers(0, 99), choice=st.integers(0, 99), dt=st.integers(0, 4_000))
    def natural_step(self, i: int, choice: int, dt: int) -> None:
        """The next step of a party of a contact: answering, handing on, wrapping up."""
        busy = sorted(cid for cid, c in self.t.contacts.items() if c.phase != WAITING)
        if not busy:
            return
        c = self.t.contacts[busy[i % len(busy)]]
        cid = c.contact_id
        free = [a for a in AGENTS if self.t.agents[a].presence == "available" and not self.t.agents[a].work]
        other = free[choice % len(free)] if free else AGENTS[choice % len(AGENTS)]
        options: list[object] = []
        options += [AcceptOffer(cid, a) for a in c.offers] * 3 + [DeclineOffer(cid, a) for a in c.offers]
        aid = c.agent_id
        if c.consult == "offered":
            options += [AcceptOffer(cid, c.consult_to)] * 4 + [DeclineOffer(cid, c.consult_to)]
            options += [CancelConsult(cid, aid), HangUpContact(cid, "caller")]
        elif c.consult == "connected":
            options += [CompleteTransfer(cid, aid), ConferenceContact(cid, aid)] * 2
            options += [
                CancelConsult(cid, aid),
                HangUpContact(cid, "caller"),
                TransferContact(cid, aid, "q1"),
            ]
        elif c.phase in (CONNECTED, HELD) and aid:
            options += [HoldContact(cid, aid), ResumeContact(cid, aid), HangUpContact(cid, "agent")]
            options += [
                TransferContact(cid, aid, to_queue=QUEUES[choice % 2]),
                TransferContact(cid, aid, to_agent=other),
            ]
            options += [ConsultAgent(cid, aid, other)] * 3
            options += [LeaveConference(cid, a) for a in (aid, *c.others)] * 2 if c.others else []
        options += [CompleteWrapUp(cid, w.agent_id, "done") for w in c.wraps]
        if options:
            self.run(options[choice % len(options)], dt)

    @rule(
        kind=st.sampled_from(STEPS),
        i=st.integers(0, 9),
        a=st.sampled_from(AGENTS),
        other=st.sampled_from(AGENTS),
        q=st.sampled_from(QUEUES),
        dt=st.integers(0, 4_000),
    )
    def any_step(self, kind: str, i: int, a: str, other: str, q: str, dt: int) -> None:
        """Any agent's step on any contact: mostly refused, never a crash."""
        self.run(_step(kind, self.contact(i), a, other, q), dt)

    @rule(i=st.integers(0, 9), dt=st.integers(0, 5_000))
    def caller_hangs_up(self, i: int, dt: int) -> None:
        self.run(HangUpContact(self.contact(i), "caller"), dt)

    @rule(a=st.sampled_from(AGENTS), ready=st.booleans())
    def presence(self, a: str, ready: bool) -> None:
        self.run(SetAgentReady(a) if ready else SetAgentNotReady(a, "break"))

    @rule(i=st.integers(0, 9), mode=st.sampled_from(("monitor", "barge", "")), stop=st.booleans())
    def supervisor(self, i: int, mode: str, stop: bool) -> None:
        cid = self.contact(i)
        self.run(StopMonitoring(cid, "sup") if stop else MonitorContact(cid, "sup", mode))

    @rule(a=st.sampled_from(AGENTS), queues=st.lists(st.sampled_from((*QUEUES, "qx")), max_size=2))
    def move(self, a: str, queues: list[str]) -> None:
        self.run(SetAgentQueues(a, tuple(queues)))

    @rule(dt=st.integers(0, 40_000))
    def tick(self, dt: int) -> None:
        self.run(Tick(), dt)

    @invariant()
    def no_wrap_up_outlives_its_agent_work(self) -> None:
        wrapping = {(c.contact_id, w.agent_id) for c in self.t.contacts.values() for w in c.wraps}
        assert wrapping == self.wrapping

    def teardown(self) -> None:
        for cid in sorted(self.t.contacts):
            self.run(HangUpContact(cid, "caller"))
        self.run(Tick(), 600_000)
        assert not self.t.contacts, dict(self.t.contacts)
        assert all(not a.work for a in self.t.agents.values())
        assert set(self.ended) == self.arrived and set(self.ended.values()) <= {1}
        assert {k: v for k, v in self.wrapped.items() if v} == {k: v for k, v in self.took.items() if v}
        acd, state, replayed = ACD(), ACD().initial_state(), []
        for msg in self.commands:
            try:
                events = list(acd.decide(state, msg))
            except (Rejected, Invalid):
                continue
            for i, e in enumerate(events):
                state = acd.evolve(state, derive(msg, e, i))
            replayed += events
        assert replayed == self.decided


TestHandovers = HandoverMachine.TestCase
TestHandovers.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
