"""The notification edge: posts each `CustomerNotificationRequested` on `cc.ticket-events` to
a gateway's webhook (an SMS or email provider, or the company's own gateway), which sends
the SMS or email (docs/tickets.md).

It is a runner sink (`streams.runner.Sink`): the runner commits its input position after a
batch is posted, so delivery is at least once; every request carries the event id as
`Idempotency-Key`, and the gateway drops repeats. A request that fails (no connection, a
5xx, 408 or 429 answer after `RETRIES` tries) raises: the runner stops without committing and
the batch is posted again when it restarts. A notification the gateway refuses (another 4xx)
is reported on stderr and in `refused`, and skipped. With a secret, each body is signed with HMAC-SHA256
(`X-Ccx-Signature: sha256=<hex>`) so the gateway can tell ccx's requests from others.

Configured by the environment: `CCX_NOTIFY_WEBHOOK_URL` (required) and
`CCX_NOTIFY_WEBHOOK_SECRET` (optional). `ccx run notify-webhook` runs it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from schemas.envelope import Message
from schemas.tickets import CustomerNotificationRequested
from streams.ports import Record

__all__ = ["RETRIES", "NotifyWebhook", "notify_webhook_from_env", "payload"]

RETRIES = 3
TIMEOUT_S = 10.0


def payload(msg: Message[CustomerNotificationRequested]) -> dict[str, Any]:
    """The JSON the gateway receives: the notification and who/when, nothing else personal.
    `language` is the customer profile's ("" when unknown: the gateway's default template)."""
    env, n = msg.envelope, msg.body
    return {
        "event_id": env.event_id,
        "tenant": env.tenant,
        "occurred_at": env.occurred_at,
        "ticket_id": n.ticket_id,
        "channel": n.channel,
        "template": n.template,
        "to": n.to,
        "language": n.language,
    }


class NotifyWebhook:
    """Posts customer notifications to `url`; everything else on the topic is skipped."""

    name = "notify-webhook"
    inputs = ("cc.ticket-events",)

    def __init__(
        self, url: str, secret: str = "", client: httpx.Client | None = None, backoff_s: float = 0.5
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the notify webhook URL must be http(s)://…, not {url!r}")
        self.url, self.secret, self.backoff_s = url, secret.encode(), backoff_s
        self.client = client or httpx.Client(timeout=TIMEOUT_S)
        self.posted = 0
        self.refused: list[tuple[str, int]] = []
        """(event id, HTTP status) of notifications the gateway refused (4xx)."""

    def write(self, batch: Sequence[tuple[Record, Message[Any]]]) -> None:
        for _, msg in batch:
            if isinstance(msg.body, CustomerNotificationRequested):
                self._post(msg)

    def _post(self, msg: Message[CustomerNotificationRequested]) -> None:
        body = json.dumps(payload(msg), separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": msg.envelope.event_id}
        if self.secret:
            headers["X-Ccx-Signature"] = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        problem = ""
        for attempt in range(RETRIES):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                answer = self.client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as e:
                problem = f"{type(e).__name__}: {e}"
                continue
            if answer.is_success:
                self.posted += 1
                return
            problem = f"HTTP {answer.status_code}"
            if answer.status_code < 500 and answer.status_code not in (408, 429):
                # the gateway refuses this one (a number it cannot reach): trying again will not
                # help and stopping would hold back every later notification; the request stays
                # in the log, and the refusal is reported
                self.refused.append((msg.envelope.event_id, answer.status_code))
                print(f"notify webhook: {problem} refused event {msg.envelope.event_id}", file=sys.stderr)
                return
        raise RuntimeError(f"notify webhook {self.url}: {problem} for event {msg.envelope.event_id}")

    def close(self) -> None:
        self.client.close()


def notify_webhook_from_env() -> NotifyWebhook:
    url = os.environ.get("CCX_NOTIFY_WEBHOOK_URL", "")
    if not url:
        raise ValueError("set CCX_NOTIFY_WEBHOOK_URL to the gateway's webhook URL")
    return NotifyWebhook(url, os.environ.get("CCX_NOTIFY_WEBHOOK_SECRET", ""))
