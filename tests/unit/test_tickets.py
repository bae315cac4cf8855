"""The tickets decider: every workflow transition and rejection, invalid fields, SLA due
times and breaches (once each, paused while waiting on the customer), escalation,
notifications, and a hypothesis state machine over random legal and illegal commands and
ticks checked against a model written here, with an exact replay at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from processors.acd import ACD
from processors.decider import Invalid
from processors.tickets import DEFAULT_SLA, PAUSED, REJECTION_CODES, Tickets, tickets_processor
from schemas.commands import RouteContact, Tick
from schemas.envelope import Envelope, Message
from schemas.system import CommandRejected
from schemas.ticket_commands import (
    AssignTicket,
    AttachToTicket,
    CloseTicket,
    CommentOnTicket,
    CreateTicket,
    DefineTicketSla,
    EscalateTicket,
    ReopenTicket,
    ResolveTicket,
    StartTicket,
    WaitOnCustomer,
)
from schemas.tickets import (
    CustomerNotificationRequested,
    TicketAssigned,
    TicketAttachmentAdded,
    TicketCommented,
    TicketCreated,
    TicketEscalated,
    TicketSlaBreached,
    TicketSlaDefined,
    TicketStatusChanged,
)

T0 = 1_767_600_000_000
S = 1000


class Run:
    """Feeds commands through the processor as the runner would; keeps inputs and outputs."""

    def __init__(self) -> None:
        self.p = tickets_processor()
        self.state = self.p.initial_state()
        self.inputs: list[Message[Any]] = []
        self.outputs: list[Message[Any]] = []

    def __call__(self, body: object, at: int = 0) -> list[object]:
        n = len(self.inputs)
        msg = Message(Envelope(f"m{n}", "t1", T0 + at, f"c{n}", actor="agent:a1"), body)
        self.state, outs = self.p.process(self.state, msg)
        self.inputs.append(msg)
        self.outputs += outs
        return [o.body for o in outs]


def create(tid: str = "k1", priority: str = "P2", **kw: str) -> CreateTicket:
    return CreateTicket(
        tid, "Router down", "No internet since 9", "network", priority, "tech", "cu1", "", **kw
    )


def rejected(outs: list[object], code: str) -> CommandRejected:
    assert len(outs) == 1 and isinstance(outs[0], CommandRejected), outs
    assert outs[0].code == code, outs[0]
    assert code in REJECTION_CODES
    return outs[0]


def in_progress(run: Run, tid: str = "k1", **kw: str) -> None:
    run(create(tid, **kw))
    run(AssignTicket(tid, "a1"))
    run(StartTicket(tid))


# ---- creation and the workflow


def test_create_computes_the_sla_due_times_of_the_priority_and_notifies() -> None:
    run = Run()
    outs = run(create(notify_via="email", notify_to="ann@example.com"), at=5 * S)
    respond, resolve = DEFAULT_SLA["P2"]
    assert outs == [
        TicketCreated(
            "k1", "Router down", "No internet since 9", "network", "P2", "tech", "cu1", "",
            T0 + 5 * S + respond * S, T0 + 5 * S + resolve * S,
        ),
        CustomerNotificationRequested("k1", "email", "ticket_created", "ann@example.com"),
    ]  # fmt: skip


def test_without_an_address_nothing_is_notified() -> None:
    run = Run()
    in_progress(run)
    run(WaitOnCustomer("k1", "which model?"))
    outs = run(ResolveTicket("k1", "replaced"))
    assert not [o for o in run.outputs if isinstance(o.body, CustomerNotificationRequested)]
    assert outs == [
        TicketStatusChanged("k1", "waiting_on_customer", "resolved", "replaced", outs[0].resolve_due_at)
    ]  # type: ignore[attr-defined]


def test_the_whole_workflow_with_notifications_and_reopen() -> None:
    run = Run()
    run(create(notify_via="sms", notify_to="+4930123456"))
    due = T0 + DEFAULT_SLA["P2"][1] * S
    assert run(AssignTicket("k1", "a1"), at=S) == [
        TicketAssigned("k1", "a1", ""),
        TicketStatusChanged("k1", "new", "assigned", "assigned to a1", due),
    ]
    assert run(StartTicket("k1"), at=2 * S) == [TicketStatusChanged("k1", "assigned", "in_progress", "", due)]
    assert run(WaitOnCustomer("k1", "which model?"), at=10 * S) == [
        TicketStatusChanged("k1", "in_progress", "waiting_on_customer", "which model?", due),
        CustomerNotificationRequested("k1", "sms", "ticket_waiting_on_customer", "+4930123456"),
    ]
    # resumed 50 s later: the resolution due time moves by the 50 s waited
    assert run(StartTicket("k1"), at=60 * S) == [
        TicketStatusChanged("k1", "waiting_on_customer", "in_progress", "", due + 50 * S)
    ]
    assert run(ResolveTicket("k1", "reset the router"), at=70 * S) == [
        TicketStatusChanged("k1", "in_progress", "resolved", "reset the router", due + 50 * S),
        CustomerNotificationRequested("k1", "sms", "ticket_resolved", "+4930123456"),
    ]
    assert run(CloseTicket("k1"), at=80 * S) == [
        TicketStatusChanged("k1", "resolved", "closed", "", due + 50 * S)
    ]
    # reopened 100 s after resolving: resolved and closed time is paused too
    assert run(ReopenTicket("k1", "down again"), at=170 * S) == [
        TicketStatusChanged("k1", "closed", "assigned", "down again", due + 150 * S)
    ]


def test_resolve_straight_from_waiting_and_reopen_from_resolved() -> None:
    run = Run()
    in_progress(run)
    run(WaitOnCustomer("k1"))
    assert run(ResolveTicket("k1", "customer fixed it"))[0].to_status == "resolved"  # type: ignore[attr-defined]
    assert run(ReopenTicket("k1", "not fixed"))[0].to_status == "assigned"  # type: ignore[attr-defined]


def test_reassignment_keeps_the_status() -> None:
    run = Run()
    in_progress(run)
    assert run(AssignTicket("k1", "a2")) == [TicketAssigned("k1", "a2", "a1")]
    rejected(run(AssignTicket("k1", "a2")), "ticket_already_assigned")


@pytest.mark.parametrize(
    ("setup", "command", "status", "needs"),
    [
        (0, StartTicket("k1"), "new", "assigned or waiting_on_customer"),
        (1, WaitOnCustomer("k1"), "assigned", "in_progress"),
        (0, ResolveTicket("k1", "x"), "new", "in_progress or waiting_on_customer"),
        (2, CloseTicket("k1"), "in_progress", "resolved"),
        (2, ReopenTicket("k1", "x"), "in_progress", "resolved or closed"),
        (1, StartTicket("k1") and ReopenTicket("k1", "x"), "assigned", "resolved or closed"),
    ],
)
def test_illegal_transitions_are_rejected_naming_the_states(
    setup: int, command: object, status: str, needs: str
) -> None:
    run = Run()
    run(create())
    if setup >= 1:
        run(AssignTicket("k1", "a1"))
    if setup >= 2:
        run(StartTicket("k1"))
    r = rejected(run(command), "illegal_transition")
    assert f"from {status}" in r.reason and needs in r.reason, r.reason
    assert r.command_type == type(command).__name__


def test_closed_and_resolved_tickets_refuse_work() -> None:
    run = Run()
    in_progress(run)
    run(ResolveTicket("k1", "done"))
    assert "resolved" in rejected(run(AssignTicket("k1", "a2")), "illegal_transition").reason
    assert "resolved" in rejected(run(EscalateTicket("k1", "angry")), "illegal_transition").reason
    run(CloseTicket("k1"))
    rejected(run(CommentOnTicket("k1", "n1", "a1", "hi")), "ticket_closed")
    rejected(run(AttachToTicket("k1", "f1", "s3://b/k", "log.txt", "text/plain", 3)), "ticket_closed")


def test_unknown_and_duplicate_tickets_are_rejected() -> None:
    run = Run()
    rejected(run(StartTicket("nope")), "ticket_not_found")
    run(create())
    rejected(run(create()), "ticket_already_exists")


def test_comments_and_attachments_by_reference() -> None:
    run = Run()
    run(create())
    assert run(CommentOnTicket("k1", "n1", "a1", "called back")) == [
        TicketCommented("k1", "n1", "a1", "called back")
    ]
    rejected(run(CommentOnTicket("k1", "n1", "a1", "again")), "comment_already_exists")
    att = AttachToTicket("k1", "f1", "https://files.example/f1", "photo.jpg", "image/jpeg", 2048)
    assert run(att) == [
        TicketAttachmentAdded("k1", "f1", "https://files.example/f1", "photo.jpg", "image/jpeg", 2048)
    ]
    rejected(run(att), "attachment_already_exists")


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (create(priority="P5"), "priority"),
        (CreateTicket("", "t", "", "c", "P1", "d"), "ticket_id"),
        (CreateTicket("k", " ", "", "c", "P1", "d"), "title"),
        (CreateTicket("k", "t", "", "", "P1", "d"), "category"),
        (CreateTicket("k", "t", "", "c", "P1", ""), "department"),
        (create(notify_via="fax", notify_to="1"), "notify_via"),
        (create(notify_via="email", notify_to="ann"), "notify_to"),
        (create(notify_via="sms", notify_to="030 123"), "notify_to"),
        (create(notify_to="+4930123456"), "notify_via"),
        (AssignTicket("k1", ""), "assignee"),
        (ResolveTicket("k1", ""), "resolution"),
        (ReopenTicket("k1", ""), "reason"),
        (EscalateTicket("k1", ""), "reason"),
        (CommentOnTicket("k1", "n1", "", "x"), "author"),
        (CommentOnTicket("k1", "n1", "a1", ""), "text"),
        (AttachToTicket("k1", "f1", "photo.jpg", "p", "image/jpeg", 1), "uri"),
        (AttachToTicket("k1", "f1", "s3://b/k", "p", "jpeg", 1), "media_type"),
        (AttachToTicket("k1", "f1", "s3://b/k", "p", "image/jpeg", -1), "size_bytes"),
        (DefineTicketSla("P0", 1, 1), "priority"),
        (DefineTicketSla("P1", -1, 1), "respond_within_s"),
        (DefineTicketSla("P1", 1, 10**9), "resolve_within_s"),
    ],
)
def test_bad_fields_are_invalid_naming_the_field(command: object, field: str) -> None:
    run = Run()
    run(create())
    with pytest.raises(Invalid, match=field):
        run(command)


# ---- SLA, breaches and escalation


def test_sla_definitions_apply_to_tickets_created_afterwards() -> None:
    run = Run()
    assert run(DefineTicketSla("P1", 60, 600)) == [TicketSlaDefined("P1", 60, 600, 1)]
    assert run(DefineTicketSla("P1", 60, 0)) == [TicketSlaDefined("P1", 60, 0, 2)]
    created = run(create(priority="P1"), at=S)[0]
    assert (created.respond_due_at, created.resolve_due_at) == (T0 + 61 * S, 0)  # type: ignore[attr-defined]


def test_response_breach_fires_once_on_the_first_tick_past_due() -> None:
    run = Run()
    run(DefineTicketSla("P1", 60, 0))
    run(create(priority="P1"))
    assert run(Tick(), at=60 * S) == []  # due, not past
    assert run(Tick(), at=61 * S) == [TicketSlaBreached("k1", "response", "P1", T0 + 60 * S)]
    assert run(Tick(), at=62 * S) == []
    run(AssignTicket("k1", "a1"), at=70 * S)
    assert run(Tick(), at=999 * S) == []


def test_assignment_in_time_meets_the_response_sla() -> None:
    run = Run()
    run(DefineTicketSla("P1", 60, 0))
    run(create(priority="P1"))
    run(AssignTicket("k1", "a1"), at=59 * S)
    assert run(Tick(), at=120 * S) == []


def test_resolution_breach_escalates_once_and_not_again_after_reopen() -> None:
    run = Run()
    run(DefineTicketSla("P2", 0, 100))
    in_progress(run)
    assert run(EscalateTicket("k1", "VIP customer"), at=S) == [
        TicketEscalated("k1", 1, "VIP customer", False)
    ]
    assert run(Tick(), at=101 * S) == [
        TicketSlaBreached("k1", "resolution", "P2", T0 + 100 * S),
        TicketEscalated("k1", 2, "resolution SLA breached", True),
    ]
    assert run(Tick(), at=102 * S) == []
    run(ResolveTicket("k1", "done"), at=110 * S)
    run(ReopenTicket("k1", "again"), at=120 * S)
    assert run(Tick(), at=10_000 * S) == []


def test_the_resolution_clock_pauses_while_waiting_on_the_customer() -> None:
    run = Run()
    run(DefineTicketSla("P2", 0, 100))
    in_progress(run)
    run(WaitOnCustomer("k1", "logs?"), at=50 * S)
    assert run(Tick(), at=500 * S) == []  # waiting: no breach
    run(StartTicket("k1"), at=500 * S)  # waited 450 s: due at 550 s now
    assert run(Tick(), at=550 * S) == []
    assert run(Tick(), at=551 * S) == [
        TicketSlaBreached("k1", "resolution", "P2", T0 + 550 * S),
        TicketEscalated("k1", 1, "resolution SLA breached", True),
    ]


def test_resolved_in_time_never_breaches() -> None:
    run = Run()
    run(DefineTicketSla("P2", 0, 100))
    in_progress(run)
    run(ResolveTicket("k1", "done"), at=99 * S)
    assert run(Tick(), at=10_000 * S) == []


def test_tenants_are_separate_and_other_commands_are_ignored() -> None:
    run = Run()
    run(create())
    other = Message(Envelope("x1", "t2", T0, "x1"), StartTicket("k1"))
    _, outs = run.p.process(run.state, other)
    assert isinstance(outs[0].body, CommandRejected) and outs[0].body.code == "ticket_not_found"
    assert run(RouteContact("c1", "q1")) == []


def test_the_acd_ignores_ticket_commands() -> None:
    acd = ACD()
    for body in (create(), AssignTicket("k1", "a1"), DefineTicketSla("P1", 1, 1)):
        assert acd.decide(acd.initial_state(), Message(Envelope("e1", "t1", T0, "c1"), body)) == ()


# ---- the state machine

TIDS = ("k1", "k2", "k3")
AGENTS = ("a1", "a2")
PRIOS = ("P1", "P2", "P3", "P4")
OPEN = ("new", "assigned", "in_progress", "waiting_on_customer")
ALLOWED = {
    StartTicket: (("assigned", "waiting_on_customer"), "in_progress"),
    WaitOnCustomer: (("in_progress",), "waiting_on_customer"),
    ResolveTicket: (("in_progress", "waiting_on_customer"), "resolved"),
    CloseTicket: (("resolved",), "closed"),
    ReopenTicket: (("resolved", "closed"), "assigned"),
}


@dataclass
class M:
    """The model of one ticket."""

    priority: str
    status: str = "new"
    assignee: str = ""
    respond_due: int = 0
    resolve_due: int = 0
    paused_since: int = 0
    breached: set[str] = field(default_factory=set)
    level: int = 0
    comments: set[str] = field(default_factory=set)
    notify: bool = False


class TicketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.run = Run()
        self.now = 0
        self.model: dict[str, M] = {}
        self.slas: dict[str, tuple[int, int]] = {}
        self.breaches: list[tuple[str, str]] = []

    @initialize(r=st.integers(0, 30), s=st.integers(0, 200))
    def define_slas(self, r: int, s: int) -> None:
        for i, p in enumerate(PRIOS):
            self.redefine_sla(p, r * (i + 1) // 2, s * (i + 1) // 2)

    def send(self, body: object, expect_code: str | None) -> list[object]:
        outs = self.run(body, at=self.now)
        if expect_code is None:
            assert not any(isinstance(o, CommandRejected) for o in outs), outs
        else:
            r = rejected(outs, expect_code)
            if expect_code == "illegal_transition":
                m = self.model[body.ticket_id]  # type: ignore[attr-defined]
                assert m.status in r.reason, r.reason
        for o in outs:
            if isinstance(o, TicketSlaBreached):
                self.breaches.append((o.ticket_id, o.which))
        return outs

    def _move(self, m: M, to: str) -> None:
        was_paused, paused = m.status in PAUSED, to in PAUSED
        if was_paused and not paused and m.resolve_due:
            m.resolve_due += self.now - m.paused_since
        if paused and not was_paused:
            m.paused_since = self.now
        m.status = to

    @rule(dt=st.integers(0, 40))
    def advance(self, dt: int) -> None:
        self.now += dt * S

    @rule(tid=st.sampled_from(TIDS), p=st.sampled_from(PRIOS), notify=st.booleans())
    def create(self, tid: str, p: str, notify: bool) -> None:
        kw = {"notify_via": "email", "notify_to": "c@example.com"} if notify else {}
        if tid in self.model:
            self.send(create(tid, p, **kw), "ticket_already_exists")
            return
        outs = self.send(create(tid, p, **kw), None)
        r, s = self.slas[p]
        m = M(p, respond_due=T0 + self.now + r * S if r else 0, resolve_due=T0 + self.now + s * S if s else 0)
        m.notify = notify
        self.model[tid] = m
        c = outs[0]
        assert isinstance(c, TicketCreated) and (c.respond_due_at, c.resolve_due_at) == (
            m.respond_due,
            m.resolve_due,
        )
        assert len(outs) == (2 if notify else 1)

    @rule(p=st.sampled_from(PRIOS), r=st.integers(0, 60), s=st.integers(0, 300))
    def redefine_sla(self, p: str, r: int, s: int) -> None:
        self.send(DefineTicketSla(p, r, s), None)
        self.slas[p] = (r, s)

    def _known(self, tid: str, body: object) -> M | None:
        if tid not in self.model:
            self.send(body, "ticket_not_found")
            return None
        return self.model[tid]

    @rule(tid=st.sampled_from(TIDS), who=st.sampled_from(AGENTS))
    def assign(self, tid: str, who: str) -> None:
        body = AssignTicket(tid, who)
        m = self._known(tid, body)
        if m is None:
            return
        if m.status not in OPEN:
            self.send(body, "illegal_transition")
        elif m.assignee == who:
            self.send(body, "ticket_already_assigned")
        else:
            self.send(body, None)
            m.assignee, m.respond_due = who, 0
            if m.status == "new":
                self._move(m, "assigned")

    @rule(
        tid=st.sampled_from(TIDS),
        kind=st.sampled_from([StartTicket, WaitOnCustomer, ResolveTicket, CloseTicket, ReopenTicket]),
    )
    def transition(self, tid: str, kind: type) -> None:
        body = kind(tid) if kind in (StartTicket, WaitOnCustomer, CloseTicket) else kind(tid, "because")
        m = self._known(tid, body)
        if m is None:
            return
        allowed, to = ALLOWED[kind]
        if m.status not in allowed:
            self.send(body, "illegal_transition")
            return
        outs = self.send(body, None)
        if kind is ReopenTicket and not m.assignee:
            to = "new"
        self._move(m, to)
        change = outs[0]
        assert isinstance(change, TicketStatusChanged) and change.to_status == to
        assert change.resolve_due_at == m.resolve_due
        notes = [o for o in outs if isinstance(o, CustomerNotificationRequested)]
        assert len(notes) == (1 if m.notify and to in ("waiting_on_customer", "resolved") else 0)

    @rule(tid=st.sampled_from(TIDS), pick=st.integers(0, 5), dt=st.integers(0, 30))
    def progress(self, tid: str, pick: int, dt: int) -> None:
        """A legal next step for the ticket (so runs get deep into the workflow), dt s later."""
        self.now += dt * S
        m = self.model.get(tid)
        if m is None:
            self.create(tid, PRIOS[pick % 4], pick % 2 == 0)
        elif m.status == "new":
            self.assign(tid, AGENTS[pick % 2])
        else:
            kinds = [k for k, (allowed, _) in ALLOWED.items() if m.status in allowed]
            self.transition(tid, kinds[pick % len(kinds)])

    @rule(tid=st.sampled_from(TIDS))
    def escalate(self, tid: str) -> None:
        body = EscalateTicket(tid, "supervisor")
        m = self._known(tid, body)
        if m is None:
            return
        if m.status not in OPEN:
            self.send(body, "illegal_transition")
            return
        m.level += 1
        assert self.send(body, None) == [TicketEscalated(tid, m.level, "supervisor", False)]

    @rule(tid=st.sampled_from(TIDS), cid=st.sampled_from(("n1", "n2")))
    def comment(self, tid: str, cid: str) -> None:
        body = CommentOnTicket(tid, cid, "a1", "note")
        m = self._known(tid, body)
        if m is None:
            return
        if m.status == "closed":
            self.send(body, "ticket_closed")
        elif cid in m.comments:
            self.send(body, "comment_already_exists")
        else:
            self.send(body, None)
            m.comments.add(cid)

    @rule(tid=st.sampled_from(TIDS), p=st.sampled_from(("P0", "high", "")))
    def invalid(self, tid: str, p: str) -> None:
        before = self.run.state
        with pytest.raises(Invalid, match="priority"):
            self.run(create(tid, p), at=self.now)
        assert self.run.state is before  # dead-lettered by the runner: not an input of the replay

    @rule(dt=st.integers(1, 40))
    def tick(self, dt: int) -> None:
        self.now += dt * S
        now = T0 + self.now
        expected = []
        for tid, m in sorted(self.model.items(), key=lambda kv: kv[0]):
            if m.respond_due and now > m.respond_due and "response" not in m.breached:
                expected.append((tid, "response"))
                m.breached.add("response")
            if (
                m.resolve_due
                and m.status not in PAUSED
                and now > m.resolve_due
                and "resolution" not in m.breached
            ):
                expected.append((tid, "resolution"))
                m.breached.add("resolution")
                m.level += 1
        outs = self.send(Tick(), None)
        got = [(o.ticket_id, o.which) for o in outs if isinstance(o, TicketSlaBreached)]
        assert sorted(got) == sorted(expected)
        escalated = sorted((o.ticket_id, o.level) for o in outs if isinstance(o, TicketEscalated))
        assert escalated == [(tid, self.model[tid].level) for tid, which in expected if which == "resolution"]

    @invariant()
    def statuses_match_the_model(self) -> None:
        t = self.run.state.tenant("t1")
        for tid, m in self.model.items():
            ticket = t.tickets[tid]
            assert (ticket.status, ticket.assignee, ticket.level) == (m.status, m.assignee, m.level)
            assert set(ticket.breached) == m.breached

    @invariant()
    def breaches_fire_once_per_ticket_and_kind(self) -> None:
        assert len(self.breaches) == len(set(self.breaches))

    def teardown(self) -> None:
        # replay: the same commands through a fresh decider decide exactly the same events
        again = Run()
        for msg in self.run.inputs:
            again.state, outs = again.p.process(again.state, msg)
            again.outputs += outs
        assert again.outputs == self.run.outputs
        assert again.state == self.run.state
        # and folding the decided events alone rebuilds the state
        decider, state = Tickets(), Tickets().initial_state()
        for out in self.run.outputs:
            if not isinstance(out.body, CommandRejected):
                state = decider.evolve(state, out)
        assert state == self.run.state


TestTicketMachine = TicketMachine.TestCase
TestTicketMachine.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
