"""Every standard report against an independent pandas computation, and `ccx report NAME`.

The data: two simulated hours (`ccx simulate`, tenant "demo") plus hand-made CDRs of a
second tenant ("edge") written through the sink: every outcome, waits on each bucket and
threshold edge, withheld and foreign numbers, repeats on the window's edge, contacts over
several days and around midnight. The expected numbers come from the CDRs as the log holds
them (`read_all` over cc.cdr, queue definitions from cc.config-events) and the hand-made
records, computed here from METRICS.md and each report's docstring, without the report
modules. The CLI runs in this process (CliRunner), which shares its open warehouse.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import phonenumbers
import pytest
from click.testing import CliRunner
from helpers.legs import legs_of
from phonenumbers import geocoder

from analytics import open_warehouse
from analytics.reports import FORMATS, REPORTS
from analytics.reports.geography import locate
from analytics.reports.tallies import queue_tallies
from analytics.sink import WarehouseSink
from analytics.warehouse import ClickHouseWarehouse
from api.app import create_app
from api.live import LiveView
from ccx.bootstrap import open_log
from ccx.cli import REPORT_FORMATS, main
from ccx.reports import render_report
from ccx.settings import Settings
from processors.live_stats import LiveStats
from schemas.cdr import ContactRecord
from schemas.config import QueueDefined
from schemas.envelope import Envelope, Message
from streams.ports import Record
from streams.tail import read_all

pytestmark = pytest.mark.slow

H = 3_600_000
DAY = 24 * H
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a Thursday
REPEATS = T0 + 20 * DAY  # the repeat-window cases, alone in their day
RESOLVED = ("answered", "abandoned", "overflowed", "timed_out", "callback")
DEFAULT = (20, 5)  # (SL threshold, short abandon) of a queue never defined
EDGE_DEFINED = {("edge", "sales"): (30, 10)}
PNG = b"\x89PNG\r\n\x1a\n"


# --- the hand-made tenant ---------------------------------------------------------------


def _cdr(n: int, queue: str, arrived: int, outcome: str, wait: int = 0, ani: str = "+12025550123",
         queued: bool = True, **more: Any) -> ContactRecord:  # fmt: skip
    answered = outcome == "answered"
    talk, hold, holds, wrap = (more.get(k, 0) for k in ("talk_ms", "hold_ms", "holds", "wrap_up_ms"))
    queued_at = arrived + 2_000 if queued else 0
    end = (queued_at or arrived) + wait + talk + hold
    return ContactRecord(
        contact_id=f"x{n}", queue_id=queue, channel="voice", ani=ani, dnis="+4931", priority=0,
        arrived_at=arrived, queued_at=queued_at, answered_at=queued_at + wait if answered else 0,
        ended_at=end, finished_at=end + wrap, outcome=outcome, end_party="caller",
        agent_id="a1" if answered else "", offers=int(answered), wait_ms=wait, talk_ms=talk,
        hold_ms=hold, holds=holds, wrap_up_ms=wrap, disposition=more.get("disposition", ""),
    )  # fmt: skip


def _edge() -> list[ContactRecord]:
    out: list[ContactRecord] = []

    def add(*args: Any, **kw: Any) -> None:
        out.append(_cdr(len(out), *args, **kw))

    waits = [0, 5_000, 5_001, 10_000, 10_001, 20_000, 30_000, 30_001, 60_000, 120_000, 300_000, 300_001]
    for i, wait in enumerate(waits):  # every bucket edge, in both queues
        for queue in ("sales", "billing"):
            add(queue, T0 + 9 * H + i * 60_000, "abandoned", wait, ani=f"+4930{1000 + i}")
    anis = ["+12025550123", "+4930123456", "+442071234567", "", "anonymous", "+491701234567",
            "0301234567", "+1212911123", "+33145678901"]  # fmt: skip
    dispositions = ["resolved", "", "sale", "resolved"]
    for i in range(40):  # answered over four days, at all hours, some around midnight
        at = T0 + (i % 4) * DAY + (i * 5 % 24) * H + (23 * H + 50 * 60_000 if i % 7 == 0 else 0)
        add("sales" if i % 3 else "billing", at, "answered", (i * 7_000) % 45_000, ani=anis[i % len(anis)],
            talk_ms=60_000 + i * 1_000, hold_ms=(i % 2) * 5_000, holds=i % 2, wrap_up_ms=10_000,
            disposition=dispositions[i % 4])  # fmt: skip
    for outcome in ("overflowed", "timed_out", "callback"):
        add("sales", T0 + 30 * H, outcome, 50_000)
    for i in range(5):  # contained in the IVR, closed, blocked: never queued
        add("sales", T0 + 11 * H + i, "ended_in_ivr", ani="+4930123456", queued=False)
    add("billing", T0 + 12 * H, "ended_in_ivr", ani="", queued=False)
    add("sales", T0 + 13 * H, "closed", ani="+4930123456", queued=False)
    add("sales", T0 + 13 * H + 1, "blocked", ani="+4930999999", queued=False)
    add("sales", T0 + 13 * H + 2, "blocked", ani="+4930999999", queued=False)
    # repeats, weeks after the rest: exactly at the window's end (a repeat), 1 ms past it
    # (not), a tie (not: neither contacts *again*)
    w, r = 168 * H, REPEATS
    add("sales", r, "answered", 1_000, ani="+15550001", talk_ms=1_000)
    add("billing", r + w, "abandoned", 9_000, ani="+15550001")
    add("sales", r + 5, "answered", 1_000, ani="+15550002", talk_ms=1_000)
    add("sales", r + 5 + w + 1, "answered", 1_000, ani="+15550002", talk_ms=1_000)
    add("sales", r + 12 * H, "answered", 1_000, ani="+15550003", talk_ms=1_000)
    add("billing", r + 12 * H, "answered", 1_000, ani="+15550003", talk_ms=1_000)
    return out


EDGE = _edge()


def _messages(tenant: str, items: list[Any], topic: str) -> list[tuple[Record, Message[Any]]]:
    return [
        (
            Record(topic, 0, 10**9 + i, tenant.encode(), b""),
            Message(Envelope(f"{topic}-x{i}", tenant, T0, f"c{i}"), b),
        )
        for i, b in enumerate(items)  # log positions far past the simulation's: raw_events keeps both
    ]


# --- the data: a simulated morning and the edge tenant ----------------------------------


@dataclass
class Data:
    dir: Path
    warehouse: ClickHouseWarehouse
    cdrs: pd.DataFrame
    """Every CDR (tenant + `ContactRecord` fields, 0 = never) with its queue's thresholds."""


def ccx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccx.cli", *args], capture_output=True, text=True, timeout=600, check=False
    )


def _from_log(data: Path) -> tuple[list[tuple[str, ContactRecord]], dict[tuple[str, str], tuple[int, int]]]:
    log, serde = open_log(Settings.from_env(data_dir=str(data)))
    try:
        cdrs = [(m.envelope.tenant, m.body) for _r, m in read_all(log, serde, ["cc.cdr"])]
        defined: dict[tuple[str, str], tuple[int, int, int]] = {}
        for _r, m in read_all(log, serde, ["cc.config-events"]):
            if isinstance(m.body, QueueDefined):
                key = (m.envelope.tenant, m.body.queue_id)
                if key not in defined or defined[key][0] <= m.body.rule_version:
                    defined[key] = (m.body.rule_version, m.body.sl_threshold_s, m.body.short_abandon_s)
    finally:
        log.close()
    return cdrs, {k: (v[1], v[2]) for k, v in defined.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    path = tmp_path_factory.mktemp("reports")
    done = ccx("simulate", "--data-dir", str(path), "--duration", "2h", "--json")
    assert done.returncode == 0, done.stderr
    records, defined = _from_log(path)
    assert len(records) > 300
    with open_warehouse(f"chdb://{path / 'warehouse'}") as wh:
        sink = WarehouseSink(wh)
        definition = QueueDefined("sales", "Sales", 30, 10, 15, 30, "longest_idle", 1)
        batch = _messages("edge", [definition], "cc.config-events") + _messages("edge", EDGE, "cc.cdr")
        batch += _messages("edge", legs_of(EDGE), "cc.contact-legs")
        sink.write(batch)
        sink.write(batch)  # replayed: counted once
        df = pd.DataFrame([{"tenant": t, **asdict(r)} for t, r in records + [("edge", r) for r in EDGE]])
        limits = [
            {**defined, **EDGE_DEFINED}.get(k, DEFAULT) for k in zip(df.tenant, df.queue_id, strict=True)
        ]
        df["sl_ms"] = [sl * 1000 for sl, _ in limits]
        df["short_ms"] = [short * 1000 for _, short in limits]
        yield Data(path, wh, df)  # type: ignore[arg-type]


# --- the independent computations -------------------------------------------------------


def _in(df: pd.DataFrame, column: str, start: int | None, end: int | None) -> pd.DataFrame:
    keep = df[column] > 0
    if start is not None:
        keep &= df[column] >= start
    if end is not None:
        keep &= df[column] < end
    return df[keep].copy()


def _classify(df: pd.DataFrame) -> pd.DataFrame:
    abandoned = df.outcome == "abandoned"
    df["short"] = abandoned & (df.wait_ms <= df.short_ms)
    df["abandon"] = abandoned & ~df.short
    df["answer"] = df.outcome == "answered"
    df["offered"] = df.outcome.isin(RESOLVED) & ~df.short
    return df


def per(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype(float)  # x / 0 is "no data"


def _queue_metrics(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """METRICS.md counts and rates of classified contacts per `keys` (SL abandons_against)."""
    df = df.assign(
        in_sl=df.answer & (df.wait_ms <= df.sl_ms),
        handle=(df.talk_ms + df.hold_ms + df.wrap_up_ms).where(df.answer, 0),
        answer_wait=df.wait_ms.where(df.answer, 0),
    )
    g = df.groupby(keys, as_index=False).agg(
        offered=("offered", "sum"), answered=("answer", "sum"), abandoned=("abandon", "sum"),
        short_abandoned=("short", "sum"), in_sl=("in_sl", "sum"), handle=("handle", "sum"),
        answer_wait=("answer_wait", "sum"),
    )  # fmt: skip
    g["service_level"] = per(g.in_sl, g.offered)
    g["asa_s"] = per(g.answer_wait / 1000, g.answered)
    g["aht_s"] = per(g.handle / 1000, g.answered)
    g["abandon_rate"] = per(g.abandoned, g.offered)
    g["answer_rate"] = per(g.answered, g.offered)
    return g


def expected_queue_intervals(
    cdrs: pd.DataFrame, start: int | None = None, end: int | None = None
) -> pd.DataFrame:
    df = _classify(_in(cdrs, "queued_at", start, end))
    df["interval_start"] = pd.to_datetime(df.queued_at // 900_000 * 900_000, unit="ms", utc=True).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    return _queue_metrics(df, ["tenant", "queue_id", "interval_start"])


def expected_trends(cdrs: pd.DataFrame, by: str, tz: str) -> pd.DataFrame:
    df = _classify(_in(cdrs, "queued_at", None, None))
    local = pd.to_datetime(df.queued_at, unit="ms", utc=True).dt.tz_convert(tz)
    keys = ["tenant", "queue_id"]
    if by == "hour":
        df["hour"] = local.dt.hour
        keys.append("hour")
    else:
        df["weekday"] = local.dt.day_of_week + 1
        df["weekday_name"] = local.dt.strftime("%a")
        keys += ["weekday", "weekday_name"]
    return _queue_metrics(df, keys)


def expected_abandons(cdrs: pd.DataFrame) -> pd.DataFrame:
    df = _classify(_in(cdrs, "queued_at", None, None))
    df = df[df.outcome == "abandoned"]
    edges = [5, 10, 20, 30, 60, 120, 300]
    labels = ["0-5", "5-10", "10-20", "20-30", "30-60", "60-120", "120-300", "300+"]
    df = df.assign(wait_bucket=pd.cut(df.wait_ms, [-1, *(e * 1000 for e in edges), np.inf], labels=labels))
    g = df.groupby(["tenant", "queue_id", "wait_bucket"], observed=False, as_index=False).agg(
        abandoned=("short", "size"), short_abandoned=("short", "sum")
    )
    g = g[g.groupby(["tenant", "queue_id"]).abandoned.transform("sum") > 0].copy()
    total = g.groupby(["tenant", "queue_id"]).abandoned.transform("sum")
    g["share"] = g.abandoned / total
    g["cumulative_share"] = g.groupby(["tenant", "queue_id"]).abandoned.cumsum() / total
    g["from_s"] = [int(str(b).split("-")[0].rstrip("+")) for b in g.wait_bucket]
    g["to_s"] = [float(str(b).split("-")[1]) if "-" in str(b) else np.nan for b in g.wait_bucket]
    g["wait_bucket"] = g.wait_bucket.astype(str)
    short = cdrs.groupby(["tenant", "queue_id"]).short_ms.first().rename("short_abandon_s") / 1000
    return g.merge(short.reset_index(), on=["tenant", "queue_id"])


def expected_dispositions(cdrs: pd.DataFrame) -> pd.DataFrame:
    df = _in(cdrs, "queued_at", None, None)
    df = df[df.outcome == "answered"].assign(disposition=lambda d: d.disposition.replace("", "none"))
    df["handle"] = df.talk_ms + df.hold_ms + df.wrap_up_ms
    g = df.groupby(["tenant", "queue_id", "disposition"], as_index=False).agg(
        handled=("handle", "size"), handle=("handle", "sum")
    )
    g["share"] = g.handled / g.groupby(["tenant", "queue_id"]).handled.transform("sum")
    g["aht_s"] = g.handle / g.handled / 1000
    return g


def _place(ani: str) -> tuple[str, str, str]:
    """What the geography report's docstring promises, straight from phonenumbers."""
    if not ani.startswith("+"):
        return ("unknown",) * 3  # type: ignore[return-value]
    try:
        number = phonenumbers.parse(ani)
    except phonenumbers.NumberParseException:
        return ("unknown",) * 3  # type: ignore[return-value]
    if not phonenumbers.is_valid_number(number):
        return ("unknown",) * 3  # type: ignore[return-value]
    country = geocoder.country_name_for_number(number, "en")
    area = geocoder.description_for_number(number, "en")
    return (
        phonenumbers.region_code_for_number(number),
        country,
        area if area not in ("", country) else "unknown",
    )


def expected_geography(cdrs: pd.DataFrame, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    df = _classify(_in(cdrs, "arrived_at", start, end))
    places = pd.DataFrame(
        [_place(a) for a in df.ani], columns=["country_code", "country", "region"], index=df.index
    )
    df = pd.concat([df, places], axis=1)
    g = df.groupby(["tenant", "country_code", "country", "region"], as_index=False).agg(
        contacts=("answer", "size"), answered=("answer", "sum"), abandoned=("abandon", "sum"),
        short_abandoned=("short", "sum"),
    )  # fmt: skip
    g["share"] = g.contacts / g.groupby("tenant").contacts.transform("sum")
    return g


def expected_repeats(cdrs: pd.DataFrame, window_h: int = 168, start: int | None = None,
                     end: int | None = None) -> pd.DataFrame:  # fmt: skip
    every = cdrs[(cdrs.arrived_at > 0) & (cdrs.outcome != "blocked")]
    arrivals = {k: np.sort(g.arrived_at.to_numpy()) for k, g in every.groupby(["tenant", "ani"])}
    df = _in(every, "arrived_at", start, end)
    w = window_h * H
    df["known"] = [bool(re.search("[1-9]", a)) for a in df.ani]
    df["again"] = [
        bool(np.searchsorted(a, t + w, "right") - np.searchsorted(a, t, "right"))
        for a, t in (
            (arrivals[(tn, ani)], t) for tn, ani, t in zip(df.tenant, df.ani, df.arrived_at, strict=True)
        )
    ]
    df["again"] &= df.known
    df["answer"] = df.known & (df.outcome == "answered")
    g = df.groupby(["tenant", "queue_id"], as_index=False).agg(
        contacts=("known", "sum"), repeated=("again", "sum"), handled=("answer", "sum")
    )
    g["unknown_ani"] = df.groupby(["tenant", "queue_id"]).known.apply(lambda k: int((~k).sum())).to_numpy()
    handled_again = df[df.answer].groupby(["tenant", "queue_id"]).again.sum()
    keys = pd.MultiIndex.from_frame(g[["tenant", "queue_id"]])
    g["handled_repeated"] = handled_again.reindex(keys, fill_value=0).to_numpy()
    g["repeat_rate"] = per(g.repeated, g.contacts)
    g["fcr"] = 1 - per(g.handled_repeated, g.handled)
    return g


def expected_ivr(cdrs: pd.DataFrame, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    df = _in(cdrs, "arrived_at", start, end)
    df = df[df.outcome != "blocked"]
    g = df.assign(contained=df.outcome == "ended_in_ivr", reached=df.queued_at > 0).groupby(
        ["tenant", "queue_id"], as_index=False
    )
    g = g.agg(entered=("contained", "size"), contained=("contained", "sum"), reached_queue=("reached", "sum"))
    g["containment"] = per(g.contained, g.entered)
    return g


def same(report: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    """Equal on every column both have (at least three beyond `keys`), rows matched by `keys`."""
    assert len(report) == len(want) > 0
    columns = [c for c in report.columns if c in want.columns]
    assert set(keys) <= set(columns) and len(columns) >= len(keys) + 3
    got = report.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    for column in columns:
        if pd.api.types.is_numeric_dtype(got[column]):
            a, b = got[column].astype(float).to_numpy(), want[column].astype(float).to_numpy()
            np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True, err_msg=column)
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def run(data: Data, name: str, **options: Any) -> pd.DataFrame:
    return REPORTS[name].run(data.warehouse, **options)


# --- every report equals pandas ---------------------------------------------------------


def test_queue_intervals_equals_pandas(data: Data) -> None:
    report = run(data, "queue-intervals")
    same(report, expected_queue_intervals(data.cdrs), ["tenant", "queue_id", "interval_start"])
    assert {"demo", "edge"} <= set(report.tenant) and len(report) > 20


def test_abandons_equal_pandas(data: Data) -> None:
    report = run(data, "abandons")
    same(report, expected_abandons(data.cdrs), ["tenant", "queue_id", "from_s"])
    sales = report[(report.tenant == "edge") & (report.queue_id == "sales")].set_index("wait_bucket")
    billing = report[(report.tenant == "edge") & (report.queue_id == "billing")].set_index("wait_bucket")
    assert sales.abandoned.tolist() == [2, 2, 2, 1, 2, 1, 1, 1]  # 0,5 | 5.001,10 | 10.001,20 | 30 | ...
    assert sales.short_abandoned.tolist() == [2, 2, 0, 0, 0, 0, 0, 0]  # sales: short <= 10 s
    assert billing.short_abandoned.tolist()[:2] == [2, 0]  # default: short <= 5 s
    assert sales.loc["300+", "cumulative_share"] == pytest.approx(1.0) and pd.isna(sales.loc["300+", "to_s"])
    assert set(report.wait_bucket) == {"0-5", "5-10", "10-20", "20-30", "30-60", "60-120", "120-300", "300+"}


@pytest.mark.parametrize(("by", "tz"), [("hour", "UTC"), ("weekday", "UTC"), ("hour", "Europe/Berlin"),
                                        ("weekday", "America/New_York")])  # fmt: skip
def test_trends_equal_pandas(data: Data, by: str, tz: str) -> None:
    report = run(data, "trends", by=by, timezone=tz)
    keys = ["tenant", "queue_id", by]
    same(report, expected_trends(data.cdrs, by, tz), keys)
    if by == "hour":
        edge = report[report.tenant == "edge"]
        assert edge.hour.nunique() > 12  # contacts all over the day


def test_trends_in_local_time_move_contacts_across_midnight(data: Data) -> None:
    utc = run(data, "trends", by="weekday", tenant="edge")
    berlin = run(data, "trends", by="weekday", tenant="edge", timezone="Europe/Berlin")
    assert utc.offered.sum() == berlin.offered.sum()
    assert utc.groupby("weekday").offered.sum().to_dict() != berlin.groupby("weekday").offered.sum().to_dict()


def test_dispositions_equal_pandas(data: Data) -> None:
    report = run(data, "dispositions")
    same(report, expected_dispositions(data.cdrs), ["tenant", "queue_id", "disposition"])
    assert "none" in set(report[report.tenant == "edge"].disposition)
    assert report.groupby(["tenant", "queue_id"]).share.sum().round(12).eq(1).all()


def test_geography_equals_pandas(data: Data) -> None:
    report = run(data, "geography")
    same(report, expected_geography(data.cdrs), ["tenant", "country_code", "country", "region"])
    edge = report[report.tenant == "edge"].set_index(["country_code", "region"])
    assert edge.loc[("DE", "Berlin"), "contacts"] > 10 and ("US", "Washington D.C.") in edge.index
    assert ("unknown", "unknown") in edge.index and ("DE", "unknown") in edge.index  # withheld; a mobile
    assert set(report[report.tenant == "demo"].country_code) <= {"US", "unknown"}  # simulated NANP numbers


def test_known_numbers_are_placed() -> None:
    assert locate("+12025550123") == ("US", "United States", "Washington D.C.")
    assert locate("+4930123456") == ("DE", "Germany", "Berlin")
    assert locate("+442071234567") == ("GB", "United Kingdom", "London")
    assert locate("+491701234567") == ("DE", "Germany", "unknown")  # a mobile: no area
    for withheld in ("", "anonymous", "0301234567", "+1212911123", "+"):
        assert locate(withheld) == ("unknown", "unknown", "unknown")


@pytest.mark.parametrize("window_h", [168, 24, 1])
def test_repeat_contacts_equal_pandas(data: Data, window_h: int) -> None:
    options = {} if window_h == 168 else {"fcr_window_h": window_h}
    report = run(data, "repeat-contacts", **options)
    same(report, expected_repeats(data.cdrs, window_h), ["tenant", "queue_id"])


def test_repeat_window_edges(data: Data) -> None:
    start, end = REPEATS, REPEATS + DAY
    report = run(data, "repeat-contacts", tenant="edge", start=start, end=end).set_index("queue_id")
    # in the period: +15550001 (again exactly at the window's end, after the period),
    # +15550002 (again 1 ms too late) and +15550003 twice at the same ms (neither again)
    assert report.loc["sales", "contacts"] == 3 and report.loc["sales", "repeated"] == 1
    assert report.loc["sales", "fcr"] == pytest.approx(2 / 3)
    assert (report.loc["billing", "contacts"], report.loc["billing", "repeated"]) == (1, 0)
    same(run(data, "repeat-contacts", start=start, end=end), expected_repeats(data.cdrs, 168, start, end),
         ["tenant", "queue_id"])  # fmt: skip


def test_ivr_containment_equals_pandas(data: Data) -> None:
    report = run(data, "ivr-containment")
    same(report, expected_ivr(data.cdrs), ["tenant", "queue_id"])
    edge = report[report.tenant == "edge"].set_index("queue_id")
    assert edge.loc["sales", "contained"] == 5 and edge.loc["billing", "contained"] == 1
    assert (report[report.tenant == "demo"].contained == 0).all()  # the simulator has no IVR


def test_the_period_bounds_every_report(data: Data) -> None:
    start, end = T0 + DAY, T0 + 3 * DAY
    cdrs = data.cdrs
    same(run(data, "queue-intervals", start=start, end=end), expected_queue_intervals(cdrs, start, end),
         ["tenant", "queue_id", "interval_start"])  # fmt: skip
    same(run(data, "geography", start=start, end=end), expected_geography(cdrs, start, end),
         ["tenant", "country_code", "country", "region"])  # fmt: skip
    same(
        run(data, "ivr-containment", start=start, end=end),
        expected_ivr(cdrs, start, end),
        ["tenant", "queue_id"],
    )
    assert set(run(data, "trends", start=start, end=end).tenant) == {"edge"}


def test_no_contacts_is_an_empty_frame_with_the_columns(data: Data) -> None:
    for name, report in REPORTS.items():
        full = report.run(data.warehouse, tenant="demo")
        empty = report.run(data.warehouse, tenant="nobody")
        assert empty.empty and list(empty.columns) == list(full.columns), name


# --- the registry -----------------------------------------------------------------------


def test_the_registry_names_every_report_of_the_issue() -> None:
    assert set(REPORTS) == {
        "queue-intervals", "agent-performance", "agent-not-ready", "abandons", "trends",
        "dispositions", "geography", "repeat-contacts", "ivr-containment", "ivr-flows", "ivr-nodes",
        "csat", "csat-tickets", "ticket-backlog", "ticket-sla",
    }  # fmt: skip
    assert all(r.description for r in REPORTS.values())
    assert "imported history" in REPORTS["ivr-containment"].description
    with pytest.raises(ValueError, match="takes no option by"):
        REPORTS["abandons"].run(None, by="hour")  # type: ignore[arg-type]


# --- the CLI ----------------------------------------------------------------------------


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_and_render_formats_agree() -> None:
    assert set(REPORT_FORMATS) == set(FORMATS)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_in_every_format(data: Data, name: str) -> None:
    frame = REPORTS[name].run(data.warehouse)
    outputs = {}
    for fmt in FORMATS:
        done = cli("report", name, "--data-dir", str(data.dir), "--format", fmt)
        assert done.exit_code == 0, (fmt, done.output)
        outputs[fmt] = done.stdout_bytes
    csv = pd.read_csv(io.BytesIO(outputs["csv"]), keep_default_na=False, na_values=[""])
    assert list(csv.columns) == list(frame.columns) and len(csv) == len(frame)
    parquet = pd.read_parquet(io.BytesIO(outputs["parquet"]))
    pd.testing.assert_frame_equal(parquet, frame.reset_index(drop=True), check_dtype=False)
    records = json.loads(outputs["json"])
    assert len(records) == len(frame) and (not records or list(records[0]) == list(frame.columns))
    assert [json.loads(line) for line in outputs["jsonl"].splitlines()] == records
    assert outputs["table"].decode().split("\n")[0].split() == list(frame.columns)


def test_cli_from_to_and_output_file(data: Data, tmp_path: Path) -> None:
    start, end = T0 + DAY, T0 + 3 * DAY
    out = tmp_path / "geo.parquet"
    done = cli("report", "geography", "--data-dir", str(data.dir), "--format", "parquet",
               "--output", str(out), "--from", "2026-01-02T00:00:00Z", "--to", str(end))  # fmt: skip
    assert done.exit_code == 0 and done.stdout_bytes == b""
    same(pd.read_parquet(out), expected_geography(data.cdrs, start, end),
         ["tenant", "country_code", "country", "region"])  # fmt: skip
    done = cli("report", "queue-intervals", "--data-dir", str(data.dir), "--format", "csv",
               "--tenant", "edge", "--from", str(start), "--to", "2026-01-03",
               "--interval", "1h")  # fmt: skip
    report = pd.read_csv(io.StringIO(done.output))
    assert set(report.tenant) == {"edge"} and report.offered.sum() > 0
    assert report.interval_start.min() >= "2026-01-02T00" and report.interval_start.max() < "2026-01-03"
    assert all(s.endswith(":00:00Z") for s in report.interval_start)


def test_cli_report_options(data: Data) -> None:
    done = cli("report", "trends", "--data-dir", str(data.dir), "--by", "weekday", "--timezone",
               "Europe/Berlin", "--format", "json", "--tenant", "edge")  # fmt: skip
    rows = json.loads(done.output)
    assert done.exit_code == 0 and {r["weekday_name"] for r in rows} >= {"Thu", "Fri", "Sat", "Sun"}
    done = cli(
        "report", "repeat-contacts", "--data-dir", str(data.dir), "--fcr-window-h", "1", "--format", "json"
    )
    want = expected_repeats(data.cdrs, 1)
    assert sum(r["repeated"] for r in json.loads(done.output)) == want.repeated.sum()
    done = cli("report", "abandons", "--data-dir", str(data.dir), "--short-abandon", "0", "--format", "json",
               "--tenant", "edge")  # fmt: skip
    assert sum(r["short_abandoned"] for r in json.loads(done.output)) == 2  # the two waits of 0 ms


@pytest.mark.parametrize("name", [n for n, r in REPORTS.items() if r.has_chart])
def test_a_chart_is_a_png(data: Data, name: str, tmp_path: Path) -> None:
    for tenant in ("edge", "nobody"):  # with data, and "no data"
        chart = tmp_path / f"{name}-{tenant}.png"
        done = cli("report", name, "--data-dir", str(data.dir), "--tenant", tenant, "--chart", str(chart))
        assert done.exit_code == 0, done.output
        assert chart.read_bytes().startswith(PNG) and chart.stat().st_size > 1000


BAD = [
    (["report", "nope"], "NAME"),
    (["report"], "NAME"),
    (["report", "abandons", "--by", "hour"], "--by"),
    (["report", "abandons", "--interval", "1h"], "--interval"),
    (["report", "trends", "--by", "month"], "--by"),
    (["report", "trends", "--timezone", "Mars/Olympus"], "--timezone"),
    (["report", "geography", "--fcr-window-h", "24"], "--fcr-window-h"),
    (["report", "repeat-contacts", "--fcr-window-h", "0"], "--fcr-window-h"),
    (["report", "queue-intervals", "--interval", "soon"], "--interval"),
    (["report", "queue-intervals", "--sl-threshold", "-1"], "--sl-threshold"),
    (["report", "queue-intervals", "--from", "yesterday"], "--from"),
    (["report", "queue-intervals", "--from", "2026-01-03", "--to", "2026-01-02"], "--to"),
    (["report", "queue-intervals", "--format", "xml"], "--format"),
    (["report", "ivr-containment", "--chart", "x.png"], "--chart"),
]


@pytest.mark.parametrize(("args", "option"), BAD)
def test_bad_options_are_usage_errors_naming_the_option(args: list[str], option: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "none")])
    assert done.exit_code == 2, done.output
    assert option in done.output


def test_reports_lists_every_name() -> None:
    listed = ccx("reports")
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == list(REPORTS)
    assert cli("report", "--list").output == listed.stdout


# --- the API ----------------------------------------------------------------------------


def test_the_api_serves_every_report(data: Data) -> None:
    app = create_app(
        LiveView(state=lambda: None, tenant="edge"), reports=partial(render_report, data.warehouse)
    )

    def get(path: str, **params: str) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ccx") as client:
                return await client.get(path, params=params)

        return asyncio.run(call())

    for name in REPORTS:
        r = get(f"/v1/reports/{name}", format="csv", tenant="edge")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), (name, r.text)
    r = get("/v1/reports/trends", format="parquet", by="weekday", **{"from": "2026-01-02"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    frame = pd.read_parquet(io.BytesIO(r.content))
    assert set(frame.columns) >= {"weekday", "weekday_name", "service_level"} and len(frame) > 0
    bad = get("/v1/reports/abandons", by="hour")
    assert bad.status_code == 422 and "by" in bad.json()["detail"]
    assert get("/v1/reports/nope").status_code == 422
    assert get("/v1/reports/trends", timezone="Nowhere/Else").status_code == 422


# --- one implementation: the wallboard's tallies are the warehouse's --------------------


def test_the_wallboard_and_the_warehouse_keep_the_same_tallies(data: Data) -> None:
    """METRICS.md's "one implementation": `LiveStats` folded over the simulated log and the
    warehouse's 15-minute tallies (the materialized view over the queue legs) hold the same
    `Tally` for every interval whose contacts have all finished, field by field."""
    log, serde = open_log(Settings.from_env(data_dir=str(data.dir)))
    stats = LiveStats(interval_s=900)
    state = stats.initial_state()
    try:
        for _r, m in read_all(log, serde, ["cc.config-events", "cc.contact-events", "cc.agent-events"]):
            state, _ = stats.process(state, m)
    finally:
        log.close()
    demo = state.tenants["demo"]
    in_progress = min((c.interval for c in demo.contacts.values()), default=2**62)
    key = "intDiv(toUnixTimestamp(at), 900) * 900"
    stored = {
        (g.queue_id, int(g.key) * 1000): g.tally
        for g in queue_tallies(data.warehouse, key=key, params={}, tenant="demo")
    }
    compared = 0
    for queue, per_interval in demo.intervals.items():
        for start, live in per_interval.items():
            if start < in_progress:
                assert stored.get((queue, start)) == live, (queue, start)
                compared += 1
    assert compared >= 6 and sum(t.entered for t in stored.values()) > 300
