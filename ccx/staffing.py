"""`ccx staffing`: the Erlang calculators and the staffing plan from the warehouse's history.

The mathematics is `analytics.staffing`, the forecast `analytics.forecast` and the plan
`analytics.staffing_plan`; this module turns options into calls and results into text,
and a bad argument into a click error naming its option (exit code 2).
"""

from __future__ import annotations

import json
from typing import Any

import click

from analytics.staffing import (
    StaffingInputError,
    erlang_b,
    evaluate,
    offered_traffic,
    required_agents,
    scheduled_agents,
    traffic_for,
    trunks_for,
)
from ccx.settings import Settings

__all__ = ["bad_option", "output", "plan_text", "queue_result", "trunk_result"]


def bad_option(error: StaffingInputError) -> click.BadParameter:
    """The click error for `error`, naming the option its argument came from."""
    return click.BadParameter(str(error), param_hint="--" + error.argument.replace("_", "-"))


def output(result: dict[str, Any], as_json: bool) -> str:
    """`result` as one JSON object, or as aligned `key: value` lines for people."""
    if as_json:
        return json.dumps(result, sort_keys=True)
    width = max(len(k) for k in result)

    def show(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.6g}" if value and abs(value) < 1e-3 else f"{value:.4f}".rstrip("0").rstrip(".")
        return str(value)

    return "\n".join(f"{k:>{width}}: {show(v)}" for k, v in result.items())


def queue_result(
    *,
    calls: float,
    interval_s: float,
    aht_s: float,
    target_sl: float,
    threshold_s: float,
    max_asa_s: float | None = None,
    max_occupancy: float = 1.0,
    agents: int | None = None,
    patience_s: float | None = None,
) -> dict[str, Any]:
    """Erlang C (A with `patience_s`): the fewest agents meeting the targets, or `agents`."""
    traffic = offered_traffic(calls, interval_s, aht_s)
    if agents is None:
        stats = required_agents(
            traffic,
            aht_s,
            target_sl=target_sl,
            threshold_s=threshold_s,
            max_asa_s=max_asa_s,
            max_occupancy=max_occupancy,
            patience_s=patience_s,
        )
    else:
        stats = evaluate(agents, traffic, aht_s, threshold_s, patience_s)
    found = stats.as_dict()
    order = (
        "model", "agents", "calls", "interval_s", "aht_s", "traffic_erlangs", "target_sl", "threshold_s",
        "sl_variant", "service_level", "prob_wait", "asa_s", "avg_wait_s", "occupancy", "prob_abandon",
        "patience_s",
    )  # fmt: skip
    found.update(
        calls=calls, interval_s=interval_s, aht_s=aht_s, target_sl=target_sl if agents is None else None
    )
    if stats.model == "erlang_c":
        del found["patience_s"]
    return {key: found[key] for key in order if key in found}


def trunk_result(traffic: float | None, trunks: int | None, blocking: float | None) -> dict[str, Any]:
    """Erlang B from two of the three: trunks for a blocking target, the traffic trunks
    take at a blocking target, or the blocking of trunks at a traffic."""
    given = [v is not None for v in (traffic, trunks, blocking)]
    if sum(given) != 2:
        raise click.UsageError("give two of --traffic-erlangs, --trunks and --blocking")
    if trunks is None:
        assert traffic is not None and blocking is not None
        n = trunks_for(traffic, blocking)
        b = erlang_b(n, traffic)
        return _trunks(n, traffic, b, target_blocking=blocking)
    if traffic is None:
        assert blocking is not None
        return _trunks(trunks, traffic_for(trunks, blocking), blocking)
    if trunks < 1:
        raise StaffingInputError("trunks", f"must be a whole number >= 1, not {trunks!r}")
    return _trunks(trunks, traffic, erlang_b(trunks, traffic))


def _trunks(trunks: int, offered: float, blocking: float, **more: float) -> dict[str, Any]:
    return {
        "model": "erlang_b",
        "trunks": trunks,
        "traffic_offered_erlangs": offered,
        "blocking": blocking,
        "traffic_carried_erlangs": offered * (1 - blocking),
        **more,
    }


def plan_text(
    settings: Settings,
    *,
    interval_s: int,
    fmt: str,
    target_sl: float,
    threshold_s: float,
    shrinkage: float,
    max_occupancy: float,
    patience_s: float | None,
    tenant: str | None = None,
    queue_id: str | None = None,
    tz: str = "UTC",
) -> str:
    """The staffing plan from the history in the settings' warehouse, rendered in `fmt`.

    Weekday and interval start are local to the IANA zone `tz`; the plan ends with a `tz`
    column naming it, so every format (table, CSV, JSON) says which clock it is in."""
    from analytics.forecast import forecast, time_zone
    from analytics.lock import WarehouseBusy
    from analytics.reports.render import render
    from analytics.staffing_plan import staffing_plan
    from analytics.warehouse import open_warehouse

    options = {"target_sl": target_sl, "threshold_s": threshold_s, "max_occupancy": max_occupancy}
    required_agents(0.0, 1.0, patience_s=patience_s, **options)  # bad options fail before any I/O
    scheduled_agents(0, shrinkage)
    zone = time_zone(tz).key
    if not settings.warehouse_url and not (settings.data_dir / "warehouse").exists():
        raise click.ClickException(
            f"no warehouse in {settings.data_dir}: run `ccx simulate` or `ccx up` first"
        )
    try:
        warehouse = open_warehouse(settings.warehouse, owner_info={"command": "ccx staffing plan"})
    except WarehouseBusy as busy:
        raise click.ClickException(str(busy)) from None
    try:
        history = forecast(warehouse, interval_s=interval_s, tenant=tenant, queue_id=queue_id, tz=zone)
    finally:
        warehouse.close()
    try:
        plan = staffing_plan(
            history, interval_s=interval_s, shrinkage=shrinkage, patience_s=patience_s, **options
        )
    except StaffingInputError:
        raise
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    return render(plan.assign(tz=zone), fmt)
