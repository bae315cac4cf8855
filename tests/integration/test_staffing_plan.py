"""`ccx staffing plan` on a simulated history, against an independent pandas computation.

`ccx simulate` fills a warehouse with two hours of contacts; the forecast inside the plan is
recomputed here straight from the `contacts` table with METRICS.md's definitions (calls =
contacts offered to a queue, by queue-entry interval, short abandons excluded; AHT =
(talk + hold + wrap-up) / answered), and every plan row is checked against the rules:
the fewest agents meeting the SL target and the occupancy cap, then shrinkage. A second
history, written through the sink, spans two weeks to check the averaging over weeks.
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
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics import open_warehouse
from analytics.forecast import WEEKDAYS, forecast
from analytics.sink import WarehouseSink
from analytics.staffing import evaluate
from analytics.staffing_plan import staffing_plan
from analytics.warehouse import ClickHouseWarehouse
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


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('weeks')}") as wh:
        batch = [
            (
                Record("cc.cdr", 0, i, b"acme", b""),
                Message(Envelope(f"e{i}", "acme", r.queued_at, f"c{i}"), r),
            )
            for i, r in enumerate(HISTORY)
        ]
        WarehouseSink(wh).write(batch)
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
