"""IVR reports from the IVR's own events (`ivr_events`): flows and their nodes.

`ivr_flows` — per tenant and flow, the sessions that started in the period (`IvrStarted`
at in `[start, end)`), each paired with the `IvrEnded` of the same contact and flow:

- `sessions`: sessions started; `ended`: of those, sessions that ended (the others are
  still in the IVR, or their end is not in the log yet);
- `routed`, `callback`, `voicemail`, `completed`, `hung_up`: ended sessions by result;
- `contained`: ended without reaching a queue — result `completed`, `voicemail` or
  `hung_up` (docs/ivr.md; a route or callback node hands the contact to a queue);
- `containment` = contained / sessions (METRICS.md: contacts that ended in the IVR without
  reaching a queue / contacts that entered the IVR), NaN without sessions;
- `avg_ivr_s`: mean time from start to end of the ended sessions.

`ivr_nodes` — per tenant, flow, node and node type, the node visits that began in the
period (`IvrNodeEntered`), each paired with its `IvrNodeLeft` (a contact's node events come
in path order: a node's left event is the node event that follows its entered event;
lookups in between do not count):

- `visits` and `contacts` (distinct) that entered the node;
- `hangups`, `timeouts`, `invalid`: visits left by the caller hanging up, by a timeout
  (no input), by invalid input — where callers drop off or get lost;
- `exits`: every exit taken with its count, most frequent first ("digit=12 timeout=3");
- `avg_time_s`: mean time in the node of the visits that were left;
- `reach_rate`: contacts that reached the node / sessions of the flow started in the
  period (how far into the flow callers get), NaN without sessions.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import period_params, typed
from analytics.warehouse import Warehouse

__all__ = ["CONTAINED_RESULTS", "ivr_flows", "ivr_nodes"]

CONTAINED_RESULTS = ("completed", "voicemail", "hung_up")
"""`IvrEnded.result`s of a session that ended without reaching a queue."""

_IN_PERIOD = """({tenant:String} = '' OR tenant = {tenant:String})
    AND toUnixTimestamp64Milli(at) >= {start_ms:Int64} AND toUnixTimestamp64Milli(at) < {end_ms:Int64}"""

_FLOWS = f"""
SELECT
    s.tenant AS tenant, s.flow_id AS flow_id,
    count() AS sessions,
    countIf(e.result != '') AS ended,
    countIf(e.result = 'routed') AS routed,
    countIf(e.result = 'callback') AS callback,
    countIf(e.result = 'voicemail') AS voicemail,
    countIf(e.result = 'completed') AS completed,
    countIf(e.result = 'hung_up') AS hung_up,
    countIf(e.result IN {{contained:Array(String)}}) AS contained,
    contained / sessions AS containment,
    avgIf(e.ended_ms - s.started_ms, e.result != '') / 1000 AS avg_ivr_s
FROM
(
    SELECT tenant, contact_id, flow_id, min(toUnixTimestamp64Milli(at)) AS started_ms
    FROM ivr_events FINAL
    WHERE type = 'IvrStarted' AND {_IN_PERIOD}
    GROUP BY tenant, contact_id, flow_id
) AS s
LEFT JOIN
(
    SELECT tenant, contact_id, flow_id, argMax(toString(result), at) AS result,
        max(toUnixTimestamp64Milli(at)) AS ended_ms
    FROM ivr_events FINAL
    WHERE type = 'IvrEnded'
    GROUP BY tenant, contact_id, flow_id
) AS e ON s.tenant = e.tenant AND s.contact_id = e.contact_id AND s.flow_id = e.flow_id
GROUP BY tenant, flow_id
ORDER BY tenant, flow_id
"""

# Every node visit: the entered event with the exit and time of the left event after it.
_VISITS = """
SELECT tenant, contact_id, flow_id, node_id, node_type, entered_ms, left_exit, left_ms
FROM
(
    SELECT
        tenant, contact_id, toString(flow_id) AS flow_id, node_id, toString(node_type) AS node_type,
        toString(type) AS kind, toUnixTimestamp64Milli(at) AS entered_ms,
        leadInFrame(toString(type)) OVER w = 'IvrNodeLeft' AND leadInFrame(node_id) OVER w = node_id
            AS is_left,
        if(is_left, leadInFrame(toString(exit)) OVER w, '') AS left_exit,
        if(is_left, leadInFrame(toUnixTimestamp64Milli(at)) OVER w, 0) AS left_ms
    FROM ivr_events FINAL
    WHERE type IN ('IvrNodeEntered', 'IvrNodeLeft')
        AND ({tenant:String} = '' OR tenant = {tenant:String})
    WINDOW w AS (
        PARTITION BY tenant, contact_id ORDER BY `partition`, `offset`
        ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING
    )
)
WHERE kind = 'IvrNodeEntered' AND entered_ms >= {start_ms:Int64} AND entered_ms < {end_ms:Int64}
"""

_NODES = f"""
WITH visits AS ({_VISITS})
SELECT
    v.tenant AS tenant, v.flow_id AS flow_id, v.node_id AS node_id, v.node_type AS node_type,
    count() AS visits,
    uniqExact(v.contact_id) AS contacts,
    countIf(v.left_exit = 'hangup') AS hangups,
    countIf(v.left_exit = 'timeout') AS timeouts,
    countIf(v.left_exit = 'invalid') AS invalid,
    sumMap(map(v.left_exit, toUInt64(1))) AS by_exit,
    arrayStringConcat(
        arrayMap(x -> concat(x.1, '=', toString(x.2)),
            arraySort(x -> (-x.2, x.1),
                arrayFilter(x -> x.1 != '', arrayZip(mapKeys(by_exit), mapValues(by_exit))))),
        ' ') AS exits,
    avgIf(v.left_ms - v.entered_ms, v.left_exit != '') / 1000 AS avg_time_s,
    contacts / any(f.sessions) AS reach_rate
FROM visits AS v
LEFT JOIN
(
    SELECT tenant, toString(flow_id) AS flow_id, uniqExact(contact_id) AS sessions
    FROM ivr_events FINAL
    WHERE type = 'IvrStarted' AND {_IN_PERIOD}
    GROUP BY tenant, flow_id
) AS f ON v.tenant = f.tenant AND v.flow_id = f.flow_id
GROUP BY tenant, flow_id, node_id, node_type
ORDER BY tenant, flow_id, visits DESC, node_id
SETTINGS join_use_nulls = 1
"""

_FLOW_TYPES = {
    "tenant": "str", "flow_id": "str", "sessions": "int64", "ended": "int64", "routed": "int64",
    "callback": "int64", "voicemail": "int64", "completed": "int64", "hung_up": "int64",
    "contained": "int64", "containment": "float64", "avg_ivr_s": "float64",
}  # fmt: skip
_NODE_TYPES = {
    "tenant": "str", "flow_id": "str", "node_id": "str", "node_type": "str", "visits": "int64",
    "contacts": "int64", "hangups": "int64", "timeouts": "int64", "invalid": "int64", "exits": "str",
    "avg_time_s": "float64", "reach_rate": "float64",
}  # fmt: skip


def ivr_flows(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, flow) of the IVR sessions that started in the period."""
    params = {"contained": list(CONTAINED_RESULTS), **period_params(tenant, start, end)}
    return typed(warehouse.query_df(_FLOWS, params), _FLOW_TYPES)


def ivr_nodes(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, flow, node) of the node visits that began in the period, the
    most visited first within a flow."""
    return typed(warehouse.query_df(_NODES, period_params(tenant, start, end)), _NODE_TYPES)
