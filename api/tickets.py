"""`GET /v1/tickets` and `GET /v1/tickets/{ticket_id}`: the ticket read model.

Reads the tickets decider's state (`processors.ticket_queries`; no second projection). The
composition root attaches a `TicketsView` on `app.state.tickets` (the runner's current
state and the tenant served); without one the routes answer 503.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from processors.ticket_queries import find_tickets, get_ticket, view
from processors.tickets import STATUSES, TicketState

__all__ = ["TicketsView", "router", "tickets_view"]

router = APIRouter(tags=["tickets"])


@dataclass(frozen=True)
class TicketsView:
    """What the ticket routes read: `state()` returns the tickets runner's current state."""

    state: Callable[[], TicketState]
    tenant: str


def tickets_view(request: Request) -> TicketsView:
    """The attached `TicketsView`; 503 when this API serves no tickets."""
    source: TicketsView | None = getattr(request.app.state, "tickets", None)
    if source is None:
        raise HTTPException(503, "this API serves no tickets")
    return source


Text = Annotated[str, Query(max_length=200)]


@router.get("/v1/tickets")
def list_tickets(
    request: Request,
    customer_id: Text = "",
    contact_id: Text = "",
    status: Text = "",
    assignee: Text = "",
    department: Text = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Tickets matching every filter given, newest first."""
    if status and status not in STATUSES:
        detail = f"status must be one of {', '.join(STATUSES)}, not {status!r}"
        raise HTTPException(422, [{"loc": ["query", "status"], "msg": detail, "type": "value_error"}])
    source = tickets_view(request)
    filters = {"customer_id": customer_id, "contact_id": contact_id, "status": status}
    found = find_tickets(source.state(), source.tenant, assignee=assignee, department=department, **filters)
    return {"tickets": [view(t) for t in found[:limit]], "count": len(found)}


@router.get("/v1/tickets/{ticket_id}")
def read_ticket(request: Request, ticket_id: str) -> dict[str, Any]:
    """One ticket: status, assignee, SLA due times and breaches, comments, customer."""
    source = tickets_view(request)
    ticket = get_ticket(source.state(), source.tenant, ticket_id)
    if ticket is None:
        raise HTTPException(404, f"no ticket {ticket_id!r}")
    return view(ticket)
