"""Configuration events (topic `cc.config-events`): queues and agents as the ACD accepted them.

Configuration lives in the log, so "which rules applied at 10:03?" is a replay question.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentDefined", "QueueDefined"]


@dataclass(frozen=True, slots=True)
class QueueDefined:
    queue_id: str
    name: str
    sl_threshold_s: int
    short_abandon_s: int
    ring_timeout_s: int
    wrap_up_s: int
    strategy: str
    rule_version: int


@dataclass(frozen=True, slots=True)
class AgentDefined:
    agent_id: str
    name: str
    queues: tuple[str, ...]
