"""The agent desktop with the wallboard open beside it: a desk agent logs in, goes ready,
answers a simulated call with its screen pop (the caller's profile or "unknown caller", as
the API says), finds an article and rates it for the contact, opens a ticket for it, holds,
resumes, hangs up and wraps up, and the supervisor's wallboard follows each step.
Rejections (409) show their reason."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from browser_env import DESK, DISPOSITIONS, QUIET_QUEUE, Server, require_browser
from desk_steps import OFFER_S, STEP_MS, answer_the_offer, expect_screen_pop, serve_busy_queues

pytestmark = pytest.mark.slow
expect = require_browser().expect

BOARD_S = 3.0
"""The wallboard pushes within a second of a change (bench/api.py measures the staleness:
p99 about 0.4 s over 500 clients); the checks allow 3 s for a loaded 2-CPU machine."""
CARD_QUERY, CARD_ARTICLE = "card blocked", "Block a debit or credit card"
"""A search of the demo knowledge base (ccx/demo/kb_articles.json) and its best answer."""


def board_count(board: Any, queue: str, state: str) -> Any:
    return board.locator(f'[data-queue="{queue}"] [data-metric="{state}"]')


def expect_board(board: Any, queue: str, **counts: int) -> None:
    for state, n in counts.items():
        expect(board_count(board, queue, state)).to_have_text(str(n), timeout=BOARD_S * 1000)


def expect_rejected(page: Any, code: str) -> None:
    """The message area shows a 409 naming the decider's code and reason."""
    msg = page.locator(f'#messages .msg[data-status="409"][data-code="{code}"]').last
    expect(msg).to_be_visible(timeout=10_000)
    expect(msg).to_contain_text(code)
    expect(msg).to_contain_text(DESK if code.startswith("agent") else "nope")


def ratings(server: Server, article_id: str) -> tuple[int, int]:
    """(helped, not helped) of an article, as the knowledge base search counts them."""
    hits = server.ok("agent", "GET", "/v1/kb/search?q=card%20blocked&limit=100")["results"]
    hit = next(h for h in hits if h["article_id"] == article_id)
    return int(hit["helped"]), int(hit["not_helped"])


def expect_ratings(server: Server, article_id: str, wanted: tuple[int, int]) -> None:
    """The search index folds ratings as they come: waits (bounded) until it shows `wanted`."""
    deadline = time.monotonic() + STEP_MS / 1000
    while (seen := ratings(server, article_id)) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen == wanted, f"{article_id}: (helped, not helped) {seen}, wanted {wanted}"


def search_card_blocked(page: Any) -> Any:
    """Searches the knowledge base for a blocked card; returns the first result (checked)."""
    page.fill("#kb-q", CARD_QUERY)
    page.click("#kb-form button[type=submit]")
    first = page.locator("#kb-results li").first
    expect(first.locator("b")).to_have_text(CARD_ARTICLE, timeout=STEP_MS)
    expect(first.locator("mark").first).to_be_visible()  # the snippet marks the words found
    return first


def rate(server: Server, page: Any, first: Any, helped: bool, contact_id: str) -> None:
    """Clicks "this helped" (or "did not help") on a result: the page shows the recorded
    event, and the knowledge base counts the rating."""
    article = first.get_attribute("data-article")
    before = ratings(server, article)
    first.locator(f'[data-action="{"helped" if helped else "not-helped"}"]').click()
    result = first.locator(".feedback")
    expect(result).to_have_attribute("data-result", "helped" if helped else "not_helped", timeout=STEP_MS)
    expect(result).to_contain_text("ArticleRated")
    if contact_id:
        expect(result).to_contain_text(contact_id)
    expect(first.locator('[data-action="helped"]')).to_be_disabled()
    expect_ratings(server, article, (before[0] + helped, before[1] + (not helped)))


def test_desk_agent_handles_a_call_and_the_wallboard_follows(
    ccx_server: Server, open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    board = open_page("supervisor", "/")
    expect(board.locator(f'[data-queue="{QUIET_QUEUE}"]')).to_be_visible(timeout=10_000)
    desk = open_page("agent", "/desktop")
    state = desk.locator("#state")
    expect(state).to_have_attribute("data-state", "logged_out", timeout=10_000)
    expect(desk.locator("#agent-name")).to_contain_text(DESK)
    snap(desk, "logged-out")

    desk.click("#btn-login")
    expect(state).to_have_attribute("data-state", "not_ready", timeout=10_000)
    expect_board(board, QUIET_QUEUE, not_ready=1, available=0)
    desk.click("#btn-login")
    expect_rejected(desk, "agent_already_logged_in")

    desk.click("#btn-ready")
    expect(state).to_have_attribute("data-state", "available", timeout=10_000)
    expect_board(board, QUIET_QUEUE, available=1, not_ready=0)
    snap(board, "board-available")
    desk.click("#btn-ready")
    expect_rejected(desk, "agent_already_available")
    snap(desk, "ready-twice-rejected")

    # The supervisor moves the agent where the calls are: an offer rings, with its screen pop.
    serve_busy_queues(ccx_server, DESK)
    offer = desk.locator("#offer")
    expect(offer).to_be_visible(timeout=OFFER_S * 1000)
    expect_board(board, QUIET_QUEUE, reserved=1, available=0)
    expect(desk.locator("#screen-pop")).to_have_attribute("data-loaded", "true", timeout=STEP_MS)
    snap(desk, "offer-ringing")

    contact_id = answer_the_offer(desk)
    call = desk.locator("#call")
    expect(call).to_have_attribute("data-contact", contact_id)
    expect(offer).to_be_hidden()
    expect_board(board, QUIET_QUEUE, handling=1, reserved=0)
    # The screen pop shows what the API says of this caller: the profile or "unknown caller".
    said = expect_screen_pop(desk, ccx_server, "agent", DESK, contact_id)
    expect(desk.locator("#pop-number")).to_have_text(desk.locator("#call-ani").inner_text())
    snap(desk, "connected-screen-pop")
    snap(board, "board-handling")

    # The caller's card is blocked: the agent finds the article and says it helped, for this contact.
    rate(ccx_server, desk, search_card_blocked(desk), True, contact_id)
    snap(desk, "kb-rated")

    # A ticket for the contact, prefilled with the caller's customer (none if unknown).
    customer_id = said["customer"]["customer_id"] if said["customer"] else ""
    expect(desk.locator("#ticket-contact")).to_have_value(contact_id)
    expect(desk.locator("#ticket-customer")).to_have_value(customer_id)
    desk.fill("#ticket-title", "Card blocked after travel (browser test)")
    desk.fill("#ticket-description", "Caller cannot pay abroad; card blocked by fraud rules.")
    desk.select_option("#ticket-priority", "P2")
    desk.fill("#ticket-category", "cards")
    desk.click("#btn-ticket")
    created = desk.locator("#ticket-created")
    expect(created).not_to_have_attribute("data-ticket", "", timeout=STEP_MS)
    ticket_id = created.get_attribute("data-ticket")
    assert ticket_id
    expect(created).to_contain_text(ticket_id)
    row = desk.locator(f'#pop-tickets tr[data-ticket="{ticket_id}"]')
    expect(row).to_be_visible(timeout=STEP_MS)
    expect(row).to_contain_text("Card blocked after travel (browser test)")
    expect(row).to_contain_text("P2")
    for earlier in said["open_tickets"]:  # the caller's other open tickets stay listed
        expect(desk.locator(f'#pop-tickets tr[data-ticket="{earlier["ticket_id"]}"]')).to_be_visible()
    expect(desk.locator("#ticket-title")).to_have_value("")  # ready for the next one
    ticket = ccx_server.ok("agent", "GET", f"/v1/tickets/{ticket_id}")
    assert (ticket["contact_id"], ticket["customer_id"], ticket["priority"], ticket["category"]) == (
        contact_id,
        customer_id,
        "P2",
        "cards",
    ), ticket
    assert ticket["open"], ticket
    snap(desk, "ticket-created")

    desk.click("#btn-hold")
    expect(call).to_have_attribute("data-phase", "held", timeout=10_000)
    expect(desk.locator("#btn-resume")).to_be_enabled()
    expect(desk.locator("#btn-hold")).to_be_disabled()
    snap(desk, "held")
    desk.click("#btn-resume")
    expect(call).to_have_attribute("data-phase", "connected", timeout=10_000)
    snap(desk, "resumed")

    desk.click("#btn-hangup")
    wrapup = desk.locator("#wrapup")
    expect(wrapup).to_be_visible(timeout=10_000)
    expect(wrapup).to_have_attribute("data-contact", contact_id)
    expect(call).to_be_hidden()
    expect(state).to_have_attribute("data-state", "wrap_up")
    expect_board(board, QUIET_QUEUE, wrap_up=1, handling=0)
    snap(board, "board-wrap-up")

    # Wrapping up a contact that is not this agent's is rejected, with the reason.
    # The simulation's dispositions (defined by `ccx up`) are the choices.
    options = desk.locator("#disposition option")
    expect(options).to_have_count(len(DISPOSITIONS))
    assert sorted(o.get_attribute("value") for o in options.all()) == sorted(DISPOSITIONS)
    expect(desk.locator("#disposition-text")).to_be_hidden()
    desk.fill("#wrapup-contact", "nope")
    desk.select_option("#disposition", "resolved")
    desk.click("#btn-wrapup")
    expect_rejected(desk, "contact_not_found")
    expect(wrapup).to_be_visible()
    snap(desk, "wrap-up-wrong-contact-rejected")

    desk.fill("#wrapup-contact", contact_id)
    desk.fill("#notes", "browser test: caller helped")
    desk.select_option("#next-state", "not_ready")
    desk.select_option("#wrapup-reason", "lunch")
    desk.click("#btn-wrapup")
    expect(wrapup).to_be_hidden(timeout=10_000)
    expect(state).to_have_attribute("data-state", "not_ready")
    expect(desk.locator("#state-reason")).to_have_text("(lunch)")
    expect_board(board, QUIET_QUEUE, not_ready=1, wrap_up=0)
    ok = desk.locator('#messages .msg[data-kind="ok"]', has_text=re.compile("WrapUpCompleted|Wrap-up"))
    expect(ok.last).to_be_visible()
    snap(desk, "wrapped-up")
    snap(board, "board-not-ready")


def test_knowledge_base_ranks_rates_and_says_when_nothing_is_found(
    ccx_server: Server, open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    desk = open_page("agent", "/desktop")
    expect(desk.locator("#state")).not_to_have_attribute("data-state", "unknown", timeout=STEP_MS)
    first = search_card_blocked(desk)
    expect(first.locator(".meta")).to_contain_text("helped")
    # Without a contact in hand the rating is the agent's alone (contact "").
    rate(ccx_server, desk, first, False, "")
    expect(first.locator(".feedback")).to_contain_text("did not help")
    snap(desk, "kb-rated-without-contact")

    desk.fill("#kb-q", "xylophone quasar")
    desk.click("#kb-form button[type=submit]")
    expect(desk.locator("#kb-results li")).to_have_count(1, timeout=STEP_MS)
    expect(desk.locator("#kb-results li")).to_have_text('nothing found for "xylophone quasar"')
    snap(desk, "kb-nothing-found")


def test_a_page_refuses_a_bad_token_and_names_the_role_it_needs(
    ccx_server: Server, browser: Any, open_page: Callable[[str, str], Any]
) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{ccx_server.base}/admin#token=not-a-token")
    expect(page.locator("#login-error")).to_contain_text("token refused", timeout=10_000)
    page.fill("#login-token", ccx_server.tokens["agent"])
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("admin", timeout=10_000)
    page.fill("#login-token", ccx_server.tokens["admin"])
    page.click("#login-submit")
    expect(page.locator("#login")).to_have_count(0, timeout=10_000)
    expect(page.locator("#table-queues")).to_be_visible()
    ctx.close()


def test_a_supervisor_opens_the_desktop_of_an_agent(
    ccx_server: Server, open_page: Callable[[str, str], Any]
) -> None:
    page = open_page("supervisor", f"/desktop?agent={DESK}")
    expect(page.locator("#agent-name")).to_contain_text(DESK, timeout=10_000)
    live = ccx_server.ok("supervisor", "GET", f"/v1/agents/{DESK}/live")
    expect(page.locator("#state")).to_have_attribute("data-state", live["state"])
    expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
    # Without ?agent= a supervisor's token names no agent: the page says what to do.
    other = open_page("supervisor", "/desktop")
    expect(other.locator("#messages .msg").last).to_contain_text("?agent=ID", timeout=10_000)
