"""Tickets in the warehouse on real chDB: the sink writes `ticket_events` (and survey answers
with their ticket) replay-safely, the `tickets` view folds them like the decider, and the
ticket reports equal an independent pandas computation over the same events."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import open_warehouse
from analytics.dq import DqResult, check
from analytics.migrations import load
from analytics.reports import REPORTS
from analytics.sink import WarehouseSink
from analytics.warehouse import ClickHouseWarehouse
from processors.tickets import PRIORITIES, TicketState, tickets_processor
from schemas.commands import Tick
from schemas.customers import CustomerDefined
from schemas.envelope import Envelope, Message
from schemas.ivr import SurveyAnswered
from schemas.system import CommandRejected
from schemas.ticket_commands import (
    AssignTicket,
    CloseTicket,
    CommentOnTicket,
    CreateTicket,
    EscalateTicket,
    ReopenTicket,
    ResolveTicket,
    StartTicket,
    WaitOnCustomer,
)
from schemas.tickets import CustomerNotificationRequested, TicketCreated, TicketStatusChanged
from streams.ports import Record

T0 = 1_767_600_000_000  # 2026-01-05T08:00:00Z
MIN = 60_000
H = 3_600_000
TENANTS = ("acme", "beta")
OPEN = ("new", "assigned", "in_progress", "waiting_on_customer")


@dataclass
class Data:
    warehouse: ClickHouseWarehouse
    batch: list[tuple[Record, Message[Any]]]
    events: pd.DataFrame
    states: dict[str, TicketState]
    end: int


def _lifecycle(rng: random.Random, tid: str, at: int) -> list[tuple[int, object]]:
    """One ticket's commands at their times: a random path through the workflow (with
    detours, reopens, escalations and some commands illegal in the status reached)."""
    via = rng.choice(["", "", "sms", "email"])
    category, priority = rng.choice(["network", "billing"]), rng.choice(PRIORITIES)
    plan: list[object] = [
        CreateTicket(tid, "t", "", category, priority, rng.choice(["tech", "office"]), "cu1", f"c-{tid}", via)
    ]
    for command, chance in (
        (AssignTicket(tid, rng.choice(["a1", "a2"])), 0.9), (StartTicket(tid), 0.85),
        (WaitOnCustomer(tid, "?"), 0.3), (StartTicket(tid), 0.9),
        (CommentOnTicket(tid, "n1", "a1", "x"), 0.5),
        (EscalateTicket(tid, "angry"), 0.1), (ResolveTicket(tid, "done"), 0.8), (CloseTicket(tid), 0.5),
        (ReopenTicket(tid, "again"), 0.15), (StartTicket(tid), 0.5), (ResolveTicket(tid, "done"), 0.8),
    ):  # fmt: skip
        if rng.random() < chance:
            plan.append(command)
    out = []
    for command in plan:
        out.append((at, command))
        at += rng.choice([1, 5, 30, 120, 600, 2000]) * MIN // rng.randint(1, 4)
    return out


def _simulate(seed: int = 7) -> tuple[list[tuple[Record, Message[Any]]], dict[str, TicketState]]:
    """Random ticket traffic through the real decider, per tenant, with hourly ticks."""
    rng = random.Random(seed)
    batch: list[tuple[Record, Message[Any]]] = []
    states: dict[str, TicketState] = {}
    for partition, tenant in enumerate(TENANTS):
        p = tickets_processor()
        state = p.initial_state()
        profile = CustomerDefined("cu1", ("A",), ("+4930123456",), ("a@example.com",), False, "de", "", (), 1)
        state, _ = p.process(state, Message(Envelope(f"{tenant}-cust", tenant, T0, "cu1"), profile))
        timed = [
            c
            for k in range(120)
            for c in _lifecycle(rng, f"{tenant}-k{k}", T0 + rng.randrange(300 * H) + MIN)
        ]
        last = max(at for at, _c in timed)
        timed += [(T0 + h * H, Tick()) for h in range(1, last // H - T0 // H + 2)]
        offset = 0
        for n, (at, body) in enumerate(sorted(timed, key=lambda c: (c[0], isinstance(c[1], Tick)))):
            env = Envelope(f"{tenant}-m{n}", tenant, at, tenant)
            state, outs = p.process(state, Message(env, body))
            for out in outs:
                if not isinstance(out.body, CommandRejected):
                    batch.append((Record("cc.ticket-events", partition, offset, tenant.encode(), b""), out))
                    offset += 1
        states[tenant] = state
    return batch, states


def _frame(batch: list[tuple[Record, Message[Any]]]) -> pd.DataFrame:
    rows = []
    for record, m in batch:
        body = m.body
        fields = asdict(body) if not isinstance(body, CustomerNotificationRequested) else {}
        rows.append(
            {"tenant": m.envelope.tenant, "type": type(body).__name__, "at": m.envelope.occurred_at,
             "offset": record.offset, **fields}
        )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    batch, states = _simulate()
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('tickets')}") as wh:
        sink = WarehouseSink(wh)
        for i in range(0, len(batch), 500):
            sink.write(batch[i : i + 500])
        end = max(m.envelope.occurred_at for _r, m in batch) + 1
        yield Data(wh, batch, _frame(batch), states, end)  # type: ignore[arg-type]


def _rows(wh: ClickHouseWarehouse, table: str) -> list[tuple[Any, ...]]:
    return sorted(wh.query_rows(f"SELECT * FROM {table} FINAL"), key=repr)


# --- the migration and the sink ---------------------------------------------------------


def test_migration_0008_adds_the_ticket_table_view_and_the_survey_ticket() -> None:
    (m,) = [m for m in load() if m.version == 8]
    assert m.name == "tickets" and len(m.statements()) == 3


def test_every_ticket_event_but_definitions_and_notifications_has_a_row(data: Data) -> None:
    assert "cc.ticket-events" in WarehouseSink.inputs
    typed = data.events[~data.events.type.isin(["CustomerNotificationRequested", "TicketSlaDefined"])]
    assert len(_rows(data.warehouse, "ticket_events")) == len(typed) > 1000
    raw = data.warehouse.query_rows("SELECT count() FROM raw_events FINAL WHERE topic = 'cc.ticket-events'")
    assert raw[0][0] == len(data.batch)


def test_replaying_the_same_events_changes_no_row(data: Data) -> None:
    before = {t: _rows(data.warehouse, t) for t in ("ticket_events", "tickets", "raw_events")}
    sink = WarehouseSink(data.warehouse)
    sink.write(data.batch[:700])  # a crash replays a batch, then everything again
    sink.write(data.batch)
    assert {t: _rows(data.warehouse, t) for t in before} == before


def test_the_notification_address_never_reaches_the_warehouse(data: Data) -> None:
    notes = [m.body for _r, m in data.batch if isinstance(m.body, CustomerNotificationRequested)]
    assert notes and {n.to for n in notes} == {"+4930123456", "a@example.com"}
    stored = data.warehouse.query_rows(
        "SELECT count() FROM raw_events FINAL WHERE type = 'CustomerNotificationRequested' "
        "AND (position(payload, '+4930123456') > 0 OR position(payload, 'a@example.com') > 0)"
    )
    assert stored[0][0] == 0


def test_the_tickets_view_folds_like_the_decider(data: Data) -> None:
    rows = data.warehouse.query_rows(
        "SELECT tenant, ticket_id, status, assignee, escalation_level, "
        "response_breached + 2 * resolution_breached, category, department, contact_id FROM tickets"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = {}
    for tenant, state in data.states.items():
        for tid, t in state.tenant(tenant).tickets.items():
            kinds = ("response" in t.breached) + 2 * ("resolution" in t.breached)
            want[(tenant, tid)] = (
                t.status,
                t.assignee,
                t.level,
                kinds,
                t.category,
                t.department,
                t.contact_id,
            )
    assert got == want and len(want) > 150


def test_survey_answers_keep_their_ticket(data: Data) -> None:
    wh = data.warehouse
    bodies = [SurveyAnswered("c-acme-k0", "f", "csat", 5, "acme-k0"), SurveyAnswered("c9", "f", "csat", 1)]
    answers: list[tuple[Record, Message[Any]]] = [
        (
            Record("cc.ivr-events", 0, i, b"acme", b""),
            Message(Envelope(f"s-{i}", "acme", T0 + H, b.contact_id), b),
        )
        for i, b in enumerate(bodies)
    ]
    WarehouseSink(wh).write(answers)
    WarehouseSink(wh).write(answers)
    rows = wh.query_rows(
        "SELECT contact_id, ticket_id FROM surveys FINAL WHERE tenant = 'acme' ORDER BY contact_id"
    )
    assert rows == [("c-acme-k0", "acme-k0"), ("c9", "")]
    category = data.events[
        (data.events.ticket_id == "acme-k0") & (data.events.type == "TicketCreated")
    ].category.iloc[0]
    report = REPORTS["csat-tickets"].run(wh, tenant="acme")
    assert report[["ticket_category", "responses", "avg_score"]].values.tolist() == [
        ["", 1, 1.0],
        [category, 1, 5.0],
    ]
    assert report.csat.tolist() == [0.0, 1.0]


# --- reports against pandas -------------------------------------------------------------


def _fold(ev: pd.DataFrame, end: int) -> pd.DataFrame:
    """Each ticket's state from its events before `end`, in pandas."""
    ev = ev[ev["at"] < end].sort_values(["tenant", "offset"])
    created = ev[ev.type == "TicketCreated"][["tenant", "ticket_id", "at", "priority", "department"]]
    created = created.rename(columns={"at": "created_ms"})
    moves = ev[ev.type == "TicketStatusChanged"]
    status = moves.groupby(["tenant", "ticket_id"]).to_status.last().rename("status")
    first = moves[moves.to_status == "resolved"].groupby(["tenant", "ticket_id"]).first()
    first = first[["at", "resolve_due_at"]].rename(columns={"at": "resolved_ms", "resolve_due_at": "due_ms"})
    breaches = ev[ev.type == "TicketSlaBreached"]
    out = created.set_index(["tenant", "ticket_id"]).join(status).join(first)
    out["status"] = out.status.fillna("new")
    for which in ("response", "resolution"):
        hit = breaches[breaches.which == which].set_index(["tenant", "ticket_id"]).index
        out[f"{which}_breached"] = out.index.isin(hit)
    return out.reset_index()


def _expected_backlog(ev: pd.DataFrame, end: int, as_of: int | None = None) -> pd.DataFrame:
    s = _fold(ev, end)
    s = s[s.status.isin(OPEN)].assign(age_h=lambda d: ((end if as_of is None else as_of) - d.created_ms) / H)
    g = s.groupby(["tenant", "department", "priority", "status"])
    return pd.DataFrame(
        {"open": g.size(), "resolution_breached": g.resolution_breached.sum(),
         "mean_age_h": g.age_h.mean(), "max_age_h": g.age_h.max()}
    ).reset_index()  # fmt: skip


def _expected_sla(ev: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    s = _fold(ev, end)
    s = s[(s.created_ms >= start) & (s.created_ms < end)]
    s = s.assign(
        resolved=s.resolved_ms.notna(),
        in_sla=s.resolved_ms.notna() & ((s.due_ms == 0) | (s.resolved_ms <= s.due_ms)),
        hours=(s.resolved_ms - s.created_ms) / H,
    )
    g = s.groupby(["tenant", "priority", "department"])
    out = pd.DataFrame(
        {"created": g.size(), "resolved": g.resolved.sum(), "resolved_in_sla": g.in_sla.sum(),
         "response_breaches": g.response_breached.sum(), "resolution_breaches": g.resolution_breached.sum(),
         "mean_resolve_h": g.hours.mean(), "median_resolve_h": g.hours.median()}
    ).reset_index()  # fmt: skip
    out["resolved_in_sla_pct"] = np.where(
        out.resolved > 0, out.resolved_in_sla / out.resolved.where(out.resolved > 0), np.nan
    )
    return out


def _same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    got = got.sort_values(keys).reset_index(drop=True)
    want = want[list(got.columns)].sort_values(keys).reset_index(drop=True)
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9)


def test_ticket_backlog_equals_pandas_at_the_end_and_mid_way(data: Data) -> None:
    keys = ["tenant", "department", "priority", "status"]
    _same(
        REPORTS["ticket-backlog"].run(data.warehouse),
        _expected_backlog(data.events, data.end, as_of=data.end - 1),
        keys,
    )
    mid = T0 + 120 * H
    _same(REPORTS["ticket-backlog"].run(data.warehouse, end=mid), _expected_backlog(data.events, mid), keys)
    beta = REPORTS["ticket-backlog"].run(data.warehouse, tenant="beta", end=mid)
    assert set(beta.tenant) == {"beta"}


def test_ticket_sla_equals_pandas_for_all_and_for_a_period(data: Data) -> None:
    keys = ["tenant", "priority", "department"]
    report = REPORTS["ticket-sla"].run(data.warehouse)
    _same(report, _expected_sla(data.events, -(2**62), 2**62), keys)
    assert report.resolved.sum() > 50 and report.resolution_breaches.sum() > 0
    assert 0 < report.resolved_in_sla.sum() < report.resolved.sum()
    start, end = T0 + 48 * H, T0 + 200 * H
    _same(
        REPORTS["ticket-sla"].run(data.warehouse, start=start, end=end),
        _expected_sla(data.events, start, end),
        keys,
    )


def test_no_tickets_is_an_empty_frame_with_the_columns(data: Data) -> None:
    for name in ("ticket-backlog", "ticket-sla", "csat-tickets"):
        full = REPORTS[name].run(data.warehouse)
        empty = REPORTS[name].run(data.warehouse, tenant="nobody")
        assert empty.empty and list(empty.columns) == list(full.columns), name


# --- data quality -----------------------------------------------------------------------


def _ticket_results(results: list[DqResult]) -> dict[str, DqResult]:
    return {r.column: r for r in results if r.dataset == "tickets"}


def test_dq_passes_the_simulated_tickets_and_names_broken_ones(data: Data) -> None:
    good = _ticket_results(check(data.warehouse))
    assert set(good) == {"created", "status", "times_in_order"} and all(r.success for r in good.values())
    assert good["status"].checked > 150
    at = T0 + 10 * H
    bodies = [
        TicketCreated("k1", "t", "", "network", "P2", "tech", "", "", 0, 0),
        TicketStatusChanged("k1", "new", "exploded", "", 0),  # not a workflow status
        TicketStatusChanged("orphan", "in_progress", "resolved", "", 0),  # never created
    ]
    batch: list[tuple[Record, Message[Any]]] = [
        (Record("cc.ticket-events", 5, i, b"dq", b""), Message(Envelope(f"d{i}", "dq", at, "x"), b))
        for i, b in enumerate(bodies)
    ]
    try:
        WarehouseSink(data.warehouse).write(batch)
        bad = _ticket_results(check(data.warehouse))
    finally:  # one chDB directory per process: undo the damage in the shared warehouse
        for table in ("ticket_events", "raw_events"):
            data.warehouse.command(
                f"ALTER TABLE {table} DELETE WHERE tenant = 'dq' SETTINGS mutations_sync = 1"
            )
    assert {c for c, r in bad.items() if not r.success} == {"created", "status"}
    assert bad["status"].sample == ["exploded"] and bad["created"].unexpected == 1
    assert all(r.success for r in _ticket_results(check(data.warehouse)).values())
