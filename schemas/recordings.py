"""Recording events (public topic `cc.recording-events`, keyed by tenant): what ccx decided
about call recordings — their lifecycle, where they are stored, the retention rules in force,
legal holds, expiry and deletion. Decided by `processors.recordings` (docs/recordings.md).

The four lifecycle events are named `CallRecording*`: the switch facts they are decided
from (`schemas.telephony.RecordingStarted` …) own the plain names. Times are the envelope's
`occurred_at` (ms since the epoch): a `CallRecordingStarted`'s is when the recording started.
Durations are ms. `recording_id` is `<channel uniqueid>-r<n>` (the n-th recording of that
channel); `contact_id` is the switch's call id (Asterisk's Linkedid), which is the contact id
when ccx routes (docs/telephony.md, mode 1).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CallRecordingPaused",
    "CallRecordingResumed",
    "CallRecordingStarted",
    "CallRecordingStopped",
    "LegalHoldPlaced",
    "LegalHoldReleased",
    "RecordingDeleted",
    "RecordingExpired",
    "RecordingStored",
    "RetentionRuleDefined",
]


@dataclass(frozen=True, slots=True)
class CallRecordingStarted:
    """The switch started recording `channel` of the call into `file` (the switch's path,
    "" when it did not say). `agent_id` and `queue_id` are as known when it started ("" if
    not yet: a recording started before the call reached an agent)."""

    recording_id: str
    contact_id: str
    channel: str
    file: str
    agent_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class CallRecordingPaused:
    """The recording was muted; `reason` "card_data" (card numbers are read out) or "manual"."""

    recording_id: str
    contact_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallRecordingResumed:
    """The recording was unmuted after a pause of `paused_ms`."""

    recording_id: str
    contact_id: str
    paused_ms: int


@dataclass(frozen=True, slots=True)
class CallRecordingStopped:
    """The switch stopped the recording: it ran `duration_ms` (start to stop), of which
    `paused_ms` muted. `agent_ids` are every agent connected to the call while it ran, in the
    order they connected; `queue_id` the call's last queue ("" if it never queued)."""

    recording_id: str
    contact_id: str
    file: str
    duration_ms: int
    paused_ms: int
    agent_ids: tuple[str, ...]
    queue_id: str


@dataclass(frozen=True, slots=True)
class RecordingStored:
    """The storage edge reported the file landed at `location` (a URI: `file:///…`,
    `s3://bucket/key`) with `size_bytes` and `checksum` ("sha256:<hex>")."""

    recording_id: str
    contact_id: str
    location: str
    size_bytes: int
    checksum: str


@dataclass(frozen=True, slots=True)
class RetentionRuleDefined:
    """Recordings of `queue_id` ("*": of every queue without a rule of its own, and of calls
    that never queued) are kept `keep_days` days from their start; 0 keeps them forever.
    `version` counts the definitions of this rule (1 for the first)."""

    queue_id: str
    keep_days: int
    version: int


@dataclass(frozen=True, slots=True)
class RecordingExpired:
    """The recording outlived its retention: `rule` names the rule's queue ("*" for the
    wildcard) with its `keep_days`; it was due at `due_at` (ms). A `RecordingDeleted` follows."""

    recording_id: str
    contact_id: str
    queue_id: str
    rule: str
    keep_days: int
    due_at: int


@dataclass(frozen=True, slots=True)
class RecordingDeleted:
    """The recording is deleted: the storage edge removes the file at `location` ("" if it was
    never stored). `by` is "retention" or who asked; `reason` says why."""

    recording_id: str
    contact_id: str
    location: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class LegalHoldPlaced:
    """The recordings of `contact_id` (present and future) are held for `case_ref`: they
    neither expire nor can be deleted until every hold on the contact is released."""

    contact_id: str
    case_ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class LegalHoldReleased:
    """The hold `case_ref` on `contact_id`'s recordings was released."""

    contact_id: str
    case_ref: str
