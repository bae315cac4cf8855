"""Two desk agents, two desktops: desk01 answers a simulated call and hands it to desk02
through its transfer controls, blind (desk02 rings, with the same screen pop, and answers;
desk01 wraps up) and by consult (declined, cancelled, then answered), conference and leave.
Each page shows the controls of its agent's role, as the live document gives it, also after
a reload mid-consult. A transfer to an agent who is not ready is rejected, naming it; a
failed customer lookup shows its reason in the screen pop. Time only enters as expect
timeouts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browser_env import DESK, DESK2, Server, require_browser
from desk_steps import STEP_MS, answer_a_call, expect_call, expect_controls, expect_screen_pop, go_available

pytestmark = pytest.mark.slow
expect = require_browser().expect

LOOKUP_DOWN = "this API serves no customer directory"

HANDLING = ("hold", "hangup", "transfer", "consult")
"""The controls of the agent with the caller, connected."""
CONSULTING = ("hangup", "complete-transfer", "conference", "cancel-consult")
"""The controls of the agent with the caller while it consults another."""


def target(page: Any, agent_id: str) -> None:
    page.select_option("#transfer-kind", "to_agent")
    page.fill("#transfer-target", agent_id)


def wrap_up(page: Any, contact_id: str, disposition: str, next_state: str) -> None:
    """Completes the wrap-up of `contact_id` on the page; the agent ends in `next_state`."""
    wrapup = page.locator("#wrapup")
    expect(wrapup).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(page.locator("#wrapup-contact")).to_have_value(contact_id)
    page.select_option("#disposition", disposition)
    page.select_option("#next-state", next_state)
    page.click("#btn-wrapup")
    expect(wrapup).to_be_hidden(timeout=STEP_MS)
    expect(page.locator("#state")).to_have_attribute(
        "data-state", "available" if next_state == "ready" else "not_ready", timeout=STEP_MS
    )


def hang_up_and_wrap(page: Any, contact_id: str) -> None:
    page.click("#btn-hangup")
    wrap_up(page, contact_id, "resolved", "ready")


def stop_offers(server: Server, agent_id: str) -> None:
    """The agent leaves the busy queues (the next test, or nobody, moves it back)."""
    server.ok("supervisor", "PUT", f"/v1/supervisor/agents/{agent_id}/queues", {"queues": []})


def test_blind_transfer_to_the_second_desk_agent(
    ccx_server: Server, open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    desk1, desk2 = open_page("agent", "/desktop"), open_page("agent2", "/desktop")
    expect(desk2.locator("#agent-name")).to_contain_text(DESK2, timeout=STEP_MS)
    state2 = desk2.locator("#state")
    expect(state2).not_to_have_attribute("data-state", "unknown", timeout=STEP_MS)
    if state2.get_attribute("data-state") == "logged_out":
        desk2.click("#btn-login")
    expect(state2).to_have_attribute("data-state", "not_ready", timeout=STEP_MS)

    contact_id = answer_a_call(ccx_server, desk1, DESK)
    expect_screen_pop(desk1, ccx_server, "agent", DESK, contact_id)
    stop_offers(ccx_server, DESK)  # no next offer while desk01 wraps up

    # desk02 is not ready: the transfer is refused, naming it, and desk01 keeps the caller.
    target(desk1, DESK2)
    desk1.click("#btn-transfer")
    refused = desk1.locator('#messages .msg[data-status="409"][data-code="agent_not_available"]').last
    expect(refused).to_contain_text(DESK2, timeout=STEP_MS)
    expect_call(desk1, contact_id, "connected", "caller")
    expect_controls(desk1, *HANDLING)
    snap(desk1, "transfer-refused")

    desk2.click("#btn-ready")
    expect(state2).to_have_attribute("data-state", "available", timeout=STEP_MS)
    desk1.click("#btn-transfer")

    # desk01 wraps up while the call rings at desk02, with the same caller's screen pop.
    expect(desk1.locator("#wrapup")).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(desk1.locator("#call")).to_be_hidden()
    offer = desk2.locator("#offer")
    expect(offer).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(offer).to_be_visible()
    expect(offer).to_have_attribute("data-role", "caller")
    expect(desk2.locator("#offer-title")).to_have_text("Incoming call")
    expect_screen_pop(desk2, ccx_server, "agent2", DESK2, contact_id)
    snap(desk2, "transfer-offered")
    desk2.click("#btn-answer")
    expect_call(desk2, contact_id, "connected", "caller")
    expect_controls(desk2, *HANDLING)
    snap(desk2, "transfer-answered")

    wrap_up(desk1, contact_id, "escalated", "not_ready")
    live1 = ccx_server.ok("agent", "GET", f"/v1/agents/{DESK}/live")
    assert live1["contacts"] == [], live1
    live2 = ccx_server.ok("agent2", "GET", f"/v1/agents/{DESK2}/live")
    assert [(c["contact_id"], c["phase"]) for c in live2["contacts"]] == [(contact_id, "connected")], live2
    snap(desk1, "wrapped-up-after-transfer")

    hang_up_and_wrap(desk2, contact_id)
    snap(desk2, "wrapped-up")


def expect_consult_offer(page: Any, contact_id: str, from_agent: str) -> None:
    offer = page.locator("#offer")
    expect(offer).to_have_attribute("data-contact", contact_id, timeout=STEP_MS)
    expect(offer).to_have_attribute("data-role", "consulted", timeout=STEP_MS)
    expect(page.locator("#offer-title")).to_have_text(f"Consult from {from_agent}")
    expect(page.locator("#call")).to_be_hidden()


def expect_consult(desk1: Any, desk2: Any, contact_id: str) -> None:
    """desk01 consults desk02, who answered: each page shows the controls of its role."""
    expect_call(desk1, contact_id, "consulting", "caller", f"consulting {DESK2}")
    expect_controls(desk1, *CONSULTING)
    expect_call(desk2, contact_id, "consulting", "consulted", f"consult with {DESK}")
    expect_controls(desk2)  # the consulted agent only talks: no hang-up, transfer or consult
    expect(desk2.locator("#offer")).to_be_hidden()


def test_consult_then_conference_then_leave(
    ccx_server: Server, open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    desk1, desk2 = open_page("agent", "/desktop"), open_page("agent2", "/desktop")
    desk2.route(
        "**/v1/customers/screen-pop*",
        lambda route: route.fulfill(status=503, json={"detail": LOOKUP_DOWN}),
    )
    go_available(desk2)  # in no queue: only the consult reaches it

    contact_id = answer_a_call(ccx_server, desk1, DESK)
    stop_offers(ccx_server, DESK)
    expect_call(desk1, contact_id, "connected", "caller")
    expect_controls(desk1, *HANDLING)

    # A consult desk02 declines: the caller stays held with desk01, desk02 stays free.
    target(desk1, DESK2)
    desk1.click("#btn-consult")
    expect_call(desk1, contact_id, "consulting", "caller", f"consulting {DESK2}")
    expect_controls(desk1, *CONSULTING)
    expect_consult_offer(desk2, contact_id, DESK)
    desk2.click("#btn-decline")
    expect_call(desk1, contact_id, "held", "caller")
    expect_controls(desk1, "resume", "hangup", "transfer", "consult")
    expect(desk2.locator("#offer")).to_be_hidden(timeout=STEP_MS)
    expect(desk2.locator("#call")).to_be_hidden()

    # A consult desk02 answers and desk01 cancels: desk02 is free again, the caller held.
    desk1.click("#btn-consult")
    expect_consult_offer(desk2, contact_id, DESK)
    desk2.click("#btn-answer")
    expect_consult(desk1, desk2, contact_id)
    desk1.click("#btn-cancel-consult")
    expect_call(desk1, contact_id, "held", "caller")
    expect(desk2.locator("#call")).to_be_hidden(timeout=STEP_MS)
    expect(desk2.locator("#state")).to_have_attribute("data-state", "available", timeout=STEP_MS)

    # The consult that goes on: desk02 rings with the consult, from desk01.
    desk1.click("#btn-consult")
    expect_consult_offer(desk2, contact_id, DESK)
    # desk02's customer lookup fails (the route answers 503): its pop says so, with the reason.
    pop2 = desk2.locator("#screen-pop")
    expect(pop2).to_have_attribute("data-loaded", "true", timeout=STEP_MS)
    expect(pop2).to_have_attribute("data-known", "error")
    expect(desk2.locator("#pop-unknown")).to_have_text(f"caller lookup failed: {LOOKUP_DOWN}")
    expect(desk2.locator("#pop-known")).to_be_hidden()
    expect(desk2.locator("#pop-tickets-none")).to_have_text("open tickets unknown: the lookup failed")
    desk2.click("#btn-answer")
    expect_consult(desk1, desk2, contact_id)
    snap(desk2, "consult-answered-lookup-failed")
    snap(desk1, "consulting")

    # Reloaded mid-consult, both pages show the same controls: they come from the server.
    desk1.reload()
    desk2.reload()
    expect_consult(desk1, desk2, contact_id)
    snap(desk2, "consulted-after-reload")

    # Conference: the caller is off hold with both agents; each may leave, desk01 hang up.
    desk1.click("#btn-conference")
    expect_call(desk1, contact_id, "conference", "caller", f"conference with {DESK2}")
    expect_controls(desk1, "leave", "hangup")
    expect_call(desk2, contact_id, "conference", "conference", f"conference with {DESK}")
    expect_controls(desk2, "leave")
    expect(desk1.locator("#call")).to_have_attribute("data-conference", "true")
    snap(desk1, "conference")

    # desk01 leaves: it wraps up, desk02 keeps the caller, with the controls of that role.
    desk1.click("#btn-leave")
    wrap_up(desk1, contact_id, "follow_up", "not_ready")
    live2 = ccx_server.ok("agent2", "GET", f"/v1/agents/{DESK2}/live")
    got = [(c["contact_id"], c["phase"], c["role"]) for c in live2["contacts"]]
    assert got == [(contact_id, "connected", "caller")], live2
    expect_call(desk2, contact_id, "connected", "caller")
    expect_controls(desk2, *HANDLING)
    snap(desk2, "kept-the-caller")
    hang_up_and_wrap(desk2, contact_id)
