"""Every standard report by name: its function, description, options and chart.

A report function is `(warehouse, *, tenant=None, start=None, end=None, **options)` and
returns a DataFrame; `start` (inclusive) and `end` (exclusive) are aware datetimes or ms
since the epoch. `Report.options` names the keyword options it takes beyond those (the
CLI's and API's report options map onto these names), `Report.chart`, when set, draws its
frame as a PNG (`analytics.reports.charts`).

Functions and charts are named as "module:attribute" and imported on first use, so this
module stays cheap to import, a chart never loads matplotlib for a report without one,
and a report whose module does not exist yet fails only when it is run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import pandas as pd

from analytics.warehouse import Warehouse

__all__ = ["OPTIONS", "REPORTS", "Report", "get"]

OPTIONS = (
    "interval_s",
    "sl_threshold_s",
    "short_abandon_s",
    "sl_variant",
    "by",
    "timezone",
    "fcr_window_h",
)
"""Every report option, by keyword name; each `Report.options` is a subset."""


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Report:
    name: str
    description: str
    target: str
    """The function, as "module:attribute"."""
    options: tuple[str, ...] = ()
    defaults: Mapping[str, object] = field(default_factory=dict)
    """Option values used when the caller gives none (the function's own default otherwise)."""
    chart_target: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.options) - set(OPTIONS) or set(self.defaults) - set(self.options)
        if unknown:
            raise ValueError(f"report {self.name}: unknown options {sorted(unknown)}")

    @property
    def function(self) -> Callable[..., pd.DataFrame]:
        function: Callable[..., pd.DataFrame] = _load(self.target)
        return function

    @property
    def has_chart(self) -> bool:
        return self.chart_target is not None

    def run(self, warehouse: Warehouse, *, tenant: str | None = None, start: Any = None, end: Any = None,
            **options: Any) -> pd.DataFrame:  # fmt: skip
        """The report's frame; ValueError for an option it does not take."""
        extra = sorted(k for k, v in options.items() if v is not None and k not in self.options)
        if extra:
            raise ValueError(f"report {self.name} takes no option {', '.join(extra)}")
        given = {**self.defaults, **{k: v for k, v in options.items() if v is not None}}
        return self.function(warehouse, tenant=tenant, start=start, end=end, **given)

    def chart(self, frame: pd.DataFrame, out: str | IO[bytes], *, title: str | None = None) -> None:
        """Draw `frame` (this report's output) as a PNG into a file name or binary file."""
        if self.chart_target is None:
            raise ValueError(f"report {self.name} has no chart")
        _load(self.chart_target)(frame, out, title=title or self.name)


_THRESHOLDS = ("sl_threshold_s", "short_abandon_s", "sl_variant")

_ALL = (
    Report(
        "queue-intervals",
        "Per queue and interval: offered, answered, abandoned, every SL variant, ASA, ATT, ACW, "
        "AHT, abandon and answer rate, longest wait (METRICS.md).",
        "analytics.reports.queue_intervals:queue_intervals",
        ("interval_s", *_THRESHOLDS),
        {"interval_s": 900},
        "analytics.reports.charts:queue_intervals",
    ),
    Report(
        "agent-performance",
        "Per agent (and interval): handled, occupancy, utilization, answer rate, RONA, time by state.",
        "analytics.reports.agents:agent_performance",
        ("interval_s",),
    ),
    Report(
        "agent-not-ready",
        "Per agent and not-ready reason: time and count (and interval).",
        "analytics.reports.agents:agent_not_ready",
        ("interval_s",),
    ),
    Report(
        "abandons",
        "Abandoned contacts per queue by wait before abandoning (0-5 s … 300+ s): count, short "
        "abandons, share and cumulative share.",
        "analytics.reports.abandons:abandons",
        ("short_abandon_s",),
        chart_target="analytics.reports.charts:abandons",
    ),
    Report(
        "trends",
        "Per queue by hour of day or weekday (--by, --timezone): offered, answered, abandoned, "
        "SL, ASA, AHT, abandon and answer rate.",
        "analytics.reports.trends:trends",
        ("by", "timezone", *_THRESHOLDS),
        chart_target="analytics.reports.charts:trends",
    ),
    Report(
        "dispositions",
        "Handled contacts per queue and disposition (problem type): count, share of handled, AHT.",
        "analytics.reports.dispositions:dispositions",
        chart_target="analytics.reports.charts:dispositions",
    ),
    Report(
        "geography",
        "Callers by country and region of their number (ANI): contacts, answered, abandoned, "
        "share; withheld or unknown numbers as 'unknown'.",
        "analytics.reports.geography:geography",
        ("short_abandon_s",),
        chart_target="analytics.reports.charts:geography",
    ),
    Report(
        "repeat-contacts",
        "Per queue: contacts repeated by the same ANI within --fcr-window-h (default 168 h), "
        "repeat rate and first-contact resolution (FCR); unknown ANIs counted apart.",
        "analytics.reports.repeat_contacts:repeat_contacts",
        ("fcr_window_h",),
    ),
    Report(
        "ivr-containment",
        "Per queue: contacts that entered, ended in the IVR, reached a queue, and containment, "
        "from CDR outcomes (imported history: no IVR events).",
        "analytics.reports.ivr_containment:ivr_containment",
    ),
    Report(
        "ivr-flows",
        "Per IVR flow: sessions, results (routed, callback, voicemail, completed, hung up), "
        "containment and mean time in the IVR, from the IVR's events.",
        "analytics.reports.ivr:ivr_flows",
    ),
    Report(
        "ivr-nodes",
        "Per IVR flow and node: visits, contacts, hang-ups, timeouts, invalid input, every exit, "
        "mean time in the node and reach rate.",
        "analytics.reports.ivr:ivr_nodes",
    ),
    Report(
        "csat",
        "Post-contact survey answers per question, queue and agent: responses, mean score, CSAT "
        "(share of 4-5) and dissatisfied (1-2).",
        "analytics.reports.csat:csat",
    ),
    Report(
        "csat-tickets",
        "Post-contact survey answers per question and category of the ticket they name: responses, "
        "mean score, CSAT (share of 4-5) and dissatisfied (1-2).",
        "analytics.reports.tickets:csat_tickets",
    ),
    Report(
        "ticket-backlog",
        "Open tickets at the end of the period per department, priority and status: count, "
        "resolution SLA already breached, mean and max age (h).",
        "analytics.reports.tickets:ticket_backlog",
    ),
    Report(
        "ticket-sla",
        "Tickets created in the period per priority and department: resolved, resolved within SLA "
        "(%), response and resolution breaches, mean and median time to resolve (h).",
        "analytics.reports.tickets:ticket_sla",
    ),
)

REPORTS: dict[str, Report] = {r.name: r for r in _ALL}


def get(name: str) -> Report:
    """The report called `name`; ValueError listing the names otherwise."""
    try:
        return REPORTS[name]
    except KeyError:
        raise ValueError(f"unknown report {name!r}; known: {', '.join(REPORTS)}") from None
