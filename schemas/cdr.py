"""The contact detail record (public topic `cc.cdr`): one per contact, when it is finished.

A contact is finished when it ended without an agent, or when its agent's wrap-up
completed. Times are ms since the epoch (0 = never happened); durations are ms.
`outcome` is "answered", or the reason the contact ended unanswered ("abandoned",
"timed_out", "callback", "closed", "full"), or "blocked" (refused: a blocked number).
Outcome classification (short abandon, within service level) is not stored: reports
derive it from `wait_ms` with the queue's current thresholds (METRICS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ContactRecord"]


@dataclass(frozen=True, slots=True)
class ContactRecord:
    contact_id: str
    queue_id: str
    channel: str
    ani: str
    dnis: str
    priority: int
    arrived_at: int
    queued_at: int
    answered_at: int
    ended_at: int
    finished_at: int
    outcome: str
    end_party: str
    agent_id: str
    offers: int
    wait_ms: int
    talk_ms: int
    hold_ms: int
    holds: int
    wrap_up_ms: int
    disposition: str
    agents: tuple[str, ...] = ()
    """Every agent who had the caller, in turn (transfers, conferences); `agent_id` is the last."""
    transfers: int = 0
    """Blind and consult transfers of the contact."""
