"""`ccx report NAME`: check a report request, run it on the warehouse, render it.

`prepare` turns what a person typed (CLI options or API query parameters, as text) into a
`Request` for one report of `analytics.reports.registry`, without any I/O, raising
`ReportOptionError` naming the option at fault; `render_report` runs it on an open
warehouse (the API of `ccx up` uses it, since that process owns the embedded warehouse);
`run_report` opens the warehouse first, for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click

from analytics.lock import WarehouseBusy
from analytics.reports.registry import REPORTS, Report
from analytics.reports.render import BINARY_FORMATS, FORMATS, encode
from analytics.reports.trends import BY, check_timezone
from analytics.warehouse import Warehouse, open_warehouse
from ccx.settings import Settings
from processors.metrics import SL_VARIANTS
from telephony.simulator import parse_duration

__all__ = [
    "FLAGS",
    "REPORTS",
    "ReportOptionError",
    "Request",
    "execute",
    "listing",
    "prepare",
    "render_report",
    "run_report",
]

FLAGS = {
    "name": "NAME",
    "format": "--format",
    "tenant": "--tenant",
    "from": "--from",
    "to": "--to",
    "chart": "--chart",
    "interval": "--interval",
    "sl_threshold_s": "--sl-threshold",
    "short_abandon_s": "--short-abandon",
    "sl_variant": "--sl-variant",
    "by": "--by",
    "timezone": "--timezone",
    "fcr_window_h": "--fcr-window-h",
}
"""Each option of a report request (the API's query parameter name) and its CLI flag."""

_KEYWORD = {"interval": "interval_s"}
"""Options whose report keyword differs from the request's name."""


class ReportOptionError(ValueError):
    """A report request option is wrong; `option` is its key in `FLAGS`."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True)
class Request:
    """One checked report request."""

    report: Report
    fmt: str = "table"
    tenant: str | None = None
    start: int | None = None
    end: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """The report function's keyword options."""


def _time(option: str, value: str | int | None) -> int | None:
    """An ISO time (UTC unless it says otherwise) or epoch milliseconds, as ms."""
    from ccx.simulate import parse_start

    if value is None or isinstance(value, int):
        return value
    if value.strip().isdigit():
        return int(value)
    try:
        return parse_start(value.strip())
    except ValueError:
        raise ReportOptionError(
            option, f"an ISO time such as 2026-01-05T10:00:00Z or epoch ms, not {value!r}"
        ) from None


def _interval_s(text: str) -> int:
    try:
        seconds = parse_duration(text) // 1000
    except ValueError as e:
        raise ReportOptionError("interval", str(e)) from None
    if seconds <= 0:
        raise ReportOptionError("interval", f"must be at least 1s, not {text!r}")
    return seconds


def _checked(option: str, value: Any) -> Any:
    if option == "interval":
        return _interval_s(str(value))
    if option in ("sl_threshold_s", "short_abandon_s") and int(value) < 0:
        raise ReportOptionError(option, f"thresholds are seconds >= 0, not {value}")
    if option == "fcr_window_h" and int(value) <= 0:
        raise ReportOptionError(option, f"must be at least 1 hour, not {value}")
    if option == "sl_variant" and value not in SL_VARIANTS:
        raise ReportOptionError(option, f"one of {', '.join(SL_VARIANTS)}, not {value!r}")
    if option == "by" and value not in BY:
        raise ReportOptionError(option, f"one of {', '.join(BY)}, not {value!r}")
    if option == "timezone":
        try:
            return check_timezone(str(value))
        except ValueError as e:
            raise ReportOptionError(option, str(e)) from None
    return value


def prepare(
    name: str,
    *,
    fmt: str = "table",
    tenant: str | None = None,
    start: str | int | None = None,
    end: str | int | None = None,
    chart: bool = False,
    **options: Any,
) -> Request:
    """The checked request; ReportOptionError names the first bad option.

    `options` are the keys of `FLAGS` from "interval" on, None when not given; one given
    that the report does not take is an error, not silently ignored.
    """
    report = REPORTS.get(name)
    if report is None:
        raise ReportOptionError("name", f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    if fmt not in FORMATS:
        raise ReportOptionError("format", f"one of {', '.join(FORMATS)}, not {fmt!r}")
    if chart and not report.has_chart:
        raise ReportOptionError("chart", f"report {name} has no chart")
    kwargs: dict[str, Any] = {}
    for option, value in options.items():
        if option not in FLAGS or option in ("name", "format", "tenant", "from", "to", "chart"):
            raise ReportOptionError(option, "is not a report option")
        if value is None:
            continue
        keyword = _KEYWORD.get(option, option)
        if keyword not in report.options:
            takes = ", ".join(FLAGS[o] for o in FLAGS if _KEYWORD.get(o, o) in report.options) or "none"
            raise ReportOptionError(option, f"report {name} does not take it (its options: {takes})")
        kwargs[keyword] = _checked(option, value)
    first, last = _time("from", start), _time("to", end)
    if first is not None and last is not None and first >= last:
        raise ReportOptionError("to", "must be later than --from")
    return Request(report, fmt, tenant or None, first, last, kwargs)


def execute(warehouse: Warehouse, request: Request, *, chart: str | IO[bytes] | None = None) -> bytes:
    """The request's output in its format, as bytes; with `chart`, the PNG written there."""
    frame = request.report.run(
        warehouse, tenant=request.tenant, start=request.start, end=request.end, **request.options
    )
    if chart is not None:
        request.report.chart(frame, chart)
    return encode(frame, request.fmt)


def render_report(warehouse: Warehouse, name: str, *, fmt: str = "table", **options: Any) -> str | bytes:
    """The report as text (bytes for a binary format); ValueError names a bad option.

    `options` as `prepare` takes them (the API's query parameters).
    """
    request = prepare(name, fmt=fmt, **options)
    data = execute(warehouse, request)
    return data if fmt in BINARY_FORMATS else data.decode("utf-8")


def run_report(settings: Settings, request: Request, *, chart: Path | None = None) -> bytes:
    """Open the settings' warehouse and run `request` (the CLI)."""
    name = request.report.name
    if not settings.warehouse_url and not (settings.data_dir / "warehouse").exists():
        raise click.ClickException(
            f"no warehouse in {settings.data_dir}: run `ccx simulate` or `ccx up` first"
        )
    try:
        warehouse = open_warehouse(settings.warehouse, owner_info={"command": f"ccx report {name}"})
    except WarehouseBusy as busy:
        raise click.ClickException(str(busy)) from None
    try:
        return execute(warehouse, request, chart=str(chart) if chart is not None else None)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    finally:
        warehouse.close()


def listing() -> str:
    """Every report's name and description, one per line."""
    width = max(len(n) for n in REPORTS)
    return "".join(f"{r.name:<{width}}  {r.description}\n" for r in REPORTS.values())
