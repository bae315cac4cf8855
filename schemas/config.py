"""Configuration events (topic `cc.config-events`): queues, agents, skills, schedules and
blocked numbers as the ACD accepted them.

Configuration lives in the log, so "which rules applied at 10:03?" is a replay question.
A queue's `rule_version` counts its definitions; offers name the version they applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.routing import Capacity, Membership, OverflowRule, RelaxStep, SkillLevel, Window

__all__ = [
    "AgentDefined",
    "NumberBlocked",
    "NumberUnblocked",
    "QueueDefined",
    "ScheduleDefined",
    "SkillDefined",
    "AgentQueuesChanged",
    "DispositionDefined",
]


@dataclass(frozen=True, slots=True)
class QueueDefined:
    """A queue's accepted definition (fields as `DefineQueue`) and its rule version."""

    queue_id: str
    name: str
    sl_threshold_s: int
    short_abandon_s: int
    ring_timeout_s: int
    wrap_up_s: int
    strategy: str
    rule_version: int
    priority: int = 0
    priority_aging_s: int = 0
    required_skills: tuple[SkillLevel, ...] = ()
    max_tier: int = -1
    relax: tuple[RelaxStep, ...] = ()
    hours: str = ""
    max_waiting: int = 0
    overflow: tuple[OverflowRule, ...] = ()
    sticky_s: int = 0
    rona_not_ready: bool = True
    auto_ready: bool = True


@dataclass(frozen=True, slots=True)
class AgentDefined:
    """An agent's accepted definition; `memberships` is complete (every queue in `queues`
    has one), `capacity` names every channel the agent may take, `team` its team ("")."""

    agent_id: str
    name: str
    queues: tuple[str, ...]
    memberships: tuple[Membership, ...] = ()
    skills: tuple[SkillLevel, ...] = ()
    capacity: tuple[Capacity, ...] = ()
    team: str = ""


@dataclass(frozen=True, slots=True)
class AgentQueuesChanged:
    """A supervisor moved the agent: it now serves `queues` (memberships kept for those it
    served before, tier 0 for the others) instead of `previous`."""

    agent_id: str
    queues: tuple[str, ...]
    previous: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DispositionDefined:
    """A wrap-up disposition code, allowed in `queues` (() = every queue)."""

    code: str
    name: str
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SkillDefined:
    skill_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ScheduleDefined:
    schedule_id: str
    name: str
    timezone: str
    windows: tuple[Window, ...]
    holidays: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberBlocked:
    number: str
    reason: str


@dataclass(frozen=True, slots=True)
class NumberUnblocked:
    number: str
