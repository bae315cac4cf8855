"""`ccx report`: open the warehouse (this process must own it), run a report, render it."""

from __future__ import annotations

import click

from analytics.lock import WarehouseBusy
from analytics.reports.queue_intervals import queue_intervals
from analytics.reports.render import render
from analytics.warehouse import open_warehouse
from ccx.settings import Settings
from telephony.simulator import parse_duration

__all__ = ["run_report"]


def run_report(
    settings: Settings,
    name: str,
    *,
    fmt: str,
    interval: str,
    sl_threshold_s: int | None = None,
    short_abandon_s: int | None = None,
    sl_variant: str | None = None,
) -> str:
    try:
        interval_s = parse_duration(interval) // 1000
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--interval") from None
    if not settings.warehouse_url and not (settings.data_dir / "warehouse").exists():
        raise click.ClickException(
            f"no warehouse in {settings.data_dir}: run `ccx simulate` or `ccx up` there first"
        )
    try:
        warehouse = open_warehouse(settings.warehouse, owner_info={"command": f"ccx report {name}"})
    except WarehouseBusy as busy:
        raise click.ClickException(str(busy)) from None
    try:
        frame = queue_intervals(
            warehouse,
            interval_s=interval_s,
            sl_threshold_s=sl_threshold_s,
            short_abandon_s=short_abandon_s,
            sl_variant=sl_variant,
        )
        return render(frame, fmt)
    finally:
        warehouse.close()
