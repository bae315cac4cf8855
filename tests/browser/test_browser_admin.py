"""The admin page: a queue and a disposition created through its forms show in its tables
with the events they caused; a rejected change shows its reason; a supervisor action on
the agents table reaches the agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browser_env import Server, require_browser

pytestmark = pytest.mark.slow
expect = require_browser().expect


def test_admin_creates_a_queue_and_a_disposition_through_the_forms(
    open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    admin = open_page("admin", "/admin")
    expect(admin.locator("#table-queues tbody tr").first).to_be_visible(timeout=10_000)
    snap(admin, "loaded")

    form = admin.locator("#form-queues")
    form.locator("[name=queue_id]").fill("billing")
    form.locator("[name=name]").fill("Billing")
    form.locator("[name=strategy]").select_option("round_robin")
    form.locator("[name=sl_threshold_s]").fill("30")
    form.locator("button[type=submit]").click()
    row = admin.locator('#table-queues tr[data-id="billing"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator('[data-col="name"]')).to_have_text("Billing")
    expect(row.locator('[data-col="strategy"]')).to_have_text("round_robin")
    expect(row.locator('[data-col="sl_threshold_s"]')).to_have_text("30")
    expect(admin.locator("#outcome")).to_contain_text("QueueDefined")
    snap(admin, "queue-created")

    form = admin.locator("#form-dispositions")
    form.locator("[name=code]").fill("callback_promised")
    form.locator("[name=name]").fill("Callback promised")
    form.locator("[name=queues]").fill("billing")
    form.locator("button[type=submit]").click()
    row = admin.locator('#table-dispositions tr[data-id="callback_promised"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator('[data-col="name"]')).to_have_text("Callback promised")
    expect(row.locator('[data-col="queues"]')).to_have_text("billing")
    expect(admin.locator("#outcome")).to_contain_text("DispositionDefined")
    snap(admin, "disposition-created")


def test_a_rejected_change_shows_its_reason_and_changes_nothing(
    open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    admin = open_page("admin", "/admin")
    expect(admin.locator("#table-dispositions")).to_be_visible(timeout=10_000)
    form = admin.locator("#form-dispositions")
    form.locator("[name=code]").fill("ghost")
    form.locator("[name=name]").fill("Ghost")
    form.locator("[name=queues]").fill("no-such-queue")
    form.locator("button[type=submit]").click()
    outcome = admin.locator("#outcome")
    expect(outcome).to_have_attribute("data-status", "error", timeout=10_000)
    expect(outcome).to_contain_text("no-such-queue")
    expect(admin.locator('#messages .msg[data-kind="error"]').last).to_contain_text("no-such-queue")
    expect(admin.locator('#table-dispositions tr[data-id="ghost"]')).to_have_count(0)
    snap(admin, "rejected")

    # Bad JSON in "more fields" is refused in the page, naming the box.
    form = admin.locator("#form-queues")
    form.locator("[name=queue_id]").fill("broken")
    form.locator("[name=name]").fill("Broken")
    form.locator("[name=__more]").fill('{"max_waiting": ')
    form.locator("button[type=submit]").click()
    expect(outcome).to_contain_text("more fields: not JSON", timeout=5_000)
    form.locator("[name=__more]").fill('{"colour": "red"}')
    form.locator("button[type=submit]").click()
    expect(outcome).to_contain_text("unknown colour")
    # The API's own validation (422) is shown naming the field.
    form.locator("[name=__more]").fill('{"max_waiting": "lots"}')
    form.locator("button[type=submit]").click()
    expect(outcome).to_contain_text("422", timeout=10_000)
    expect(outcome).to_contain_text("max_waiting")
    expect(admin.locator('#messages .msg[data-status="422"]').last).to_contain_text("max_waiting")
    expect(admin.locator('#table-queues tr[data-id="broken"]')).to_have_count(0)


def test_supervisor_forces_an_agent_not_ready_from_the_agents_table(
    ccx_server: Server, open_page: Callable[[str, str], Any], snap: Callable[[Any, str], None]
) -> None:
    page = open_page("supervisor", "/admin")
    row = page.locator('#table-agents tr[data-id="desk01"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(page.locator("#form-queues")).to_be_hidden()  # configuration is the admin's
    state = ccx_server.ok("supervisor", "GET", "/v1/agents/desk01/live")["state"]
    if state == "logged_out":
        ccx_server.ok("agent", "POST", "/v1/agents/desk01/login")
    page.locator("#force-reason").select_option("meeting")
    row.locator('[data-action="force-not-ready"]').click()
    expect(page.locator("#outcome")).to_have_attribute("data-status", "ok", timeout=10_000)
    expect(row.locator('[data-col="state"]')).to_have_text("not_ready (meeting)", timeout=10_000)
    snap(page, "forced-not-ready")
    ccx_server.ok("admin", "POST", "/v1/supervisor/agents/desk01/force-logout")
