"""The queue leg of a hand-made CDR, for tests that write CDRs straight into the warehouse.

A contact that waited in one queue has one leg with the CDR's numbers (`schemas.legs`);
a contact that never reached a queue (`queued_at == 0`) has none.
"""

from __future__ import annotations

from schemas.cdr import ContactRecord
from schemas.legs import QueueLeg


def leg_of(cdr: ContactRecord, leg: int = 1, to_queue: str = "") -> QueueLeg:
    return QueueLeg(
        contact_id=cdr.contact_id,
        leg=leg,
        queue_id=cdr.queue_id,
        channel=cdr.channel,
        priority=cdr.priority,
        queued_at=cdr.queued_at,
        left_at=cdr.answered_at or cdr.ended_at or cdr.queued_at + cdr.wait_ms,
        outcome=cdr.outcome,
        wait_ms=cdr.wait_ms,
        agent_id=cdr.agent_id,
        talk_ms=cdr.talk_ms,
        hold_ms=cdr.hold_ms,
        holds=cdr.holds,
        wrap_up_ms=cdr.wrap_up_ms,
        to_queue=to_queue,
    )


def legs_of(cdrs: list[ContactRecord]) -> list[QueueLeg]:
    return [leg_of(c) for c in cdrs if c.queued_at > 0]
