"""The wallboard page against a scripted stream (Playwright stands in for the WebSocket;
the page still signs in against the real API): tiles per queue, the longest wait ticking
between pushes, the service-level gauge coloured by target, today's charts, and the stale
mark when pushes stop. Time only enters as expect timeouts, never as measured durations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from browser_env import Server, require_browser

pytestmark = pytest.mark.slow
expect = require_browser().expect

MINUTE_MS = 60_000


def queue(qid: str, *, waiting: int, longest_s: float, sl: float | None, **agents: int) -> dict[str, Any]:
    counts = {"available": 0, "reserved": 0, "handling": 0, "wrap_up": 0, "not_ready": 0, "logged_out": 0}
    counts.update(agents)
    current = {"offered": 12, "answered": 10, "abandoned": 2, "service_level": sl, "asa_s": 8.0}
    return {"queue_id": qid, "name": qid.upper(), "waiting": waiting, "longest_wait_s": longest_s,
            "agents": counts, "interval_start": 1_700_000_100_000, "interval_s": 900,
            "sl_threshold_s": 20, "current": current, **current}  # fmt: skip


def document(*queues: dict[str, Any]) -> str:
    series = {
        q["queue_id"]: [
            {"interval_start": 1_700_000_100_000 + i * 15 * MINUTE_MS, "offered": 5 + i, "answered": 4 + i,
             "abandoned": 1, "service_level": 0.5 + i / 10}
            for i in range(4)
        ]
        for q in queues
    }  # fmt: skip
    return json.dumps(
        {"tenant": "demo", "as_of": 1_700_000_200_000, "queues": list(queues), "series": series}
    )


def test_tiles_tick_colour_chart_and_go_stale(
    ccx_server: Server, browser: Any, snap: Callable[[Any, str], None]
) -> None:
    sockets: list[Any] = []
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route_web_socket("**/v1/stream/wallboard*", lambda ws: sockets.append(ws))
    page.goto(f"{ccx_server.base}/#token={ccx_server.tokens['analyst']}")
    expect(page.locator("#status")).to_have_attribute("data-state", "open", timeout=10_000)
    assert sockets and "token=" in sockets[0].url, "the stream carries the token as ?token="

    sockets[0].send(document(
        queue("q1", waiting=3, longest_s=10, sl=0.9, available=2, handling=4, wrap_up=1),
        queue("q2", waiting=0, longest_s=0, sl=0.4, not_ready=3),
    ))  # fmt: skip
    q1, q2 = page.locator('[data-queue="q1"]'), page.locator('[data-queue="q2"]')
    expect(q1.locator('[data-metric="waiting"]')).to_have_text("3", timeout=5_000)
    for state, n in {"available": 2, "reserved": 0, "handling": 4, "wrap_up": 1, "not_ready": 0}.items():
        expect(q1.locator(f'[data-metric="{state}"]')).to_have_text(str(n))
    expect(q2.locator('[data-metric="not_ready"]')).to_have_text("3")
    expect(page.locator("#status")).to_have_attribute("data-stale", "false")
    expect(page.locator("#status")).to_contain_text("as of")

    # Gauges: green at or above the 80% target, red well below it.
    ok = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--ok').trim()")
    bad = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bad').trim()")
    expect(q1.locator('[data-metric="service_level"]')).to_have_attribute("data-colour", ok)
    expect(q2.locator('[data-metric="service_level"]')).to_have_attribute("data-colour", bad)
    expect(q1.locator('[data-metric="service_level"]')).to_contain_text("90%")
    # Today's charts: one group of bars and one SL point per interval.
    expect(q1.locator('[data-chart="volume"]')).to_have_attribute("data-points", "4")
    expect(q1.locator('[data-chart="sl"]')).to_have_attribute("data-points", "4")
    expect(q1.locator('[data-chart="volume"] rect')).to_have_count(12)

    # No more pushes: the longest wait keeps counting from 10 s, and the board turns stale.
    longest = q1.locator('[data-metric="longest_wait"]')
    expect(longest).not_to_have_text("10s", timeout=5_000)
    assert int(longest.inner_text().rstrip("s")) > 10
    expect(q2.locator('[data-metric="longest_wait"]')).to_have_text("0s")  # nobody waiting: no ticking
    expect(page.locator("#status")).to_have_attribute("data-stale", "true", timeout=5_000)
    expect(page.locator("#status")).to_contain_text("stale")
    snap(page, "stale")

    # A push clears the mark; a queue gone from the document leaves the board.
    sockets[0].send(document(queue("q1", waiting=0, longest_s=0, sl=None, available=1)))
    expect(page.locator("#status")).to_have_attribute("data-stale", "false", timeout=5_000)
    expect(q2).to_have_count(0)
    expect(q1.locator('[data-metric="service_level"]')).to_have_attribute("data-value", "")  # no SL yet
    snap(page, "fresh-again")
    ctx.close()
    assert not errors, errors


def test_the_wallboard_is_not_for_agents(ccx_server: Server, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{ccx_server.base}/#token={ccx_server.tokens['agent']}")
    expect(page.locator("#login-error")).to_contain_text("supervisor, analyst, admin", timeout=10_000)
    expect(page.locator("[data-queue]")).to_have_count(0)
    ctx.close()
