"""The agent reports of METRICS.md: state time, occupancy, utilization, offers, handling,
and not-ready time by reason, per tenant and agent (and interval).

State time comes from `agent_states FINAL`, one row per `AgentStateChanged`: in SQL, a
window over each agent's rows (ordered by time, then log position) gives every state its
end, the agent's next row; the agent's last state lasts until `end`, or without `end`
until the tenant's latest agent event. Each state is clipped to [start, end) and, with
`interval_s`, split across interval boundaries (`ARRAY JOIN range(...)`). Time before an
agent's first event is unknown and counts nowhere; `logged_out` time counts nowhere.

Offers come from the `offers` table rather than from `raw_events`: the sink writes it
typed (agent, kind, time) and ordered by (tenant, agent, time), so a report reads a few
narrow columns of one agent's range instead of parsing the JSON payload of every message
of `cc.contact-events`. Handled contacts and their handle time come from `contacts FINAL`
(CDRs: a contact counts once its wrap-up finished), attributed to the interval in which
the agent answered (`answered_at`).

The rates use `processors.metrics` (`occupancy`, `utilization`, `ratio`), the one
implementation the wallboard also uses; "no data" (a zero denominator) is NaN.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.reports.base import NEVER, period_params
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
        PARTITION BY tenant, agent_id ORDER BY at_ms, `partition`, `offset`
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
        intDiv(toUnixTimestamp64Milli(assumeNotNull(answered_at)), {step_ms:Int64})
            * {step_ms:Int64} AS interval_ms,
        '' AS state, toInt64(0) AS ms, 'handled' AS kind,
        toInt64(talk_ms + hold_ms + wrap_up_ms) AS handle_ms
    FROM contacts FINAL
    WHERE outcome = 'answered' AND agent_id != '' AND answered_at IS NOT NULL
        AND """
    + _IN_WINDOW.replace("TIME", "answered_at")
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
    (CDRs) by `answered_at`; `aht_s` = (talk + hold + wrap-up) / handled. A row exists when
    the agent was logged in, had an offer event or answered a contact in it.
    """
    params = _params(tenant, start, end, interval_s)
    rows = []
    for r in warehouse.query_df(_PERFORMANCE, params).to_dict("records"):
        ms = {k: int(r[f"{k}_ms"]) for k in ("available", "reserved", "handling", "wrap_up", "logged_in")}
        work = (ms["handling"], ms["wrap_up"], ms["available"], ms["reserved"])
        counts = {c: int(r[c]) for c in (*COUNT_COLUMNS, "handled")}
        rows.append(
            {
                "tenant": str(r["tenant"]),
                "agent_id": str(r["agent_id"]),
                "interval_start": _iso(int(r["interval_ms"])),
                **{c: int(r[c.removesuffix("_s") + "_ms"]) / 1000 for c in STATE_COLUMNS},
                "occupancy": _nan(occupancy(*work)),
                "utilization": _nan(utilization(*work, ms["logged_in"])),
                **counts,
                "agent_answer_rate": _nan(ratio(counts["accepted"], counts["offers"])),
                "aht_s": _nan(ratio(int(r["handle_ms"]) / 1000, counts["handled"])),
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
    params = _params(tenant, start, end, interval_s)
    rows = [
        {
            "tenant": str(r["tenant"]),
            "agent_id": str(r["agent_id"]),
            "reason": str(r["reason"]),
            "interval_start": _iso(int(r["interval_ms"])),
            "not_ready_s": int(r["not_ready_ms"]) / 1000,
            "count": int(r["periods"]),
        }
        for r in warehouse.query_df(_NOT_READY, params).to_dict("records")
    ]
    columns = tuple(c for c in NOT_READY_COLUMNS if interval_s is not None or c != "interval_start")
    return _frame(rows, columns, ("count",))
