"""`GET /v1/customers/screen-pop?ani=...`: who is calling, their last contacts and open tickets;
`GET /v1/customers/{customer_id}`: the same for a customer by id.

The composition root puts a callable returning the customer directory's state, the tenant
and the region of national numbers on `app.state.customers` (`CustomersSource`); without
one the route answers 503. An unknown caller is 200 with `"customer": null` (the agent
still sees the earlier contacts from that number). When the tickets read model is attached
too (`app.state.tickets`, `api.tickets.TicketsView`), the open tickets are the decider's:
current status, assignee, SLA due times, breaches and comments count
(`processors.ticket_queries.open_ticket_views`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from api.tickets import TicketsView
from processors.customer_directory import DirectoryState, customer_view, screen_pop
from processors.ticket_queries import open_ticket_views

__all__ = ["CustomersSource", "router"]

CustomersSource = tuple[Callable[[], DirectoryState], str, str]
"""(the directory's current state, the tenant served, the region of national numbers)."""

router = APIRouter(tags=["customers"])


@router.get("/v1/customers/screen-pop")
def customer_screen_pop(
    request: Request,
    ani: Annotated[str, Query(description="The caller's number, any format")] = "",
    email: Annotated[str, Query(description="Or the sender's email")] = "",
    last: Annotated[int, Query(ge=0, le=100, description="How many earlier contacts")] = 5,
) -> dict[str, Any]:
    """The profile of the customer calling from `ani` (or writing from `email`), their last
    contacts, newest first, and their open tickets."""
    source: CustomersSource | None = getattr(request.app.state, "customers", None)
    if source is None:
        raise HTTPException(503, "this API serves no customer directory")
    if not ani.strip() and not email.strip():
        raise HTTPException(
            422, [{"loc": ["query", "ani"], "msg": "give ani or email", "type": "value_error.missing"}]
        )
    state, tenant, region = source[0](), source[1], source[2]
    return _with_ticket_views(
        request, tenant, screen_pop(state, tenant, ani, email=email, region=region, last=last)
    )


def _with_ticket_views(request: Request, tenant: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The open tickets from the tickets decider's state too, when this API has it."""
    tickets: TicketsView | None = getattr(request.app.state, "tickets", None)
    if tickets is not None and doc["customer"] is not None:
        ids = [doc["customer"]["customer_id"], *doc["customer"]["merged"]]
        doc["open_tickets"] = open_ticket_views(tickets.state(), tenant, ids, doc["open_tickets"])
    return doc


@router.get("/v1/customers/{customer_id}")
def customer_profile(
    request: Request,
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    last: Annotated[int, Query(ge=0, le=100, description="How many earlier contacts")] = 10,
) -> dict[str, Any]:
    """A customer's profile (a merged duplicate answers with its survivor), their last
    contacts, newest first, and their open tickets."""
    source: CustomersSource | None = getattr(request.app.state, "customers", None)
    if source is None:
        raise HTTPException(503, "this API serves no customer directory")
    state, tenant = source[0](), source[1]
    doc = customer_view(state, tenant, customer_id, last)
    if doc is None:
        raise HTTPException(404, f"unknown customer {customer_id!r} in tenant {tenant!r}")
    return _with_ticket_views(request, tenant, doc)
