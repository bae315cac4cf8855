"""The queue leg (public topic `cc.contact-legs`): one record per stint of a contact in a queue.

A contact that waits in one queue has one leg; a contact moved by overflow has one leg per
queue it waited in (METRICS.md: an overflowed contact is offered in both). A contact that
never waited in a queue (blocked, or refused at the door as "closed" or "full") has no
leg. A leg is emitted when its numbers are final: an unanswered leg when the contact
leaves the queue, an answered leg when the agent's wrap-up completed (just before the
contact's CDR). Times are ms since the epoch, durations ms.

`leg` numbers a contact's legs 1, 2, … in queue order. `outcome` is how the contact left
this queue: "answered", "abandoned", "overflowed" (moved to `to_queue` by a rule),
"timed_out", "callback", "closed" or "full" (a rule ended it). `queued_at` is when the
contact entered *this* queue (the interval it counts in); `left_at` when it left it (for
an answered leg: when it was connected). `wait_ms` is the contact's wait when it left this
queue, counted from when its wait began (an overflowed contact keeps its wait, a callback
keeps its caller's), as the contact events report it — so it can exceed
`left_at - queued_at`. `agent_id` and the handling times (`talk_ms` without hold,
`hold_ms`, `holds`, `wrap_up_ms`, computed as in the CDR) are set on the answered leg
only, `to_queue` on an overflowed leg only ("" otherwise).
Classification (short abandon, within service level) is not stored: reports and the
wallboard derive it from `wait_ms` with the queue's thresholds (`processors.metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QueueLeg"]


@dataclass(frozen=True, slots=True)
class QueueLeg:
    """One stint of a contact in one queue: when it entered and left, how, and its handling."""

    contact_id: str
    leg: int
    """1 for the contact's first queue, 2 for the queue it overflowed to, …"""
    queue_id: str
    channel: str
    priority: int
    queued_at: int
    left_at: int
    outcome: str
    wait_ms: int
    agent_id: str
    talk_ms: int
    hold_ms: int
    holds: int
    wrap_up_ms: int
    to_queue: str
