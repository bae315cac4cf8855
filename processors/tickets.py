"""The tickets decider: tickets (work orders) and their workflow, SLA due times and breaches,
escalation and customer notifications, on `cc.ticket-events` (docs/tickets.md).

Input: `cc.commands` (the `schemas.ticket_commands` and `Tick`; everything else on it is
another decider's and ignored) and `cc.customer-events` (learned, never decided on: how to
reach each customer, `processors.ticket_customers`). State is per tenant. Time is the
command's `occurred_at`.

Workflow (`TRANSITIONS`): new -> assigned -> in_progress -> waiting_on_customer -> resolved
-> closed; `StartTicket` also resumes a ticket waiting on the customer, `ResolveTicket` also
resolves one waiting; `ReopenTicket` takes a resolved or closed ticket back to assigned (new
when it has no assignee). `AssignTicket` moves a new ticket to assigned and reassigns an
open one without changing its status. Any other move is `Rejected("illegal_transition")`
with a reason naming the ticket's status and the statuses the command needs.

SLA: the due times of the ticket's priority (`DefineTicketSla`, else `DEFAULT_SLA`) are
computed at creation and carried by `TicketCreated`. The response SLA is met by the first
assignment; the resolution SLA by resolving. The resolution clock pauses while the ticket
waits on the customer, is resolved or closed: leaving such a status moves the due time by
the paused time (carried by `TicketStatusChanged.resolve_due_at`). On each `Tick`, every
ticket whose SLA is pending and whose due time is past (`now > due`) gets one
`TicketSlaBreached`; a resolution breach also escalates it one level (`automatic`). A breach
is recorded in the state, so no later tick (nor a replay, which decides the same inputs in
the same order) repeats it, and a reopened ticket that had breached does not breach again.

Notifications: when the ticket was created with `notify_via`, creation, waiting on the
customer and resolution each request a `CustomerNotificationRequested` in the customer's
language. The address is `notify_to` when given; otherwise the customer profile's (first
phone for sms, first email for email) at the time of each notification, or the last one
used when the profile has none any more. A `CreateTicket` whose customer has no such
address (or is unknown here) is `Rejected("no_customer_address")`. The address lives only in
those events (the state learns it from the first one). Erasure (`CustomerErased`, ADR 20):
the customer's tickets (and its merged duplicates') forget their title and address, and
are notified no more.

Read side: `processors.ticket_queries` serves this state to the API (no second projection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.pmap import PMap
from processors.ticket_customers import CUSTOMER_EVENTS, Reach, address, learn, reach
from schemas.commands import Tick
from schemas.customers import CustomerErased
from schemas.envelope import Message
from schemas.personal import ERASED
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

__all__ = [
    "DEFAULT_SLA",
    "OPEN",
    "PAUSED",
    "PRIORITIES",
    "REJECTION_CODES",
    "STATUSES",
    "TRANSITIONS",
    "Ticket",
    "TicketState",
    "Tickets",
    "TicketsProcessor",
    "TenantTickets",
    "tickets_processor",
]

NEW, ASSIGNED, IN_PROGRESS, WAITING, RESOLVED, CLOSED = (
    "new",
    "assigned",
    "in_progress",
    "waiting_on_customer",
    "resolved",
    "closed",
)
STATUSES = (NEW, ASSIGNED, IN_PROGRESS, WAITING, RESOLVED, CLOSED)
PAUSED = frozenset((WAITING, RESOLVED, CLOSED))
"""Statuses in which the resolution SLA clock stands still."""
OPEN = frozenset((NEW, ASSIGNED, IN_PROGRESS, WAITING))
PRIORITIES = ("P1", "P2", "P3", "P4")
DEFAULT_SLA: dict[str, tuple[int, int]] = {
    "P1": (15 * 60, 4 * 3600),
    "P2": (3600, 8 * 3600),
    "P3": (4 * 3600, 3 * 86_400),
    "P4": (86_400, 10 * 86_400),
}
"""(respond_within_s, resolve_within_s) per priority until a `DefineTicketSla`."""
MAX_SLA_S = 366 * 86_400
CHANNELS = ("sms", "email")
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "StartTicket": (frozenset((ASSIGNED, WAITING)), IN_PROGRESS),
    "WaitOnCustomer": (frozenset((IN_PROGRESS,)), WAITING),
    "ResolveTicket": (frozenset((IN_PROGRESS, WAITING)), RESOLVED),
    "CloseTicket": (frozenset((RESOLVED,)), CLOSED),
    "ReopenTicket": (frozenset((RESOLVED, CLOSED)), ASSIGNED),  # NEW when unassigned
}
"""Command -> (statuses it is allowed in, status it leads to)."""
NOTIFY = {NEW: "ticket_created", WAITING: "ticket_waiting_on_customer", RESOLVED: "ticket_resolved"}
"""Status -> the template of the notification entering it requests."""
REJECTION_CODES = (
    "ticket_already_exists",
    "ticket_not_found",
    "illegal_transition",
    "ticket_already_assigned",
    "ticket_closed",
    "comment_already_exists",
    "attachment_already_exists",
    "no_customer_address",
)


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    priority: str
    status: str = NEW
    assignee: str = ""
    respond_due_at: int = 0
    """0 once met, breached or without an SLA: nothing pending."""
    resolve_due_at: int = 0
    paused_since: int = 0
    breached: tuple[str, ...] = ()
    """SLA kinds breached ("response", "resolution"): each at most once."""
    level: int = 0
    notify_via: str = ""
    notify_to: str = ""
    notify_profile: bool = False
    """The address is the customer profile's (looked up at each notification)."""
    comments: frozenset[str] = frozenset()
    attachments: frozenset[str] = frozenset()
    customer_id: str = ""
    contact_id: str = ""
    title: str = ""
    category: str = ""
    department: str = ""
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class TenantTickets:
    tickets: PMap[Ticket] = field(default_factory=PMap)
    slas: PMap[tuple[int, int, int]] = field(default_factory=PMap)
    """priority -> (respond_within_s, resolve_within_s, version)."""
    watch: PMap[bool] = field(default_factory=PMap)
    """Tickets with an SLA that can still breach: what a `Tick` looks at."""
    customers: PMap[Reach] = field(default_factory=PMap)
    """Customer id -> how to reach them (`processors.ticket_customers`), from customer events."""


@dataclass(frozen=True, slots=True)
class TicketState:
    tenants: PMap[TenantTickets] = field(default_factory=PMap)

    def tenant(self, tenant: str) -> TenantTickets:
        return self.tenants.get(tenant) or TenantTickets()

    def with_tenant(self, tenant: str, t: TenantTickets) -> TicketState:
        return TicketState(self.tenants.set(tenant, t))


# ---- decide


def _nonempty(value: str, name: str) -> None:
    if not value or not value.strip():
        raise Invalid(f"{name} must not be empty")


def _ticket(t: TenantTickets, tid: str) -> Ticket:
    _nonempty(tid, "ticket_id")
    ticket = t.tickets.get(tid)
    if ticket is None:
        raise Rejected("ticket_not_found", f"no ticket {tid!r}")
    return ticket


def _not_closed(ticket: Ticket, what: str) -> None:
    if ticket.status == CLOSED:
        raise Rejected("ticket_closed", f"cannot {what} ticket {ticket.ticket_id!r}: it is closed")


def _notify(t: TenantTickets, ticket: Ticket, status: str) -> list[object]:
    if not ticket.notify_via or status not in NOTIFY:
        return []
    to = ticket.notify_to
    found = reach(t.customers, ticket.customer_id)
    if ticket.notify_profile:
        # the profile's address now; the last one used when it has none (unless erased)
        to = address(t.customers, ticket.customer_id, ticket.notify_via) or (
            "" if found and found.erased else to
        )
    if not to:
        return []
    language = found.language if found else ""
    template = NOTIFY[status]
    return [
        CustomerNotificationRequested(
            ticket.ticket_id, ticket.notify_via, template, to, language, ticket.notify_profile
        )
    ]


def _move(t: TenantTickets, ticket: Ticket, to: str, reason: str, now: int) -> list[object]:
    """The status change (with the resolution due time it leaves in force) and its notification."""
    due = ticket.resolve_due_at
    if due and ticket.status in PAUSED and to not in PAUSED:
        due += now - ticket.paused_since
    out: list[object] = [TicketStatusChanged(ticket.ticket_id, ticket.status, to, reason, due)]
    return out + _notify(t, ticket, to)


def _transition(t: TenantTickets, ticket: Ticket, command: str, reason: str, now: int) -> list[object]:
    allowed, to = TRANSITIONS[command]
    if ticket.status not in allowed:
        needs = " or ".join(s for s in STATUSES if s in allowed)
        raise Rejected(
            "illegal_transition",
            f"{command} cannot move ticket {ticket.ticket_id!r} from {ticket.status}: it needs {needs}",
        )
    if command == "ReopenTicket" and not ticket.assignee:
        to = NEW
    return _move(t, ticket, to, reason, now)


def _profile_address(t: TenantTickets, cmd: CreateTicket) -> None:
    """A notification without `notify_to` goes to the customer profile's address: check it exists."""
    if not cmd.customer_id:
        raise Invalid(f"notify_to must be given for notify_via {cmd.notify_via} when there is no customer_id")
    kind = "phone number" if cmd.notify_via == "sms" else "email address"
    found = reach(t.customers, cmd.customer_id)
    if found is not None and found.erased:
        raise Rejected(
            "no_customer_address",
            f"cannot notify customer {cmd.customer_id!r} by {cmd.notify_via}: their personal data was "
            "erased (give notify_to)",
        )
    if found is None:
        raise Rejected(
            "no_customer_address",
            f"cannot notify customer {cmd.customer_id!r} by {cmd.notify_via}: no profile of theirs is "
            "known (define the customer first, or give notify_to)",
        )
    if not address(t.customers, cmd.customer_id, cmd.notify_via):
        raise Rejected(
            "no_customer_address",
            f"cannot notify customer {cmd.customer_id!r} by {cmd.notify_via}: their profile has no "
            f"{kind} (add one, or give notify_to)",
        )


def _create(t: TenantTickets, cmd: CreateTicket, now: int) -> list[object]:
    _nonempty(cmd.ticket_id, "ticket_id")
    _nonempty(cmd.title, "title")
    if len(cmd.title) > 200:
        raise Invalid(f"title must be at most 200 characters, not {len(cmd.title)}")
    _nonempty(cmd.category, "category")
    _nonempty(cmd.department, "department")
    if cmd.priority not in PRIORITIES:
        raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}, not {cmd.priority!r}")
    if cmd.notify_via and cmd.notify_via not in CHANNELS:
        raise Invalid(f"notify_via must be sms, email or empty, not {cmd.notify_via!r}")
    if cmd.notify_via == "email" and cmd.notify_to and "@" not in cmd.notify_to.strip("@"):
        raise Invalid(f"notify_to must be an email address for notify_via email, not {cmd.notify_to!r}")
    if (
        cmd.notify_via == "sms"
        and cmd.notify_to
        and not (
            cmd.notify_to.startswith("+") and cmd.notify_to[1:].isdigit() and 7 <= len(cmd.notify_to) <= 16
        )
    ):
        raise Invalid(f"notify_to must be an E.164 number (+4930…) for notify_via sms, not {cmd.notify_to!r}")
    if cmd.notify_to and not cmd.notify_via:
        raise Invalid("notify_via must be sms or email when notify_to is given")
    if cmd.ticket_id in t.tickets:
        raise Rejected("ticket_already_exists", f"ticket {cmd.ticket_id!r} already exists")
    from_profile = bool(cmd.notify_via) and not cmd.notify_to
    if from_profile:
        _profile_address(t, cmd)
    sla = t.slas.get(cmd.priority)
    respond_s, resolve_s = (sla[0], sla[1]) if sla else DEFAULT_SLA[cmd.priority]
    created = TicketCreated(
        cmd.ticket_id,
        cmd.title,
        cmd.description,
        cmd.category,
        cmd.priority,
        cmd.department,
        cmd.customer_id,
        cmd.contact_id,
        now + respond_s * 1000 if respond_s else 0,
        now + resolve_s * 1000 if resolve_s else 0,
    )
    ticket = Ticket(
        cmd.ticket_id,
        cmd.priority,
        notify_via=cmd.notify_via,
        notify_to=cmd.notify_to,
        notify_profile=from_profile,
        customer_id=cmd.customer_id,
    )
    return [created, *_notify(t, ticket, NEW)]


def _on_tick(t: TenantTickets, now: int) -> list[object]:
    out: list[object] = []
    for tid in t.watch:
        ticket = t.tickets[tid]
        if ticket.respond_due_at and now > ticket.respond_due_at and "response" not in ticket.breached:
            out.append(TicketSlaBreached(tid, "response", ticket.priority, ticket.respond_due_at))
        if (
            ticket.resolve_due_at
            and ticket.status not in PAUSED
            and now > ticket.resolve_due_at
            and "resolution" not in ticket.breached
        ):
            out.append(TicketSlaBreached(tid, "resolution", ticket.priority, ticket.resolve_due_at))
            out.append(TicketEscalated(tid, ticket.level + 1, "resolution SLA breached", True))
    return out


def _decide(t: TenantTickets, cmd: object, now: int) -> list[object]:
    match cmd:
        case CreateTicket():
            return _create(t, cmd, now)
        case AssignTicket(ticket_id=tid, assignee=who):
            _nonempty(who, "assignee")
            ticket = _ticket(t, tid)
            if ticket.status not in OPEN:
                raise Rejected(
                    "illegal_transition",
                    f"AssignTicket cannot assign ticket {tid!r} in {ticket.status}: "
                    "it needs new, assigned, in_progress or waiting_on_customer (reopen it first)",
                )
            if ticket.assignee == who:
                raise Rejected("ticket_already_assigned", f"ticket {tid!r} is already assigned to {who!r}")
            out: list[object] = [TicketAssigned(tid, who, ticket.assignee)]
            if ticket.status == NEW:
                out += _move(t, ticket, ASSIGNED, f"assigned to {who}", now)
            return out
        case StartTicket(ticket_id=tid):
            return _transition(t, _ticket(t, tid), "StartTicket", "", now)
        case WaitOnCustomer(ticket_id=tid, reason=reason):
            return _transition(t, _ticket(t, tid), "WaitOnCustomer", reason, now)
        case ResolveTicket(ticket_id=tid, resolution=resolution):
            _nonempty(resolution, "resolution")
            return _transition(t, _ticket(t, tid), "ResolveTicket", resolution, now)
        case CloseTicket(ticket_id=tid, reason=reason):
            return _transition(t, _ticket(t, tid), "CloseTicket", reason, now)
        case ReopenTicket(ticket_id=tid, reason=reason):
            _nonempty(reason, "reason")
            return _transition(t, _ticket(t, tid), "ReopenTicket", reason, now)
        case CommentOnTicket(ticket_id=tid, comment_id=cid, author=author, text=text):
            _nonempty(cid, "comment_id")
            _nonempty(author, "author")
            _nonempty(text, "text")
            ticket = _ticket(t, tid)
            _not_closed(ticket, "comment on")
            if cid in ticket.comments:
                raise Rejected("comment_already_exists", f"ticket {tid!r} already has comment {cid!r}")
            return [TicketCommented(tid, cid, author, text)]
        case AttachToTicket(
            ticket_id=tid, attachment_id=aid, uri=uri, name=name, media_type=mt, size_bytes=n
        ):
            _nonempty(aid, "attachment_id")
            if "://" not in uri:
                raise Invalid(f"uri must be a URI (https://…, s3://bucket/key), not {uri!r}")
            _nonempty(name, "name")
            if mt.count("/") != 1 or mt.startswith("/") or mt.endswith("/"):
                raise Invalid(f"media_type must be a MIME type (type/subtype), not {mt!r}")
            if n < 0:
                raise Invalid(f"size_bytes must be >= 0, not {n}")
            ticket = _ticket(t, tid)
            _not_closed(ticket, "attach to")
            if aid in ticket.attachments:
                raise Rejected("attachment_already_exists", f"ticket {tid!r} already has attachment {aid!r}")
            return [TicketAttachmentAdded(tid, aid, uri, name, mt, n)]
        case EscalateTicket(ticket_id=tid, reason=reason):
            _nonempty(reason, "reason")
            ticket = _ticket(t, tid)
            if ticket.status not in OPEN:
                raise Rejected(
                    "illegal_transition",
                    f"EscalateTicket cannot escalate ticket {tid!r} in {ticket.status}: it needs an open "
                    "ticket (new, assigned, in_progress or waiting_on_customer)",
                )
            return [TicketEscalated(tid, ticket.level + 1, reason, False)]
        case DefineTicketSla(priority=p, respond_within_s=r, resolve_within_s=s):
            if p not in PRIORITIES:
                raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}, not {p!r}")
            for name, value in (("respond_within_s", r), ("resolve_within_s", s)):
                if not 0 <= value <= MAX_SLA_S:
                    raise Invalid(f"{name} must be 0 (no SLA) to {MAX_SLA_S} seconds, not {value}")
            old = t.slas.get(p)
            return [TicketSlaDefined(p, r, s, (old[2] if old else 0) + 1)]
        case Tick():
            return _on_tick(t, now)
    return []  # another decider's command


# ---- evolve


def _set(t: TenantTickets, ticket: Ticket) -> TenantTickets:
    # the resolution clock stands still in PAUSED: a resolved or closed ticket leaves the watch
    # (so ticks do not scan it), and comes back when reopened
    pending = (ticket.respond_due_at and "response" not in ticket.breached) or (
        ticket.resolve_due_at and "resolution" not in ticket.breached and ticket.status not in PAUSED
    )
    watching = ticket.ticket_id in t.watch
    watch = t.watch
    if pending and not watching:
        watch = watch.set(ticket.ticket_id, True)
    elif watching and not pending:
        watch = watch.delete(ticket.ticket_id)
    return replace(t, tickets=t.tickets.set(ticket.ticket_id, ticket), watch=watch)


def apply(t: TenantTickets, event: object, now: int) -> TenantTickets:
    """Fold one decided event; never fails (events about unknown tickets change nothing)."""
    if isinstance(event, TicketCreated):
        return _set(
            t,
            Ticket(
                event.ticket_id,
                event.priority,
                respond_due_at=event.respond_due_at,
                resolve_due_at=event.resolve_due_at,
                customer_id=event.customer_id,
                contact_id=event.contact_id,
                title=event.title,
                category=event.category,
                department=event.department,
                created_at=now,
                updated_at=now,
            ),
        )
    if isinstance(event, TicketSlaDefined):
        return replace(
            t,
            slas=t.slas.set(event.priority, (event.respond_within_s, event.resolve_within_s, event.version)),
        )
    ticket = t.tickets.get(getattr(event, "ticket_id", ""))
    if ticket is None:
        return t
    match event:
        case TicketAssigned(assignee=who):
            # the first assignment meets the response SLA
            ticket = replace(ticket, assignee=who, respond_due_at=0)
        case TicketStatusChanged(to_status=to, resolve_due_at=due):
            paused = now if to in PAUSED and ticket.status not in PAUSED else ticket.paused_since
            ticket = replace(ticket, status=to, resolve_due_at=due, paused_since=paused)
        case TicketCommented(comment_id=cid):
            ticket = replace(ticket, comments=ticket.comments | {cid})
        case TicketAttachmentAdded(attachment_id=aid):
            ticket = replace(ticket, attachments=ticket.attachments | {aid})
        case TicketEscalated(level=level):
            ticket = replace(ticket, level=level)
        case TicketSlaBreached(which=which):
            ticket = replace(ticket, breached=(*ticket.breached, which))
        case CustomerNotificationRequested(channel=channel, to=to, from_profile=profile):
            return _set(t, replace(ticket, notify_via=channel, notify_to=to, notify_profile=profile))
    return _set(t, replace(ticket, updated_at=now))


class Tickets:
    """The decider (`processors.decider.Decider`), driven by `tickets_processor()`."""

    name = "tickets"
    inputs: tuple[str, ...] = ("cc.commands", "cc.customer-events")
    outputs: tuple[str, ...] = ("cc.ticket-events", "cc.command-results")
    version = 2

    def initial_state(self) -> TicketState:
        return TicketState()

    def decide(self, state: TicketState, command: Message[Any]) -> Sequence[object]:
        env = command.envelope
        return _decide(state.tenant(env.tenant), command.body, env.occurred_at)

    def evolve(self, state: TicketState, event: Message[Any]) -> TicketState:
        env = event.envelope
        return state.with_tenant(env.tenant, apply(state.tenant(env.tenant), event.body, env.occurred_at))

    def learn(self, state: TicketState, message: Message[Any]) -> TicketState:
        """Fold a customer event (how to reach the customer); anything else changes nothing."""
        tenant = message.envelope.tenant
        t = state.tenant(tenant)
        if isinstance(message.body, CustomerErased):
            t = _forget(t, message.body.customer_id)
        return state.with_tenant(tenant, replace(t, customers=learn(t.customers, message.body)))


def _forget(t: TenantTickets, customer_id: str) -> TenantTickets:
    """The erased customer's (and its merged duplicates') tickets lose title and address."""
    who = {customer_id} | {c for c, r in t.customers.items() if r.merged_into == customer_id}
    tickets = t.tickets
    for tid, ticket in t.tickets.items():
        if ticket.customer_id in who:
            tickets = tickets.set(tid, replace(ticket, title=ERASED, notify_to=""))
    return replace(t, tickets=tickets)


@dataclass(frozen=True)
class TicketsProcessor:
    """The tickets decider as the runner drives it: customer events are learned, everything
    else on the inputs is decided (and what it decides folded)."""

    name: str = Tickets.name
    version: int = Tickets.version
    inputs: tuple[str, ...] = Tickets.inputs
    outputs: tuple[str, ...] = Tickets.outputs

    def initial_state(self) -> TicketState:
        return TicketState()

    def process(
        self, state: TicketState, message: Message[Any]
    ) -> tuple[TicketState, Sequence[Message[Any]]]:
        if isinstance(message.body, CUSTOMER_EVENTS):
            return Tickets().learn(state, message), ()
        return DeciderProcessor(Tickets(), self.inputs, self.version, self.outputs).process(state, message)


def tickets_processor() -> TicketsProcessor:
    """The tickets decider as the runner drives it: reads `cc.commands` and
    `cc.customer-events`, writes `cc.ticket-events`."""
    return TicketsProcessor()
