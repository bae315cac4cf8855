"""Reports over the warehouse; each returns a pandas DataFrame that `render` prints."""

from __future__ import annotations

from analytics.reports.queue_intervals import queue_intervals
from analytics.reports.render import FORMATS, render

__all__ = ["FORMATS", "queue_intervals", "render"]
