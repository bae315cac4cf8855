"""IVR containment from the contact records, per queue, for history without IVR events.

Definition (METRICS.md): containment = contacts that ended in the IVR without reaching a
queue / contacts that entered the IVR. Imported call logs (`ccx import calls`) have no IVR
events, so here both come from the CDRs of the contacts that arrived in the period
(`arrived_at` in `[start, end)`), per tenant and the queue the contact was for (flows run
by ccx's IVR are reported from their own events by `analytics.reports.ivr`):

- `entered`: every contact except the blocked ones (refused before any IVR);
- `contained`: outcome "ended_in_ivr" (the caller hung up or was served in the IVR);
- `reached_queue`: contacts that entered a queue (`queued_at` set);
- `containment` = contained / entered, NaN (no data) when nothing entered.

Closed (outside business hours) contacts are entered but neither contained nor queued.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import Overrides, period_params, source, typed
from analytics.warehouse import Warehouse

__all__ = ["CONTAINED", "ivr_containment"]

CONTAINED = "ended_in_ivr"
"""The CDR outcome of a contact that ended in the IVR."""

_DTYPES = {
    "tenant": "str",
    "queue_id": "str",
    "entered": "int64",
    "contained": "int64",
    "reached_queue": "int64",
    "containment": "float64",
}

_SQL = (
    """
SELECT
    tenant,
    queue_id,
    count() AS entered,
    countIf(outcome = {contained:String}) AS contained,
    countIf(queued_at IS NOT NULL) AS reached_queue,
    if(entered = 0, NULL, contained / entered) AS containment
FROM ("""
    + source("arrived_at")
    + """)
WHERE outcome != 'blocked'
GROUP BY tenant, queue_id
ORDER BY tenant, queue_id
"""
)


def ivr_containment(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, queue) of the contacts that arrived in the period."""
    params = {"contained": CONTAINED, **Overrides().params(), **period_params(tenant, start, end)}
    return typed(warehouse.query_df(_SQL, params), _DTYPES)
