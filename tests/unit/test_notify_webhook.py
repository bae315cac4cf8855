"""The notification edge: customer notifications decided by the tickets processor, read from
the log by a runner and posted to the gateway's webhook (a mock transport: no network), with
an idempotency key, a signature, retries of transient failures and refusals skipped."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest

from ccx.notify_webhook import NotifyWebhook, notify_webhook_from_env
from processors.tickets import tickets_processor
from schemas.envelope import Envelope, Message
from schemas.ticket_commands import AssignTicket, CreateTicket, ResolveTicket, StartTicket
from schemas.tickets import CustomerNotificationRequested
from streams import topics
from streams.embedded import EmbeddedLog
from streams.runner import Runner
from streams.serde import Serde

T0 = 1_767_600_000_000
URL = "https://gateway.example/notify"


def note(event_id: str = "e1") -> Message[CustomerNotificationRequested]:
    body = CustomerNotificationRequested("k1", "sms", "ticket_created", "+4930123456")
    return Message(Envelope(event_id, "t1", T0, "k1"), body)


def hook(answers: list[int], seen: list[httpx.Request], secret: str = "") -> NotifyWebhook:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answers.pop(0) if answers else 200)

    return NotifyWebhook(URL, secret, httpx.Client(transport=httpx.MockTransport(handler)), backoff_s=0)


def test_the_pipeline_posts_each_notification_once_with_its_event_id(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    log.ensure_topics(topics.ALL)
    serde = Serde(log)  # type: ignore[arg-type]
    commands = [
        CreateTicket("k1", "No dial tone", "", "line", "P2", "tech", "cu1", "c1", "sms", "+4930123456"),
        AssignTicket("k1", "a1"),
        StartTicket("k1"),
        ResolveTicket("k1", "line reset"),
    ]
    log.append([serde.out(Message(Envelope(f"m{i}", "t1", T0 + i, "k1"), c)) for i, c in enumerate(commands)])
    seen: list[httpx.Request] = []
    try:
        with Runner(tickets_processor(), log, serde) as runner:
            runner.run_until_idle()
        with Runner(hook([], seen), log, serde) as runner:
            runner.run_until_idle()
    finally:
        log.close()
    posted = [json.loads(r.content) for r in seen]
    assert [p["template"] for p in posted] == ["ticket_created", "ticket_resolved"]
    assert all(p["to"] == "+4930123456" and p["channel"] == "sms" and p["ticket_id"] == "k1" for p in posted)
    assert [r.headers["Idempotency-Key"] for r in seen] == [p["event_id"] for p in posted]
    assert set(posted[0]) == {
        "event_id", "tenant", "occurred_at", "ticket_id", "channel", "template", "to", "language",
    }  # fmt: skip


def test_the_body_is_signed_with_the_secret() -> None:
    seen: list[httpx.Request] = []
    hook([], seen, secret="s3cret").write([(None, note())])  # type: ignore[list-item]
    expected = hmac.new(b"s3cret", seen[0].content, hashlib.sha256).hexdigest()
    assert seen[0].headers["X-Ccx-Signature"] == f"sha256={expected}"


def test_transient_failures_are_retried_then_raise_so_the_batch_is_not_committed() -> None:
    seen: list[httpx.Request] = []
    h = hook([503, 200], seen)
    h.write([(None, note())])  # type: ignore[list-item]
    assert (len(seen), h.posted) == (2, 1)
    with pytest.raises(RuntimeError, match="HTTP 503"):
        hook([503, 503, 503], seen).write([(None, note("e2"))])  # type: ignore[list-item]


def test_a_refused_notification_is_reported_and_skipped() -> None:
    seen: list[httpx.Request] = []
    h = hook([400], seen)
    h.write([(None, note("e1")), (None, note("e2"))])  # type: ignore[list-item]
    assert h.refused == [("e1", 400)] and h.posted == 1


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCX_NOTIFY_WEBHOOK_URL", raising=False)
    with pytest.raises(ValueError, match="CCX_NOTIFY_WEBHOOK_URL"):
        notify_webhook_from_env()
    monkeypatch.setenv("CCX_NOTIFY_WEBHOOK_URL", "ftp://x")
    with pytest.raises(ValueError, match="http"):
        notify_webhook_from_env()
