"""`GET /v1/customers/screen-pop` through the ASGI transport: 503 without a directory, the
profile, last contacts and open tickets of a known caller, an unknown caller, a bad request."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from api.app import create_app
from api.live import LiveView
from processors.customer_directory import DirectoryState, fold
from processors.customers import customers_processor
from schemas.contact import ContactArrived, ContactEnded, WrapUpCompleted
from schemas.customer_commands import DefineCustomer
from schemas.envelope import Envelope, Message
from schemas.tickets import TicketCreated

T0 = 1_767_600_000_000


def _get(app: Any, path: str = "/v1/customers/screen-pop", **params: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccx") as client:
            return await client.get(path, params=params)

    return asyncio.run(call())


def _state() -> DirectoryState:
    p = customers_processor()
    cstate = p.initial_state()
    messages: list[Message[Any]] = []
    for n, cmd in enumerate(
        [
            DefineCustomer(
                "c1", ("Alice Adler",), ("030 1234567",), ("alice@example.com",), True, region="DE"
            ),
            DefineCustomer("c2", ("Bob Berg",), ("+12125550100",)),
        ]
    ):
        cstate, out = p.process(cstate, Message(Envelope(f"cmd{n}", "demo", T0, "x"), cmd))
        messages.extend(out)
    for i in range(3):
        env = Envelope(f"k{i}", "demo", T0 + i * 60_000, f"k{i}")
        messages += [
            Message(env, ContactArrived(f"k{i}", "voice", "+49 30 1234567", "100")),
            Message(env, ContactEnded(f"k{i}", "q1", "completed", "caller", "a1", 1_000)),
            Message(env, WrapUpCompleted(f"k{i}", "a1", f"d{i}", "")),
        ]
    env = Envelope("t1", "demo", T0, "T1")
    messages.append(
        Message(env, TicketCreated("T1", "Refund", "", "billing", "high", "billing", "c1", "k0", 0, 0))
    )
    state = DirectoryState()
    for m in messages:
        state = fold(state, m, "DE")
    return state


def test_the_screen_pop_serves_the_directory() -> None:
    app = create_app(LiveView(state=lambda: None))
    assert _get(app, ani="+4930 1234567").status_code == 503
    state = _state()
    app.state.customers = (lambda: state, "demo", "DE")
    pop = _get(app, ani="030 1234567", last="2").json()
    assert pop["customer"]["customer_id"] == "c1" and pop["customer"]["vip"] is True
    assert [c["contact_id"] for c in pop["contacts"]] == ["k2", "k1"]
    assert pop["contacts"][0]["disposition"] == "d2"
    assert [t["ticket_id"] for t in pop["open_tickets"]] == ["T1"]
    assert _get(app, email="ALICE@example.com").json()["customer"]["customer_id"] == "c1"
    assert _get(app, ani="+1 (212) 555-0100").json()["customer"]["name"] == "Bob Berg"
    unknown = _get(app, ani="+44 20 7946 0958").json()
    assert unknown["customer"] is None and unknown["number"] == "+442079460958"
    missing = _get(app)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "ani"]
    assert _get(app, ani="+4930", last="500").status_code == 422


def test_a_customer_by_id() -> None:
    app = create_app(LiveView(state=lambda: None))
    assert _get(app, "/v1/customers/c1").status_code == 503
    state = _state()
    app.state.customers = (lambda: state, "demo", "DE")
    doc = _get(app, "/v1/customers/c1", last="1").json()
    assert doc["customer"]["name"] == "Alice Adler" and doc["customer"]["vip"] is True
    assert [c["contact_id"] for c in doc["contacts"]] == ["k2"]
    assert [t["ticket_id"] for t in doc["open_tickets"]] == ["T1"]
    assert _get(app, "/v1/customers/c2").json()["contacts"] == []
    missing = _get(app, "/v1/customers/nobody")
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    assert _get(app, "/v1/customers/screen-pop", ani="030 1234567").json()["customer"]["customer_id"] == "c1"
