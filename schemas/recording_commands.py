"""Recording commands (on `cc.commands`, keyed by tenant, namespace `ccx.command`): retention
rules, deletion on request, legal holds, and the storage edge's report that a file landed.
Decided by `processors.recordings`; the ACD ignores them (docs/recordings.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DefineRetention",
    "DeleteRecording",
    "PlaceLegalHold",
    "RecordingStoredReported",
    "ReleaseLegalHold",
]


@dataclass(frozen=True, slots=True)
class DefineRetention:
    """Keep the recordings of `queue_id` ("*": every queue without its own rule) `keep_days`
    days from their start (0: forever), then expire and delete them."""

    queue_id: str
    keep_days: int


@dataclass(frozen=True, slots=True)
class DeleteRecording:
    """Delete a recording now, e.g. on a person's request (GDPR erasure); `requested_by`
    names who asked (else the envelope's actor)."""

    recording_id: str
    reason: str
    requested_by: str = ""


@dataclass(frozen=True, slots=True)
class PlaceLegalHold:
    """Hold every recording of `contact_id` for `case_ref`: no expiry, no deletion."""

    contact_id: str
    case_ref: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseLegalHold:
    """Release the hold `case_ref` on `contact_id`'s recordings."""

    contact_id: str
    case_ref: str


@dataclass(frozen=True, slots=True)
class RecordingStoredReported:
    """A fact from the storage edge: the recording's file is at `location` (a URI) with
    `size_bytes` and `checksum`."""

    recording_id: str
    location: str
    size_bytes: int
    checksum: str
