"""The staffing plan: forecast -> Erlang -> agents per weekday x interval, with shrinkage.

For each forecast row (`analytics.forecast`): traffic A = calls x AHT / interval; the raw
agents are the fewest that meet the SL target with occupancy <= the cap (Erlang C, or
Erlang A when a mean patience is given; `analytics.staffing`); the scheduled agents are
ceil(raw / (1 - shrinkage)), the headcount to roster so that raw agents remain after
breaks, training and absence. An interval without calls needs no agents and has no SL.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analytics.staffing import offered_traffic, required_agents, scheduled_agents

__all__ = ["COLUMNS", "staffing_plan"]

COLUMNS = (
    "weekday", "interval_start", "calls", "aht_s", "traffic_erlangs", "raw_agents",
    "scheduled_agents", "service_level", "prob_wait", "prob_abandon", "asa_s", "occupancy",
)  # fmt: skip


def staffing_plan(
    forecast: pd.DataFrame,
    *,
    interval_s: float,
    target_sl: float = 0.8,
    threshold_s: float = 20,
    shrinkage: float = 0.3,
    max_occupancy: float = 0.85,
    patience_s: float | None = None,
) -> pd.DataFrame:
    """The plan for `forecast` (columns weekday, interval_start, calls, aht_s), in its order.

    Raises `StaffingInputError` (ValueError) naming a bad argument, ValueError for calls
    without an AHT.
    """
    scheduled_agents(0, shrinkage)  # validates shrinkage
    rows: list[dict[str, Any]] = []
    for row in forecast.to_dict("records"):
        calls, aht_s = float(row["calls"]), float(row["aht_s"])
        if calls > 0 and math.isnan(aht_s):
            raise ValueError(f"{row['weekday']} {row['interval_start']} has calls but no AHT")
        traffic = offered_traffic(calls, interval_s, aht_s) if calls > 0 else 0.0
        stats = required_agents(
            traffic,
            aht_s if calls > 0 else 1.0,
            target_sl=target_sl,
            threshold_s=threshold_s,
            max_occupancy=max_occupancy,
            patience_s=patience_s,
        )
        rows.append(
            {
                "weekday": row["weekday"],
                "interval_start": row["interval_start"],
                "calls": calls,
                "aht_s": aht_s,
                "traffic_erlangs": traffic,
                "raw_agents": stats.agents,
                "scheduled_agents": scheduled_agents(stats.agents, shrinkage),
                "service_level": stats.service_level,
                "prob_wait": stats.prob_wait,
                "prob_abandon": stats.prob_abandon,
                "asa_s": stats.asa_s,
                "occupancy": stats.occupancy,
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    floats = [c for c in COLUMNS if c not in ("weekday", "interval_start", "raw_agents", "scheduled_agents")]
    return frame.astype({c: "float64" for c in floats}).astype(
        {"raw_agents": "int64", "scheduled_agents": "int64"}
    )
