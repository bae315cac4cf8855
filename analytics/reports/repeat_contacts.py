"""Repeat contacts and first-contact resolution (FCR), per queue.

Definition (METRICS.md): a contact is *repeated* when the same caller — the same ANI in the
same tenant — contacts again within `fcr_window_h` hours (default 168 h = 7 days): another
contact arrives strictly after it and at most `fcr_window_h` after it, in any queue and with
any outcome, even after the period's end. Per tenant and queue of the contacts that arrived
in the period (`arrived_at` in `[start, end)`), blocked contacts not counted at all:

- `contacts`: contacts with a known ANI; `unknown_ani`: contacts left out because their
  number is withheld or empty (no digit 1-9), which cannot be matched;
- `repeated` and `repeat_rate` = repeated / contacts;
- `handled` (answered) contacts, `handled_repeated` of them, and
  `fcr` = 1 - handled_repeated / handled: the share of handled contacts that resolved the
  caller's need at the first contact. No data (NaN) when the denominator is 0.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.reports.base import NEVER, Overrides, period_params, source, to_ms, typed
from analytics.warehouse import Warehouse

__all__ = ["DEFAULT_WINDOW_H", "repeat_contacts"]

DEFAULT_WINDOW_H = 168

_DTYPES = {
    "tenant": "str",
    "queue_id": "str",
    "contacts": "int64",
    "unknown_ani": "int64",
    "repeated": "int64",
    "repeat_rate": "float64",
    "handled": "int64",
    "handled_repeated": "int64",
    "fcr": "float64",
}

_SQL = (
    """
SELECT
    tenant,
    queue_id,
    countIf(known_ani) AS contacts,
    countIf(NOT known_ani) AS unknown_ani,
    countIf(known_ani AND again) AS repeated,
    if(contacts = 0, NULL, repeated / contacts) AS repeat_rate,
    countIf(known_ani AND is_answer) AS handled,
    countIf(known_ani AND is_answer AND again) AS handled_repeated,
    if(handled = 0, NULL, 1 - handled_repeated / handled) AS fcr
FROM
(
    SELECT
        *,
        count() OVER (
            PARTITION BY tenant, ani ORDER BY arrived_ms
            RANGE BETWEEN 1 FOLLOWING AND {window_ms:UInt64} FOLLOWING
        ) > 0 AS again
    FROM ("""
    + source("arrived_at")
    + """)
    WHERE outcome != 'blocked'
)
WHERE arrived_ms < {period_end_ms:Int64}
GROUP BY tenant, queue_id
ORDER BY tenant, queue_id
"""
)


def repeat_contacts(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    fcr_window_h: int = DEFAULT_WINDOW_H,
) -> pd.DataFrame:
    """One row per (tenant, queue) of the contacts that arrived in the period."""
    if fcr_window_h <= 0:
        raise ValueError(f"fcr_window_h must be > 0, not {fcr_window_h}")
    window_ms = fcr_window_h * 3_600_000
    period_end = to_ms(end, NEVER)
    params = {
        **Overrides().params(),
        # the later contacts that make one a repeat may arrive after the period
        **period_params(tenant, start, min(period_end + window_ms, NEVER)),
        "period_end_ms": period_end,
        "window_ms": window_ms,
    }
    return typed(warehouse.query_df(_SQL, params), _DTYPES)
