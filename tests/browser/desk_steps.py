"""Steps the desktop tests share: bring a desk agent's page to "available", take a simulated
call there, and check the screen pop against what `GET /v1/customers/screen-pop` says of the
caller (the profile, or "unknown caller"), and the call controls a page offers. Time only
enters as expect timeouts.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from browser_env import QUIET_QUEUE, Server, require_browser

expect = require_browser().expect

OFFER_S = 90.0
"""A simulated call arrives every ~2 s on average; generous, never a measured duration."""
STEP_MS = 10_000
"""How long a command's outcome may take to show on a page (a loaded machine's margin)."""


CALL_CONTROLS = (
    *("hold", "resume", "hangup", "transfer", "consult"),
    *("complete-transfer", "conference", "cancel-consult", "leave"),
)
"""The call's buttons (`#btn-<name>`)."""


def expect_controls(page: Any, *shown: str) -> None:
    """The page's call offers exactly the `shown` controls, visible and enabled; every other
    call control is hidden and disabled, and the transfer target only shows with a transfer
    or consult control."""
    unknown = set(shown) - set(CALL_CONTROLS)
    assert not unknown, f"no such call control: {sorted(unknown)}"
    for name in CALL_CONTROLS:
        button = page.locator(f"#btn-{name}")
        if name in shown:
            expect(button).to_be_visible(timeout=STEP_MS)
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_hidden(timeout=STEP_MS)
            expect(button).to_be_disabled()
    targeting = page.locator("#transfer-target")
    (
        expect(targeting).to_be_visible
        if {"transfer", "consult"} & set(shown)
        else expect(targeting).to_be_hidden
    )()


def expect_call(page: Any, contact_id: str, phase: str, role: str, parties: str = "") -> None:
    """The page's call is `contact_id` in `phase`, this agent in `role`, with `parties` said."""
    call = page.locator("#call")
    expect(call).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(call).to_have_attribute("data-phase", phase, timeout=STEP_MS)
    expect(call).to_have_attribute("data-role", role, timeout=STEP_MS)
    expect(page.locator("#call-phase")).to_have_text(phase)
    expect(page.locator("#call-with")).to_have_text(parties)


def go_available(page: Any) -> None:
    """Logs the page's agent in (if it is out) and makes it ready, through the page's buttons
    (in a busy queue an offer may follow at once: "reserved" counts as ready too)."""
    state = page.locator("#state")
    expect(state).not_to_have_attribute("data-state", "unknown", timeout=STEP_MS)
    if state.get_attribute("data-state") == "available":
        return
    if state.get_attribute("data-state") == "logged_out":
        page.click("#btn-login")
        expect(state).to_have_attribute("data-state", "not_ready", timeout=STEP_MS)
    page.click("#btn-ready")
    expect(state).to_have_attribute("data-state", re.compile("^(available|reserved)$"), timeout=STEP_MS)


def serve_busy_queues(server: Server, agent_id: str) -> None:
    """The supervisor puts the agent in the queues the simulator sends calls to."""
    body = {"queues": [QUIET_QUEUE, *server.busy_queues]}
    server.ok("supervisor", "PUT", f"/v1/supervisor/agents/{agent_id}/queues", body)


GONE = ("contact_not_found", "contact_not_offered_to_agent")
"""Why answering an offer fails when its caller hung up (or it rang out) meanwhile."""


def answer_the_offer(page: Any, attempts: int = 5) -> str:
    """Answers the ringing offer on the page; returns the contact id, connected. The queue's
    longest waiter, offered first, is near the end of its patience and may hang up while it
    rings: the answer is then refused (409, one of `GONE`), and the next offer is answered."""
    offer, call = page.locator("#offer"), page.locator("#call")
    for _ in range(attempts):
        expect(offer).to_be_visible(timeout=OFFER_S * 1000)
        page.evaluate("document.getElementById('messages')?.replaceChildren()")
        page.click("#btn-answer")
        refused = page.locator('#messages .msg[data-status="409"]')
        on_call = page.locator("#call:not([hidden])")
        expect(on_call.or_(refused)).to_have_count(1, timeout=STEP_MS)
        if on_call.count():
            expect(call).to_have_attribute("data-phase", "connected", timeout=STEP_MS)
            return str(call.get_attribute("data-contact"))
        assert refused.first.get_attribute("data-code") in GONE, refused.first.inner_text()
    raise AssertionError(f"every one of {attempts} callers hung up before the answer")


def answer_a_call(server: Server, page: Any, agent_id: str) -> str:
    """The agent, available in the busy queues, is offered a call and answers it on its page;
    returns the contact id (the page is then on the call, connected)."""
    serve_busy_queues(server, agent_id)
    go_available(page)
    return answer_the_offer(page)


def caller_of(server: Server, role: str, agent_id: str, contact_id: str) -> str:
    """The ANI of a contact the agent holds, as the agent's live document gives it."""
    live = server.ok(role, "GET", f"/v1/agents/{agent_id}/live")
    held = [c for c in live["contacts"] if c["contact_id"] == contact_id]
    assert held, f"{agent_id} does not hold {contact_id}: {live}"
    return str(held[0]["ani"])


def expect_screen_pop(page: Any, server: Server, role: str, agent_id: str, contact_id: str) -> dict[str, Any]:
    """The page's screen pop for `contact_id` shows what the API says of its caller (fetched
    with the agent's own token): the profile (name, VIP badge, language, segment) or
    "unknown caller", the open tickets, and earlier contacts. Returns the API's answer."""
    pop = page.locator("#screen-pop")
    expect(pop).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(pop).to_have_attribute("data-loaded", "true", timeout=STEP_MS)
    ani = caller_of(server, role, agent_id, contact_id)
    assert ani, f"contact {contact_id} has no caller number"
    expect(page.locator("#pop-number")).to_have_text(ani)
    said = server.ok(role, "GET", f"/v1/customers/screen-pop?ani={quote(ani, safe='')}")
    customer = said["customer"]
    if customer is None:
        expect(pop).to_have_attribute("data-known", "false")
        expect(page.locator("#pop-unknown")).to_have_text("unknown caller")
        expect(page.locator("#pop-known")).to_be_hidden()
    else:
        expect(pop).to_have_attribute("data-known", "true")
        expect(pop).to_have_attribute("data-customer", customer["customer_id"])
        expect(page.locator("#pop-unknown")).to_be_hidden()
        expect(page.locator("#pop-name")).to_have_text(customer["name"])
        vip = page.locator("#pop-vip")
        (expect(vip).to_be_visible if customer["vip"] else expect(vip).to_be_hidden)()
        expect(page.locator("#pop-language")).to_have_text(customer["language"] or "\N{EN DASH}")
        expect(page.locator("#pop-segment")).to_have_text(customer["segment"])
    tickets = page.locator("#pop-tickets tbody tr")
    expect(tickets).to_have_count(len(said["open_tickets"]))
    for ticket in said["open_tickets"]:
        expect(page.locator(f'#pop-tickets tr[data-ticket="{ticket["ticket_id"]}"]')).to_contain_text(
            ticket["title"]
        )
    # Earlier contacts: the page read them at the offer, the test a moment later (a contact
    # may have been folded in between), so the two lists overlap rather than match.
    shown = [r.get_attribute("data-contact") for r in page.locator("#pop-contacts tbody tr").all()]
    listed = {c["contact_id"] for c in said["contacts"]}
    assert len(shown) <= 5, shown
    assert not shown or set(shown) & listed, (shown, listed)
    return dict(said)
