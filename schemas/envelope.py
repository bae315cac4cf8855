"""The envelope every command and event travels in, and the `Message` that pairs it with a body.

Ids and times are never invented here: edges set them on commands, and the runner derives
the envelopes of a decider's events from the command that caused them (`derive`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

__all__ = ["B", "Envelope", "Message", "derive", "derive_event_id", "iso_ms"]

B = TypeVar("B")

# Fixed namespace: derived event ids are uuid5(namespace, cause id + index), so a replay
# of the log derives exactly the ids the first run derived.
_NAMESPACE = uuid.UUID("6f1c2a4e-8f0b-4c7e-9d55-3c2b1a0f9e77")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every message carries besides its body.

    `occurred_at` is milliseconds since the Unix epoch (UTC). `correlation_id` ties every
    message of one conversation together (for contacts: the contact id); `causation_id`
    is the id of the message that caused this one (None for messages from an edge).
    `actor` names who asked (an agent, supervisor, the simulator, the switch, the system).
    """

    event_id: str
    tenant: str
    occurred_at: int
    correlation_id: str
    causation_id: str | None = None
    actor: str = "system"


@dataclass(frozen=True, slots=True)
class Message(Generic[B]):
    """An envelope and a body (a command, an event or a record)."""

    envelope: Envelope
    body: B

    @property
    def type(self) -> str:
        return type(self.body).__name__


def derive_event_id(cause_id: str, index: int) -> str:
    """The id of the `index`-th message caused by `cause_id`: deterministic, UUID-shaped."""
    return str(uuid.uuid5(_NAMESPACE, f"{cause_id}#{index}"))


def derive(cause: Message[object], body: B, index: int) -> Message[B]:
    """The message for `body` caused by `cause`: same tenant, time and correlation."""
    env = cause.envelope
    return Message(
        Envelope(
            event_id=derive_event_id(env.event_id, index),
            tenant=env.tenant,
            occurred_at=env.occurred_at,
            correlation_id=env.correlation_id,
            causation_id=env.event_id,
            actor=env.actor,
        ),
        body,
    )


def iso_ms(ms: int) -> str:
    """`occurred_at`-style ms as UTC ISO 8601 with milliseconds ("2026-01-05T08:01:45.293Z");
    pure: formats the number, reads no clock."""
    stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}Z"
