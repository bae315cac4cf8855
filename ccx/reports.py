"""`ccx report`: run a report on the warehouse and render it.

`render_report` works on an open warehouse (the API of `ccx up` uses it, since that process
owns the embedded warehouse); `run_report` opens the warehouse first, for the CLI.
"""

from __future__ import annotations

import click

from analytics.lock import WarehouseBusy
from analytics.reports.queue_intervals import queue_intervals
from analytics.reports.render import render
from analytics.warehouse import Warehouse, open_warehouse
from ccx.settings import Settings
from telephony.simulator import parse_duration

__all__ = ["REPORTS", "render_report", "run_report"]

REPORTS = ("queue-intervals",)


def render_report(
    warehouse: Warehouse,
    name: str,
    *,
    fmt: str = "table",
    interval: str = "15m",
    sl_threshold_s: int | None = None,
    short_abandon_s: int | None = None,
    sl_variant: str | None = None,
) -> str:
    """The report as text; ValueError names a bad option."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    interval_s = parse_duration(interval) // 1000
    if interval_s <= 0:
        raise ValueError(f"interval must be at least 1s, not {interval!r}")
    frame = queue_intervals(
        warehouse,
        interval_s=interval_s,
        sl_threshold_s=sl_threshold_s,
        short_abandon_s=short_abandon_s,
        sl_variant=sl_variant,
    )
    return render(frame, fmt)


def run_report(settings: Settings, name: str, **options: object) -> str:
    if not settings.warehouse_url and not (settings.data_dir / "warehouse").exists():
        raise click.ClickException(
            f"no warehouse in {settings.data_dir}: run `ccx simulate` or `ccx up` first"
        )
    try:
        warehouse = open_warehouse(settings.warehouse, owner_info={"command": f"ccx report {name}"})
    except WarehouseBusy as busy:
        raise click.ClickException(str(busy)) from None
    try:
        return render_report(warehouse, name, **options)  # type: ignore[arg-type]
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    finally:
        warehouse.close()
