"""Routing rule records nested inside configuration commands and events (not messages).

They describe queues, agents and schedules for the ACD: the skills a queue or contact
requires, an agent's membership in a queue (tier, weight, schedule), per-channel capacity,
relaxation steps over waiting time, overflow rules and opening-hour windows. They are
plain frozen dataclasses with defaults, so they appear as nested Avro records in the
schemas of the messages that carry them and can grow backward compatibly.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CHANNELS",
    "OVERFLOW_ACTIONS",
    "OVERFLOW_WHEN",
    "Capacity",
    "Membership",
    "OverflowRule",
    "RelaxStep",
    "SkillLevel",
    "Window",
]

CHANNELS = ("voice", "callback", "chat", "email")
OVERFLOW_WHEN = ("wait", "no_agents", "full", "closed")
OVERFLOW_ACTIONS = ("queue", "voicemail", "callback", "message")


@dataclass(frozen=True, slots=True)
class SkillLevel:
    """A skill and its level 1 to 5: what an agent has, or the minimum a queue or contact needs."""

    skill: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Membership:
    """An agent's place in a queue.

    `tier` is Asterisk's penalty: agents of a higher tier are offered a contact only when no
    agent of a lower tier is available (and only up to the tier the queue's relaxation
    allows by then). `weight` weighs the `weighted_random` strategy. `schedule` names a
    schedule (`DefineSchedule`) outside of whose hours the agent is not a member ("" = always).
    """

    queue_id: str
    tier: int = 0
    weight: int = 1
    schedule: str = ""


@dataclass(frozen=True, slots=True)
class Capacity:
    """How many contacts of `channel` an agent handles at once (voice blocks all others)."""

    channel: str
    max: int = 1


@dataclass(frozen=True, slots=True)
class RelaxStep:
    """From `after_s` of waiting: agents up to `max_tier` are eligible and required skill
    levels drop by `skill_drop` (never below 1). Asterisk queuerules / Twilio workflow steps."""

    after_s: int
    max_tier: int = 0
    skill_drop: int = 0


@dataclass(frozen=True, slots=True)
class OverflowRule:
    """When a contact leaves its queue by rule, and where it goes.

    `when`: "wait" (waited `after_s`), "no_agents" (no member logged in), "full" (the queue
    holds `max_waiting` contacts) or "closed" (outside the queue's hours). `action`: "queue"
    (move to queue `target`, keeping its place), "voicemail", "callback" (offer the caller a
    callback, the contact keeps waiting) or "message" (play message `target` and end).
    """

    when: str
    action: str
    target: str = ""
    after_s: int = 0


@dataclass(frozen=True, slots=True)
class Window:
    """Open hours on one weekday (0 = Monday) from `start_min` to `end_min` minutes after
    local midnight (end exclusive; 1440 = end of day)."""

    day: int
    start_min: int
    end_min: int
