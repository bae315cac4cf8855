"""The recordings decider's state and its fold: per tenant, the recordings not yet deleted,
the channels being recorded, what is known of each call (queue, agents), the retention
rules and the legal holds. `apply` folds a decided event and never fails; `learn` folds an
input fact that teaches the decider something without a decision (a queue, an agent)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from processors.pmap import PMap
from schemas.contact import ContactConnected, ContactEnded, ContactQueued
from schemas.recordings import (
    CallRecordingPaused,
    CallRecordingResumed,
    CallRecordingStarted,
    CallRecordingStopped,
    LegalHoldPlaced,
    LegalHoldReleased,
    RecordingDeleted,
    RecordingStored,
    RetentionRuleDefined,
)
from schemas.switch_actions import PauseRecording, ResumeRecording
from schemas.telephony import (
    CallHungUp,
    QueueCallerJoined,
    QueueMemberConnected,
    RecordingResumed,
    RecordingStopped,
)

__all__ = ["Call", "Rec", "RecState", "TenantRecs", "apply", "channel_key", "learn"]

RECORDING, PAUSED, STOPPED, STORED = "recording", "paused", "stopped", "stored"


def channel_key(uniqueid: str, channel: str) -> str:
    """Which channel a fact is about: its uniqueid (unique across restarts), else its name."""
    return uniqueid or channel


@dataclass(frozen=True, slots=True)
class Rec:
    recording_id: str
    contact_id: str
    key: str
    file: str
    queue_id: str
    agent_ids: tuple[str, ...]
    started_at: int
    status: str = RECORDING
    paused_since: int = 0
    paused_ms: int = 0
    location: str = ""


@dataclass(frozen=True, slots=True)
class Call:
    """What is known of a call: its last queue and the agents connected to it, in order."""

    queue_id: str = ""
    agent_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TenantRecs:
    recordings: PMap[Rec] = field(default_factory=PMap)
    open: PMap[str] = field(default_factory=PMap)
    """channel key -> the recording running on it."""
    counts: PMap[int] = field(default_factory=PMap)
    """channel key -> recordings of it so far (dropped when the channel hangs up)."""
    calls: PMap[Call] = field(default_factory=PMap)
    rules: PMap[int] = field(default_factory=PMap)
    """queue id or "*" -> keep_days."""
    rule_versions: PMap[int] = field(default_factory=PMap)
    holds: PMap[tuple[str, ...]] = field(default_factory=PMap)
    """contact id -> case refs holding its recordings."""
    deleted: PMap[str] = field(default_factory=PMap)
    """recording id -> who deleted it (tombstones, so a second delete is refused)."""
    pause_reasons: PMap[str] = field(default_factory=PMap)
    """channel name -> the reason of a `PauseRecording` switch action asked for it, until
    the channel's recording resumes, stops or the channel hangs up."""


@dataclass(frozen=True, slots=True)
class RecState:
    tenants: PMap[TenantRecs] = field(default_factory=PMap)

    def tenant(self, tenant: str) -> TenantRecs:
        return self.tenants.get(tenant) or TenantRecs()

    def with_tenant(self, tenant: str, t: TenantRecs) -> RecState:
        return RecState(self.tenants.set(tenant, t))


def _rec(t: TenantRecs, rid: str, **changes: object) -> TenantRecs:
    rec = t.recordings.get(rid)
    if rec is None:
        return t
    return replace(t, recordings=t.recordings.set(rid, replace(rec, **changes)))  # type: ignore[arg-type]


def apply(t: TenantRecs, event: object, now: int) -> TenantRecs:
    match event:
        case CallRecordingStarted(recording_id=rid, contact_id=cid, file=file):
            key, n = rid.rsplit("-r", 1)
            call = t.calls.get(cid) or Call()
            rec = Rec(rid, cid, key, file, call.queue_id, call.agent_ids, now)
            return replace(
                t,
                recordings=t.recordings.set(rid, rec),
                open=t.open.set(key, rid),
                counts=t.counts.set(key, int(n)),
            )
        case CallRecordingPaused(recording_id=rid):
            return _rec(t, rid, status=PAUSED, paused_since=now)
        case CallRecordingResumed(recording_id=rid, paused_ms=ms):
            was = t.recordings.get(rid)
            return _rec(t, rid, status=RECORDING, paused_ms=(was.paused_ms if was else 0) + ms)
        case CallRecordingStopped(recording_id=rid) as e:
            stopped = t.recordings.get(rid)
            t = _rec(
                t, rid, status=STOPPED, paused_ms=e.paused_ms, agent_ids=e.agent_ids, queue_id=e.queue_id
            )
            if stopped is not None and t.open.get(stopped.key) == rid:
                t = replace(t, open=t.open.delete(stopped.key))
            return t
        case RecordingStored(recording_id=rid, location=location):
            return _rec(t, rid, status=STORED, location=location)
        case RetentionRuleDefined(queue_id=q, keep_days=days, version=v):
            return replace(t, rules=t.rules.set(q, days), rule_versions=t.rule_versions.set(q, v))
        case RecordingDeleted(recording_id=rid, by=by):
            return replace(t, recordings=t.recordings.delete(rid), deleted=t.deleted.set(rid, by))
        case LegalHoldPlaced(contact_id=cid, case_ref=ref):
            return replace(t, holds=t.holds.set(cid, (*t.holds.get(cid, ()), ref)))
        case LegalHoldReleased(contact_id=cid, case_ref=ref):
            refs = tuple(r for r in t.holds.get(cid, ()) if r != ref)
            return replace(t, holds=t.holds.set(cid, refs) if refs else t.holds.delete(cid))
    return t  # RecordingExpired (a RecordingDeleted follows) and anything else change nothing


def _learn_call(t: TenantRecs, call_id: str, queue_id: str = "", agent_id: str = "") -> TenantRecs:
    if not call_id:
        return t
    call = t.calls.get(call_id) or Call()
    agents = call.agent_ids if not agent_id or agent_id in call.agent_ids else (*call.agent_ids, agent_id)
    call = Call(queue_id or call.queue_id, agents)
    t = replace(t, calls=t.calls.set(call_id, call))
    for rid in t.open.values():  # recordings running on the call learn it too
        rec = t.recordings.get(rid)
        if rec is not None and rec.contact_id == call_id:
            more = rec.agent_ids if not agent_id or agent_id in rec.agent_ids else (*rec.agent_ids, agent_id)
            t = _rec(t, rid, queue_id=queue_id or rec.queue_id, agent_ids=more)
    return t


def learn(t: TenantRecs, fact: object) -> TenantRecs:
    """Fold an input fact that decides nothing: who is on the call, in which queue, why a
    channel's recording is being paused (the switch action asking for it); forget a call
    (and its channels' counts) when it is over."""
    match fact:
        case PauseRecording(channel=ch, reason=reason) if ch and reason:
            return replace(t, pause_reasons=t.pause_reasons.set(ch, reason))
        case ResumeRecording(channel=ch) | RecordingResumed(channel=ch) | RecordingStopped(channel=ch):
            return replace(t, pause_reasons=t.pause_reasons.delete(ch)) if ch in t.pause_reasons else t
        case QueueCallerJoined(call_id=cid, queue=q):
            return _learn_call(t, cid, q)
        case QueueMemberConnected(call_id=cid, queue=q, interface=iface, member_name=name):
            return _learn_call(t, cid, q, name or iface)
        case ContactQueued(contact_id=cid, queue_id=q):
            return _learn_call(t, cid, q)
        case ContactConnected(contact_id=cid, queue_id=q, agent_id=aid):
            return _learn_call(t, cid, q, aid)
        case ContactEnded(contact_id=cid):
            return replace(t, calls=t.calls.delete(cid)) if cid in t.calls else t
        case CallHungUp(call_id=cid, uniqueid=uid, channel=ch, ends_call=ends):
            if ch in t.pause_reasons:
                t = replace(t, pause_reasons=t.pause_reasons.delete(ch))
            key = channel_key(uid, ch)
            if key in t.counts and key not in t.open:
                t = replace(t, counts=t.counts.delete(key))
            if ends and cid in t.calls:
                t = replace(t, calls=t.calls.delete(cid))
    return t
