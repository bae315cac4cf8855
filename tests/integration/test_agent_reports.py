"""The agent reports against an independent computation over the log's events.

A simulated morning (tenant "acme") runs through the embedded pipeline into chDB; the
expected numbers are computed here in plain Python/pandas from the `cc.agent-events` and
`cc.contact-events` records read back from the log, straight from METRICS.md, without
`processors.metrics` or the report's SQL. A handful of hand-written events (tenant "hand")
pins the edge cases with numbers worked out by hand: equal timestamps ordered by log
position, a repeated not-ready reason, logged-out time, a window cutting states.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.legs import leg_of

from analytics import open_warehouse
from analytics.migrations import applied, load, migrate
from analytics.reports.agents import (
    NOT_READY_COLUMNS,
    PERFORMANCE_COLUMNS,
    agent_not_ready,
    agent_performance,
)
from analytics.sink import WarehouseSink
from analytics.warehouse import Warehouse
from ccx.bootstrap import open_log
from ccx.settings import Settings
from ccx.simulate import DEFAULT_START, parse_start, run_simulation
from schemas.agent import AgentStateChanged
from schemas.cdr import ContactRecord
from schemas.contact import (
    ContactConnected,
    ContactOffered,
    OfferAccepted,
    OfferDeclined,
    OfferTimedOut,
    OfferWithdrawn,
    WrapUpCompleted,
)
from schemas.envelope import Envelope, Message
from streams.ports import Record
from streams.tail import read_all
from telephony.simulator import SimConfig

T0 = parse_start(DEFAULT_START)  # 2026-01-05T08:00:00Z
MIN, HOUR = 60_000, 3_600_000
CONFIG = SimConfig(
    tenant="acme", queues=2, agents=10, arrival_rate_per_hour=240, decline_probability=0.05,
    no_answer_probability=0.08, break_probability=0.25,
)  # fmt: skip
STATES = ("available", "reserved", "handling", "wrap_up", "not_ready")
OFFER_KIND = {
    "ContactOffered": "offers", "OfferAccepted": "accepted", "OfferDeclined": "declined",
    "OfferTimedOut": "rona", "OfferWithdrawn": "withdrawn",
}  # fmt: skip

Batch = list[tuple[Record, Message[Any]]]


@dataclass
class Day:
    warehouse: Warehouse
    agent_events: pd.DataFrame
    contact_events: pd.DataFrame
    records: Batch


def _frame(batch: Batch) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"partition": r.partition, "offset": r.offset, "type": m.type, "at": m.envelope.occurred_at}
            | asdict(m.body)
            for r, m in batch
        ]
    )


# --- hand-written events ------------------------------------------------------------------

H0 = 1_714_557_600_000  # 2024-05-01T10:00:00Z, on a 15-minute boundary
S = 1_000


def _hand_events() -> list[tuple[str, int, object]]:
    """(topic, ms after H0, body), in log order."""
    agent, contact = "cc.agent-events", "cc.contact-events"

    def st(aid: str, at: int, state: str, reason: str = "", contact_id: str = "") -> tuple[str, int, object]:
        presence = state if state in ("available", "not_ready", "logged_out") else "available"
        return (agent, at, AgentStateChanged(aid, state, "", reason, contact_id, presence))

    return [
        st("h1", 0, "not_ready", "login"),
        st("h1", 60 * S, "available"),
        (contact, 120 * S, ContactOffered("k1", "q", "h1", "longest_idle", 1, (), "idle", 0)),
        st("h1", 120 * S, "reserved", contact_id="k1"),
        (contact, 125 * S, OfferAccepted("k1", "h1")),
        (contact, 125 * S, ContactConnected("k1", "q", "h1", 14 * S)),
        st("h1", 125 * S, "handling", contact_id="k1"),
        st("h1", 300 * S, "wrap_up", contact_id="k1"),
        (contact, 330 * S, WrapUpCompleted("k1", "h1", "ok", "")),
        st("h1", 330 * S, "available"),  # and in the same ms, by log order, reserved again:
        (contact, 330 * S, ContactOffered("k2", "q", "h1", "longest_idle", 1, (), "idle", 0)),
        st("h1", 330 * S, "reserved", contact_id="k2"),
        (contact, 340 * S, OfferTimedOut("k2", "h1")),
        st("h1", 340 * S, "available"),
        st("h1", 600 * S, "not_ready", "lunch"),
        st("h1", 900 * S, "not_ready", "lunch"),  # the same reason again: the same period
        st("h1", 1000 * S, "not_ready", "break"),
        st("h1", 1200 * S, "logged_out"),
        st("h1", 1500 * S, "not_ready", "login"),
        st("h1", 1800 * S, "available"),
        st("h2", 100 * S, "available"),
        (contact, 150 * S, ContactOffered("k3", "q", "h2", "longest_idle", 1, (), "idle", 0)),
        (contact, 155 * S, OfferDeclined("k3", "h2")),
        (contact, 160 * S, ContactOffered("k4", "q", "h2", "ring_all", 1, (), "all", 0)),
        (contact, 161 * S, OfferWithdrawn("k4", "h2", "answered_elsewhere")),
        st("h2", 2000 * S, "not_ready", "break"),  # the tenant's latest agent event
    ]


def _hand_cdr() -> ContactRecord:
    return ContactRecord(
        contact_id="k1", queue_id="q", channel="voice", ani="+1", dnis="+2", priority=0,
        arrived_at=H0 + 110 * S, queued_at=H0 + 111 * S, answered_at=H0 + 125 * S, ended_at=H0 + 300 * S,
        finished_at=H0 + 330 * S, outcome="answered", end_party="caller", agent_id="h1", offers=1,
        wait_ms=14 * S, talk_ms=150 * S, hold_ms=25 * S, holds=1, wrap_up_ms=30 * S, disposition="ok",
    )  # fmt: skip


def hand_batch() -> Batch:
    """Log positions per topic in list order (far from the simulation's, which share
    `raw_events`' key); event ids sort the other way round, so a report that ordered equal
    timestamps by event id would get h1's 330 s wrong."""
    items = [
        *_hand_events(),
        ("cc.cdr", 330 * S, _hand_cdr()),
        ("cc.contact-legs", 330 * S, leg_of(_hand_cdr())),
    ]
    offsets: dict[str, int] = defaultdict(lambda: 10**9)
    batch: Batch = []
    for i, (topic, at, body) in enumerate(items):
        env = Envelope(f"hand-{999 - i}", "hand", H0 + at, "hand")
        batch.append((Record(topic, 0, offsets[topic], b"hand", b""), Message(env, body)))
        offsets[topic] += 1
    return batch


# --- the simulated day --------------------------------------------------------------------


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("agents"), tenant="acme")
    run_simulation(settings, CONFIG, seed=11, duration_ms=2 * HOUR, start_ms=T0, progress=False)
    log, serde = open_log(settings)
    try:
        agents = read_all(log, serde, ["cc.agent-events"])
        contacts = read_all(log, serde, ["cc.contact-events"])
    finally:
        log.close()
    with open_warehouse(settings.warehouse) as wh:
        sink = WarehouseSink(wh)
        sink.write(hand_batch())
        sink.write(hand_batch())  # replayed
        yield Day(wh, _frame(agents), _frame(contacts), agents + contacts)


# --- the independent computation ----------------------------------------------------------


def _pieces(s: int, e: int, step: int | None) -> Iterator[tuple[int, int]]:
    """(interval start, ms) of [s, e) per interval (one piece keyed 0 without intervals)."""
    if e <= s:
        return
    if step is None:
        yield 0, e - s
        return
    t = s - s % step
    while t < e:
        yield t, min(e, t + step) - max(s, t)
        t += step


def _segments(agent_events: pd.DataFrame, end: int | None) -> list[dict[str, Any]]:
    """Each state change with its end (the agent's next change; the last: `end`, else the
    latest agent event) and whether it starts a not-ready period."""
    ev = agent_events[agent_events.type == "AgentStateChanged"]
    out = []
    latest = int(ev["at"].max())
    for agent_id, g in ev.sort_values(["at", "partition", "offset"]).groupby("agent_id", sort=False):
        rows = g.to_dict("records")
        for i, r in enumerate(rows):
            following = rows[i + 1]["at"] if i + 1 < len(rows) else (latest if end is None else end)
            before = rows[i - 1] if i > 0 else None
            continues = (
                before is not None and before["state"] == "not_ready" and before["reason"] == r["reason"]
            )
            out.append(
                {"agent_id": agent_id, "state": r["state"], "reason": r["reason"], "at": int(r["at"]),
                 "until": int(following), "starts": r["state"] == "not_ready" and not continues}
            )  # fmt: skip
    return out


def _within(at: int, start: int | None, end: int | None) -> bool:
    return (start is None or at >= start) and (end is None or at < end)


def _key(at: int, step: int | None) -> int:
    return 0 if step is None else at - at % step


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rate(num: float, den: float) -> float:
    return float("nan") if den == 0 else num / den


def expected_performance(
    tenant: str, agent_events: pd.DataFrame, contact_events: pd.DataFrame,
    start: int | None = None, end: int | None = None, step: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    acc: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for seg in _segments(agent_events, end):
        s = seg["at"] if start is None else max(seg["at"], start)
        e = seg["until"] if end is None else min(seg["until"], end)
        if seg["state"] == "logged_out":
            continue
        for interval, ms in _pieces(s, e, step):
            row = acc[(seg["agent_id"], interval)]
            row[seg["state"]] += ms
            row["logged_in"] += ms
    for r in contact_events.to_dict("records"):
        if r["type"] in OFFER_KIND and _within(r["at"], start, end):
            acc[(r["agent_id"], _key(r["at"], step))][OFFER_KIND[r["type"]]] += 1
    ev = contact_events
    connected = ev[ev.type == "ContactConnected"].groupby("contact_id").first()
    wrapped = ev[ev.type == "WrapUpCompleted"].groupby("contact_id")["at"].first()
    for contact_id, c in connected.iterrows():
        if contact_id in wrapped.index and _within(c["at"], start, end):  # a CDR exists once wrapped
            row = acc[(c["agent_id"], _key(c["at"], step))]
            row["handled"] += 1
            row["handle_ms"] += wrapped[contact_id] - c["at"]
    rows = []
    for (agent_id, interval), v in sorted(acc.items()):
        busy, idle = v["handling"] + v["wrap_up"], v["available"] + v["reserved"]
        rows.append(
            {"tenant": tenant, "agent_id": agent_id, "interval_start": _iso(interval),
             **{f"{s}_s": v[s] / 1000 for s in STATES}, "logged_in_s": v["logged_in"] / 1000,
             "occupancy": _rate(busy, busy + idle), "utilization": _rate(busy + idle, v["logged_in"]),
             **{k: int(v[k]) for k in OFFER_KIND.values()},
             "agent_answer_rate": _rate(v["accepted"], v["offers"]), "handled": int(v["handled"]),
             "aht_s": _rate(v["handle_ms"] / 1000, v["handled"])}
        )  # fmt: skip
    columns = [c for c in PERFORMANCE_COLUMNS if step is not None or c != "interval_start"]
    return pd.DataFrame(rows, columns=columns)


def expected_not_ready(
    tenant: str, agent_events: pd.DataFrame,
    start: int | None = None, end: int | None = None, step: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    acc: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for seg in _segments(agent_events, end):
        if seg["state"] != "not_ready":
            continue
        s = seg["at"] if start is None else max(seg["at"], start)
        e = seg["until"] if end is None else min(seg["until"], end)
        for interval, ms in _pieces(s, e, step):
            acc[(seg["agent_id"], seg["reason"], interval)][0] += ms
        if seg["starts"] and _within(seg["at"], start, end):
            acc[(seg["agent_id"], seg["reason"], _key(seg["at"], step))][1] += 1
    rows = [
        {"tenant": tenant, "agent_id": a, "reason": reason, "interval_start": _iso(i),
         "not_ready_s": ms / 1000, "count": n}
        for (a, reason, i), (ms, n) in sorted(acc.items())
    ]  # fmt: skip
    columns = [c for c in NOT_READY_COLUMNS if step is not None or c != "interval_start"]
    return pd.DataFrame(rows, columns=columns)


TEXT = ("tenant", "agent_id", "reason", "interval_start")


def assert_same(report: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal values, and the promised dtypes: counts int64, seconds and rates float64."""
    assert list(report.columns) == list(want.columns)
    for column in report.columns:
        if column not in TEXT:
            assert report[column].dtype == want[column].dtype, column
    text = {c: object for c in TEXT if c in report.columns}
    pd.testing.assert_frame_equal(report.astype(text), want.astype(text), rtol=1e-12)


# --- the simulated day against the computation ---------------------------------------------

WINDOWS = [
    (None, None, None),
    (None, None, 900_000),
    (T0 + 37 * MIN + 13_500, T0 + 101 * MIN + 7_250, None),  # cuts states in the middle
    (T0 + 37 * MIN + 13_500, T0 + 101 * MIN + 7_250, 900_000),
    (T0 + 50 * MIN, None, 1_800_000),  # open end: the last states last until the latest event
]


def test_the_day_has_what_the_reports_must_get_right(day: Day) -> None:
    ev, cev = day.agent_events, day.contact_events
    states = ev[ev.type == "AgentStateChanged"]
    assert set(STATES) <= set(states.state) and len(states) > 500
    assert {"break", "training"} <= set(states[states.state == "not_ready"].reason)
    assert {"OfferDeclined", "OfferTimedOut", "OfferAccepted"} <= set(cev.type)
    same_ms = states.duplicated(["agent_id", "at"], keep=False)
    assert same_ms.any()  # two changes in one millisecond: only log order says which lasted
    start, end = WINDOWS[2][:2]
    assert start is not None and end is not None
    segs = _segments(ev, None)
    assert any(s["at"] < start < s["until"] for s in segs) and any(s["at"] < end < s["until"] for s in segs)


@pytest.mark.parametrize(("start", "end", "step"), WINDOWS)
def test_agent_performance_equals_the_computation(
    day: Day, start: int | None, end: int | None, step: int | None
) -> None:
    interval_s = None if step is None else step // 1000
    report = agent_performance(day.warehouse, tenant="acme", start=start, end=end, interval_s=interval_s)
    want = expected_performance("acme", day.agent_events, day.contact_events, start, end, step)
    assert len(want) >= CONFIG.agents and want.handled.sum() > 0
    assert_same(report, want)


@pytest.mark.parametrize(("start", "end", "step"), WINDOWS)
def test_agent_not_ready_equals_the_computation(
    day: Day, start: int | None, end: int | None, step: int | None
) -> None:
    interval_s = None if step is None else step // 1000
    report = agent_not_ready(day.warehouse, tenant="acme", start=start, end=end, interval_s=interval_s)
    want = expected_not_ready("acme", day.agent_events, start, end, step)
    assert len(want) > 0 and want["count"].sum() > 0
    assert_same(report, want)


def test_intervals_add_up_to_the_whole(day: Day) -> None:
    whole = agent_performance(day.warehouse, tenant="acme").set_index("agent_id")
    columns = [*(f"{s}_s" for s in STATES), "logged_in_s", "offers", "rona", "handled"]
    split = agent_performance(day.warehouse, tenant="acme", interval_s=900).groupby("agent_id")[columns].sum()
    for column in columns:
        np.testing.assert_allclose(split[column], whole[column], rtol=1e-12, err_msg=column)
    states = whole[[f"{s}_s" for s in STATES]].sum(axis=1)
    np.testing.assert_allclose(states, whole.logged_in_s, rtol=1e-12)  # no other state in this log


def test_datetimes_and_milliseconds_give_the_same_report(day: Day) -> None:
    start, end = T0 + 30 * MIN, T0 + 90 * MIN
    as_ms = agent_performance(day.warehouse, tenant="acme", start=start, end=end, interval_s=900)
    as_dt = agent_performance(
        day.warehouse,
        tenant="acme",
        start=datetime.fromtimestamp(start / 1000, UTC),
        end=datetime.fromtimestamp(end / 1000, UTC),
        interval_s=900,
    )
    pd.testing.assert_frame_equal(as_ms, as_dt)


def test_a_replayed_batch_changes_nothing(day: Day) -> None:
    def reports() -> list[pd.DataFrame]:
        return [
            agent_performance(day.warehouse, interval_s=900),
            agent_not_ready(day.warehouse, interval_s=900),
        ]

    def tables() -> list[list[tuple[object, ...]]]:
        rows = [
            day.warehouse.query_rows(f"SELECT * FROM {t} FINAL ORDER BY ALL")
            for t in ("agent_states", "offers", "agent_state_intervals")
        ]
        tallies = (
            "SELECT tenant, agent_id, interval_start, sum(available_ms), sum(not_ready_ms),"
            " sumMap(not_ready_reason_ms), sumMap(not_ready_starts), sum(offers), sum(rona), sum(handled),"
            " sum(handle_ms) FROM agent_interval_tallies GROUP BY ALL ORDER BY ALL"
        )
        return [*rows, day.warehouse.query_rows(tallies)]

    before, rows_before = reports(), tables()
    sink = WarehouseSink(day.warehouse)
    sink.write(day.records)  # the whole simulated log again, as one replayed batch
    sink.write(hand_batch()[5:])  # and a partial replay of the hand-written one
    assert sink.rows_written["agent_states"] > 500
    # rows that feed the tallies' materialized views are not written again: found, skipped
    assert sink.skipped["offers"] > 100 and sink.skipped["agent_state_intervals"] > 500
    assert sink.rows_written["offers"] == sink.rows_written["agent_state_intervals"] == 0
    for got, want in zip(reports(), before, strict=True):
        pd.testing.assert_frame_equal(got, want)
    assert tables() == rows_before


def test_migrating_twice_changes_nothing(day: Day) -> None:
    wh = day.warehouse
    assert 4 in applied(wh) and max(m.version for m in load()) >= 4

    def schema() -> list[tuple[object, ...]]:
        return wh.query_rows(
            "SELECT name, create_table_query FROM system.tables"
            " WHERE database = currentDatabase() ORDER BY name"
        )

    def tallies() -> list[tuple[object, ...]]:
        return wh.query_rows(
            "SELECT tenant, agent_id, interval_start, sum(available_ms), sum(offers), sum(handled),"
            " sumMap(not_ready_starts) FROM agent_interval_tallies GROUP BY ALL ORDER BY ALL"
        ) + wh.query_rows("SELECT count(), sum(duration_ms) FROM agent_state_intervals FINAL")

    before, counted = schema(), tallies()
    assert {"agent_states", "offers", "agent_state_intervals"} <= {str(r[0]) for r in before}
    history = wh.query_rows("SELECT * FROM schema_migrations ORDER BY version")
    assert migrate(wh) == [] and migrate(wh) == []
    for version in (4, 5, 6):  # IF NOT EXISTS, and backfills only into empty targets:
        for statement in next(m for m in load() if m.version == version).statements():
            wh.command(statement)  # a half-applied migration runs again
    assert schema() == before and tallies() == counted
    # a warehouse that had states, offers and legs before 0006 is filled by its backfill
    wh.command("TRUNCATE TABLE agent_state_intervals")
    wh.command("TRUNCATE TABLE agent_interval_tallies")
    for statement in next(m for m in load() if m.version == 6).statements():
        wh.command(statement)
    assert tallies() == counted
    assert wh.query_rows("SELECT * FROM schema_migrations ORDER BY version") == history


# --- hand-written edge cases --------------------------------------------------------------


def _rows(df: pd.DataFrame, *key: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in key): r for r in df.to_dict("records")}


def test_hand_events_whole_period(day: Day) -> None:
    rows = _rows(agent_performance(day.warehouse, tenant="hand"), "agent_id")
    h1, h2 = rows[("h1",)], rows[("h2",)]
    # h1: login 60 + lunch 400 + break 200 + login again 300 not ready; logged out 300 s not counted;
    # at 330 s available and reserved share a millisecond and the log says reserved lasted.
    assert {k: h1[k] for k in ("available_s", "reserved_s", "handling_s", "wrap_up_s", "not_ready_s")} == {
        "available_s": 60 + 260 + 200, "reserved_s": 5 + 10, "handling_s": 175, "wrap_up_s": 30,
        "not_ready_s": 960,
    }  # fmt: skip
    assert h1["logged_in_s"] == 1700
    assert h1["occupancy"] == pytest.approx(205 / 740) and h1["utilization"] == pytest.approx(740 / 1700)
    assert (h1["offers"], h1["accepted"], h1["declined"], h1["rona"], h1["withdrawn"]) == (2, 1, 0, 1, 0)
    assert h1["agent_answer_rate"] == 0.5 and h1["handled"] == 1 and h1["aht_s"] == 205
    # h2 is available until the tenant's latest agent event (its own not-ready, which lasts 0 s)
    assert (h2["available_s"], h2["not_ready_s"], h2["logged_in_s"]) == (1900, 0, 1900)
    assert (h2["occupancy"], h2["utilization"], h2["agent_answer_rate"]) == (0.0, 1.0, 0.0)
    assert (h2["offers"], h2["declined"], h2["withdrawn"], h2["handled"]) == (2, 1, 1, 0)
    assert np.isnan(h2["aht_s"])  # no data, not 0
    nr = _rows(agent_not_ready(day.warehouse, tenant="hand"), "agent_id", "reason")
    assert {k: (v["not_ready_s"], v["count"]) for k, v in nr.items()} == {
        ("h1", "break"): (200, 1), ("h1", "login"): (360, 2), ("h1", "lunch"): (400, 1),
        ("h2", "break"): (0, 1),
    }  # fmt: skip


def test_hand_events_in_a_window_and_intervals(day: Day) -> None:
    start, end = H0 + 250 * S, H0 + 950 * S
    report = agent_performance(day.warehouse, tenant="hand", start=start, end=end, interval_s=900)
    rows = _rows(report, "agent_id", "interval_start")
    first, second = rows[("h1", "2024-05-01T10:00:00Z")], rows[("h1", "2024-05-01T10:15:00Z")]
    assert (first["handling_s"], first["wrap_up_s"], first["reserved_s"]) == (50, 30, 10)
    assert (first["available_s"], first["not_ready_s"], first["logged_in_s"]) == (260, 300, 650)
    assert (first["offers"], first["rona"], first["agent_answer_rate"], first["handled"]) == (1, 1, 0.0, 0)
    assert (second["not_ready_s"], second["logged_in_s"], second["offers"]) == (50, 50, 0)
    assert np.isnan(second["occupancy"]) and np.isnan(second["agent_answer_rate"])
    assert rows[("h2", "2024-05-01T10:00:00Z")]["available_s"] == 650
    assert rows[("h2", "2024-05-01T10:15:00Z")]["available_s"] == 50
    assert len(rows) == 4
    nr = agent_not_ready(day.warehouse, tenant="hand", start=start, end=end, interval_s=900)
    assert nr.to_dict("records") == [
        {"tenant": "hand", "agent_id": "h1", "reason": "lunch", "interval_start": "2024-05-01T10:00:00Z",
         "not_ready_s": 300.0, "count": 1},
        {"tenant": "hand", "agent_id": "h1", "reason": "lunch", "interval_start": "2024-05-01T10:15:00Z",
         "not_ready_s": 50.0, "count": 0},  # the repeated reason continues the period
    ]  # fmt: skip


def test_hand_events_equal_the_computation(day: Day) -> None:
    batch = hand_batch()
    agents = _frame([(r, m) for r, m in batch if r.topic == "cc.agent-events"])
    contacts = _frame([(r, m) for r, m in batch if r.topic == "cc.contact-events"])
    for start, end, step in [(None, None, 900_000), (H0 + 250 * S, H0 + 950 * S, 300_000)]:
        interval_s = None if step is None else step // 1000
        got = agent_performance(day.warehouse, tenant="hand", start=start, end=end, interval_s=interval_s)
        assert_same(got, expected_performance("hand", agents, contacts, start, end, step))
        got = agent_not_ready(day.warehouse, tenant="hand", start=start, end=end, interval_s=interval_s)
        assert_same(got, expected_not_ready("hand", agents, start, end, step))


def test_every_tenant_without_a_filter(day: Day) -> None:
    both = agent_performance(day.warehouse)
    assert set(both.tenant) == {"acme", "hand"}
    for tenant in ("acme", "hand"):
        alone = agent_performance(day.warehouse, tenant=tenant)
        pd.testing.assert_frame_equal(both[both.tenant == tenant].reset_index(drop=True), alone)


def test_no_data_is_an_empty_frame_with_typed_columns(day: Day) -> None:
    perf = agent_performance(day.warehouse, tenant="nobody", interval_s=900)
    assert perf.empty and list(perf.columns) == list(PERFORMANCE_COLUMNS)
    assert perf.offers.dtype == np.int64 and perf.occupancy.dtype == np.float64
    nr = agent_not_ready(day.warehouse, tenant="hand", end=H0)
    assert nr.empty and list(nr.columns) == [c for c in NOT_READY_COLUMNS if c != "interval_start"]


def test_bad_arguments(day: Day) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        agent_performance(day.warehouse, interval_s=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        agent_not_ready(day.warehouse, start=datetime(2024, 5, 1))


@pytest.mark.parametrize(
    ("tenant", "start", "end", "step"),
    [
        ("acme", None, None, None),
        ("acme", None, None, 900_000),
        ("acme", T0 + 15 * MIN, T0 + 105 * MIN, 1_800_000),
        ("acme", T0 + 30 * MIN, None, 3_600_000),
        ("hand", None, None, 900_000),
        (None, None, None, None),
    ],
)
def test_the_tallies_and_the_state_rows_give_the_same_sums(
    day: Day, tenant: str | None, start: int | None, end: int | None, step: int | None
) -> None:
    """Aligned windows read the materialized views' 15-minute tallies (plus each agent's
    open state), others the state rows: on the same window both give the same sums."""
    from analytics.reports import agents

    interval_s = None if step is None else step // 1000
    params = agents._params(tenant, start, end, interval_s)
    assert agents._use_tallies(params, interval_s)

    def normal(sums: dict[Any, Any]) -> dict[Any, Any]:
        out = {}
        for key, acc in sums.items():
            values = {k: v for k, v in acc.values.items() if v}
            reasons = {r: tuple(p) for r, p in acc.reasons.items() if any(p)}
            if values or reasons:
                out[key] = (values, reasons)
        return out

    from_tallies = normal(agents._from_tallies(day.warehouse, params))
    assert from_tallies == normal(agents._from_states(day.warehouse, params))
    assert len(from_tallies) >= 2
