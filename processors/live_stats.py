"""Live statistics for the wallboard: a projection of config, contact and agent events.

Per tenant and queue it keeps the contacts in the queue (queued_at, priority), a
`metrics.Tally` for every interval of the current (UTC) day, agents by state and the
queue's thresholds from `QueueDefined`. The tallies are the ones the warehouse keeps per
queue leg (`analytics`): a contact counts in the interval in which it **entered** the
queue, and its answer or abandon later updates that interval; an overflow to another
queue ends its leg in the first queue (`overflowed`) and starts one in the next. The
views classify tallies with the queue's current thresholds (`Tally.counts`), so a new
short-abandon or SL threshold applies to the whole day at once. Intervals of earlier days
are dropped when the day rolls over (events for them are then ignored), contacts when
they are finished.

`LiveStats` emits nothing; the views `queue_view`, `day_series` and `totals` turn the
state into JSON-able dicts for the API and the CLI. The three input topics are not
ordered with respect to each other, so every branch tolerates events about agents or
queues it has not seen defined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors import metrics
from processors.metrics import LEG_OUTCOMES, QueueCounts, Tally, Thresholds
from schemas.agent import AGENT_STATES, AgentLoggedIn, AgentLoggedOut, AgentStateChanged
from schemas.config import AgentDefined, QueueDefined
from schemas.contact import (
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOverflowed,
    ContactQueued,
    ContactResumed,
    WrapUpCompleted,
)
from schemas.envelope import Message

__all__ = ["LiveStats", "StatsState", "TenantStats", "day_series", "interval_counts", "queue_view", "totals"]

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class QueueInfo:
    name: str
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class AgentInfo:
    state: str = "logged_out"
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Tracked:
    """A contact in a queue, until it is finished."""

    queue_id: str
    interval: int
    queued_at: int
    priority: int
    waiting_since: int = 0
    """When the contact's wait began (earlier than `queued_at` after an overflow)."""
    waiting: bool = True
    connected_at: int = 0
    ended_at: int = 0
    hold_ms: int = 0
    holds: int = 0
    on_hold: bool = False
    held_since: int = 0


@dataclass(frozen=True, slots=True)
class TenantStats:
    """One tenant's live statistics; copy-on-write dicts inside a frozen dataclass."""

    queues: Mapping[str, QueueInfo] = field(default_factory=dict)
    agents: Mapping[str, AgentInfo] = field(default_factory=dict)
    contacts: Mapping[str, Tracked] = field(default_factory=dict)
    intervals: Mapping[str, Mapping[int, Tally]] = field(default_factory=dict)
    day_start: int = 0
    cumulative: Mapping[str, Tally] = field(default_factory=dict)
    """Per queue, every contact since the start of the log (what `totals` reports)."""


@dataclass(frozen=True, slots=True)
class StatsState:
    interval_s: int = 900
    sl_variant: str = "abandons_against"
    tenants: Mapping[str, TenantStats] = field(default_factory=dict)


def _thresholds(s: StatsState, t: TenantStats, queue_id: str) -> Thresholds:
    info = t.queues.get(queue_id)
    return info.thresholds if info else Thresholds(sl_variant=s.sl_variant, interval_s=s.interval_s)


def _count(t: TenantStats, queue_id: str, start: int, change: Tally) -> TenantStats:
    """Add `change` to one interval's tally (left alone if not kept: an earlier day) and
    to the cumulative one."""
    t = replace(t, cumulative={**t.cumulative, queue_id: t.cumulative.get(queue_id, Tally()) + change})
    per_queue = t.intervals.get(queue_id, {})
    if start not in per_queue:
        return t
    return replace(t, intervals={**t.intervals, queue_id: {**per_queue, start: per_queue[start] + change}})


def _with_contact(t: TenantStats, contact_id: str, c: Tracked | None) -> TenantStats:
    contacts = {k: v for k, v in t.contacts.items() if k != contact_id}
    if c is not None:
        contacts[contact_id] = c
    return replace(t, contacts=contacts)


def _roll_day(t: TenantStats, now: int) -> TenantStats:
    day = metrics.interval_start(now, DAY_S)
    if day <= t.day_start:
        return t
    kept = {q: {s: c for s, c in per.items() if s >= day} for q, per in t.intervals.items()}
    return replace(t, intervals=kept, day_start=day)


def _queued(s: StatsState, t: TenantStats, e: ContactQueued, now: int) -> TenantStats:
    start = metrics.interval_start(now, s.interval_s)
    c = t.contacts.get(e.contact_id)
    if c is not None and c.waiting:  # still in another queue: that leg is over
        t = _left(t, e.contact_id, c, "overflowed", now - c.waiting_since)
    elif c is not None:  # transferred to this queue by its agent: that agent's handling is over
        t = _handled(t, e.contact_id, now)
    tracked = Tracked(e.queue_id, start, now, e.priority, e.waiting_since or now)
    t = _with_contact(t, e.contact_id, tracked)
    per_queue = t.intervals.get(e.queue_id, {})
    if start >= t.day_start and start not in per_queue:
        t = replace(t, intervals={**t.intervals, e.queue_id: {**per_queue, start: Tally()}})
    return _count(t, e.queue_id, start, Tally.entering())


def _left(t: TenantStats, contact_id: str, c: Tracked, outcome: str, wait_ms: int) -> TenantStats:
    """The waiting contact `c` left its queue with `outcome`: its leg there is resolved."""
    if outcome == "answered":
        t = _with_contact(t, contact_id, replace(c, waiting=False))
    else:
        t = _with_contact(t, contact_id, None)
    return _count(t, c.queue_id, c.interval, Tally.leaving(outcome, wait_ms))


def _connected(t: TenantStats, e: ContactConnected, now: int) -> TenantStats:
    c = t.contacts.get(e.contact_id)
    if c is None or not c.waiting:
        return t
    t = _left(t, e.contact_id, c, "answered", e.wait_ms)
    return _with_contact(t, e.contact_id, replace(c, waiting=False, connected_at=now))


def _ended(t: TenantStats, e: ContactEnded, now: int) -> TenantStats:
    c = t.contacts.get(e.contact_id)
    if c is None:
        return t
    if not c.waiting:
        hold = c.hold_ms + (now - c.held_since if c.on_hold else 0)
        return _with_contact(t, e.contact_id, replace(c, ended_at=now, hold_ms=hold, on_hold=False))
    outcome = e.reason if e.reason in LEG_OUTCOMES else "abandoned"
    return _left(t, e.contact_id, c, outcome, e.wait_ms)


def _overflowed(t: TenantStats, e: ContactOverflowed, now: int) -> TenantStats:
    """A rule took a waiting contact out of its queue. Moved to another queue (`to_queue`),
    its leg there ends `overflowed` (the ContactQueued that follows starts the next leg);
    otherwise (voicemail, a closing message, a callback offer) the ContactEnded that
    follows, if any, ends it."""
    c = t.contacts.get(e.contact_id)
    if c is None or not c.waiting or c.queue_id != e.from_queue or not e.to_queue:
        return t
    return _left(t, e.contact_id, c, "overflowed", now - c.waiting_since)


def _handled(t: TenantStats, contact_id: str, now: int) -> TenantStats:
    c = t.contacts.get(contact_id)
    if c is None or c.waiting:
        return t
    ended = c.ended_at or now
    talk = max(0, ended - c.connected_at - c.hold_ms)
    t = _with_contact(t, contact_id, None)
    return _count(t, c.queue_id, c.interval, Tally.handling(talk, c.hold_ms, c.holds, max(0, now - ended)))


def _agent(t: TenantStats, agent_id: str, **changes: Any) -> TenantStats:
    a = replace(t.agents.get(agent_id) or AgentInfo(), **changes)
    return replace(t, agents={**t.agents, agent_id: a})


def _fold(s: StatsState, t: TenantStats, body: object, now: int) -> TenantStats:
    match body:
        case QueueDefined(queue_id=qid, name=name, sl_threshold_s=sl, short_abandon_s=short):
            th = Thresholds(sl, short, s.sl_variant, s.interval_s)
            return replace(t, queues={**t.queues, qid: QueueInfo(name, th)})
        case AgentDefined(agent_id=aid, queues=queues) | AgentLoggedIn(agent_id=aid, queues=queues):
            return _agent(t, aid, queues=tuple(queues))
        case AgentStateChanged(agent_id=aid, state=state):
            return _agent(t, aid, state=state)
        case AgentLoggedOut(agent_id=aid):
            return _agent(t, aid, state="logged_out")
        case ContactQueued():
            return _queued(s, t, body, now)
        case ContactConnected():
            return _connected(t, body, now)
        case ContactHeld(contact_id=cid):
            c = t.contacts.get(cid)
            if c is None or c.on_hold:
                return t
            return _with_contact(t, cid, replace(c, on_hold=True, held_since=now, holds=c.holds + 1))
        case ContactResumed(contact_id=cid):
            c = t.contacts.get(cid)
            if c is None or not c.on_hold:
                return t
            return _with_contact(t, cid, replace(c, on_hold=False, hold_ms=c.hold_ms + now - c.held_since))
        case ContactEnded():
            return _ended(t, body, now)
        case ContactOverflowed():
            return _overflowed(t, body, now)
        case WrapUpCompleted(contact_id=cid):
            c = t.contacts.get(cid)
            if c is not None and not c.waiting and not c.ended_at:
                return t  # an agent who handed the caller on: the handling goes on
            return _handled(t, cid, now)
        case _:
            return t


class LiveStats:
    """Processor `stats`: folds config, contact and agent events; emits nothing."""

    name = "stats"
    version = 1
    inputs: tuple[str, ...] = ("cc.config-events", "cc.contact-events", "cc.agent-events")
    outputs: tuple[str, ...] = ()

    def __init__(
        self, interval_s: int = 900, sl_variant: str = "abandons_against", name: str = "stats"
    ) -> None:
        Thresholds(sl_variant=sl_variant, interval_s=interval_s)  # validates both
        self.interval_s, self.sl_variant = interval_s, sl_variant
        self.name = name  # an API instance folds its own copy under its own group

    def initial_state(self) -> StatsState:
        return StatsState(self.interval_s, self.sl_variant)

    def process(self, state: StatsState, message: Message[Any]) -> tuple[StatsState, Sequence[Message[Any]]]:
        env = message.envelope
        t = _roll_day(state.tenants.get(env.tenant) or TenantStats(), env.occurred_at)
        t = _fold(state, t, message.body, env.occurred_at)
        return replace(state, tenants={**state.tenants, env.tenant: t}), ()


def queue_view(state: StatsState, tenant: str, now_ms: int) -> list[dict[str, Any]]:
    """Per queue: waiting contacts, longest wait, agents by state, the current interval."""
    t = state.tenants.get(tenant) or TenantStats()
    start = metrics.interval_start(now_ms, state.interval_s)
    ids = set(t.queues) | set(t.intervals) | {c.queue_id for c in t.contacts.values()}
    views: list[dict[str, Any]] = []
    for qid in sorted(ids):
        waiting = [c for c in t.contacts.values() if c.queue_id == qid and c.waiting]
        agents = dict.fromkeys(AGENT_STATES, 0)
        for a in t.agents.values():
            if qid in a.queues:
                agents[a.state] = agents.get(a.state, 0) + 1
        info = t.queues.get(qid)
        th = _thresholds(state, t, qid)
        counts = t.intervals.get(qid, {}).get(start, Tally()).counts(th)
        oldest = min((c.queued_at for c in waiting), default=now_ms)
        summary = metrics.summarize(counts, th)
        live = {
            "queue_id": qid,
            "name": info.name if info else qid,
            "waiting": len(waiting),
            "waiting_by_priority": [
                {"priority": p, "waiting": sum(c.priority == p for c in waiting)}
                for p in sorted({c.priority for c in waiting}, reverse=True)
            ],
            "longest_wait_s": max(0, now_ms - oldest) / 1000,
            "agents": agents,
            "interval_start": start,
            "interval_s": state.interval_s,
            "sl_threshold_s": th.sl_threshold_s,
            "sl_variant": th.sl_variant,
            "current": summary,
        }
        # The interval's counts also at the top level for convenience; `waiting` and
        # `longest_wait_s` there are the live values (the interval's are under "current").
        views.append({**summary, **live})
    return views


def day_series(state: StatsState, tenant: str, queue_id: str) -> list[dict[str, Any]]:
    """Every interval of the current day for one queue, oldest first (for charts)."""
    t = state.tenants.get(tenant) or TenantStats()
    th = _thresholds(state, t, queue_id)
    per_queue = t.intervals.get(queue_id, {})
    series = []
    for start in sorted(per_queue):
        series.append({"interval_start": start, **metrics.summarize(per_queue[start].counts(th), th)})
    return series


def totals(state: StatsState, tenant: str) -> dict[str, Any]:
    """Every contact since the start of the log: the tenant overall and per queue.

    `contacts` is every contact that entered a queue (offered + short abandons)."""
    t = state.tenants.get(tenant) or TenantStats()
    overall = QueueCounts()
    queues: list[dict[str, Any]] = []
    for qid in sorted(t.cumulative):
        th = _thresholds(state, t, qid)
        sums = t.cumulative[qid].counts(th)
        overall = overall + sums
        info = t.queues.get(qid)
        summary = metrics.summarize(sums, th)
        queues.append({"queue_id": qid, "name": info.name if info else qid, **summary})
    th = Thresholds(sl_variant=state.sl_variant, interval_s=state.interval_s)
    return {
        **metrics.summarize(overall, th),
        "contacts": overall.offered + overall.short_abandoned,
        "queues": queues,
    }


def interval_counts(state: StatsState, tenant: str, queue_id: str, start: int) -> QueueCounts:
    """One interval's counts under the queue's current thresholds (empty if not kept)."""
    t = state.tenants.get(tenant) or TenantStats()
    return t.intervals.get(queue_id, {}).get(start, Tally()).counts(_thresholds(state, t, queue_id))
