"""The agent reports of METRICS.md: state time, occupancy, utilization, offers, handling,
and not-ready time by reason, per tenant and agent (and interval).

Every state lasts from its `AgentStateChanged` until the agent's next one in the log (the
ACD's decision order; a change stamped earlier than its predecessor ends that state after
0 ms); the agent's last state lasts until `end`, or without `end` until
the tenant's latest agent event. Each state is clipped to [start, end) and, with
`interval_s`, split across interval boundaries. Time before an agent's first event is
unknown and counts nowhere; `logged_out` time counts nowhere. Two sources, one result:

- the 15-minute `agent_interval_tallies` (materialized views over the closed state
  intervals, the offers and the answered queue legs; ADR 12) when intervals are whole
  quarter hours (or the whole window) and `start` / `end` fall on quarter hours, plus each
  agent's last, still open state;
- otherwise `agent_states FINAL` itself: in SQL, a window over each agent's rows gives
  every state its end, and `ARRAY JOIN range(...)` splits it at interval boundaries.

Offers come from the `offers` table rather than from `raw_events`: the sink writes it
typed (agent, kind, time) and ordered by (tenant, agent, time), so a report reads a few
narrow columns of one agent's range instead of parsing the JSON payload of every message
of `cc.contact-events`. Handled contacts and their handle time come from the answered
queue legs (`contact_legs`: a leg is stored once its wrap-up finished), attributed to the
interval in which the agent answered (`left_at`, when the contact left the queue).

The rates use `processors.metrics` (`occupancy`, `utilization`, `ratio`), the one
implementation the wallboard also uses; "no data" (a zero denominator) is NaN.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.reports.base import NEVER, period_params
from analytics.reports.tallies import TALLY_INTERVAL_S
from analytics.warehouse import Warehouse
from processors.metrics import occupancy, ratio, utilization

__all__ = ["NOT_READY_COLUMNS", "PERFORMANCE_COLUMNS", "agent_not_ready", "agent_performance"]

STATE_COLUMNS = ("available_s", "reserved_s", "handling_s", "wrap_up_s", "not_ready_s", "logged_in_s")
COUNT_COLUMNS = ("offers", "accepted", "declined", "rona", "withdrawn")
PERFORMANCE_COLUMNS = (
    "tenant", "agent_id", "interval_start", *STATE_COLUMNS, "occupancy", "utilization",
    *COUNT_COLUMNS, "agent_answer_rate", "handled", "aht_s",
)  # fmt: skip
"""`agent_performance` columns; `interval_start` only when `interval_s` is given."""
NOT_READY_COLUMNS = ("tenant", "agent_id", "reason", "interval_start", "not_ready_s", "count")
"""`agent_not_ready` columns; `interval_start` only when `interval_s` is given."""

# Every agent_states row with the span [s, e) it covers inside [start, end), and whether it
# starts a not-ready period (not the continuation of one with the same reason).
_SEGMENTS = """
SELECT
    tenant, agent_id, state, reason, at_ms,
    greatest(at_ms, {start_ms:Int64}) AS s,
    least(ifNull(next_ms, if({open_end:UInt8} = 1, last_ms, {end_ms:Int64})), {end_ms:Int64}) AS e,
    state = 'not_ready' AND NOT (prev_state = 'not_ready' AND prev_reason = reason) AS starts
FROM
(
    SELECT
        tenant, agent_id, state, reason, at_ms,
        leadInFrame(toNullable(at_ms)) OVER w AS next_ms,
        lagInFrame(toString(state), 1, '') OVER w AS prev_state,
        lagInFrame(reason, 1, '') OVER w AS prev_reason,
        max(at_ms) OVER (PARTITION BY tenant) AS last_ms
    FROM
    (
        SELECT tenant, agent_id, toString(state) AS state, reason, `partition`, `offset`,
            toUnixTimestamp64Milli(at) AS at_ms
        FROM agent_states FINAL
        WHERE ({tenant:String} = '' OR tenant = {tenant:String})
            AND toUnixTimestamp64Milli(at) < {end_ms:Int64}
    )
    WINDOW w AS (
        PARTITION BY tenant, agent_id ORDER BY `partition`, `offset`
        ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING
    )
)
"""

# The segments cut at interval boundaries: one row per (segment, interval) it overlaps.
_SPLIT = """
SELECT
    tenant, agent_id, state, reason, interval_ms,
    least(e, interval_ms + {step_ms:Int64}) - greatest(s, interval_ms) AS ms
FROM segments
ARRAY JOIN range(intDiv(s, {step_ms:Int64}) * {step_ms:Int64}, e, {step_ms:Int64}) AS interval_ms
WHERE e > s
"""

_WITH = f"WITH segments AS ({_SEGMENTS}), pieces AS ({_SPLIT})"

_IN_WINDOW = """({tenant:String} = '' OR tenant = {tenant:String})
        AND toUnixTimestamp64Milli(TIME) >= {start_ms:Int64}
        AND toUnixTimestamp64Milli(TIME) < {end_ms:Int64}"""

_PERFORMANCE = (
    _WITH
    + """
SELECT
    tenant, agent_id, interval_ms,
    sumIf(ms, state = 'available') AS available_ms,
    sumIf(ms, state = 'reserved') AS reserved_ms,
    sumIf(ms, state = 'handling') AS handling_ms,
    sumIf(ms, state = 'wrap_up') AS wrap_up_ms,
    sumIf(ms, state = 'not_ready') AS not_ready_ms,
    sumIf(ms, state NOT IN ('logged_out', '')) AS logged_in_ms,
    countIf(kind = 'offered') AS offers,
    countIf(kind = 'accepted') AS accepted,
    countIf(kind = 'declined') AS declined,
    countIf(kind = 'timed_out') AS rona,
    countIf(kind = 'withdrawn') AS withdrawn,
    countIf(kind = 'handled') AS handled,
    sumIf(handle_ms, kind = 'handled') AS handle_ms
FROM
(
    SELECT tenant, agent_id, interval_ms, state, toInt64(ms) AS ms, '' AS kind, toInt64(0) AS handle_ms
    FROM pieces
    WHERE state != 'logged_out'
    UNION ALL
    SELECT tenant, agent_id,
        intDiv(toUnixTimestamp64Milli(at), {step_ms:Int64}) * {step_ms:Int64} AS interval_ms,
        '' AS state, toInt64(0) AS ms, toString(kind) AS kind, toInt64(0) AS handle_ms
    FROM offers FINAL
    WHERE """
    + _IN_WINDOW.replace("TIME", "at")
    + """
    UNION ALL
    SELECT tenant, agent_id,
        intDiv(toUnixTimestamp64Milli(left_at), {step_ms:Int64}) * {step_ms:Int64} AS interval_ms,
        '' AS state, toInt64(0) AS ms, 'handled' AS kind,
        toInt64(talk_ms + hold_ms + wrap_up_ms) AS handle_ms
    FROM contact_legs FINAL
    WHERE outcome = 'answered' AND agent_id != ''
        AND """
    + _IN_WINDOW.replace("TIME", "left_at")
    + """
)
GROUP BY tenant, agent_id, interval_ms
ORDER BY tenant, agent_id, interval_ms
"""
)

_NOT_READY = (
    _WITH
    + """
SELECT tenant, agent_id, reason, interval_ms, sum(ms) AS not_ready_ms, sum(started) AS periods
FROM
(
    SELECT tenant, agent_id, reason, interval_ms, toInt64(ms) AS ms, toInt64(0) AS started
    FROM pieces
    WHERE state = 'not_ready'
    UNION ALL
    SELECT tenant, agent_id, reason,
        intDiv(at_ms, {step_ms:Int64}) * {step_ms:Int64} AS interval_ms, toInt64(0) AS ms,
        toInt64(1) AS started
    FROM segments
    WHERE starts AND at_ms >= {start_ms:Int64}
)
GROUP BY tenant, agent_id, reason, interval_ms
ORDER BY tenant, agent_id, reason, interval_ms
"""
)


_STATES = ("available", "reserved", "handling", "wrap_up", "not_ready")
_SUMS = (*(f"{state}_ms" for state in _STATES), *COUNT_COLUMNS, "handled", "handle_ms")

_TALLIES = (
    """
SELECT tenant, agent_id,
    if({step_ms:Int64} >= {never:Int64}, 0,
       intDiv(toUnixTimestamp(interval_start) * 1000, {step_ms:Int64}) * {step_ms:Int64}) AS interval_ms,
    """
    + ", ".join(f"sum({c})" for c in _SUMS)
    + """,
    sumMap(not_ready_reason_ms), sumMap(not_ready_starts)
FROM agent_interval_tallies
WHERE """
    + _IN_WINDOW.replace("toUnixTimestamp64Milli(TIME)", "toUnixTimestamp(interval_start) * 1000")
    + """
GROUP BY tenant, agent_id, interval_ms
"""
)

# Each agent's last change (the state that is still open) and the tenant's latest change.
_LAST = """
SELECT tenant, agent_id, last.1 AS at_ms, last.2 AS state, last.3 AS reason,
    max(latest) OVER (PARTITION BY tenant) AS tenant_last_ms
FROM
(
    SELECT tenant, agent_id,
        argMax(
            tuple(toUnixTimestamp64Milli(at), toString(state), reason), tuple(`partition`, `offset`)
        ) AS last,
        max(toUnixTimestamp64Milli(at)) AS latest
    FROM agent_states FINAL
    WHERE ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY tenant, agent_id
)
"""

# The change before an agent's last one (for agents whose last state is not ready).
_BEFORE_LAST = """
SELECT tenant, agent_id, toString(state), reason
FROM agent_states FINAL
WHERE tenant = {tenant:String} AND agent_id IN {agents:Array(String)}
ORDER BY tenant, agent_id, `partition` DESC, `offset` DESC
LIMIT 1 OFFSET 1 BY tenant, agent_id
"""


@dataclass
class _Sums:
    """One (tenant, agent, interval): ms per state, offer and handling counts, and
    not-ready ms and periods started per reason."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SUMS, 0))
    reasons: dict[str, list[int]] = field(default_factory=dict)

    def reason(self, name: str) -> list[int]:
        return self.reasons.setdefault(name, [0, 0])


def _aligned(ms: int) -> bool:
    return abs(ms) >= NEVER or ms % (TALLY_INTERVAL_S * 1000) == 0


def _use_tallies(params: dict[str, Any], interval_s: int | None) -> bool:
    whole = interval_s is None or interval_s % TALLY_INTERVAL_S == 0
    return whole and _aligned(params["start_ms"]) and _aligned(params["end_ms"])


def _pieces(s: int, e: int, step: int) -> list[tuple[int, int]]:
    """[s, e) cut at multiples of `step`: (interval start, ms) pairs; one piece keyed 0
    when `step` is NEVER (no intervals)."""
    if e <= s:
        return []
    if step >= NEVER:
        return [(0, e - s)]
    return [(b, min(e, b + step) - max(s, b)) for b in range(s - s % step, e, step)]


def _from_tallies(warehouse: Warehouse, params: dict[str, Any]) -> dict[tuple[str, str, int], _Sums]:
    """The 15-minute tallies in the window, plus each agent's still open last state."""
    step = params["step_ms"]
    sums: dict[tuple[str, str, int], _Sums] = defaultdict(_Sums)
    for row in warehouse.query_rows(_TALLIES, {**params, "never": NEVER}):
        acc = sums[(str(row[0]), str(row[1]), int(row[2]))]
        for name, value in zip(_SUMS, row[3 : 3 + len(_SUMS)], strict=True):
            acc.values[name] += int(value)
        ms_by_reason, starts = row[-2], row[-1]
        for reason in set(ms_by_reason) | set(starts):
            pair = acc.reason(str(reason))
            pair[0] += int(ms_by_reason.get(reason, 0))
            pair[1] += int(starts.get(reason, 0))
    start, end = params["start_ms"], params["end_ms"]
    last = [r for r in warehouse.query_rows(_LAST, {"tenant": params["tenant"]}) if int(r[2]) < end]
    waiting = defaultdict(list)  # tenant -> not-ready agents: does their last row start a period?
    for tenant, agent, at_ms, state, reason, tenant_last in last:
        upper = tenant_last if params["open_end"] else end
        s, e = max(int(at_ms), start), min(int(upper), end)
        if state != "logged_out":
            for key, ms in _pieces(s, e, step):
                acc = sums[(str(tenant), str(agent), key)]
                acc.values[f"{state}_ms"] += ms
                if state == "not_ready":
                    acc.reason(str(reason))[0] += ms
        if state == "not_ready" and start <= int(at_ms):
            waiting[str(tenant)].append((str(agent), int(at_ms), str(reason)))
    for tenant, agents in waiting.items():
        params_before = {"tenant": tenant, "agents": sorted(a for a, _, _ in agents)}
        found = warehouse.query_rows(_BEFORE_LAST, params_before)
        before = {str(a): (str(st), str(r)) for _, a, st, r in found}
        for agent, at_ms, reason in agents:
            if before.get(agent) != ("not_ready", reason):  # a new period, not the same reason again
                key = at_ms - at_ms % step if step < NEVER else 0
                sums[(tenant, agent, key)].reason(reason)[1] += 1
    return sums


def _from_states(warehouse: Warehouse, params: dict[str, Any]) -> dict[tuple[str, str, int], _Sums]:
    """The same sums computed from `agent_states`, offers and legs in SQL (any window)."""
    sums: dict[tuple[str, str, int], _Sums] = defaultdict(_Sums)
    for r in warehouse.query_df(_PERFORMANCE, params).to_dict("records"):
        acc = sums[(str(r["tenant"]), str(r["agent_id"]), int(r["interval_ms"]))]
        for name in _SUMS:
            acc.values[name] = int(r[name])
    for r in warehouse.query_df(_NOT_READY, params).to_dict("records"):
        acc = sums[(str(r["tenant"]), str(r["agent_id"]), int(r["interval_ms"]))]
        acc.reasons[str(r["reason"])] = [int(r["not_ready_ms"]), int(r["periods"])]
    return sums


def _sums(
    warehouse: Warehouse, tenant: str | None, start: Any, end: Any, interval_s: int | None
) -> dict[tuple[str, str, int], _Sums]:
    params = _params(tenant, start, end, interval_s)
    source = _from_tallies if _use_tallies(params, interval_s) else _from_states
    return source(warehouse, params)


def _params(
    tenant: str | None, start: datetime | int | None, end: datetime | int | None, interval_s: int | None
) -> dict[str, Any]:
    if interval_s is not None and interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    return {
        **period_params(tenant, start, end),
        "open_end": int(end is None),
        "step_ms": interval_s * 1000 if interval_s is not None else NEVER,
    }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...], ints: tuple[str, ...]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    floats = [
        c for c in columns if c not in ints and c not in ("tenant", "agent_id", "reason", "interval_start")
    ]
    return df.astype({c: "float64" for c in floats}).astype({c: "int64" for c in ints})


def agent_performance(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    interval_s: int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, agent_id[, interval_start]) with the agent's time per state,
    occupancy, utilization, offers and their outcomes, and handled contacts.

    `start` (inclusive) and `end` (exclusive) are aware datetimes or ms since the epoch.
    Seconds per state (`*_s`, float) are clipped to the window and, with `interval_s`, to
    each interval; `logged_in_s` is every state but `logged_out`. `occupancy` = (handling +
    wrap_up) / (handling + wrap_up + available + reserved); `utilization` = (handling +
    wrap_up + available + reserved) / logged-in time. `offers`, `accepted`, `declined`,
    `rona` (timed out) and `withdrawn` count offer events in the window;
    `agent_answer_rate` = accepted / offers. `handled` counts the agent's answered contacts
    (answered queue legs) by the time they were answered; `aht_s` = (talk + hold + wrap-up)
    / handled. A row exists when the agent was logged in, had an offer event or answered a
    contact in it.
    """
    rows = []
    sums = _sums(warehouse, tenant, start, end, interval_s)
    for (tenant_id, agent_id, interval_ms), acc in sorted(sums.items()):
        v = acc.values
        logged_in = sum(v[f"{state}_ms"] for state in _STATES)
        counts = {c: v[c] for c in (*COUNT_COLUMNS, "handled")}
        if not logged_in and not any(counts.values()):
            continue  # only not-ready periods of 0 s, or logged-out time
        work = (v["handling_ms"], v["wrap_up_ms"], v["available_ms"], v["reserved_ms"])
        rows.append(
            {
                "tenant": tenant_id,
                "agent_id": agent_id,
                "interval_start": _iso(interval_ms),
                **{f"{state}_s": v[f"{state}_ms"] / 1000 for state in _STATES},
                "logged_in_s": logged_in / 1000,
                "occupancy": _nan(occupancy(*work)),
                "utilization": _nan(utilization(*work, logged_in)),
                **counts,
                "agent_answer_rate": _nan(ratio(counts["accepted"], counts["offers"])),
                "aht_s": _nan(ratio(v["handle_ms"] / 1000, counts["handled"])),
            }
        )
    columns = tuple(c for c in PERFORMANCE_COLUMNS if interval_s is not None or c != "interval_start")
    return _frame(rows, columns, (*COUNT_COLUMNS, "handled"))


def agent_not_ready(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    interval_s: int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, agent_id, reason[, interval_start]): `not_ready_s` (float),
    the agent's not-ready time with that reason clipped to [start, end) (and the interval),
    and `count`, the not-ready periods that started in it. A period is a run of the agent's
    consecutive `not_ready` rows with the same reason (a new reason, or any other state in
    between, starts a new one); a period that started before `start` is not counted.
    """
    rows = []
    sums = _sums(warehouse, tenant, start, end, interval_s)
    for (tenant_id, agent_id, interval_ms), acc in sorted(sums.items()):
        for reason, (ms, periods) in sorted(acc.reasons.items()):
            if ms or periods:
                rows.append(
                    {
                        "tenant": tenant_id,
                        "agent_id": agent_id,
                        "reason": reason,
                        "interval_start": _iso(interval_ms),
                        "not_ready_s": ms / 1000,
                        "count": periods,
                    }
                )
    rows.sort(key=lambda r: (r["tenant"], r["agent_id"], r["reason"], r["interval_start"]))
    columns = tuple(c for c in NOT_READY_COLUMNS if interval_s is not None or c != "interval_start")
    return _frame(rows, columns, ("count",))
