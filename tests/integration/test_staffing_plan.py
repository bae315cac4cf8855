"""`ccx staffing plan` on a simulated history, against an independent pandas computation.

`ccx simulate` fills a warehouse with two hours of contacts; the forecast inside the plan is
recomputed here straight from the `contacts` table with METRICS.md's definitions (calls =
contacts offered to a queue, by queue-entry interval, short abandons excluded; AHT =
(talk + hold + wrap-up) / answered), and every plan row is checked against the rules:
the fewest agents meeting the SL target and the occupancy cap, then shrinkage. A second
history, written through the sink, spans two weeks to check the averaging over weeks; a
third, per tenant, checks local time (`tz`): a Berlin winter Monday, the days clocks go
back and forward, and a zone whose offset is not a whole number of intervals.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.legs import leg_of

from analytics import open_warehouse
from analytics.forecast import WEEKDAYS, forecast
from analytics.sink import WarehouseSink
from analytics.staffing import evaluate
from analytics.staffing_plan import staffing_plan
from analytics.warehouse import ClickHouseWarehouse, Warehouse
from schemas.cdr import ContactRecord
from schemas.envelope import Envelope, Message
from streams.ports import Record

pytestmark = pytest.mark.slow

RESOLVED = ("answered", "abandoned", "overflowed", "timed_out", "callback")


def ccx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccx.cli", *args], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("staffing")
    done = ccx("simulate", "--data-dir", str(data), "--duration", "2h", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["offered"] > 300
    return data


def _contacts(data: Path) -> pd.DataFrame:
    """The CDRs with each queue's short-abandon threshold (default 5 s), read once."""
    with open_warehouse(f"chdb://{data / 'warehouse'}") as wh:
        cdrs = wh.query_df("SELECT * FROM contacts FINAL")
        queues = wh.query_df("SELECT tenant, queue_id, short_abandon_s FROM queues FINAL")
    cdrs = cdrs.merge(queues, on=["tenant", "queue_id"], how="left")
    cdrs["short_abandon_s"] = cdrs.short_abandon_s.fillna(5)
    return cdrs


def expected_forecast(cdrs: pd.DataFrame, interval_s: int) -> pd.DataFrame:
    """METRICS.md by hand: offered and handle time per queue-entry interval, then the mean
    per weekday x interval over every occurrence between the first and the last interval."""
    df = cdrs[cdrs.queued_at.notna()].copy()
    short = (df.outcome == "abandoned") & (df.wait_ms <= df.short_abandon_s.astype("int64") * 1000)
    df["offered"] = df.outcome.isin(RESOLVED) & ~short
    df["answered"] = df.outcome == "answered"
    df["handle_s"] = ((df.talk_ms + df.hold_ms + df.wrap_up_ms) / 1000).where(df.answered, 0.0)
    df["start"] = pd.to_datetime(df.queued_at, utc=True).dt.floor(f"{interval_s}s")
    per = df.groupby("start")[["offered", "answered", "handle_s"]].sum()
    every = pd.date_range(per.index.min(), per.index.max(), freq=f"{interval_s}s")
    per = per.reindex(every, fill_value=0)
    per["weekday"] = [WEEKDAYS[d] for d in every.day_of_week]
    per["interval_start"] = every.strftime("%H:%M")
    per["day"] = every.day_of_week
    g = per.groupby(["day", "weekday", "interval_start"], as_index=False).agg(
        weeks=("offered", "size"), offered=("offered", "sum"), answered=("answered", "sum"),
        handle_s=("handle_s", "sum"),
    )  # fmt: skip
    g["calls"] = g.offered / g.weeks
    g["aht_s"] = g.handle_s / g.answered.where(g.answered > 0)
    overall = g.handle_s.sum() / g.answered.sum()
    g.loc[g.aht_s.isna() & (g.calls > 0), "aht_s"] = overall
    return g.sort_values(["day", "interval_start"]).reset_index(drop=True)


def check_rules(
    rows: list[dict[str, Any]], *, interval_s: int, shrinkage: float, cap: float, target: float,
    patience_s: float | None = None,
) -> None:  # fmt: skip
    """Each row: traffic = calls x AHT / interval; the fewest raw agents with SL >= target
    and occupancy <= cap (one fewer fails); scheduled = ceil(raw / (1 - shrinkage))."""
    for row in rows:
        raw, scheduled = row["raw_agents"], row["scheduled_agents"]
        assert scheduled == math.ceil(raw / (1 - shrinkage) - 1e-9) and scheduled >= raw
        if row["calls"] == 0:
            assert raw == 0 and row["service_level"] is None
            continue
        assert row["traffic_erlangs"] == pytest.approx(row["calls"] * row["aht_s"] / interval_s, rel=1e-12)
        assert row["service_level"] >= target and row["occupancy"] <= cap + 1e-9
        if raw > 1:
            fewer = evaluate(raw - 1, row["traffic_erlangs"], row["aht_s"], 20, patience_s)
            assert (fewer.service_level or 0) < target or (fewer.occupancy or 0) > cap


def _plan(data: Path, *options: str) -> str:
    done = ccx("staffing", "plan", "--data-dir", str(data), *options)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_plan_forecasts_the_history_and_obeys_the_rules(simulated: Path) -> None:
    rows = json.loads(_plan(simulated, "--format", "json"))
    want = expected_forecast(_contacts(simulated), 1800)
    assert len(rows) == len(want) == 4  # Monday 08:00 to 09:30 (2026-01-05 is a Monday)
    got = pd.DataFrame(rows)
    assert (
        got[["weekday", "interval_start"]].values.tolist()
        == want[["weekday", "interval_start"]].values.tolist()
    )
    assert got.calls.tolist() == pytest.approx(want.calls.tolist(), rel=1e-12)
    assert got.aht_s.tolist() == pytest.approx(want.aht_s.tolist(), rel=1e-9)
    assert (got.calls > 100).all() and got.aht_s.between(120, 400).all()
    check_rules(rows, interval_s=1800, shrinkage=0.3, cap=0.85, target=0.8)
    assert (got.raw_agents > got.traffic_erlangs).all()  # Erlang C needs N > A
    sales = json.loads(_plan(simulated, "--queue", "sales", "--format", "json"))
    assert 0 < sum(r["calls"] for r in sales) < got.calls.sum()
    table = _plan(simulated).splitlines()
    assert table[0].split()[:4] == ["weekday", "interval_start", "calls", "aht_s"] and len(table) == 2 + 4


def test_erlang_a_fifteen_minutes_and_csv(simulated: Path) -> None:
    out = _plan(
        simulated, "--interval", "15m", "--patience-s", "120", "--shrinkage", "0.25",
        "--max-occupancy", "0.9", "--target-sl", "0.9", "--format", "csv",
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for raw in csv.DictReader(io.StringIO(out)):
        row: dict[str, Any] = dict(raw)
        for key in ("calls", "aht_s", "traffic_erlangs", "service_level", "occupancy", "prob_abandon"):
            row[key] = float(raw[key]) if raw[key] else None
        row["raw_agents"], row["scheduled_agents"] = int(raw["raw_agents"]), int(raw["scheduled_agents"])
        rows.append(row)
    want = expected_forecast(_contacts(simulated), 900)
    assert len(rows) == 8 and [r["calls"] for r in rows] == pytest.approx(want.calls.tolist(), rel=1e-12)
    check_rules(rows, interval_s=900, shrinkage=0.25, cap=0.9, target=0.9, patience_s=120)
    assert all(r["prob_abandon"] > 0 for r in rows)


# --- averaging over weeks, on a history written through the sink ------------------------

MONDAY = 1_714_982_400_000  # 2024-05-06T08:00:00Z, a Monday
WEEK = 7 * 86_400_000
BASE = ContactRecord(
    contact_id="", queue_id="sales", channel="voice", ani="+4930", dnis="+4931", priority=0,
    arrived_at=0, queued_at=0, answered_at=0, ended_at=0, finished_at=0, outcome="answered",
    end_party="caller", agent_id="a1", offers=1, wait_ms=1000, talk_ms=100_000, hold_ms=10_000,
    holds=1, wrap_up_ms=20_000, disposition="",
)  # fmt: skip


def _cdr(i: int, queued_at: int, outcome: str = "answered", **more: Any) -> ContactRecord:
    times = {"arrived_at": queued_at - 1000, "queued_at": queued_at, "ended_at": queued_at + 60_000}
    if outcome != "answered":
        more = {"talk_ms": 0, "hold_ms": 0, "wrap_up_ms": 0, "holds": 0, "agent_id": "", **more}
    return replace(BASE, contact_id=f"c{i}", outcome=outcome, **times, **more)


HISTORY = [
    _cdr(1, MONDAY + 3_600_000),  # Monday 09:00, week 1: three answered, 130 s each
    _cdr(2, MONDAY + 3_700_000),
    _cdr(3, MONDAY + 3_800_000),
    _cdr(4, MONDAY + 3_900_000, "abandoned", wait_ms=30_000),  # offered
    _cdr(5, MONDAY + 4_000_000, "abandoned", wait_ms=2_000),  # a short abandon: not offered
    _cdr(6, MONDAY + 5_500_000, "abandoned", wait_ms=40_000),  # Monday 09:30: abandons only
    _cdr(7, MONDAY + 5_600_000, "abandoned", wait_ms=50_000),
    _cdr(8, MONDAY + WEEK + 3_650_000, talk_ms=200_000, hold_ms=0, wrap_up_ms=0),  # Monday 09:00, week 2
    _cdr(9, MONDAY + WEEK + 5_500_000, "abandoned", wait_ms=60_000),  # Monday 09:30, week 2
]


def _write_history(wh: Warehouse, cdrs: list[tuple[str, ContactRecord]]) -> None:
    """The CDRs (tenant, record) and their queue legs written through the sink, as the CDR
    builder's output."""
    batch = [
        (
            Record("cc.cdr", 0, i, tenant.encode(), b""),
            Message(Envelope(f"e{i}", tenant, r.queued_at, r.contact_id), r),
        )
        for i, (tenant, r) in enumerate(cdrs)
    ]
    batch += [
        (
            Record("cc.contact-legs", 0, i, tenant.encode(), b""),
            Message(Envelope(f"l{i}", tenant, r.queued_at, r.contact_id), leg_of(r)),
        )
        for i, (tenant, r) in enumerate(cdrs)
        if r.queued_at > 0
    ]
    WarehouseSink(wh).write(batch)


@pytest.fixture  # per test: chDB hosts one data directory per process (see `zoned`)
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('weeks')}") as wh:
        _write_history(wh, [("acme", r) for r in HISTORY])
        yield wh  # type: ignore[misc]


def test_calls_are_averaged_over_every_occurrence_of_the_interval(two_weeks: ClickHouseWarehouse) -> None:
    got = forecast(two_weeks, interval_s=1800)
    want = expected_forecast(two_weeks.query_df("SELECT *, 5 AS short_abandon_s FROM contacts FINAL"), 1800)
    assert len(got) == 7 * 48 and got.weeks.sum() == 7 * 48 + 2  # one week and two intervals
    assert got.weekday.tolist() == want.weekday.tolist()
    assert got.calls.tolist() == pytest.approx(want.calls.tolist())
    by_slot = got.set_index(["weekday", "interval_start"])
    nine, half_past = by_slot.loc[("Mon", "09:00")], by_slot.loc[("Mon", "09:30")]
    assert (nine.weeks, nine.offered, nine.calls, nine.aht_s) == (
        2,
        5,
        2.5,
        pytest.approx((3 * 130 + 200) / 4),
    )
    # abandons only: the AHT of the whole history stands in
    assert (half_past.weeks, half_past.calls, half_past.aht_s) == (2, 1.5, pytest.approx(147.5))
    quiet = by_slot.loc[("Tue", "09:00")]
    assert (quiet.weeks, quiet.calls) == (1, 0.0) and math.isnan(quiet.aht_s)
    plan = staffing_plan(got, interval_s=1800)
    assert (plan.raw_agents[plan.calls == 0] == 0).all() and (plan.raw_agents[plan.calls > 0] >= 1).all()
    assert forecast(two_weeks, interval_s=3600, queue_id="support").empty
    with pytest.raises(ValueError, match="interval_s"):
        forecast(two_weeks, interval_s=7 * 60)


# --- local time: weekday x interval in a time zone, across DST ---------------------------


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


ZONED = {  # tenant -> queue-entry times (UTC)
    # Sunday 23:20 UTC is Monday 00:20 in Berlin (CET, +01:00); 07:10 and 07:40 UTC are 08:10, 08:40
    "winter": ["2024-01-07T23:20:00Z", "2024-01-08T07:10:00Z", "2024-01-08T07:40:00Z"],
    # 2024-10-27: at 01:00 UTC Berlin goes from 03:00 CEST back to 02:00 CET, so local 02:00-03:00
    # is 00:00-01:00 UTC and again 01:00-02:00 UTC
    "autumn": [
        "2024-10-26T23:30:00Z",  # 01:30 CEST
        "2024-10-27T00:10:00Z",  # 02:10 CEST
        "2024-10-27T00:40:00Z",  # 02:40 CEST
        "2024-10-27T01:10:00Z",  # 02:10 CET
        "2024-10-27T01:20:00Z",  # 02:20 CET
        "2024-10-27T02:30:00Z",  # 03:30 CET
    ],
    # 2024-03-31: at 01:00 UTC Berlin goes from 02:00 CET forward to 03:00 CEST
    "spring": ["2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"],  # 01:30 CET, 03:30 CEST
}


@pytest.fixture  # per test, like `two_weeks`: only one chDB warehouse may be open at a time
def zoned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('zoned')}") as wh:
        times = [(tenant, at) for tenant, ats in ZONED.items() for at in ats]
        _write_history(wh, [(tenant, _cdr(100 + i, _ms(at))) for i, (tenant, at) in enumerate(times)])
        yield wh  # type: ignore[misc]


def _slots(got: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(weekday, interval_start) -> (weeks, offered)."""
    rows = zip(got.weekday, got.interval_start, got.weeks, got.offered, strict=True)
    return {(str(day), str(start)): (int(weeks), int(offered)) for day, start, weeks, offered in rows}


def test_weekday_and_interval_are_local_to_the_zone(zoned: ClickHouseWarehouse) -> None:
    berlin = forecast(zoned, interval_s=1800, tenant="winter", tz="Europe/Berlin")
    slots = _slots(berlin)
    assert slots[("Mon", "08:00")] == (1, 1) and slots[("Mon", "08:30")] == (1, 1)  # 07:10Z, 07:40Z
    assert slots[("Mon", "00:00")] == (1, 1)  # Sunday 23:20 UTC
    assert berlin.weekday.unique().tolist() == ["Mon"] and len(berlin) == 18  # 00:00 to 08:30
    utc = forecast(zoned, interval_s=1800, tenant="winter")
    assert _slots(utc)[("Mon", "07:00")] == (1, 1) and _slots(utc)[("Sun", "23:00")] == (1, 1)
    assert forecast(zoned, interval_s=1800, tenant="winter", tz="UTC").equals(utc)
    # the same 18 half hours an hour later: UTC's last rows (Sunday 23:00, 23:30) are Berlin's first
    assert berlin.calls.tolist() == [*utc.calls.tolist()[-2:], *utc.calls.tolist()[:-2]]


def test_the_hour_repeated_when_clocks_go_back_counts_twice(zoned: ClickHouseWarehouse) -> None:
    hourly = forecast(zoned, interval_s=3600, tenant="autumn", tz="Europe/Berlin")
    assert _slots(hourly) == {("Sun", "01:00"): (1, 1), ("Sun", "02:00"): (2, 4), ("Sun", "03:00"): (1, 1)}
    doubled = hourly.set_index("interval_start").loc["02:00"]
    assert doubled.calls == 2.0 and doubled.aht_s == pytest.approx(130)  # per occurrence
    halves = _slots(forecast(zoned, interval_s=1800, tenant="autumn", tz="Europe/Berlin"))
    assert halves[("Sun", "02:00")] == (2, 3) and halves[("Sun", "02:30")] == (2, 1)
    assert halves[("Sun", "01:30")] == (1, 1) and halves[("Sun", "03:30")] == (1, 1)
    assert sum(w for w, _ in halves.values()) == 7  # one per UTC half hour from 23:30Z to 02:30Z
    plan = staffing_plan(hourly, interval_s=3600)
    assert plan.set_index("interval_start").loc["02:00"].calls == 2.0


def test_the_hour_skipped_when_clocks_go_forward_does_not_occur(zoned: ClickHouseWarehouse) -> None:
    got = forecast(zoned, interval_s=3600, tenant="spring", tz="Europe/Berlin")
    assert _slots(got) == {("Sun", "01:00"): (1, 1), ("Sun", "03:00"): (1, 1)}  # no Sun 02:00


def test_an_unknown_zone_or_an_offset_off_the_interval_grid_is_refused(zoned: ClickHouseWarehouse) -> None:
    for bad in ("Mars/Olympus", "Europe", "", "../etc/passwd"):
        with pytest.raises(ValueError, match="IANA time zone") as raised:
            forecast(zoned, interval_s=1800, tenant="winter", tz=bad)
        assert repr(bad) in str(raised.value)
    # Kolkata is UTC+05:30: hourly UTC intervals would straddle two local hours
    with pytest.raises(ValueError, match=r"Asia/Kolkata is UTC\+05:30 .* would not align with local time"):
        forecast(zoned, interval_s=3600, tenant="winter", tz="Asia/Kolkata")
    kolkata = _slots(forecast(zoned, interval_s=1800, tenant="winter", tz="Asia/Kolkata"))
    assert kolkata[("Mon", "04:30")] == (1, 1) and kolkata[("Mon", "12:30")] == (1, 1)  # 23:20Z, 07:10Z
    with pytest.raises(ValueError, match=r"UTC-03:30"):  # negative offsets too (NST in January)
        forecast(zoned, interval_s=3600, tenant="winter", tz="America/St_Johns")


def test_cli_plans_in_the_zone_given_and_says_so(simulated: Path) -> None:
    utc = json.loads(_plan(simulated, "--format", "json"))
    berlin = json.loads(_plan(simulated, "--tz", "Europe/Berlin", "--format", "json"))
    assert [(r["weekday"], r["interval_start"]) for r in berlin] == [
        ("Mon", "09:00"), ("Mon", "09:30"), ("Mon", "10:00"), ("Mon", "10:30"),
    ]  # fmt: skip
    assert [r["calls"] for r in berlin] == [r["calls"] for r in utc]  # January: UTC+01:00
    assert {r["tz"] for r in berlin} == {"Europe/Berlin"} and {r["tz"] for r in utc} == {"UTC"}
    table = _plan(simulated, "--tz", "Europe/Berlin").splitlines()
    assert table[0].split()[-1] == "tz" and all(line.endswith("Europe/Berlin") for line in table[2:])
    bad = ccx("staffing", "plan", "--data-dir", str(simulated), "--tz", "Mars/Olympus")
    assert bad.returncode == 2 and "--tz" in bad.stderr and "Mars/Olympus" in bad.stderr
    off_grid = ccx(
        "staffing", "plan", "--data-dir", str(simulated), "--tz", "Asia/Kolkata", "--interval", "1h"
    )
    assert (
        off_grid.returncode == 2 and "--tz" in off_grid.stderr and "align with local time" in off_grid.stderr
    )
    assert "Traceback" not in bad.stderr + off_grid.stderr
