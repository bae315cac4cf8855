"""The CDR builder: one `ContactRecord` per contact, emitted when the contact is finished.

A contact is finished when it ended without an agent (abandoned, timed out, closed, full,
or a callback was chosen), when it was refused as blocked, or when its agent's wrap-up
completed. An overflowed contact's record names the last queue it was in. The record is
built from the contact's events on `cc.contact-events`; talk time excludes hold time,
`offers` counts `ContactOffered` (re-offers after a decline or ring-no-answer included).
A contact's draft is dropped when its record is emitted, so the state holds only
contacts in progress.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from schemas.cdr import ContactRecord
from schemas.contact import (
    ContactArrived,
    ContactBlocked,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    WrapUpCompleted,
)
from schemas.envelope import Message, derive

__all__ = ["CdrState", "ContactDraft", "ContactRecorder"]


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """What is known so far about one contact in progress."""

    contact_id: str
    queue_id: str = ""
    channel: str = ""
    ani: str = ""
    dnis: str = ""
    priority: int = 0
    arrived_at: int = 0
    queued_at: int = 0
    answered: bool = False
    answered_at: int = 0
    ended_at: int = 0
    outcome: str = ""
    end_party: str = ""
    agent_id: str = ""
    offers: int = 0
    wait_ms: int = 0
    hold_ms: int = 0
    holds: int = 0
    on_hold: bool = False
    held_since: int = 0

    def released(self, now: int) -> ContactDraft:
        """The draft with a hold in progress closed at `now`."""
        if not self.on_hold:
            return self
        return replace(self, on_hold=False, hold_ms=self.hold_ms + now - self.held_since)

    def record(self, finished_at: int, disposition: str) -> ContactRecord:
        talk = self.ended_at - self.answered_at - self.hold_ms if self.answered else 0
        return ContactRecord(
            contact_id=self.contact_id,
            queue_id=self.queue_id,
            channel=self.channel,
            ani=self.ani,
            dnis=self.dnis,
            priority=self.priority,
            arrived_at=self.arrived_at,
            queued_at=self.queued_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            finished_at=finished_at,
            outcome=self.outcome,
            end_party=self.end_party,
            agent_id=self.agent_id,
            offers=self.offers,
            wait_ms=self.wait_ms,
            talk_ms=max(0, talk),
            hold_ms=self.hold_ms,
            holds=self.holds,
            wrap_up_ms=finished_at - self.ended_at if self.answered else 0,
            disposition=disposition,
        )


@dataclass(frozen=True, slots=True)
class CdrState:
    """Drafts of the contacts in progress, by (tenant, contact id); a copy-on-write dict."""

    drafts: Mapping[tuple[str, str], ContactDraft] = field(default_factory=dict)


def _step(d: ContactDraft, body: object, now: int) -> tuple[ContactDraft, ContactRecord | None]:
    """The draft after `body`, and the record when `body` finishes the contact."""
    match body:
        case ContactArrived(channel=channel, ani=ani, dnis=dnis):
            return replace(d, channel=channel, ani=ani, dnis=dnis, arrived_at=now), None
        case ContactQueued(queue_id=queue_id, priority=priority, waiting_since=since):
            # an overflowed contact's record names its last queue; its wait began earlier
            return replace(d, queue_id=queue_id, priority=priority, queued_at=since or now), None
        case ContactBlocked(queue_id=queue_id, ani=ani):
            d = replace(
                d,
                queue_id=queue_id,
                ani=ani,
                arrived_at=now,
                ended_at=now,
                outcome="blocked",
                end_party="system",
            )
            return d, d.record(now, "")
        case ContactOffered():
            return replace(d, offers=d.offers + 1), None
        case ContactConnected(agent_id=agent_id, wait_ms=wait_ms):
            return replace(d, answered=True, answered_at=now, agent_id=agent_id, wait_ms=wait_ms), None
        case ContactHeld():
            if d.on_hold:
                return d, None
            return replace(d, on_hold=True, held_since=now, holds=d.holds + 1), None
        case ContactResumed():
            return d.released(now), None
        case ContactEnded(reason=reason, party=party, wait_ms=wait_ms):
            outcome = "answered" if d.answered else reason
            d = replace(d.released(now), ended_at=now, outcome=outcome, end_party=party, wait_ms=wait_ms)
            return d, (None if d.answered else d.record(now, ""))
        case WrapUpCompleted(disposition=disposition):
            return d, d.record(now, disposition)
        case _:
            return d, None


class ContactRecorder:
    """Processor `cdr`: contact events in, one `ContactRecord` per finished contact out."""

    name = "cdr"
    version = 1
    inputs: tuple[str, ...] = ("cc.contact-events",)
    outputs: tuple[str, ...] = ("cc.cdr",)

    def initial_state(self) -> CdrState:
        return CdrState()

    def process(self, state: CdrState, message: Message[Any]) -> tuple[CdrState, Sequence[Message[Any]]]:
        contact_id = getattr(message.body, "contact_id", None)
        if not isinstance(contact_id, str):
            return state, ()
        key = (message.envelope.tenant, contact_id)
        draft = state.drafts.get(key) or ContactDraft(contact_id)
        draft, record = _step(draft, message.body, message.envelope.occurred_at)
        drafts = dict(state.drafts)
        if record is None:
            drafts[key] = draft
            return CdrState(drafts), ()
        drafts.pop(key, None)
        return CdrState(drafts), (derive(message, record, 0),)
