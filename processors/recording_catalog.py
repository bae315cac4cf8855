"""The recording catalog: a projection of `cc.recording-events` for search by contact, agent
and time (`search`), served by `GET /v1/recordings` and `ccx recordings search`.

State: per tenant, every recording by id with its contact, agents, queue, times, location,
size, checksum, status ("recording", "paused", "stopped", "stored", "deleted"), the time
paused so far (`paused_ms`, the stop's total once stopped) and the reasons of its pauses. Deleted
recordings stay listed (status "deleted", no location) so an auditor sees what was removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.pmap import PMap
from schemas.envelope import Message
from schemas.recordings import (
    CallRecordingPaused,
    CallRecordingResumed,
    CallRecordingStarted,
    CallRecordingStopped,
    RecordingDeleted,
    RecordingStored,
)

__all__ = ["CatalogState", "Entry", "RecordingCatalog", "fold", "search"]


@dataclass(frozen=True, slots=True)
class Entry:
    recording_id: str
    contact_id: str
    channel: str
    queue_id: str
    agent_ids: tuple[str, ...]
    started_at: int
    stopped_at: int = 0
    duration_ms: int = 0
    paused_ms: int = 0
    status: str = "recording"
    location: str = ""
    size_bytes: int = 0
    checksum: str = ""
    deleted_by: str = ""
    pause_reasons: tuple[str, ...] = ()
    """Why it was paused ("card_data", "manual"), each reason once, in order of the pauses."""


@dataclass(frozen=True, slots=True)
class CatalogState:
    tenants: PMap[PMap[Entry]] = field(default_factory=PMap)


def _set(state: CatalogState, tenant: str, rid: str, **changes: Any) -> CatalogState:
    entries: PMap[Entry] = state.tenants.get(tenant) or PMap()
    entry = entries.get(rid)
    if entry is None:
        return state
    return CatalogState(state.tenants.set(tenant, entries.set(rid, replace(entry, **changes))))


def _get(state: CatalogState, tenant: str, rid: str) -> Entry | None:
    entries: PMap[Entry] = state.tenants.get(tenant) or PMap()
    return entries.get(rid)


def fold(state: CatalogState, message: Message[Any]) -> CatalogState:
    """The catalog after one event; anything it does not know changes nothing."""
    env, body = message.envelope, message.body
    match body:
        case CallRecordingStarted():
            entries: PMap[Entry] = state.tenants.get(env.tenant) or PMap()
            agents = (body.agent_id,) if body.agent_id else ()
            entry = Entry(
                body.recording_id, body.contact_id, body.channel, body.queue_id, agents, env.occurred_at
            )
            return CatalogState(state.tenants.set(env.tenant, entries.set(body.recording_id, entry)))
        case CallRecordingPaused():
            was = _get(state, env.tenant, body.recording_id)
            reasons = () if was is None else was.pause_reasons
            if body.reason and body.reason not in reasons:
                reasons = (*reasons, body.reason)
            return _set(state, env.tenant, body.recording_id, status="paused", pause_reasons=reasons)
        case CallRecordingResumed():
            was = _get(state, env.tenant, body.recording_id)
            paused = (0 if was is None else was.paused_ms) + body.paused_ms
            return _set(state, env.tenant, body.recording_id, status="recording", paused_ms=paused)
        case CallRecordingStopped():
            return _set(
                state,
                env.tenant,
                body.recording_id,
                status="stopped",
                stopped_at=env.occurred_at,
                duration_ms=body.duration_ms,
                paused_ms=body.paused_ms,
                agent_ids=body.agent_ids,
                queue_id=body.queue_id,
            )
        case RecordingStored():
            return _set(
                state,
                env.tenant,
                body.recording_id,
                status="stored",
                location=body.location,
                size_bytes=body.size_bytes,
                checksum=body.checksum,
            )
        case RecordingDeleted():
            return _set(
                state, env.tenant, body.recording_id, status="deleted", location="", deleted_by=body.by
            )
    return state


def search(
    state: CatalogState,
    tenant: str,
    contact_id: str | None = None,
    agent_id: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = 100,
) -> list[Entry]:
    """The tenant's recordings matching every given filter, newest first (then by id): the
    contact, an agent on it, started at or after `start_ms` and before `end_ms`."""
    entries: PMap[Entry] = state.tenants.get(tenant) or PMap()
    found = [
        e
        for e in entries.values()
        if (contact_id is None or e.contact_id == contact_id)
        and (agent_id is None or agent_id in e.agent_ids)
        and (start_ms is None or e.started_at >= start_ms)
        and (end_ms is None or e.started_at < end_ms)
    ]
    found.sort(key=lambda e: (-e.started_at, e.recording_id))
    return found[: max(0, limit)]


@dataclass(frozen=True)
class RecordingCatalog:
    """The catalog as a runner drives it (a projection: it writes nothing)."""

    name: str = "recording-catalog"
    version: int = 1
    inputs: tuple[str, ...] = ("cc.recording-events",)
    outputs: tuple[str, ...] = ()

    def initial_state(self) -> CatalogState:
        return CatalogState()

    def process(
        self, state: CatalogState, message: Message[Any]
    ) -> tuple[CatalogState, Sequence[Message[Any]]]:
        return fold(state, message), ()
