"""Data quality: a Great Expectations suite over the warehouse, with a readable report.

`check(warehouse)` pulls four datasets out of ClickHouse (the SQL derives one flag per rule
where a rule spans columns or rows) and validates each with a Great Expectations (GX 1.x)
suite in an ephemeral context:

- `cdrs` (the contacts table): one row per contact; wait, talk, hold and wrap-up never
  negative; a known outcome; times in order (arrived <= queued <= answered <= ended <=
  finished).
- `finished_contacts` (raw events): every finished contact (ended unanswered, wrap-up
  completed, or refused as blocked) has exactly one CDR.
- `agent_transitions` (raw events): an agent's state changes chain (each event's
  `previous` is the state its prior event set), so its state intervals never overlap.
- `queue_legs` (the contact_legs table): a known outcome, waits and durations never
  negative, left at or after entering, a contact's legs numbered 1..n without a gap.
- `interval_tallies` (the materialized view): per queue and 15-minute interval the view's
  `queue_interval_tallies` equal the legs added up again (a leg lost or counted twice
  between the table and its view shows here).
- `tickets` (the `tickets` view over `ticket_events`): every ticket has its `TicketCreated`,
  a known workflow status, and was never resolved or closed before it was created.
- `queue_intervals` (the report): conservation per queue and interval, METRICS.md:
  offered = answered + abandoned + overflowed + timed out + callback (+ waiting), where
  offered is every leg that entered the queue less short abandons and closed ones.

Each expectation's result names the dataset, the rule, how many rows it checked, how many
broke it and a sample of them. `ccx dq` prints the report and exits 1 when a rule fails.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.reports.queue_intervals import queue_intervals
from analytics.warehouse import Warehouse
from processors.metrics import LEG_OUTCOMES
from processors.tickets import STATUSES

__all__ = ["OUTCOMES", "DqResult", "check", "render"]

OUTCOMES = (
    "answered",
    "abandoned",
    "timed_out",
    "callback",
    "closed",
    "full",
    "blocked",
    "overflowed",
    "ended_in_ivr",
)

_CDRS = """
SELECT
    tenant, contact_id, outcome, wait_ms, talk_ms, hold_ms, wrap_up_ms,
    toUInt8(
        (queued_at IS NULL OR arrived_at IS NULL OR arrived_at <= queued_at)
        AND (answered_at IS NULL OR queued_at IS NULL OR queued_at <= answered_at)
        AND (ended_at IS NULL OR answered_at IS NULL OR answered_at <= ended_at)
        AND (finished_at IS NULL OR ended_at IS NULL OR ended_at <= finished_at)
    ) AS times_in_order
FROM contacts FINAL
"""

_FINISHED = """
WITH finished AS (
    SELECT DISTINCT tenant, JSONExtractString(payload, 'contact_id') AS contact_id
    FROM raw_events FINAL
    WHERE type IN ('WrapUpCompleted', 'ContactBlocked')
       OR (type = 'ContactEnded' AND JSONExtractString(payload, 'agent_id') = '')
),
records AS (
    SELECT tenant, JSONExtractString(payload, 'contact_id') AS contact_id, count() AS cdrs
    FROM raw_events FINAL
    WHERE type = 'ContactRecord'
    GROUP BY tenant, contact_id
)
SELECT f.tenant AS tenant, f.contact_id AS contact_id, toInt64(coalesce(r.cdrs, 0)) AS cdrs
FROM finished AS f
LEFT JOIN records AS r ON f.tenant = r.tenant AND f.contact_id = r.contact_id
SETTINGS join_use_nulls = 1
"""

_TRANSITIONS = """
SELECT
    tenant, agent_id, occurred_at, state, previous,
    lagInFrame(state, 1, 'logged_out') OVER (
        PARTITION BY tenant, agent_id ORDER BY occurred_at, topic, partition, offset
        ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
    ) AS prior_state,
    toUInt8(previous = prior_state) AS chained
FROM
(
    SELECT tenant, topic, partition, offset, occurred_at,
        JSONExtractString(payload, 'agent_id') AS agent_id,
        JSONExtractString(payload, 'state') AS state,
        JSONExtractString(payload, 'previous') AS previous
    FROM raw_events FINAL
    WHERE type = 'AgentStateChanged'
)
"""


_LEGS = """
SELECT
    tenant, contact_id, leg, outcome, wait_ms, talk_ms, hold_ms, wrap_up_ms,
    toUInt8(left_at >= queued_at) AS times_in_order,
    toUInt8(max(leg) OVER w = count() OVER w AND min(leg) OVER w = 1) AS numbered
FROM contact_legs FINAL
WINDOW w AS (PARTITION BY tenant, contact_id)
"""


_TICKETS = """
SELECT
    tenant, ticket_id, status,
    toUInt8(toUnixTimestamp64Milli(created_at) > 0) AS created,
    toUInt8(
        (resolved_at IS NULL OR resolved_at >= created_at) AND (closed_at IS NULL OR closed_at >= created_at)
    ) AS times_in_order
FROM tickets
"""


def _tallies_agree(warehouse: Warehouse) -> pd.DataFrame:
    """Per tenant, queue and 15-minute interval: does the view's tally equal the legs'?"""
    from analytics.reports.tallies import TALLY_INTERVAL_S, queue_tallies

    key = f"intDiv(toUnixTimestamp(at), {TALLY_INTERVAL_S}) * {TALLY_INTERVAL_S}"
    view = {(g.tenant, g.queue_id, g.key): g.tally for g in queue_tallies(warehouse, key=key, params={})}
    legs = queue_tallies(warehouse, key=key, params={}, whole_intervals=False)
    again = {(g.tenant, g.queue_id, g.key): g.tally for g in legs}
    keys = sorted(set(view) | set(again))
    return pd.DataFrame(
        {
            "tenant": [k[0] for k in keys],
            "queue_id": [k[1] for k in keys],
            "interval_start": [int(k[2]) for k in keys],
            "agrees": [int(view.get(k) == again.get(k)) for k in keys],
        },
        columns=["tenant", "queue_id", "interval_start", "agrees"],
    ).astype({"agrees": "int64"})


@dataclass(frozen=True)
class DqResult:
    dataset: str
    rule: str
    column: str
    success: bool
    checked: int
    unexpected: int
    sample: list[Any] = field(default_factory=list)


def _datasets(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    intervals = queue_intervals(warehouse, interval_s=900)
    if len(intervals):
        parts = ["answered", "abandoned", "overflowed", "timed_out", "callback", "waiting"]
        intervals = intervals.assign(
            conserved=(intervals["offered"] == intervals[parts].sum(axis=1)).astype("int64")
        )
    else:
        intervals = pd.DataFrame({"conserved": pd.Series([], dtype="int64")})
    return {
        "cdrs": warehouse.query_df(_CDRS),
        "finished_contacts": warehouse.query_df(_FINISHED),
        "agent_transitions": warehouse.query_df(_TRANSITIONS),
        "queue_legs": warehouse.query_df(_LEGS),
        "interval_tallies": _tallies_agree(warehouse),
        "tickets": warehouse.query_df(_TICKETS),
        "queue_intervals": intervals,
    }


def _expectations(dataset: str) -> list[Any]:
    import importlib

    gxe: Any = importlib.import_module("great_expectations.expectations")  # re-exports lazily

    if dataset == "cdrs":
        return [
            gxe.ExpectColumnValuesToBeUnique(column="contact_id"),
            *(
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
                for c in ("wait_ms", "talk_ms", "hold_ms", "wrap_up_ms")
            ),
            gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=list(OUTCOMES)),
            gxe.ExpectColumnValuesToBeInSet(column="times_in_order", value_set=[1]),
        ]
    if dataset == "finished_contacts":
        return [gxe.ExpectColumnValuesToBeBetween(column="cdrs", min_value=1, max_value=1)]
    if dataset == "agent_transitions":
        return [gxe.ExpectColumnValuesToBeInSet(column="chained", value_set=[1])]
    if dataset == "queue_legs":
        return [
            gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=list(LEG_OUTCOMES)),
            *(
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
                for c in ("wait_ms", "talk_ms", "hold_ms", "wrap_up_ms")
            ),
            gxe.ExpectColumnValuesToBeInSet(column="times_in_order", value_set=[1]),
            gxe.ExpectColumnValuesToBeInSet(column="numbered", value_set=[1]),
        ]
    if dataset == "interval_tallies":
        return [gxe.ExpectColumnValuesToBeInSet(column="agrees", value_set=[1])]
    if dataset == "tickets":
        return [
            gxe.ExpectColumnValuesToBeInSet(column="created", value_set=[1]),
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
            gxe.ExpectColumnValuesToBeInSet(column="times_in_order", value_set=[1]),
        ]
    return [gxe.ExpectColumnValuesToBeInSet(column="conserved", value_set=[1])]


def _rule(expectation: Any) -> str:
    kwargs = {k: v for k, v in expectation.configuration.kwargs.items() if k not in ("column", "batch_id")}
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if v is not None)
    return type(expectation).__name__ + (f"({args})" if args else "")


def check(warehouse: Warehouse) -> list[DqResult]:
    """Validate every dataset with its suite; one result per expectation."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage reporting over the network
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = context.data_sources.add_pandas("warehouse")
        results: list[DqResult] = []
        for name, frame in _datasets(warehouse).items():
            if frame.empty:  # no rows, nothing can break a rule (GX would call it a failure)
                results += [
                    DqResult(name, _rule(e), e.configuration.kwargs.get("column", ""), True, 0, 0)
                    for e in _expectations(name)
                ]
                continue
            asset = source.add_dataframe_asset(name=name)
            batch = asset.add_batch_definition_whole_dataframe(f"{name}-all").get_batch(
                batch_parameters={"dataframe": frame}
            )
            for expectation in _expectations(name):
                outcome = batch.validate(expectation, result_format="SUMMARY")
                result = outcome.result or {}
                results.append(
                    DqResult(
                        dataset=name,
                        rule=_rule(expectation),
                        column=expectation.configuration.kwargs.get("column", ""),
                        success=bool(outcome.success),
                        checked=int(result.get("element_count", len(frame))),
                        unexpected=int(result.get("unexpected_count") or 0),
                        sample=list(result.get("partial_unexpected_list") or [])[:5],
                    )
                )
    return results


def render(results: list[DqResult]) -> str:
    """The results as a table: one line per rule, failures with a sample of bad values."""
    lines = [f"{'':2}{'dataset':<19}{'column':<16}{'checked':>9}{'bad':>7}  rule"]
    for r in results:
        mark = "ok" if r.success else "!!"
        lines.append(f"{mark:<2}{r.dataset:<19}{r.column:<16}{r.checked:>9}{r.unexpected:>7}  {r.rule}")
        if not r.success and r.sample:
            lines.append(f"{'':37}e.g. {r.sample}")
    failed = sum(not r.success for r in results)
    lines.append(
        f"{len(results) - failed} of {len(results)} rules hold" + (f"; {failed} FAILED" if failed else "")
    )
    return "\n".join(lines) + "\n"
