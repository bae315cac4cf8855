"""Customer satisfaction (CSAT) from post-contact surveys (`surveys`), per question, queue and agent.

Definition: the survey answers given in the period (`at` in `[start, end)`), one score 1-5
each, grouped per tenant, question and the queue and agent of the contact they rate (the
contact's CDR in `contacts`; "" when the contact has no CDR, e.g. a survey of a contact
that never reached an agent):

- `responses`: answers; `avg_score`: their mean;
- `csat`: the share of answers scoring 4 or 5 ("satisfied"), the usual CSAT %;
- `dissatisfied`: answers scoring 1 or 2.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import period_params, typed
from analytics.warehouse import Warehouse

__all__ = ["csat"]

_SQL = """
SELECT
    s.tenant AS tenant, s.question AS question,
    ifNull(c.queue_id, '') AS queue_id, ifNull(c.agent_id, '') AS agent_id,
    count() AS responses,
    avg(s.score) AS avg_score,
    countIf(s.score >= 4) / responses AS csat,
    countIf(s.score <= 2) AS dissatisfied
FROM (SELECT * FROM surveys FINAL) AS s
LEFT JOIN (SELECT tenant, contact_id, toString(queue_id) AS queue_id, agent_id FROM contacts FINAL) AS c
    ON s.tenant = c.tenant AND s.contact_id = c.contact_id
WHERE ({tenant:String} = '' OR s.tenant = {tenant:String})
    AND toUnixTimestamp64Milli(s.at) >= {start_ms:Int64} AND toUnixTimestamp64Milli(s.at) < {end_ms:Int64}
GROUP BY tenant, question, queue_id, agent_id
ORDER BY tenant, question, queue_id, agent_id
SETTINGS join_use_nulls = 1
"""

_TYPES = {
    "tenant": "str", "question": "str", "queue_id": "str", "agent_id": "str", "responses": "int64",
    "avg_score": "float64", "csat": "float64", "dissatisfied": "int64",
}  # fmt: skip


def csat(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, question, queue, agent) with responses, mean score and CSAT."""
    return typed(warehouse.query_df(_SQL, period_params(tenant, start, end)), _TYPES)
