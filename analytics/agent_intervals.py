"""Closed agent state intervals, for the warehouse sink's `agent_state_intervals` table.

An `AgentStateChanged` opens a state that lasts until the agent's next change in the log
(the ACD's decision order; all of a tenant's agent events are in one partition, and
several changes can share a millisecond). A change stamped earlier than the one before
it (clocks of different edges) ends that state after 0 ms. When a batch brings
changes, each closes the interval its predecessor opened: the predecessor is the agent's
previous change in the batch, or the last one stored before the batch (`agent_states`,
log positions before the batch's first record of that partition, so a replayed batch
finds the same predecessors). A not-ready interval `starts_period` unless the change
before it was not ready with the same reason (METRICS.md: a repeated reason continues the
period). The agent's last change stays open until the next batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analytics.warehouse import Warehouse

__all__ = ["INTERVAL_COLUMNS", "Change", "closed_intervals"]

INTERVAL_COLUMNS = (
    "tenant", "agent_id", "state", "reason", "presence", "contact_id", "started_at", "ended_at",
    "duration_ms", "starts_period", "event_id", "ended_by",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """One `agent_states` row: what the sink is writing, or what is stored."""

    tenant: str
    agent_id: str
    at_ms: int
    state: str
    reason: str
    presence: str
    contact_id: str
    event_id: str
    partition: int
    offset: int


_STORED = """
SELECT tenant, agent_id, toUnixTimestamp64Milli(at), toString(state), reason, toString(presence),
    contact_id, event_id, `partition`, `offset`
FROM agent_states FINAL
WHERE tenant = {tenant:String} AND `partition` = {partition:UInt32} AND `offset` < {offset:UInt64}
    AND agent_id IN {agents:Array(String)}
ORDER BY tenant, agent_id, `offset` DESC
LIMIT 2 BY tenant, agent_id
"""


def _stored(warehouse: Warehouse, batch: Sequence[Change]) -> dict[tuple[str, str], list[Change]]:
    """Each agent's last two changes stored before the batch, oldest first."""
    firsts: dict[tuple[str, int], int] = {}
    agents: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in batch:
        key = (c.tenant, c.partition)
        firsts[key] = min(firsts.get(key, c.offset), c.offset)
        agents[key].add(c.agent_id)
    out: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for (tenant, partition), offset in firsts.items():
        ids = sorted(agents[(tenant, partition)])
        params = {"tenant": tenant, "partition": partition, "offset": offset, "agents": ids}
        for row in warehouse.query_rows(_STORED, params):
            state, reason, presence, contact_id, event_id = (str(v) for v in row[3:8])
            c = Change(
                str(row[0]), str(row[1]), int(row[2]), state, reason, presence, contact_id, event_id,
                int(row[8]), int(row[9]),
            )  # fmt: skip
            out[(c.tenant, c.agent_id)].insert(0, c)
    return out


def _starts_period(change: Change, before: Change | None) -> bool:
    if change.state != "not_ready":
        return False
    return not (before is not None and before.state == "not_ready" and before.reason == change.reason)


def closed_intervals(
    warehouse: Warehouse, batch: Sequence[Change]
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """The intervals the batch's changes close, keyed by (tenant, agent, opening event id),
    as `INTERVAL_COLUMNS` rows (times in ms; the sink converts them)."""
    if not batch:
        return {}
    stored = _stored(warehouse, batch)
    mine: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for c in batch:
        mine[(c.tenant, c.agent_id)].append(c)
    out: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for agent, changes in mine.items():
        history = stored.get(agent, [])
        chain = history + sorted(changes, key=lambda c: (c.partition, c.offset))
        for i in range(max(1, len(history)), len(chain)):  # each change of the batch closes one
            opened, closed = chain[i - 1], chain[i]
            before = chain[i - 2] if i >= 2 else None
            out[(opened.tenant, opened.agent_id, opened.event_id)] = (
                opened.tenant, opened.agent_id, opened.state, opened.reason, opened.presence,
                opened.contact_id, opened.at_ms, max(closed.at_ms, opened.at_ms),
                max(0, closed.at_ms - opened.at_ms),
                int(_starts_period(opened, before)), opened.event_id, closed.event_id,
            )  # fmt: skip
    return out
