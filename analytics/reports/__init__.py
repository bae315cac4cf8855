"""Reports over the warehouse; each returns a pandas DataFrame that `render` prints.

`REPORTS` (`registry`) names every standard report, for the CLI, the API and notebooks:
`REPORTS["trends"].run(warehouse, by="weekday")`.
"""

from __future__ import annotations

from analytics.reports.queue_intervals import queue_intervals
from analytics.reports.registry import REPORTS, Report
from analytics.reports.render import FORMATS, encode, render

__all__ = ["FORMATS", "REPORTS", "Report", "encode", "queue_intervals", "render"]
