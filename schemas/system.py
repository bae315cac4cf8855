"""System messages: command rejections (`cc.command-results`) and dead letters (`cc.dead-letter`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CommandRejected", "DeadLetter"]


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """A well-formed command the decider refused in the current state (a conflict).

    `code` is a stable machine-readable code (e.g. "agent_not_ready"); `reason` a sentence.
    """

    command_id: str
    command_type: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input record that could not be decoded or validated, kept whole with the reason."""

    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes
    value: bytes
    processor: str
    error: str
    reason: str
