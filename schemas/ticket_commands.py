"""Ticket commands (on `cc.commands`, keyed by tenant, namespace `ccx.command`): create a
ticket (from a contact or by hand), move it through its workflow, comment, attach by
reference, escalate, and define the SLA per priority. Decided by `processors.tickets`; the
ACD ignores them (docs/tickets.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AssignTicket",
    "AttachToTicket",
    "CloseTicket",
    "CommentOnTicket",
    "CreateTicket",
    "DefineTicketSla",
    "EscalateTicket",
    "ReopenTicket",
    "ResolveTicket",
    "StartTicket",
    "WaitOnCustomer",
]


@dataclass(frozen=True, slots=True)
class CreateTicket:
    """Open ticket `ticket_id` (chosen by the edge, unique per tenant) with `priority` "P1"
    (most urgent) to "P4", for `department`. `customer_id` and `contact_id` link it to a
    customer and the contact it came from ("" when created by hand). `notify_via` ("sms",
    "email" or "": never) and `notify_to` (the number or address) say how the customer hears
    of it: only notifications carry the address, never the ticket events. With `notify_via`
    and no `notify_to`, the address is the customer's profile's (first phone for sms, first
    email for email; `customer_id` needed), looked up at each notification; a customer
    without one is `Rejected("no_customer_address")`."""

    ticket_id: str
    title: str
    description: str
    category: str
    priority: str
    department: str
    customer_id: str = ""
    contact_id: str = ""
    notify_via: str = ""
    notify_to: str = ""


@dataclass(frozen=True, slots=True)
class AssignTicket:
    """Give the ticket to `assignee` (an agent id); a new ticket becomes assigned."""

    ticket_id: str
    assignee: str


@dataclass(frozen=True, slots=True)
class StartTicket:
    """The assignee starts (or, after waiting on the customer, resumes) work on it."""

    ticket_id: str


@dataclass(frozen=True, slots=True)
class WaitOnCustomer:
    """Work waits for the customer's answer to `reason` (the resolution SLA clock pauses)."""

    ticket_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResolveTicket:
    """The problem is solved: `resolution` says how."""

    ticket_id: str
    resolution: str


@dataclass(frozen=True, slots=True)
class CloseTicket:
    """Close a resolved ticket for good (it may still be reopened)."""

    ticket_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReopenTicket:
    """Reopen a resolved or closed ticket because of `reason`."""

    ticket_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommentOnTicket:
    """Comment `comment_id` (unique within the ticket) by `author`."""

    ticket_id: str
    comment_id: str
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class AttachToTicket:
    """Attach a file by reference: it stays at `uri` (`https://…`, `s3://bucket/key`);
    `media_type` is its MIME type ("application/pdf"), `size_bytes` its size."""

    ticket_id: str
    attachment_id: str
    uri: str
    name: str
    media_type: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class EscalateTicket:
    """Raise the ticket's escalation level by one because of `reason`."""

    ticket_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DefineTicketSla:
    """The SLA of tickets of `priority` created from now on: first response (assignment)
    within `respond_within_s` and resolution within `resolve_within_s` seconds (0: none)."""

    priority: str
    respond_within_s: int
    resolve_within_s: int
