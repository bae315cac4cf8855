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

**Hand-overs.** A contact may be handled by several agents (a transfer, a conference).
Its record is emitted once, when it has ended and the last of its agents' wrap-ups has
completed; `agent_id` is the agent who had the caller at the end, `disposition` that
agent's, `talk_ms` the caller's time connected to any agent (without hold), summed over
the agents it talked to in turn. A blind transfer to a queue closes the answered leg at
the transfer (outcome "answered", `to_queue` the queue transferred to, the talk of that
stint, `wrap_up_ms` 0: the transferring agent's wrap-up is not that leg's) and opens a new
leg in the target queue. Transfers to an agent and consults stay in the same leg.

A contact's draft is dropped when its record is emitted, so the state holds only
contacts in progress.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from schemas.cdr import ContactRecord
from schemas.contact import (
    ConferenceStarted,
    ContactArrived,
    ContactBlocked,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactOverflowed,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    WrapUpCompleted,
    WrapUpStarted,
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
    answered_at: int = 0
    answered: bool = False
    """Whether an agent answered in this stint (`answered_at` may be 0: a recording without times)."""
    agent_id: str = ""
    wait_ms: int = 0
    talk_base: int = 0
    """The contact's connected time, hold and holds before this leg was answered."""
    hold_base: int = 0
    holds_base: int = 0


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
    connected_ms: int = 0
    """Time connected to an agent in finished stretches (hold included)."""
    connected_since: int = -1
    """When the current stretch with an agent began (-1: none)."""
    ended: bool = False
    wrapping: tuple[str, ...] = ()
    """Agents whose wrap-up of the contact started and has not completed."""
    agents: tuple[str, ...] = ()
    transfers: int = 0
    disposition: str = ""

    def disconnected(self, now: int) -> ContactDraft:
        """The draft with the caller's stretch with an agent (if any) closed at `now`."""
        if self.connected_since < 0:
            return self
        return replace(self, connected_ms=self.connected_ms + now - self.connected_since, connected_since=-1)

    def with_agent(self, agent_id: str) -> ContactDraft:
        agents = self.agents if agent_id in self.agents else (*self.agents, agent_id)
        return replace(self, agent_id=agent_id, agents=agents)

    def released(self, now: int) -> ContactDraft:
        """The draft with a hold in progress closed at `now`."""
        if not self.on_hold:
            return self
        return replace(self, on_hold=False, hold_ms=self.hold_ms + now - self.held_since)

    def record(self, finished_at: int, disposition: str) -> ContactRecord:
        talk = self.connected_ms - self.hold_ms if self.answered else 0
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
            agents=self.agents,
            transfers=self.transfers,
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
        if self.open_leg is None or self.open_leg.answered:
            return None
        return self._closed(now, outcome, wait_ms=wait_ms, to_queue=to_queue)

    def handled(self, wrap_up_ms: int, to_queue: str = "") -> QueueLeg | None:
        """The open, answered leg with its handling times (None: no such leg)."""
        leg = self.open_leg
        if leg is None or not leg.answered:
            return None
        hold = self.hold_ms - leg.hold_base
        return self._closed(
            leg.answered_at,
            "answered",
            wait_ms=leg.wait_ms,
            agent_id=leg.agent_id,
            talk_ms=max(0, self.connected_ms - leg.talk_base - hold),
            hold_ms=hold,
            holds=self.holds - leg.holds_base,
            wrap_up_ms=wrap_up_ms,
            to_queue=to_queue,
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
            # a leg still open was left for this queue: answered (a blind transfer) or not (an
            # overflow closes it first, so not expected)
            closed = d.handled(0, queue_id) or d.left("overflowed", now, now - d.queued_at, queue_id)
            opened = OpenLeg(d.legs + 1, queue_id, priority, now)
            # an overflowed contact's record names its last queue; its wait began earlier
            queued_at = d.queued_at if d.answered else since or now
            d = replace(
                d, queue_id=queue_id, priority=priority, queued_at=queued_at, legs=opened.leg, open_leg=opened
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
            if not d.answered:
                d = replace(d, answered=True, answered_at=now, wait_ms=wait_ms)
            leg = d.open_leg
            if leg is not None and not leg.answered:
                leg = replace(
                    leg,
                    answered_at=now,
                    answered=True,
                    agent_id=agent_id,
                    wait_ms=wait_ms,
                    talk_base=d.connected_ms,
                    hold_base=d.hold_ms,
                    holds_base=d.holds,
                )
            d = replace(d.disconnected(now), connected_since=now, open_leg=leg)
            return d.with_agent(agent_id), (), None
        case ContactTransferred(to_agent=to_agent, mode=mode):
            d = replace(d.released(now), transfers=d.transfers + 1)
            if mode == "consult":
                return d.with_agent(to_agent), (), None
            return d.disconnected(now), (), None
        case ConferenceStarted(agents=agents):
            for agent in agents:
                d = d.with_agent(agent) if agent not in d.agents else d
            return d, (), None
        case WrapUpStarted(agent_id=agent_id):
            if agent_id in d.wrapping:
                return d, (), None
            return replace(d, wrapping=(*d.wrapping, agent_id)), (), None
        case ContactHeld():
            if d.on_hold:
                return d, (), None
            return replace(d, on_hold=True, held_since=now, holds=d.holds + 1), (), None
        case ContactResumed():
            return d.released(now), (), None
        case ContactEnded(reason=reason, party=party, wait_ms=wait_ms, agent_id=agent_id):
            outcome = "answered" if d.answered else reason
            d = replace(
                d.released(now).disconnected(now), ended=True, ended_at=now, outcome=outcome, end_party=party
            )
            d = d if d.answered else replace(d, wait_ms=wait_ms)
            legs = _legs(d.left(reason, now, wait_ms))
            if agent_id or d.wrapping:  # the record (and an answered leg) waits for wrap-up
                return d, legs, None
            # No agent to wrap up (an imported call answered by nobody named): finished now,
            # the answered leg with it.
            record = d.record(now, d.disposition)
            return d, (*legs, *_legs(d.handled(record.wrap_up_ms))), record
        case WrapUpCompleted(agent_id=agent_id, disposition=disposition):
            if agent_id == d.agent_id or not d.disposition:
                d = replace(d, disposition=disposition)
            d = replace(d, wrapping=tuple(a for a in d.wrapping if a != agent_id))
            if not d.ended or d.wrapping:
                return d, (), None
            record = d.record(now, d.disposition)
            return d, _legs(d.handled(record.wrap_up_ms)), record
        case _:
            return d, (), None


class ContactRecorder:
    """Processor `cdr`: contact events in; one `ContactRecord` per finished contact and one
    `QueueLeg` per stint in a queue out."""

    name = "cdr"
    version = 3  # 3: drafts track agents, stretches connected and wrap-ups (hand-overs)
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
