"""Dispositions (problem types): what the handled contacts were about, per queue.

Definition: the handled contacts (CDR outcome "answered": the agent's wrap-up finished
with a disposition code) that entered a queue in the period, counted per tenant, queue and
disposition ("none" when the agent gave none). `share` is the part of the queue's handled
contacts; `aht_s` the average handle time (talk + hold + wrap-up) / handled of that
disposition, in seconds, as METRICS.md defines AHT.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import Overrides, period_params, source, typed
from analytics.warehouse import Warehouse

__all__ = ["NONE", "dispositions"]

NONE = "none"
"""The disposition of a handled contact whose agent gave no code."""

_DTYPES = {
    "tenant": "str",
    "queue_id": "str",
    "disposition": "str",
    "handled": "int64",
    "share": "float64",
    "aht_s": "float64",
}

_SQL = (
    """
SELECT
    tenant,
    queue_id,
    if(disposition = '', {none:String}, disposition) AS code,
    count() AS handled,
    handled / sum(handled) OVER (PARTITION BY tenant, queue_id) AS share,
    sum(talk_ms + hold_ms + wrap_up_ms) / handled / 1000 AS aht_s
FROM ("""
    + source("queued_at")
    + """)
WHERE is_answer
GROUP BY tenant, queue_id, code
ORDER BY tenant, queue_id, handled DESC, code
"""
)


def dispositions(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, queue, disposition), most frequent first."""
    params = {"none": NONE, **Overrides().params(), **period_params(tenant, start, end)}
    df = warehouse.query_df(_SQL, params).rename(columns={"code": "disposition"})
    return typed(df, _DTYPES)
