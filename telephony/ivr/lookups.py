"""The lookup edge of `ccx run ivr`: the IVR's HTTP lookups, performed where the effect is.

A `lookup` node's `StartLookup` effect carries the real URL, sensitive values included (a
card number); the logged `IvrLookupRequested` has them masked. So the request is made in
the process that holds the effect — the IVR runner's — and never from the log: after each
batch the run loop hands the `LiveIvr`'s pending lookups (`LiveIvr.take_lookups()`) to
`LookupEdge.submit`, which performs each one in a thread pool with httpx (the node's
`timeout_s` as the whole request's deadline) and appends the outcome as an
`IvrLookupResult` fact to `cc.telephony`. The IVR reads it back as `LookupAnswered` /
`LookupFailed`: the flow decides from the logged fact alone, so a replay needs no HTTP and
decides the same.

| outcome | fact |
| --- | --- |
| 2xx with a JSON body (≤ `MAX_ANSWER_BYTES`) | ok, `answer_json` the body as received, `status` |
| other status | failure, reason `http <status>` |
| 2xx that is not JSON (or too large) | failure, reason `answer is not JSON` (`answer too large`) |
| no complete answer within `timeout_s` | failure, reason `timeout` |
| connection and protocol errors | failure, reason `error: <httpx exception name>` |

Nothing here logs or writes the URL, nor an exception's text (httpx may quote the URL in
it). The answer JSON may hold customer data (names, segments, ids); it stays in
`cc.telephony` for that topic's retention (docs/ivr.md). A request whose deadline passed
before it could start (a restart re-running old input: the runner rebuilds state from the
last snapshot) is skipped: the flow times out on its own. Within the deadline a restart may
ask again (at least once); a second result of the same request id changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from schemas.envelope import Envelope, Message, derive_event_id
from schemas.telephony import IvrLookupResult
from telephony.ivr.live import PendingLookup

__all__ = ["MAX_ANSWER_BYTES", "LookupEdge", "wall_ms"]

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 256 * 1024
ACTOR = "ivr-lookup"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class LookupEdge:
    """Performs pending IVR lookups and appends their `IvrLookupResult` facts with `append`
    (called from the pool's threads, one call at a time)."""

    def __init__(
        self,
        append: Callable[[list[Message[Any]]], None],
        *,
        clock: Callable[[], int] = wall_ms,
        workers: int = 8,
        client: httpx.Client | None = None,
    ) -> None:
        self._append = append
        self._clock = clock
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ivr-lookup")
        self._client = client or httpx.Client(
            headers={"Accept": "application/json", "User-Agent": "ccx-ivr"}, follow_redirects=False
        )
        self._own_client = client is None
        self._inflight: set[Future[None]] = set()
        self.performed = 0
        self.skipped = 0

    def submit(self, pending: Sequence[PendingLookup]) -> int:
        """Start the lookups (returns at once); how many were started."""
        started = 0
        for p in pending:
            if self._clock() > p.occurred_at + p.effect.timeout_ms:
                self.skipped += 1
                continue
            future = self._pool.submit(self._run, p)
            with self._lock:
                self._inflight.add(future)
            future.add_done_callback(self._done)
            started += 1
        return started

    def pump(self, ivr: Any) -> int:
        """`submit(ivr.take_lookups())`: the run loop calls it after each batch."""
        return self.submit(ivr.take_lookups())

    def pending(self) -> int:
        with self._lock:
            return len(self._inflight)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def _run(self, p: PendingLookup) -> None:
        try:
            result = self.perform(p)
            message = self._message(p, result)
            with self._lock:
                self._append([message])
        except Exception:  # never let a lookup kill the pool; the flow times out instead
            log.exception(
                "IVR lookup %s of contact %s: result not written", p.effect.request_id, p.effect.contact_id
            )

    def perform(self, p: PendingLookup) -> IvrLookupResult:
        """The HTTP request of one lookup and its outcome (blocking; no logging of the URL)."""
        e = p.effect
        began = time.monotonic()
        budget_s = max(0.001, (p.occurred_at + e.timeout_ms - self._clock()) / 1000)

        def result(ok: bool, answer: str, reason: str, status: int) -> IvrLookupResult:
            elapsed = int((time.monotonic() - began) * 1000)
            return IvrLookupResult(e.contact_id, e.request_id, ok, answer, reason, status, elapsed)

        status = 0
        try:
            with self._client.stream(e.method, e.url, timeout=httpx.Timeout(budget_s)) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    return result(False, "", f"http {status}", status)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        return result(False, "", "answer too large", status)
                    if time.monotonic() - began > budget_s:
                        return result(False, "", "timeout", status)
        except httpx.TimeoutException:
            return result(False, "", "timeout", status)
        except httpx.HTTPError as err:
            return result(False, "", f"error: {type(err).__name__}", status)
        if time.monotonic() - began > budget_s:
            return result(False, "", "timeout", status)
        try:
            text = bytes(body).decode(response.encoding or "utf-8")
            json.loads(text)
        except (ValueError, LookupError):
            return result(False, "", "answer is not JSON", status)
        return result(True, text, "", status)

    def _message(self, p: PendingLookup, fact: IvrLookupResult) -> Message[IvrLookupResult]:
        e = p.effect
        if not fact.ok:
            log.info("IVR lookup %s of contact %s failed: %s", e.request_id, e.contact_id, fact.reason)
        self.performed += 1
        event_id = derive_event_id(f"ivr-lookup:{p.tenant}:{e.contact_id}:{e.request_id}", 0)
        env = Envelope(event_id, p.tenant, self._clock(), e.contact_id, p.cause_id or None, ACTOR)
        return Message(env, fact)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking lookups; with `wait`, let the running ones finish and append."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        if self._own_client:
            self._client.close()
