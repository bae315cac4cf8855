"""Abandoned-call analysis: how long callers waited before hanging up, per queue.

Definition: every contact whose CDR outcome is "abandoned" and that entered a queue in the
period (`queued_at` in `[start, end)`), short abandons included, is counted in one wait
bucket: 0-5, 5-10, 10-20, 20-30, 30-60, 60-120, 120-300 or 300+ seconds. A bucket holds
the waits above its lower bound and up to and including its upper bound (METRICS.md's
"wait <= T"; the first also holds 0), so the 0-5 bucket is exactly the short abandons
under the default 5 s threshold. `short_abandoned` counts the bucket's short abandons
under the queue's own threshold (`short_abandon_s`, defined or overridden); `share` is the
bucket's part of the queue's abandons and `cumulative_share` that of the buckets up to it.
Every queue with an abandon gets all eight buckets, empty ones as 0.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import Overrides, period_params, source, typed
from analytics.warehouse import Warehouse

__all__ = ["BUCKETS", "abandons"]

BUCKETS = ((0, 5), (5, 10), (10, 20), (20, 30), (30, 60), (60, 120), (120, 300), (300, None))
"""(from_s, to_s) of each wait bucket: waits in (from_s, to_s]; the last is open."""

_DTYPES = {
    "tenant": "str",
    "queue_id": "str",
    "wait_bucket": "str",
    "from_s": "int64",
    "to_s": "Int64",
    "abandoned": "int64",
    "short_abandoned": "int64",
    "share": "float64",
    "cumulative_share": "float64",
    "short_abandon_s": "int64",
}

_SQL = (
    """
SELECT
    tenant,
    queue_id,
    {labels:Array(String)}[bucket] AS wait_bucket,
    {lower_s:Array(Int64)}[bucket] AS from_s,
    if(bucket <= length({upper_s:Array(Int64)}), {upper_s:Array(Int64)}[bucket], NULL) AS to_s,
    countIf(b = bucket) AS abandoned,
    countIf(b = bucket AND is_short) AS short_abandoned,
    abandoned / sum(abandoned) OVER (PARTITION BY tenant, queue_id) AS share,
    sum(abandoned) OVER (PARTITION BY tenant, queue_id ORDER BY bucket ROWS UNBOUNDED PRECEDING)
        / sum(abandoned) OVER (PARTITION BY tenant, queue_id) AS cumulative_share,
    any(short_s) AS short_abandon_s
FROM
(
    SELECT *, if(i = 0, length({upper_s:Array(Int64)}) + 1, i) AS b
    FROM
    (
        SELECT *, arrayFirstIndex(x -> wait_ms <= x * 1000, {upper_s:Array(Int64)}) AS i
        FROM ("""
    + source("queued_at")
    + """)
        WHERE outcome = 'abandoned'
    )
)
ARRAY JOIN range(1, length({upper_s:Array(Int64)}) + 2) AS bucket
GROUP BY tenant, queue_id, bucket
ORDER BY tenant, queue_id, bucket
"""
)


def abandons(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    short_abandon_s: int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, queue, wait bucket); `short_abandon_s` overrides every queue's."""
    params = {
        "labels": [f"{lo}+" if hi is None else f"{lo}-{hi}" for lo, hi in BUCKETS],
        "lower_s": [lo for lo, _ in BUCKETS],
        "upper_s": [hi for _, hi in BUCKETS if hi is not None],
        **Overrides(short_abandon_s=short_abandon_s).params(),
        **period_params(tenant, start, end),
    }
    return typed(warehouse.query_df(_SQL, params), _DTYPES)
