"""Read-only queries over the tickets decider's state: the ticket read model of the API.

The decider's state (`processors.tickets.TicketState`) already holds every ticket's status,
assignee, SLA due times, breaches, escalation level, comments and customer, so the API reads
it through these pure functions instead of keeping a second projection. `view` is a
ticket's public shape (no notification address: that lives only in notification events).
"""

from __future__ import annotations

from typing import Any

from processors.tickets import OPEN, Ticket, TicketState

__all__ = ["FILTERS", "find_tickets", "get_ticket", "open_tickets_for", "view"]

FILTERS = ("customer_id", "contact_id", "status", "assignee", "department")
"""The fields `find_tickets` filters on (exact match; "" = any)."""


def view(ticket: Ticket) -> dict[str, Any]:
    """The ticket as the API shows it (times in ms since the epoch; due 0 = no SLA pending)."""
    return {
        "ticket_id": ticket.ticket_id,
        "title": ticket.title,
        "category": ticket.category,
        "priority": ticket.priority,
        "department": ticket.department,
        "status": ticket.status,
        "assignee": ticket.assignee,
        "customer_id": ticket.customer_id,
        "contact_id": ticket.contact_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "respond_due_at": ticket.respond_due_at,
        "resolve_due_at": ticket.resolve_due_at,
        "breached": list(ticket.breached),
        "escalation_level": ticket.level,
        "comments": len(ticket.comments),
        "attachments": len(ticket.attachments),
        "open": ticket.status in OPEN,
    }


def get_ticket(state: TicketState, tenant: str, ticket_id: str) -> Ticket | None:
    return state.tenant(tenant).tickets.get(ticket_id)


def find_tickets(state: TicketState, tenant: str, **filters: str) -> list[Ticket]:
    """The tenant's tickets matching every non-empty filter of `FILTERS`, newest first."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValueError(f"cannot filter tickets by {', '.join(unknown)}; filters: {', '.join(FILTERS)}")
    wanted = {k: v for k, v in filters.items() if v}
    found = [
        t for t in state.tenant(tenant).tickets.values() if all(getattr(t, k) == v for k, v in wanted.items())
    ]
    return sorted(found, key=lambda t: (-t.created_at, t.ticket_id))


def open_tickets_for(state: TicketState, tenant: str, customer_id: str) -> list[Ticket]:
    """The customer's open tickets (new, assigned, in progress, waiting), newest first."""
    if not customer_id:
        return []
    return [t for t in find_tickets(state, tenant, customer_id=customer_id) if t.status in OPEN]


def open_ticket_views(
    state: TicketState, tenant: str, customer_ids: list[str], listed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The screen pop's open tickets: those `listed` (by the customer directory, which also
    attributes tickets by contact) that are still open here, shown as `view`, plus the open
    tickets of `customer_ids` (a customer and its merged duplicates) it did not list; newest
    first. A listed ticket this state does not know (yet) is kept as listed."""
    out: dict[str, dict[str, Any]] = {}
    for item in listed:
        ticket = get_ticket(state, tenant, str(item.get("ticket_id", "")))
        if ticket is None:
            out[str(item.get("ticket_id", ""))] = item
        elif ticket.status in OPEN:
            out[ticket.ticket_id] = view(ticket)
    for customer_id in customer_ids:
        for ticket in open_tickets_for(state, tenant, customer_id):
            out.setdefault(ticket.ticket_id, view(ticket))
    return sorted(out.values(), key=lambda v: (-int(v.get("created_at", 0)), str(v.get("ticket_id", ""))))
