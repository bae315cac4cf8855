"""Dead-lettering: the `DeadLetter` message for an input record a processor could not take.

The envelope is deterministic, so a replay of the log derives the very same dead letter:
the event id is derived from the processor and the record's topic/partition/offset, the
time is the last good time the runner saw on that partition (0 before any), and the tenant
is the decoded message's, else the record key when it is valid UTF-8, else "unknown".
"""

from __future__ import annotations

from schemas.envelope import Envelope, Message, derive_event_id
from schemas.system import DeadLetter
from streams.ports import Record

__all__ = ["UNKNOWN_TENANT", "dead_letter", "source_id"]

UNKNOWN_TENANT = "unknown"


def source_id(record: Record) -> str:
    """`topic/partition/offset`: where a record sits in the log."""
    return f"{record.topic}/{record.partition}/{record.offset}"


def _tenant_from_key(key: bytes) -> str:
    try:
        return key.decode("utf-8") or UNKNOWN_TENANT
    except UnicodeDecodeError:
        return UNKNOWN_TENANT


def dead_letter(
    record: Record,
    processor: str,
    error: str,
    reason: str,
    *,
    occurred_at: int = 0,
    cause: Message[object] | None = None,
) -> Message[DeadLetter]:
    """The dead letter of `record` for `processor`; `cause` is the decoded input, if any."""
    where = source_id(record)
    env = Envelope(
        event_id=derive_event_id(f"{processor}@{where}", 0),
        tenant=cause.envelope.tenant if cause is not None else _tenant_from_key(record.key),
        occurred_at=occurred_at,
        correlation_id=cause.envelope.correlation_id if cause is not None else where,
        causation_id=cause.envelope.event_id if cause is not None else None,
        actor="system",
    )
    body = DeadLetter(
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=record.key,
        value=record.value,
        processor=processor,
        error=error,
        reason=reason,
    )
    return Message(env, body)
