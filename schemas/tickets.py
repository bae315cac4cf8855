"""Ticket events (public topic `cc.ticket-events`, keyed by tenant, namespace `ccx.ticket`):
what ccx decided about tickets (work orders) — creation, assignment, workflow status,
comments, attachments by reference, escalation, SLA definitions and breaches, and the
notifications a gateway sends to the customer. Decided by `processors.tickets`
(docs/tickets.md). Times are ms since the epoch; a due time of 0 means "no SLA".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CustomerNotificationRequested",
    "TicketAssigned",
    "TicketAttachmentAdded",
    "TicketCommented",
    "TicketCreated",
    "TicketEscalated",
    "TicketSlaBreached",
    "TicketSlaDefined",
    "TicketStatusChanged",
]


@dataclass(frozen=True, slots=True)
class TicketCreated:
    """A ticket opened with status "new". `respond_due_at` / `resolve_due_at` are the SLA due
    times of its priority, computed now (0: no SLA of that kind)."""

    ticket_id: str
    title: str
    description: str
    category: str
    priority: str
    department: str
    customer_id: str
    contact_id: str
    respond_due_at: int
    resolve_due_at: int


@dataclass(frozen=True, slots=True)
class TicketAssigned:
    """The ticket is `assignee`'s now (`previous` "" when it had none)."""

    ticket_id: str
    assignee: str
    previous: str


@dataclass(frozen=True, slots=True)
class TicketStatusChanged:
    """The ticket moved from `from_status` to `to_status` (new, assigned, in_progress,
    waiting_on_customer, resolved, closed) because of `reason`. `resolve_due_at` is the
    resolution due time in force after the change: the clock pauses while the ticket waits on
    the customer, is resolved or closed, and the due time moves by the paused time."""

    ticket_id: str
    from_status: str
    to_status: str
    reason: str
    resolve_due_at: int


@dataclass(frozen=True, slots=True)
class TicketCommented:
    ticket_id: str
    comment_id: str
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class TicketAttachmentAdded:
    """A file attached by reference: ccx stores the `uri`, never the content."""

    ticket_id: str
    attachment_id: str
    uri: str
    name: str
    media_type: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class TicketEscalated:
    """The escalation level is `level` now (1 after the first escalation); `automatic` when
    ccx escalated it on a resolution SLA breach."""

    ticket_id: str
    level: int
    reason: str
    automatic: bool


@dataclass(frozen=True, slots=True)
class TicketSlaBreached:
    """The ticket missed its `which` ("response" or "resolution") SLA, due at `due_at`; once
    per ticket and kind."""

    ticket_id: str
    which: str
    priority: str
    due_at: int


@dataclass(frozen=True, slots=True)
class TicketSlaDefined:
    """The SLA of `priority` for tickets created from now on; `version` counts definitions."""

    priority: str
    respond_within_s: int
    resolve_within_s: int
    version: int


@dataclass(frozen=True, slots=True)
class CustomerNotificationRequested:
    """Tell the customer about `ticket_id` with `template` ("ticket_created",
    "ticket_waiting_on_customer", "ticket_resolved") by `channel` ("sms" or "email") at `to`,
    in `language` (the customer profile's, e.g. "de"; "" when unknown: the gateway's default).
    `from_profile`: the address is the customer's profile's (the ticket was created without
    one), so later notifications follow a changed profile. A gateway delivers it once, keyed
    by the envelope's event id; it carries the address and nothing else personal: the
    gateway fills the template from the ticket id."""

    ticket_id: str
    channel: str
    template: str
    to: str
    language: str = ""
    from_profile: bool = False
