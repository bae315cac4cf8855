"""The CDR builder: one `ContactRecord` per contact, emitted when the contact is finished,
and one `QueueLeg` per stint of the contact in a queue.

A contact is finished when it ended without an agent (abandoned, timed out, closed, full,
or a callback was chosen), when it was refused as blocked, or when its agent's wrap-up
completed. An overflowed contact's record names the last queue it was in. The record is
built from the contact's events on `cc.contact-events`; talk time excludes hold time,
`offers` counts `ContactOffered` (re-offers after a decline or ring-no-answer included).

A leg opens with each `ContactQueued` (queued at the event's time) and closes when the
contact leaves that queue: a `ContactOverflowed` to another queue closes it as
"overflowed" (an overflow without a target queue — voicemail, message — leaves it open
for the `ContactEnded` that follows); a `ContactEnded` of a waiting contact closes it with
the end's reason; a `ContactConnected` answers it, and the answered leg is emitted when
wrap-up completes, with the CDR's handling times. A contact that never queued (blocked,
refused at the door) has no leg; one moved to a queue that refused it (closed, full, past
the hop limit) ends with its "overflowed" leg, its CDR saying how it ended. Legs are
emitted before the CDR of the same input, with derived ids 1, 2, … (the CDR keeps index 0).

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
    ContactOverflowed,
    ContactQueued,
    ContactResumed,
    WrapUpCompleted,
)
from schemas.envelope import Message, derive
from schemas.legs import QueueLeg

__all__ = ["CdrState", "ContactDraft", "ContactRecorder", "OpenLeg"]


@dataclass(frozen=True, slots=True)
class OpenLeg:
    """The contact's stint in its current queue, from its `ContactQueued` until it leaves
    the queue (an answered leg stays open until wrap-up completes, for its handling)."""

    leg: int
    queue_id: str
    priority: int
    queued_at: int


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
    legs: int = 0
    """How many legs the contact has opened."""
    open_leg: OpenLeg | None = None

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

    def _closed(self, left_at: int, outcome: str, **numbers: Any) -> QueueLeg | None:
        """The open leg, closed at `left_at` with `outcome` and the given numbers (wait,
        agent, handling, next queue; 0 / "" for those not given)."""
        leg = self.open_leg
        if leg is None:
            return None
        return QueueLeg(
            contact_id=self.contact_id,
            leg=leg.leg,
            queue_id=leg.queue_id,
            channel=self.channel,
            priority=leg.priority,
            queued_at=leg.queued_at,
            left_at=left_at,
            outcome=outcome,
            wait_ms=numbers.get("wait_ms", 0),
            agent_id=numbers.get("agent_id", ""),
            talk_ms=numbers.get("talk_ms", 0),
            hold_ms=numbers.get("hold_ms", 0),
            holds=numbers.get("holds", 0),
            wrap_up_ms=numbers.get("wrap_up_ms", 0),
            to_queue=numbers.get("to_queue", ""),
        )

    def left(self, outcome: str, now: int, wait_ms: int, to_queue: str = "") -> QueueLeg | None:
        """The open, unanswered leg closed at `now` with `outcome` (None: no such leg)."""
        if self.answered:
            return None
        return self._closed(now, outcome, wait_ms=wait_ms, to_queue=to_queue)

    def handled(self, record: ContactRecord) -> QueueLeg | None:
        """The open, answered leg with the handling times of the contact's `record`."""
        if not self.answered:
            return None
        return self._closed(
            self.answered_at,
            "answered",
            wait_ms=record.wait_ms,
            agent_id=record.agent_id,
            talk_ms=record.talk_ms,
            hold_ms=record.hold_ms,
            holds=record.holds,
            wrap_up_ms=record.wrap_up_ms,
        )


@dataclass(frozen=True, slots=True)
class CdrState:
    """Drafts of the contacts in progress, by (tenant, contact id); a copy-on-write dict."""

    drafts: Mapping[tuple[str, str], ContactDraft] = field(default_factory=dict)


_Step = tuple[ContactDraft, tuple[QueueLeg, ...], ContactRecord | None]


def _legs(leg: QueueLeg | None) -> tuple[QueueLeg, ...]:
    return () if leg is None else (leg,)


def _step(d: ContactDraft, body: object, now: int) -> _Step:
    """The draft after `body`, the legs it closes, and the record when it finishes the contact."""
    match body:
        case ContactArrived(channel=channel, ani=ani, dnis=dnis):
            return replace(d, channel=channel, ani=ani, dnis=dnis, arrived_at=now), (), None
        case ContactQueued(queue_id=queue_id, priority=priority, waiting_since=since):
            # a leg still open (not expected: an overflow closes it) was left for this queue
            closed = d.left("overflowed", now, now - d.queued_at, queue_id)
            leg = OpenLeg(d.legs + 1, queue_id, priority, now)
            # an overflowed contact's record names its last queue; its wait began earlier
            d = replace(
                d, queue_id=queue_id, priority=priority, queued_at=since or now, legs=leg.leg, open_leg=leg
            )
            return d, _legs(closed), None
        case ContactOverflowed(from_queue=from_queue, to_queue=to_queue) if to_queue:
            # moved to another queue, its wait going on; an overflow without a target queue
            # (voicemail, message) leaves the leg open for the ContactEnded that follows
            closed = d.left("overflowed", now, now - d.queued_at, to_queue)
            if closed is None or closed.queue_id != from_queue:
                return d, (), None
            return replace(d, open_leg=None), (closed,), None
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
            return d, (), d.record(now, "")
        case ContactOffered():
            return replace(d, offers=d.offers + 1), (), None
        case ContactConnected(agent_id=agent_id, wait_ms=wait_ms):
            d = replace(d, answered=True, answered_at=now, agent_id=agent_id, wait_ms=wait_ms)
            return d, (), None
        case ContactHeld():
            if d.on_hold:
                return d, (), None
            return replace(d, on_hold=True, held_since=now, holds=d.holds + 1), (), None
        case ContactResumed():
            return d.released(now), (), None
        case ContactEnded(reason=reason, party=party, wait_ms=wait_ms):
            outcome = "answered" if d.answered else reason
            d = replace(d.released(now), ended_at=now, outcome=outcome, end_party=party, wait_ms=wait_ms)
            if d.answered:  # the answered leg waits for wrap-up
                return d, (), None
            return d, _legs(d.left(reason, now, wait_ms)), d.record(now, "")
        case WrapUpCompleted(disposition=disposition):
            record = d.record(now, disposition)
            return d, _legs(d.handled(record)), record
        case _:
            return d, (), None


class ContactRecorder:
    """Processor `cdr`: contact events in; one `ContactRecord` per finished contact and one
    `QueueLeg` per stint in a queue out."""

    name = "cdr"
    version = 2
    inputs: tuple[str, ...] = ("cc.contact-events",)
    outputs: tuple[str, ...] = ("cc.cdr", "cc.contact-legs")

    def initial_state(self) -> CdrState:
        return CdrState()

    def process(self, state: CdrState, message: Message[Any]) -> tuple[CdrState, Sequence[Message[Any]]]:
        contact_id = getattr(message.body, "contact_id", None)
        if not isinstance(contact_id, str):
            return state, ()
        key = (message.envelope.tenant, contact_id)
        draft = state.drafts.get(key) or ContactDraft(contact_id)
        draft, legs, record = _step(draft, message.body, message.envelope.occurred_at)
        # the CDR keeps index 0 (its id predates legs); legs take 1, 2, … and come first
        out: list[Message[Any]] = [derive(message, leg, i) for i, leg in enumerate(legs, 1)]
        drafts = dict(state.drafts)
        if record is None:
            drafts[key] = draft
        else:
            drafts.pop(key, None)
            out.append(derive(message, record, 0))
        return CdrState(drafts), out
