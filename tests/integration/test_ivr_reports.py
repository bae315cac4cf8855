"""The IVR reports (`ivr-flows`, `ivr-nodes`) and CSAT against pandas, on events the real
interpreter produced.

Callers walk the example flows (docs/examples/ivr/main.yaml, a bank hotline, and
survey.yaml, a post-call survey) with scripted keypresses through `telephony.ivr.drive`
— the interpreter `ccx ivr run` uses — at different times of day (the hotline closes at
20:00 Berlin time). Their IVR events and survey answers go through the warehouse sink
(twice: a replay must not count twice), with CDRs for some surveyed contacts. The expected
numbers are computed here from the same events, with pandas, from the reports' docstrings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import open_warehouse
from analytics.reports import REPORTS
from analytics.sink import WarehouseSink
from analytics.warehouse import ClickHouseWarehouse
from ccx.ivr import load_flow
from schemas import ivr
from schemas.cdr import ContactRecord
from schemas.envelope import Envelope, Message
from streams.ports import Record
from telephony.ivr.drive import drive
from telephony.ivr.messages import Contact

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_767_607_200_000  # 2026-01-05T10:00:00Z, a Monday: the hotline is open
H = 3_600_000
VIP = '{"customer": {"vip": true, "name": "Ada", "segment": "private"}}'
NOT_VIP = '{"customer": {"vip": false, "name": "Bo", "segment": "retail"}}'
# (keys pressed, lookup answer, hours after T0); 11 h after is 21:00 UTC: closed
SCRIPTS: list[tuple[list[str], str | None, int]] = [
    (["2", "1", "1", *"4111111111111111"], None, 0),  # English, cards, block a card
    (["1", "1", "2"], NOT_VIP, 0),
    (["hangup"], None, 1),
    (["2", "9", "9", "9", "9"], None, 1),  # invalid choices until the menu gives up
    (["2", "2"], NOT_VIP, 2),
    ([], None, 2),  # silence: every node times out
    (["2", "1", "hangup"], None, 3),
    ([], VIP, 3),  # a VIP goes straight to private banking
    (["1", "3", "1"], None, 4),
    (["2", "4"], None, 11),  # after hours: voicemail
    (["2", "3", "2"], NOT_VIP, 5),
    (["1", "0"], None, 6),
]
SURVEY_SCRIPTS = [["5", "4"], ["2", "1"], ["4", "timeout", "timeout"], ["hangup"], ["3", "5"]]
IVR_TYPES = tuple(getattr(ivr, n) for n in ivr.__all__)


def _events() -> list[tuple[str, int, object]]:
    """(tenant, ms, IVR event) of every call, in each contact's order."""
    main, _ = load_flow(ROOT / "docs/examples/ivr/main.yaml")
    survey, _ = load_flow(ROOT / "docs/examples/ivr/survey.yaml")
    out: list[tuple[str, int, object]] = []
    for i, (script, lookup, hours) in enumerate(SCRIPTS * 3):
        tenant = "bank" if i % 3 else "other"
        start = T0 + hours * H + i * 61_000
        contact = Contact(f"c{i}", ani=f"+4930{1000 + i}", dnis="+49800")
        t = drive(main, contact, script, start_ms=start, lookup=lookup)
        out += [(tenant, start + ms, o) for ms, o in t.outputs if isinstance(o, IVR_TYPES)]
    for i, script in enumerate(SURVEY_SCRIPTS * 2):
        start = T0 + 7 * H + i * 97_000
        t = drive(survey, Contact(f"c{i}"), script, start_ms=start)
        out += [("bank", start + ms, o) for ms, o in t.outputs if isinstance(o, IVR_TYPES)]
    return out


EVENTS = _events()


def _cdr(contact_id: str, queue_id: str, agent_id: str) -> ContactRecord:
    return ContactRecord(
        contact_id=contact_id, queue_id=queue_id, channel="voice", ani="", dnis="", priority=0,
        arrived_at=T0, queued_at=T0 + 1, answered_at=T0 + 2, ended_at=T0 + 3, finished_at=T0 + 4,
        outcome="answered", end_party="caller", agent_id=agent_id, offers=1, wait_ms=1, talk_ms=1,
        hold_ms=0, holds=0, wrap_up_ms=1, disposition="",
    )  # fmt: skip


CDRS = [("bank", _cdr(f"c{i}", "cards" if i % 2 else "accounts", f"a{i % 3}")) for i in range(0, 8)]


def _batch() -> list[tuple[Record, Message[Any]]]:
    batch: list[tuple[Record, Message[Any]]] = []
    order = sorted(range(len(EVENTS)), key=lambda k: (EVENTS[k][1], k))  # log order: by time
    for offset, k in enumerate(order):
        tenant, at, body = EVENTS[k]
        env = Envelope(f"ivr-{k}", tenant, at, getattr(body, "contact_id", ""))
        batch.append((Record("cc.ivr-events", 0, offset, tenant.encode(), b""), Message(env, body)))
    for offset, (tenant, cdr) in enumerate(CDRS):
        env = Envelope(f"cdr-{offset}", tenant, T0 + 4, cdr.contact_id)
        batch.append((Record("cc.cdr", 0, offset, cdr.contact_id.encode(), b""), Message(env, cdr)))
    return batch


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{tmp_path_factory.mktemp('ivr')}") as wh:
        sink = WarehouseSink(wh)
        sink.write(_batch())
        sink.write(_batch())  # replayed: counted once
        assert sink.rows_written["surveys"] > 0 and sink.rows_written["ivr_events"] > 300
        yield wh  # type: ignore[misc]


def _frame() -> pd.DataFrame:
    rows = []
    for seq, (tenant, at, body) in enumerate(sorted(EVENTS, key=lambda e: e[1])):
        rows.append({"tenant": tenant, "ms": at, "seq": seq, "type": type(body).__name__, **vars_of(body)})
    return pd.DataFrame(rows)


def vars_of(body: object) -> dict[str, Any]:
    return {k: getattr(body, k) for k in body.__dataclass_fields__}  # type: ignore[attr-defined]


def per(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype(float)


def expected_flows(start: int | None = None, end: int | None = None) -> pd.DataFrame:
    ev = _frame()
    started = ev[ev.type == "IvrStarted"]
    started = started[(started.ms >= (start or 0)) & (started.ms < (end or 2**62))]
    ended = ev[ev.type == "IvrEnded"][["tenant", "contact_id", "flow_id", "result", "ms"]]
    started = started[["tenant", "contact_id", "flow_id", "ms"]]
    s = started.merge(ended, on=["tenant", "contact_id", "flow_id"], how="left", suffixes=("", "_end"))
    s["result"] = s.result.fillna("")
    g = s.groupby(["tenant", "flow_id"])
    out = pd.DataFrame({"sessions": g.size(), "ended": g.result.apply(lambda r: int((r != "").sum()))})
    for result in ("routed", "callback", "voicemail", "completed", "hung_up"):
        out[result] = g.result.apply(lambda r, x=result: int((r == x).sum()))
    out["contained"] = out.voicemail + out.completed + out.hung_up
    out["containment"] = per(out.contained, out.sessions)
    s["secs"] = (s.ms_end - s.ms) / 1000
    out["avg_ivr_s"] = g.apply(lambda d: d.secs[d.result != ""].mean())
    return out.reset_index()


def expected_nodes(start: int | None = None, end: int | None = None) -> pd.DataFrame:
    visits = []
    frame = _frame()
    nodes = frame[frame.type.isin(["IvrNodeEntered", "IvrNodeLeft"])]  # lookups happen in between
    for (_tenant, _contact), d in nodes.groupby(["tenant", "contact_id"]):
        rows = d.sort_values("seq").to_dict("records")
        for i, r in enumerate(rows):
            if r["type"] != "IvrNodeEntered":
                continue
            nxt = rows[i + 1] if i + 1 < len(rows) else None
            left = nxt is not None and nxt["type"] == "IvrNodeLeft" and nxt["node_id"] == r["node_id"]
            visits.append({**r, "exit": nxt["exit"] if left else "", "left": nxt["ms"] if left else None})
    v = pd.DataFrame(visits)
    v = v[(v.ms >= (start or 0)) & (v.ms < (end or 2**62))]
    ev = _frame()
    sessions = ev[(ev.type == "IvrStarted") & (ev.ms >= (start or 0)) & (ev.ms < (end or 2**62))]
    n_sessions = sessions.groupby(["tenant", "flow_id"]).contact_id.nunique()
    rows = []
    for (tenant, flow, node, node_type), d in v.groupby(["tenant", "flow_id", "node_id", "node_type"]):
        exits = d.exit[d.exit != ""].value_counts()
        ordered = sorted(exits.items(), key=lambda kv: (-kv[1], kv[0]))
        left = d[d.exit != ""]
        rows.append(
            {
                "tenant": tenant, "flow_id": flow, "node_id": node, "node_type": node_type,
                "visits": len(d), "contacts": d.contact_id.nunique(),
                "hangups": int((d.exit == "hangup").sum()), "timeouts": int((d.exit == "timeout").sum()),
                "invalid": int((d.exit == "invalid").sum()),
                "exits": " ".join(f"{k}={n}" for k, n in ordered),
                "avg_time_s": ((left.left - left.ms) / 1000).mean() if len(left) else np.nan,
                "reach_rate": d.contact_id.nunique() / n_sessions.get((tenant, flow), np.nan),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)[list(got.columns)]
    assert len(got) == len(want) > 0
    for column in got.columns:
        if got[column].dtype.kind == "f":
            np.testing.assert_allclose(got[column], want[column].astype(float), rtol=1e-9, err_msg=column)
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def test_the_calls_cover_what_the_reports_must_get_right() -> None:
    ev = _frame()
    ended = ev[ev.type == "IvrEnded"]
    assert {"routed", "voicemail", "hung_up", "completed"} <= set(ended.result)
    assert {"digit", "timeout", "invalid", "hangup"} <= set(ev[ev.type == "IvrNodeLeft"].exit)
    assert "***" in set(ev.digits.dropna())  # the card number never reaches the log
    assert (ev.type == "SurveyAnswered").sum() > 10


def test_ivr_flows_equal_pandas(warehouse: ClickHouseWarehouse) -> None:
    report = REPORTS["ivr-flows"].run(warehouse)
    same(report, expected_flows(), ["tenant", "flow_id"])
    bank = report.set_index(["tenant", "flow_id"]).loc[("bank", "bank-main")]
    assert 0 < bank.containment < 1 and bank.sessions == bank.ended


def test_ivr_flows_in_a_period_and_for_a_tenant(warehouse: ClickHouseWarehouse) -> None:
    start, end = T0 + H, T0 + 4 * H
    report = REPORTS["ivr-flows"].run(warehouse, tenant="bank", start=start, end=end)
    want = expected_flows(start, end)
    same(report, want[want.tenant == "bank"], ["tenant", "flow_id"])


def test_ivr_nodes_equal_pandas(warehouse: ClickHouseWarehouse) -> None:
    report = REPORTS["ivr-nodes"].run(warehouse)
    same(report, expected_nodes(), ["tenant", "flow_id", "node_id"])
    nodes = report.set_index(["tenant", "flow_id", "node_id"])
    assert nodes.loc[("other", "bank-main", "main_menu")].invalid > 0  # lost in the menu
    assert nodes.loc[("bank", "bank-main", "language")].hangups > 0  # dropped off there
    assert nodes.loc[("bank", "bank-main", "main_menu")].exits == "digit=15 timeout=3"
    start = report.set_index(["tenant", "flow_id", "node_id"]).loc[("bank", "bank-main", "opening_hours")]
    assert start.reach_rate == 1.0  # every session enters the first node


def test_ivr_nodes_in_a_period(warehouse: ClickHouseWarehouse) -> None:
    start, end = T0 + H, T0 + 4 * H
    same(
        REPORTS["ivr-nodes"].run(warehouse, start=start, end=end),
        expected_nodes(start, end),
        ["tenant", "flow_id", "node_id"],
    )


def test_csat_equals_pandas(warehouse: ClickHouseWarehouse) -> None:
    ev = _frame()
    answers = ev[ev.type == "SurveyAnswered"][["tenant", "contact_id", "question", "score"]]
    cdrs = pd.DataFrame([{"tenant": t, "contact_id": c.contact_id, "queue_id": c.queue_id,
                          "agent_id": c.agent_id} for t, c in CDRS])  # fmt: skip
    a = answers.merge(cdrs, on=["tenant", "contact_id"], how="left").fillna({"queue_id": "", "agent_id": ""})
    g = a.groupby(["tenant", "question", "queue_id", "agent_id"])
    want = pd.DataFrame(
        {
            "responses": g.size(),
            "avg_score": g.score.mean(),
            "csat": g.score.apply(lambda s: (s >= 4).mean()),
            "dissatisfied": g.score.apply(lambda s: int((s <= 2).sum())),
        }
    ).reset_index()
    report = REPORTS["csat"].run(warehouse)
    same(report, want, ["tenant", "question", "queue_id", "agent_id"])
    assert "" in set(report.agent_id) and {"a0", "a1"} <= set(report.agent_id)


def test_no_data_is_an_empty_frame_with_the_columns(warehouse: ClickHouseWarehouse) -> None:
    for name in ("ivr-flows", "ivr-nodes", "csat"):
        frame = REPORTS[name].run(warehouse, tenant="nobody")
        assert frame.empty and len(frame.columns) >= 6
