"""The lookup edge's outcomes with a mock transport: JSON answers, non-2xx, non-JSON, too
large, transport errors (never quoting the URL), and requests too late to matter."""

from __future__ import annotations

import time
from typing import Any

import httpx

from schemas.telephony import IvrLookupResult
from telephony.ivr.live import PendingLookup
from telephony.ivr.lookups import MAX_ANSWER_BYTES, LookupEdge
from telephony.ivr.messages import StartLookup

URL = "https://cards.example/block/4111111111111111"


def pending(at: int = 1_000, timeout_ms: int = 2_000) -> PendingLookup:
    return PendingLookup("acme", at, "in-1", StartLookup("c1", "c1-lookup-1", "POST", URL, timeout_ms))


def edge(handler: Any, now: int = 1_000) -> tuple[LookupEdge, list[Any]]:
    appended: list[Any] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return LookupEdge(appended.extend, clock=lambda: now, client=client, workers=1), appended


def outcome(handler: Any) -> IvrLookupResult:
    e, _ = edge(handler)
    return e.perform(pending())


def test_outcomes() -> None:
    seen: list[httpx.Request] = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"reference": "B-1"})

    result = outcome(ok)
    assert (result.ok, result.status, result.reason, result.answer_json) == (
        True,
        200,
        "",
        '{"reference":"B-1"}',
    )
    assert seen[0].method == "POST" and str(seen[0].url) == URL
    assert outcome(lambda r: httpx.Response(503, json={})).reason == "http 503"
    assert outcome(lambda r: httpx.Response(200, text="<html>")).reason == "answer is not JSON"
    big = b'"' + b"x" * MAX_ANSWER_BYTES + b'"'
    assert outcome(lambda r: httpx.Response(200, content=big)).reason == "answer too large"

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    failed = outcome(refused)
    assert (failed.ok, failed.reason) == (False, "error: ConnectError") and "4111" not in repr(failed)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    assert outcome(slow).reason == "timeout"


def test_results_are_appended_as_facts_and_late_requests_are_skipped() -> None:
    e, appended = edge(lambda r: httpx.Response(200, json={"a": 1}), now=2_500)
    assert e.submit([pending(at=1_000, timeout_ms=2_000), pending(at=0, timeout_ms=2_000)]) == 1
    deadline = time.monotonic() + 5
    while e.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    e.close()
    [message] = appended
    assert isinstance(message.body, IvrLookupResult) and message.body.ok
    env = message.envelope
    assert (env.tenant, env.correlation_id, env.causation_id, env.actor, env.occurred_at) == (
        "acme", "c1", "in-1", "ivr-lookup", 2_500,
    )  # fmt: skip
    assert e.skipped == 1 and URL not in repr(message)
