"""Ticket reports from `ticket_events`: the open backlog, SLA attainment, and CSAT by ticket.

Each folds a ticket's events up to the end of the period in decision order (the log's
`offset`; all of a tenant's ticket events are in one partition), as the `tickets` view does
without a bound. A ticket whose `TicketCreated` is not stored is left out.

- `ticket_backlog`: the tickets open (new, assigned, in_progress, waiting_on_customer) at
  `end` — or, without `end`, at the newest ticket event's time — per tenant, department,
  priority and status: `open`, `resolution_breached` (of those, how many already breached
  their resolution SLA), mean and max age in hours (from creation to that time).
- `ticket_sla`: the tickets created in `[start, end)` per tenant, priority and department:
  `created`; `resolved` (resolved before `end`); `resolved_in_sla` (first resolution at or
  before the resolution due time then in force, i.e. carried by that status change; a
  ticket without a resolution SLA meets it); `resolved_in_sla_pct` = resolved_in_sla /
  resolved (NaN: none resolved); `response_breaches`, `resolution_breaches` (tickets with
  such a `TicketSlaBreached` before `end`); mean and median hours from creation to first
  resolution (NaN: none; the median interpolates between the middle two, as pandas does).
- `csat_tickets`: survey answers given in `[start, end)` per tenant, question and the
  category of the ticket they name (`surveys.ticket_id`; "" for answers without a ticket):
  responses, mean score, CSAT (share of 4-5) and dissatisfied (1-2), as `csat`.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import NEVER, period_params, to_ms, typed
from analytics.warehouse import Warehouse

__all__ = ["OPEN_STATUSES", "csat_tickets", "ticket_backlog", "ticket_sla"]

OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_on_customer")

_FOLD = """
SELECT
    tenant, ticket_id,
    minIf(toUnixTimestamp64Milli(at), type = 'TicketCreated') AS created_ms,
    anyIf(priority, type = 'TicketCreated') AS priority,
    anyIf(department, type = 'TicketCreated') AS department,
    if(countIf(type = 'TicketStatusChanged') = 0, 'new',
        argMaxIf(to_status, `offset`, type = 'TicketStatusChanged')) AS status,
    countIf(type = 'TicketSlaBreached' AND which = 'response') > 0 AS response_breached,
    countIf(type = 'TicketSlaBreached' AND which = 'resolution') > 0 AS resolution_breached,
    countIf(type = 'TicketStatusChanged' AND to_status = 'resolved') > 0 AS was_resolved,
    argMinIf(toUnixTimestamp64Milli(at), `offset`, type = 'TicketStatusChanged' AND to_status = 'resolved')
        AS resolved_ms,
    argMinIf(ifNull(toUnixTimestamp64Milli(resolve_due_at), 0), `offset`,
        type = 'TicketStatusChanged' AND to_status = 'resolved') AS due_ms
FROM ticket_events FINAL
WHERE ({tenant:String} = '' OR tenant = {tenant:String}) AND toUnixTimestamp64Milli(at) < {end_ms:Int64}
GROUP BY tenant, ticket_id
HAVING countIf(type = 'TicketCreated') > 0
"""

_BACKLOG = f"""
SELECT
    tenant, department, priority, status,
    count() AS open,
    countIf(resolution_breached) AS resolution_breached,
    avg(({{as_of_ms:Int64}} - created_ms) / 3600000) AS mean_age_h,
    max(({{as_of_ms:Int64}} - created_ms) / 3600000) AS max_age_h
FROM ({_FOLD})
WHERE status IN {OPEN_STATUSES}
GROUP BY tenant, department, priority, status
ORDER BY tenant, department, priority, status
"""

_NEWEST = """
SELECT toInt64(max(toUnixTimestamp64Milli(at))) FROM ticket_events FINAL
WHERE {tenant:String} = '' OR tenant = {tenant:String}
"""

_SLA = f"""
SELECT
    tenant, priority, department,
    count() AS created,
    countIf(was_resolved) AS resolved,
    countIf(was_resolved AND (due_ms = 0 OR resolved_ms <= due_ms)) AS resolved_in_sla,
    resolved_in_sla / resolved AS resolved_in_sla_pct,
    countIf(response_breached) AS response_breaches,
    countIf(resolution_breached) AS resolution_breaches,
    avgIf((resolved_ms - created_ms) / 3600000, was_resolved) AS mean_resolve_h,
    quantileExactInclusiveIf(0.5)((resolved_ms - created_ms) / 3600000, was_resolved) AS median_resolve_h
FROM ({_FOLD})
WHERE created_ms >= {{start_ms:Int64}} AND created_ms < {{end_ms:Int64}}
GROUP BY tenant, priority, department
ORDER BY tenant, priority, department
"""

_CSAT = """
SELECT
    s.tenant AS tenant, s.question AS question, ifNull(k.category, '') AS ticket_category,
    count() AS responses,
    avg(s.score) AS avg_score,
    countIf(s.score >= 4) / responses AS csat,
    countIf(s.score <= 2) AS dissatisfied
FROM (SELECT * FROM surveys FINAL) AS s
LEFT JOIN (
    SELECT tenant, ticket_id, toString(anyIf(category, type = 'TicketCreated')) AS category
    FROM ticket_events FINAL GROUP BY tenant, ticket_id
) AS k ON s.tenant = k.tenant AND s.ticket_id = k.ticket_id
WHERE ({tenant:String} = '' OR s.tenant = {tenant:String})
    AND toUnixTimestamp64Milli(s.at) >= {start_ms:Int64} AND toUnixTimestamp64Milli(s.at) < {end_ms:Int64}
GROUP BY tenant, question, ticket_category
ORDER BY tenant, question, ticket_category
SETTINGS join_use_nulls = 1
"""

_BACKLOG_TYPES = {
    "tenant": "str", "department": "str", "priority": "str", "status": "str", "open": "int64",
    "resolution_breached": "int64", "mean_age_h": "float64", "max_age_h": "float64",
}  # fmt: skip
_SLA_TYPES = {
    "tenant": "str", "priority": "str", "department": "str", "created": "int64", "resolved": "int64",
    "resolved_in_sla": "int64", "resolved_in_sla_pct": "float64", "response_breaches": "int64",
    "resolution_breaches": "int64", "mean_resolve_h": "float64", "median_resolve_h": "float64",
}  # fmt: skip
_CSAT_TYPES = {
    "tenant": "str", "question": "str", "ticket_category": "str", "responses": "int64",
    "avg_score": "float64", "csat": "float64", "dissatisfied": "int64",
}  # fmt: skip


def ticket_backlog(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """Open tickets at `end` (default: the newest ticket event) per department, priority and
    status, with their ages; `start` does not bound a backlog."""
    params = period_params(tenant, start, end)
    as_of = to_ms(end, NEVER)
    if end is None:
        newest = warehouse.query_rows(_NEWEST, {"tenant": params["tenant"]})
        as_of = int(newest[0][0]) if newest and newest[0][0] else 0
        params["end_ms"] = as_of + 1  # the newest event counts
    return typed(warehouse.query_df(_BACKLOG, {**params, "as_of_ms": as_of}), _BACKLOG_TYPES)


def ticket_sla(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """SLA attainment of the tickets created in the period, per priority and department."""
    return typed(warehouse.query_df(_SLA, period_params(tenant, start, end)), _SLA_TYPES)


def csat_tickets(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """Survey answers per question and ticket category, with responses, mean score and CSAT."""
    return typed(warehouse.query_df(_CSAT, period_params(tenant, start, end)), _CSAT_TYPES)
