"""`GET /v1/tickets` and `GET /v1/tickets/{id}` over the tickets decider's state (503 without
it, filters, 404 naming the id, 422 naming the field), and the screen pop's open tickets
from the ticket read model when both are attached."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from api.app import create_app
from api.live import LiveView
from api.tickets import TicketsView
from processors.tickets import TicketState, tickets_processor
from schemas.envelope import Envelope, Message
from schemas.ticket_commands import AssignTicket, CreateTicket
from tests.integration.test_customers_api import T0
from tests.integration.test_customers_api import _state as directory_state
from tests.unit.test_ticket_queries import populated


def _get(app: Any, path: str, **params: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccx") as client:
            return await client.get(path, params=params)

    return asyncio.run(call())


def _app() -> Any:
    app = create_app(LiveView(state=lambda: None))
    state = populated()
    app.state.tickets = TicketsView(lambda: state, "t1")
    return app


def test_without_a_read_model_the_routes_answer_503() -> None:
    app = create_app(LiveView(state=lambda: None))
    assert _get(app, "/v1/tickets").status_code == 503
    assert _get(app, "/v1/tickets/k1").json()["detail"] == "this API serves no tickets"


def test_the_list_filters_and_counts() -> None:
    app = _app()
    body = _get(app, "/v1/tickets").json()
    assert body["count"] == 3 and [t["ticket_id"] for t in body["tickets"]] == ["k3", "k2", "k1"]
    ids = lambda **q: [t["ticket_id"] for t in _get(app, "/v1/tickets", **q).json()["tickets"]]  # noqa: E731
    assert ids(customer_id="cu1") == ["k2", "k1"]
    assert ids(status="resolved") == ["k2"]
    assert ids(assignee="a1") == ["k1"]
    assert ids(department="tech", customer_id="cu2") == ["k3"]
    assert ids(contact_id="c2") == ["k2"]
    limited = _get(app, "/v1/tickets", limit="1").json()
    assert limited["count"] == 3 and len(limited["tickets"]) == 1


def test_one_ticket_and_a_404_naming_it() -> None:
    app = _app()
    k1 = _get(app, "/v1/tickets/k1").json()
    assert k1["status"] == "assigned" and k1["comments"] == 2 and k1["breached"] == ["resolution"]
    missing = _get(app, "/v1/tickets/nope")
    assert missing.status_code == 404 and "'nope'" in missing.json()["detail"]


def test_bad_filters_are_422_naming_the_field() -> None:
    app = _app()
    bad = _get(app, "/v1/tickets", status="open")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
    assert "new, assigned" in bad.json()["detail"][0]["msg"]
    assert _get(app, "/v1/tickets", limit="0").json()["detail"][0]["loc"] == ["query", "limit"]


def _demo_tickets(*commands: object) -> TicketState:
    p = tickets_processor()
    state = p.initial_state()
    for n, cmd in enumerate(commands):
        state, _out = p.process(state, Message(Envelope(f"m{n}", "demo", T0 + n, f"x{n}"), cmd))
    return state


def test_the_screen_pop_shows_the_deciders_open_tickets_when_attached() -> None:
    app = create_app(LiveView(state=lambda: None))
    directory = directory_state()
    app.state.customers = (lambda: directory, "demo", "DE")
    before = _get(app, "/v1/customers/screen-pop", ani="030 1234567").json()
    assert [t["ticket_id"] for t in before["open_tickets"]] == ["T1"]
    assert "assignee" not in before["open_tickets"][0]  # the directory's own list
    state = _demo_tickets(
        CreateTicket("T1", "Refund", "", "billing", "P2", "billing", "c1", "k0"),
        AssignTicket("T1", "a7"),
        CreateTicket("T2", "Address change", "", "admin", "P4", "office", "c1", ""),
        CreateTicket("T3", "Someone else's", "", "admin", "P4", "office", "c2", ""),
    )
    app.state.tickets = TicketsView(lambda: state, "demo")
    pop = _get(app, "/v1/customers/screen-pop", ani="030 1234567").json()
    assert [(t["ticket_id"], t["assignee"]) for t in pop["open_tickets"]] == [("T2", ""), ("T1", "a7")]
    assert pop["customer"]["customer_id"] == "c1" and [c["contact_id"] for c in pop["contacts"]][:1] == ["k2"]
    unknown = _get(app, "/v1/customers/screen-pop", ani="+44 20 7946 0958").json()
    assert unknown["customer"] is None and unknown["open_tickets"] == []
