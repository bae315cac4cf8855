"""The queue-interval report against an independent pandas computation from METRICS.md.

Queue legs (and the CDRs of the same contacts) and queue definitions go in through the sink
(twice: a replay must not count twice, in the legs or in the materialized view's tallies);
the expected numbers are computed here, from the same records, straight from the
definitions in METRICS.md, without `processors.metrics`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.legs import leg_of

from analytics import open_warehouse
from analytics.reports import queue_intervals, render
from analytics.reports.queue_intervals import ALL_QUEUES, COLUMNS
from analytics.reports.tallies import LEG_TALLY
from analytics.sink import WarehouseSink
from analytics.warehouse import ClickHouseWarehouse
from processors.metrics import Thresholds
from schemas.cdr import ContactRecord
from schemas.config import QueueDefined
from schemas.envelope import Envelope, Message
from schemas.legs import QueueLeg
from streams.ports import Record

T0 = 1_714_557_600_000  # 2024-05-01T10:00:00Z
HOUR = 3_600_000
# (tenant, queue) -> (sl_threshold_s, short_abandon_s) as the latest definitions say;
# acme/billing has no definition and gets the defaults (20 s, 5 s).
DEFINED = {("acme", "sales"): (20, 5), ("acme", "support"): (60, 10), ("globex", "sales"): (15, 3)}
DEFAULT = (20, 5)


# --- the data ---------------------------------------------------------------------------


def _cdr(
    contact_id: str, queue_id: str, queued_at: int, outcome: str, wait_ms: int, **more: int
) -> ContactRecord:
    answered = outcome == "answered"
    talk, hold, holds, wrap = (more.get(k, 0) for k in ("talk_ms", "hold_ms", "holds", "wrap_up_ms"))
    return ContactRecord(
        contact_id=contact_id, queue_id=queue_id, channel="voice", ani="+4930", dnis="+4931", priority=0,
        arrived_at=max(queued_at - 3_000, 1), queued_at=queued_at,
        answered_at=queued_at + wait_ms if answered else 0, ended_at=queued_at + wait_ms + talk + hold,
        finished_at=queued_at + wait_ms + talk + hold + wrap, outcome=outcome,
        end_party="caller", agent_id="a1" if answered else "", offers=1 if answered else 0,
        wait_ms=wait_ms, talk_ms=talk, hold_ms=hold, holds=holds, wrap_up_ms=wrap, disposition="",
    )  # fmt: skip


def _edge_cases() -> list[tuple[str, ContactRecord]]:
    """Boundaries of each threshold, every outcome, interval edges, a contact never queued."""
    q = T0 + 5 * 60_000
    return [
        ("acme", _cdr("e1", "sales", q, "answered", 20_000, talk_ms=60_000, wrap_up_ms=5_000)),  # = SL
        ("acme", _cdr("e2", "sales", q, "answered", 20_001, talk_ms=30_000, hold_ms=4_000, holds=2)),
        ("acme", _cdr("e3", "sales", q, "abandoned", 5_000)),  # = short abandon: short
        ("acme", _cdr("e4", "sales", q, "abandoned", 5_001)),  # just over: a real abandon
        ("acme", _cdr("e5", "sales", q, "abandoned", 25_000)),  # outside SL
        ("acme", _cdr("e6", "sales", q, "overflowed", 40_000)),
        ("acme", _cdr("e7", "sales", q, "timed_out", 120_000)),
        ("acme", _cdr("e8", "sales", q, "callback", 70_000)),
        ("acme", _cdr("e9", "sales", T0 + 15 * 60_000 - 1, "answered", 1_000, talk_ms=9_000)),  # last ms
        ("acme", _cdr("e10", "sales", T0 + 15 * 60_000, "answered", 1_000, talk_ms=9_000)),  # next interval
        ("acme", _cdr("e11", "sales", 0, "abandoned", 0)),  # ended before reaching a queue
        ("acme", _cdr("e12", "support", q, "closed", 0)),
        ("acme", _cdr("e13", "support", q, "abandoned", 10_000)),  # short under support's 10 s
        ("acme", _cdr("e14", "billing", q, "abandoned", 5_000)),  # short under the default 5 s
    ]


def _random(seed: int, n: int) -> list[tuple[str, ContactRecord]]:
    rng = random.Random(seed)
    out = []
    outcomes = ["answered"] * 6 + ["abandoned"] * 3 + ["overflowed", "timed_out", "callback", "closed"]
    for i in range(n):
        tenant = rng.choice(["acme", "acme", "globex"])
        queue = rng.choice(["sales", "support", "billing"] if tenant == "acme" else ["sales"])
        outcome = rng.choice(outcomes)
        wait = rng.choice([0, 3_000, 5_000, 10_000, 15_000, 20_000, 60_000, rng.randrange(0, 180_000)])
        extra = {}
        if outcome == "answered":
            holds = rng.choice([0, 0, 1, 2])
            talk, hold, wrap = (
                rng.randrange(10_000, 600_000),
                rng.randrange(1, 60_000),
                rng.randrange(120_000),
            )
            extra = dict(talk_ms=talk, holds=holds, hold_ms=holds * hold, wrap_up_ms=wrap)
        out.append((tenant, _cdr(f"r{i}", queue, T0 + rng.randrange(0, 3 * HOUR), outcome, wait, **extra)))
    return out


RECORDS = _edge_cases() + _random(7, 400)


def _legs(records: list[tuple[str, ContactRecord]]) -> list[tuple[str, QueueLeg]]:
    """Every contact that reached a queue has a leg there (e11 never queued: none)."""
    return [(t, leg_of(r)) for t, r in records if r.queued_at > 0]


def _definitions() -> list[tuple[str, QueueDefined]]:
    def q(queue: str, sl: int, short: int, version: int) -> QueueDefined:
        return QueueDefined(queue, queue.title(), sl, short, 15, 30, "longest_idle", version)

    return [
        ("acme", q("sales", 20, 5, 1)),
        ("acme", q("support", 30, 10, 1)),
        ("acme", q("support", 60, 10, 2)),  # redefined: history is reported with 60 s
        ("globex", q("sales", 15, 3, 4)),
        ("initech", q("sales", 20, 5, 1)),
    ]


def _messages(
    items: list[tuple[str, object]], topic: str, first_offset: int
) -> list[tuple[Record, Message[object]]]:
    out = []
    for i, (tenant, body) in enumerate(items):
        env = Envelope(f"{topic}-{first_offset + i}", tenant, T0 + i, f"c{i}")
        out.append((Record(topic, 0, first_offset + i, tenant.encode(), b""), Message(env, body)))
    return out


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('report')}") as wh:
        sink = WarehouseSink(wh)
        batch = _messages(list(_definitions()), "cc.config-events", 0)
        batch += _messages(list(RECORDS), "cc.cdr", 0)
        batch += _messages(list(_legs(RECORDS)), "cc.contact-legs", 0)
        sink.write(batch)
        assert sink.skipped["contact_legs"] == 0
        sink.write(batch)  # replayed
        assert sink.skipped["contact_legs"] == len(_legs(RECORDS))
        yield wh  # type: ignore[misc]


# --- the independent computation --------------------------------------------------------


def expected(
    records: list[tuple[str, ContactRecord]],
    thresholds: dict[tuple[str, str], tuple[int, int]],
    interval_s: int = 900,
    variant: str = "abandons_against",
) -> pd.DataFrame:
    """METRICS.md, by hand: counts per tenant, queue and queue-entry interval, then rates."""
    df = pd.DataFrame([{"tenant": t, **asdict(r)} for t, r in records])
    df = df[df.queued_at > 0].copy()
    step = interval_s * 1000
    df["interval"] = df.queued_at // step * step
    limits = [thresholds.get((t, q), DEFAULT) for t, q in zip(df.tenant, df.queue_id, strict=True)]
    df["sl_ms"] = [sl * 1000 for sl, _ in limits]
    df["short_ms"] = [short * 1000 for _, short in limits]
    abandoned = df.outcome == "abandoned"
    df["short_abandoned"] = abandoned & (df.wait_ms <= df.short_ms)
    df["abandoned"] = abandoned & ~df.short_abandoned
    df["answered"] = df.outcome == "answered"
    for outcome in ("overflowed", "timed_out", "callback"):
        df[outcome] = df.outcome == outcome
    df["answered_in_sl"] = df.answered & (df.wait_ms <= df.sl_ms)
    df["abandoned_in_sl"] = df.abandoned & (df.wait_ms <= df.sl_ms)
    df["answer_wait_ms"] = df.wait_ms.where(df.answered, 0)
    df["abandon_wait_ms"] = df.wait_ms.where(df.abandoned, 0)
    df["held"] = df.answered & (df.holds > 0)
    g = df.groupby(["tenant", "queue_id", "interval"], as_index=False).agg(
        answered=("answered", "sum"), abandoned=("abandoned", "sum"),
        short_abandoned=("short_abandoned", "sum"), overflowed=("overflowed", "sum"),
        timed_out=("timed_out", "sum"), callback=("callback", "sum"),
        answered_in_sl=("answered_in_sl", "sum"), abandoned_in_sl=("abandoned_in_sl", "sum"),
        answer_wait_ms=("answer_wait_ms", "sum"), abandon_wait_ms=("abandon_wait_ms", "sum"),
        longest_wait_ms=("wait_ms", "max"), talk_ms=("talk_ms", "sum"), hold_ms=("hold_ms", "sum"),
        held=("held", "sum"), wrap_ms=("wrap_up_ms", "sum"),
    )  # fmt: skip
    g["waiting"] = 0  # still-waiting contacts have no CDR
    g["offered"] = g.answered + g.abandoned + g.overflowed + g.timed_out + g.callback + g.waiting
    g["handled"] = g.answered

    def per(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den != 0)).astype(float)  # x / 0 is "no data"

    sl_formula = {
        "abandons_against": lambda: per(g.answered_in_sl, g.offered),
        "abandons_ignored": lambda: per(g.answered_in_sl, g.offered - g.abandoned),
        "abandons_for": lambda: per(g.answered_in_sl + g.abandoned_in_sl, g.offered),
        "answered_only": lambda: per(g.answered_in_sl, g.answered),
    }
    g["service_level"] = sl_formula[variant]()
    g["asa_s"] = per(g.answer_wait_ms / 1000, g.answered)
    g["avg_abandon_s"] = per(g.abandon_wait_ms / 1000, g.abandoned)
    g["att_s"] = per(g.talk_ms / 1000, g.handled)
    g["avg_hold_s"] = per(g.hold_ms / 1000, g.held)
    g["acw_s"] = per(g.wrap_ms / 1000, g.handled)
    g["aht_s"] = per((g.talk_ms + g.hold_ms + g.wrap_ms) / 1000, g.handled)
    g["abandon_rate"] = per(g.abandoned, g.offered)
    g["answer_rate"] = per(g.answered, g.offered)
    g["longest_wait_s"] = g.longest_wait_ms / 1000
    g["interval_start"] = pd.to_datetime(g.interval, unit="ms", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return g[list(COLUMNS)].sort_values(["tenant", "queue_id", "interval_start"]).reset_index(drop=True)


def assert_same(report: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(report.columns) == list(COLUMNS)
    got = report.sort_values(["tenant", "queue_id", "interval_start"]).reset_index(drop=True)
    for column in COLUMNS:
        if want[column].dtype.kind == "f":
            got[column] = got[column].astype(float)  # None (no data) -> NaN, as in `want`
    got = got.astype({c: want[c].dtype for c in ("tenant", "queue_id", "interval_start")})
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def _by_queue(report: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """One tenant's single-interval report as plain values per queue."""
    assert report.interval_start.nunique() == 1 and report.tenant.nunique() == 1
    return {str(r["queue_id"]): {str(k): v for k, v in r.items()} for r in report.to_dict("records")}


# --- the report -------------------------------------------------------------------------


def test_the_report_equals_the_metrics_md_computation(warehouse: ClickHouseWarehouse) -> None:
    report = queue_intervals(warehouse, tenant=None)
    want = expected([r for r in RECORDS if r[0] != "initech"], DEFINED)
    assert len(want) > 20 and want.service_level.isna().sum() < len(want)
    assert_same(report, want)


def test_edge_cases_are_classified_by_the_definitions(warehouse: ClickHouseWarehouse) -> None:
    report = queue_intervals(warehouse, tenant="acme", start=T0 + 5 * 60_000, end=T0 + 5 * 60_000 + 1)
    rows = _by_queue(report)
    sales, support, billing = rows["sales"], rows["support"], rows["billing"]
    counts = {k: sales[k] for k in ("offered", "answered", "abandoned", "short_abandoned", "overflowed")}
    assert counts == {"offered": 7, "answered": 2, "abandoned": 2, "short_abandoned": 1, "overflowed": 1}
    assert (sales["answered_in_sl"], sales["abandoned_in_sl"], sales["held"]) == (1, 1, 1)
    assert sales["service_level"] == pytest.approx(1 / 7) and sales["longest_wait_s"] == 120.0
    assert (support["offered"], support["short_abandoned"]) == (0, 1)  # closed is not offered
    assert math.isnan(support["service_level"]) and math.isnan(support["answer_rate"])  # no data, not 0 %
    assert (billing["offered"], billing["short_abandoned"]) == (0, 1)


def test_tenant_period_and_interval_length(warehouse: ClickHouseWarehouse) -> None:
    start, end = T0 + HOUR, T0 + 3 * HOUR
    report = queue_intervals(warehouse, tenant="globex", start=start, end=end, interval_s=3600)
    in_period = [r for r in RECORDS if r[0] == "globex" and start <= r[1].queued_at < end]
    assert_same(report, expected(in_period, DEFINED, interval_s=3600))
    assert report.interval_start.tolist() == ["2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"]


def test_overriding_a_threshold_recomputes_history(warehouse: ClickHouseWarehouse) -> None:
    acme = [r for r in RECORDS if r[0] == "acme"]
    before = queue_intervals(warehouse, tenant="acme", interval_s=86_400)
    strict = {"sales": Thresholds(sl_threshold_s=5, short_abandon_s=2, sl_variant="answered_only")}
    after = queue_intervals(warehouse, tenant="acme", interval_s=86_400, thresholds=strict)
    sales, others = (
        [r for r in acme if r[1].queue_id == "sales"],
        [r for r in acme if r[1].queue_id != "sales"],
    )
    want_sales = expected(sales, {("acme", "sales"): (5, 2)}, 86_400, "answered_only")
    want = pd.concat([want_sales, expected(others, DEFINED, 86_400)], ignore_index=True)
    assert_same(after, want.sort_values(["tenant", "queue_id", "interval_start"]).reset_index(drop=True))
    b, a = _by_queue(before), _by_queue(after)
    assert a["sales"]["answered_in_sl"] < b["sales"]["answered_in_sl"]
    assert a["sales"]["short_abandoned"] < b["sales"]["short_abandoned"]
    assert a["support"] == b["support"]  # other queues keep their definitions


def test_a_wildcard_overrides_every_queue_not_named(warehouse: ClickHouseWarehouse) -> None:
    acme = [r for r in RECORDS if r[0] == "acme"]
    support = [r for r in acme if r[1].queue_id == "support"]
    others = [r for r in acme if r[1].queue_id != "support"]
    strict = {ALL_QUEUES: Thresholds(5, 2, "abandons_for"), "support": Thresholds(60, 10)}
    report = queue_intervals(warehouse, tenant="acme", interval_s=3600, thresholds=strict)
    wildcard = {("acme", "sales"): (5, 2), ("acme", "billing"): (5, 2)}
    want = pd.concat([expected(others, wildcard, 3600, "abandons_for"), expected(support, DEFINED, 3600)])
    assert_same(report, want.sort_values(["tenant", "queue_id", "interval_start"]).reset_index(drop=True))


def test_a_new_queue_definition_recomputes_history(warehouse: ClickHouseWarehouse) -> None:
    mine = [("initech", replace(r, contact_id=f"i-{r.contact_id}")) for t, r in RECORDS if t == "acme"]
    sink = WarehouseSink(warehouse)
    sink.write(_messages(list(_legs(mine)), "cc.contact-legs", 10_000))
    assert_same(queue_intervals(warehouse, tenant="initech"), expected(mine, {}))
    redefined = QueueDefined("sales", "Sales", 45, 8, 15, 30, "longest_idle", 2)
    sink.write(_messages([("initech", redefined)], "cc.config-events", 10_000))
    assert_same(queue_intervals(warehouse, tenant="initech"), expected(mine, {("initech", "sales"): (45, 8)}))


def test_every_row_conserves_contacts(warehouse: ClickHouseWarehouse) -> None:
    report = queue_intervals(warehouse)
    resolved = report.answered + report.abandoned + report.overflowed + report.timed_out + report.callback
    assert (report.offered == resolved).all() and (report.waiting == 0).all()


def test_no_contacts_is_an_empty_frame_with_the_columns(warehouse: ClickHouseWarehouse) -> None:
    report = queue_intervals(warehouse, tenant="nobody")
    assert report.empty and list(report.columns) == list(COLUMNS)


# --- rendering --------------------------------------------------------------------------


def test_render_formats(warehouse: ClickHouseWarehouse) -> None:
    report = queue_intervals(warehouse, tenant="acme", start=T0 + 5 * 60_000, end=T0 + 5 * 60_000 + 1)
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert rows[0] == list(COLUMNS) and len(rows) == 4
    support = next(r for r in rows if r[1] == "support")
    assert support[COLUMNS.index("service_level")] == ""  # no data is empty, not 0 or "None"
    lines = render(report, "jsonl").splitlines()
    assert len(lines) == 3 and all(isinstance(json.loads(line), dict) for line in lines)
    records = json.loads(render(report, "json"))
    assert next(r for r in records if r["queue_id"] == "support")["service_level"] is None
    assert next(r for r in records if r["queue_id"] == "sales")["offered"] == 7
    table = render(report, "table").splitlines()
    assert table[0].split()[:3] == ["tenant", "queue_id", "interval_start"] and len(table) == 5
    assert render(report.iloc[0:0], "csv") == ",".join(COLUMNS) + "\n"
    assert json.loads(render(pd.DataFrame({"x": [np.int64(1), None]}), "json")) == [{"x": 1}, {"x": None}]
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "xml")


# --- the 15-minute tallies and the legs ------------------------------------------------


def test_the_materialized_view_projects_a_leg_as_the_report_does() -> None:
    """One projection of a leg into a Tally: the view's SELECT list is LEG_TALLY, word for word."""
    from analytics.migrations import load

    sql = next(m.sql for m in load() if m.name == "queue_legs")
    view = sql[sql.index("CREATE MATERIALIZED VIEW") :]
    projection = view[
        view.index("AS interval_start,") + len("AS interval_start,") : view.index("FROM contact_legs")
    ]
    assert projection.split() == LEG_TALLY.split()


def test_tallies_and_legs_give_the_same_report(warehouse: ClickHouseWarehouse) -> None:
    """Unaligned bounds and intervals that split a quarter hour read the legs; aligned ones
    the view's tallies: the same numbers."""
    from_tallies = queue_intervals(warehouse, start=T0, end=T0 + 3 * HOUR, interval_s=1800)
    from_legs = queue_intervals(warehouse, start=T0 - 1, end=T0 + 3 * HOUR + 1, interval_s=1800)
    pd.testing.assert_frame_equal(from_tallies, from_legs)
    acme = [r for r in RECORDS if r[0] == "acme"]
    assert_same(queue_intervals(warehouse, tenant="acme", interval_s=600), expected(acme, DEFINED, 600))
    stored = warehouse.query_rows("SELECT sum(entered) FROM queue_interval_tallies")[0][0]
    assert stored == warehouse.query_rows("SELECT count() FROM contact_legs FINAL")[0][0]  # each leg once


def test_an_overflowed_contact_is_offered_in_both_queues(warehouse: ClickHouseWarehouse) -> None:
    """METRICS.md: overflowed is counted as offered in both queues, its outcome in the last."""
    first = _cdr("o1", "sales", T0, "answered", 50_000, talk_ms=30_000, wrap_up_ms=1_000)
    legs = [
        ("umbrella", replace(leg_of(first), outcome="overflowed", wait_ms=30_000, agent_id="", talk_ms=0,
                             wrap_up_ms=0, to_queue="support")),
        ("umbrella", replace(leg_of(first), leg=2, queue_id="support", queued_at=T0 + 30_000)),
    ]  # fmt: skip
    WarehouseSink(warehouse).write(_messages(list(legs), "cc.contact-legs", 20_000))
    rows = _by_queue(queue_intervals(warehouse, tenant="umbrella"))
    assert {q: (r["offered"], r["overflowed"], r["answered"]) for q, r in rows.items()} == {
        "sales": (1, 1, 0),
        "support": (1, 0, 1),
    }
    assert rows["support"]["asa_s"] == 50.0  # the caller's whole wait, kept across the overflow
