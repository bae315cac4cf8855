"""The recordings decider: call recordings from the switch's facts, retention, legal holds,
expiry and deletion, on `cc.recording-events` (docs/recordings.md).

Inputs: `cc.telephony` (the switch's `Recording*` facts; `CallHungUp` closes a recording the
switch did not stop; queue facts say who is on the call), `cc.contact-events` (the ACD's
`ContactQueued` / `ContactConnected`: queue and agent of a call ccx routes, whose contact id
is the call id) and `cc.commands` (`DefineRetention`, `DeleteRecording`, legal holds, the
storage edge's `RecordingStoredReported`, and `Tick`) and `cc.switch-actions` (only
`PauseRecording` / `ResumeRecording`: the switch's `RecordingPaused` carries no reason, so
the reason of the pause action asked for the channel — "card_data" from the IVR's sensitive
nodes — becomes `CallRecordingPaused.reason`; a pause nobody asked for is "manual").
Everything else on them is ignored.

A recording is identified by the channel it records: `<uniqueid>-r<n>`, the n-th recording
of that channel. Its contact is the fact's `call_id`. Time is the input's `occurred_at`.
On each `Tick`, every stored recording whose retention ran out (its queue's rule, else the
"*" rule; none or 0 days: kept forever) and whose contact is on no legal hold gets one
`RecordingExpired` and one `RecordingDeleted`; the deletion removes it from the state, so
no later tick (nor a replay, which decides the same inputs in the same order) repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.recordings_state import (
    PAUSED,
    RECORDING,
    STORED,
    RecState,
    TenantRecs,
    apply,
    channel_key,
    learn,
)
from schemas import telephony
from schemas.commands import Tick
from schemas.envelope import Message
from schemas.recording_commands import (
    DefineRetention,
    DeleteRecording,
    PlaceLegalHold,
    RecordingStoredReported,
    ReleaseLegalHold,
)
from schemas.recordings import (
    CallRecordingPaused,
    CallRecordingResumed,
    CallRecordingStarted,
    CallRecordingStopped,
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordingDeleted,
    RecordingExpired,
    RecordingStored,
    RetentionRuleDefined,
)

__all__ = ["DAY_MS", "MAX_KEEP_DAYS", "REJECTION_CODES", "Recordings", "RecordingsProcessor", "rule_for"]

DAY_MS = 86_400_000
MAX_KEEP_DAYS = 36_600
REJECTION_CODES = (
    "recording_not_found",
    "recording_deleted",
    "recording_in_progress",
    "legal_hold",
    "hold_already_placed",
    "hold_not_found",
)


def rule_for(t: TenantRecs, queue_id: str) -> tuple[str, int] | None:
    """The retention rule for a queue's recordings: (rule name, keep_days), or None."""
    for name in (queue_id, "*"):
        days = t.rules.get(name) if name else None
        if days is not None:
            return name, days
    return None


def _nonempty(value: str, name: str) -> None:
    if not value:
        raise Invalid(f"{name} must not be empty")


def _on_fact(t: TenantRecs, fact: Any, now: int) -> list[object]:
    match fact:
        case telephony.RecordingStarted(call_id=cid, channel=ch, uniqueid=uid, file=file):
            _nonempty(cid, "call_id")
            key = channel_key(uid, ch)
            _nonempty(key, "uniqueid")
            if key in t.open:
                return []  # already recording this channel: nothing new
            call = t.calls.get(cid)
            agent = call.agent_ids[-1] if call and call.agent_ids else ""
            rid = f"{key}-r{t.counts.get(key, 0) + 1}"
            return [CallRecordingStarted(rid, cid, ch, file, agent, call.queue_id if call else "")]
        case telephony.RecordingPaused() | telephony.RecordingResumed() | telephony.RecordingStopped():
            running = t.open.get(channel_key(fact.uniqueid, fact.channel))
            if running is None:
                if isinstance(fact, telephony.RecordingStopped):
                    return []  # already closed (by the hang-up): nothing to stop
                raise Invalid(f"channel {fact.channel!r} of call {fact.call_id!r} has no recording running")
            rid, rec = running, t.recordings[running]
            if isinstance(fact, telephony.RecordingPaused):
                reason = getattr(fact, "reason", "") or t.pause_reasons.get(fact.channel) or "manual"
                return [] if rec.status == PAUSED else [CallRecordingPaused(rid, rec.contact_id, reason)]
            if isinstance(fact, telephony.RecordingResumed):
                return (
                    []
                    if rec.status == RECORDING
                    else [CallRecordingResumed(rid, rec.contact_id, now - rec.paused_since)]
                )
            return [_stopped(t, rid, now, fact.file)]
        case telephony.CallHungUp(uniqueid=uid, channel=ch):
            closing = t.open.get(channel_key(uid, ch))
            return [] if closing is None else [_stopped(t, closing, now, "")]
    return []


def _stopped(t: TenantRecs, rid: str, now: int, file: str) -> CallRecordingStopped:
    rec = t.recordings[rid]
    paused = rec.paused_ms + (now - rec.paused_since if rec.status == PAUSED else 0)
    return CallRecordingStopped(
        rid, rec.contact_id, file or rec.file, now - rec.started_at, paused, rec.agent_ids, rec.queue_id
    )


def _recording(t: TenantRecs, rid: str) -> Any:
    _nonempty(rid, "recording_id")
    rec = t.recordings.get(rid)
    if rec is None:
        if rid in t.deleted:
            raise Rejected("recording_deleted", f"recording {rid!r} was deleted by {t.deleted[rid]}")
        raise Rejected("recording_not_found", f"no recording {rid!r}")
    if rec.status in (RECORDING, PAUSED):
        raise Rejected("recording_in_progress", f"recording {rid!r} is still {rec.status}")
    return rec


def _on_command(t: TenantRecs, cmd: Any, now: int, actor: str) -> list[object]:
    match cmd:
        case DefineRetention(queue_id=q, keep_days=days):
            _nonempty(q, "queue_id")
            if not 0 <= days <= MAX_KEEP_DAYS:
                raise Invalid(f"keep_days must be 0 (forever) to {MAX_KEEP_DAYS}, not {days}")
            return [RetentionRuleDefined(q, days, t.rule_versions.get(q, 0) + 1)]
        case DeleteRecording(recording_id=rid, reason=reason, requested_by=by):
            _nonempty(reason, "reason")
            rec = _recording(t, rid)
            if rec.contact_id in t.holds:
                refs = ", ".join(t.holds[rec.contact_id])
                raise Rejected("legal_hold", f"recording {rid!r} is on legal hold ({refs})")
            return [RecordingDeleted(rid, rec.contact_id, rec.location, by or actor, reason)]
        case PlaceLegalHold(contact_id=cid, case_ref=ref, reason=reason):
            _nonempty(cid, "contact_id")
            _nonempty(ref, "case_ref")
            if ref in t.holds.get(cid, ()):
                raise Rejected("hold_already_placed", f"contact {cid!r} is already held for {ref!r}")
            return [LegalHoldPlaced(cid, ref, reason)]
        case ReleaseLegalHold(contact_id=cid, case_ref=ref):
            _nonempty(cid, "contact_id")
            _nonempty(ref, "case_ref")
            if ref not in t.holds.get(cid, ()):
                raise Rejected("hold_not_found", f"contact {cid!r} is not held for {ref!r}")
            return [LegalHoldReleased(cid, ref)]
        case RecordingStoredReported(recording_id=rid, location=loc, size_bytes=size, checksum=checksum):
            _nonempty(loc, "location")
            if "://" not in loc:
                raise Invalid(f"location must be a URI (file:///…, s3://bucket/key), not {loc!r}")
            if size < 0:
                raise Invalid(f"size_bytes must be >= 0, not {size}")
            _nonempty(checksum, "checksum")
            rec = _recording(t, rid)
            if rec.status == STORED and rec.location == loc:
                return []  # reported again (the edge retried): nothing new
            return [RecordingStored(rid, rec.contact_id, loc, size, checksum)]
        case Tick():
            return _expire(t, now)
    return []


def _expire(t: TenantRecs, now: int) -> list[object]:
    out: list[object] = []
    for rec in t.recordings.values():
        if rec.status != STORED or rec.contact_id in t.holds:
            continue
        rule = rule_for(t, rec.queue_id)
        if rule is None or rule[1] == 0:
            continue
        due = rec.started_at + rule[1] * DAY_MS
        if now >= due:
            reason = f"retention rule {rule[0]!r}: {rule[1]} days"
            out.append(
                RecordingExpired(rec.recording_id, rec.contact_id, rec.queue_id, rule[0], rule[1], due)
            )
            out.append(RecordingDeleted(rec.recording_id, rec.contact_id, rec.location, "retention", reason))
    return out


class Recordings:
    """The decider (`processors.decider.Decider`); `learn` folds facts that decide nothing."""

    name = "recordings"

    def initial_state(self) -> RecState:
        return RecState()

    def decide(self, state: RecState, command: Message[Any]) -> Sequence[object]:
        env, body = command.envelope, command.body
        t = state.tenant(env.tenant)
        if type(body).__module__ == "schemas.telephony":
            return _on_fact(t, body, env.occurred_at)
        return _on_command(t, body, env.occurred_at, env.actor)

    def evolve(self, state: RecState, event: Message[Any]) -> RecState:
        env = event.envelope
        return state.with_tenant(env.tenant, apply(state.tenant(env.tenant), event.body, env.occurred_at))

    def learn(self, state: RecState, fact: Message[Any]) -> RecState:
        t = state.tenant(fact.envelope.tenant)
        learned = learn(t, fact.body)
        return state if learned is t else state.with_tenant(fact.envelope.tenant, learned)


@dataclass(frozen=True)
class RecordingsProcessor:
    """The recordings decider as the runner drives it: decide and fold, then learn."""

    name: str = "recordings"
    version: int = 1
    inputs: tuple[str, ...] = ("cc.telephony", "cc.contact-events", "cc.commands", "cc.switch-actions")
    outputs: tuple[str, ...] = ("cc.recording-events", "cc.command-results")

    def initial_state(self) -> RecState:
        return RecState()

    def process(self, state: RecState, message: Message[Any]) -> tuple[RecState, Sequence[Message[Any]]]:
        decider = Recordings()
        state, out = DeciderProcessor(decider, self.inputs, self.version, self.outputs).process(
            state, message
        )
        return decider.learn(state, message), out
