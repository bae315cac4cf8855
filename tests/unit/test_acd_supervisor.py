"""Supervisor commands in the ACD: moving agents, monitoring, dispositions, teams; and what
the CDR builder and the switchboard make of hand-overs and monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from given import at, given, run
from test_acd_transfers import on_call
from test_switchboard import Harness

from ccx.config_apply import to_document
from ccx.config_file import parse_config
from processors.contacts import ContactRecorder
from processors.live_stats import LiveStats, totals
from schemas import switch_actions as a
from schemas.cdr import ContactRecord
from schemas.commands import (
    AcceptOffer,
    CompleteTransfer,
    CompleteWrapUp,
    ConsultAgent,
    DefineAgent,
    DefineDisposition,
    DefineQueue,
    HangUpContact,
    HoldContact,
    LogInAgent,
    MonitorContact,
    ResumeContact,
    RouteContact,
    SetAgentQueues,
    SetAgentReady,
    StopMonitoring,
    TransferContact,
)
from schemas.config import AgentDefined, AgentQueuesChanged, DispositionDefined
from schemas.contact import ContactOffered, SupervisorJoined, SupervisorLeft, WrapUpCompleted
from schemas.envelope import Message
from schemas.legs import QueueLeg
from schemas.routing import Membership

# --- moving agents ------------------------------------------------------------------------


def test_moving_an_agent_routes_a_waiting_contact_of_its_new_queue_at_once() -> None:
    g = given(
        DefineQueue("q1", "Sales"),
        DefineQueue("q2", "Support"),
        DefineAgent("a1", "A1", ("q1",)),
        LogInAgent("a1"),
        at(1_000),
        SetAgentReady("a1"),
        at(5_000),
        RouteContact("c1", "q2"),
    )
    o = g.when(SetAgentQueues("a1", ("q2",)), at=6_000)
    assert o.events[0] == AgentQueuesChanged("a1", ("q2",), ("q1",))
    offer = o.events[1]
    assert isinstance(offer, ContactOffered) and (offer.queue_id, offer.agent_id) == ("q2", "a1")
    t = o.state.tenant("t1")
    assert t.members.get("q1") is None and t.members["q2"] == ("a1",)


def test_moving_an_agent_keeps_the_tiers_of_queues_still_listed() -> None:
    g = given(
        DefineQueue("q1", "Sales"),
        DefineQueue("q2", "Support"),
        DefineQueue("q3", "Billing"),
        DefineAgent("a1", "A1", ("q3",), memberships=(Membership("q1", tier=2, weight=3),)),
    )
    o = g.when(SetAgentQueues("a1", ("q1", "q2")))
    assert o.events == [AgentQueuesChanged("a1", ("q1", "q2"), ("q3", "q1"))]
    a1 = o.state.tenant("t1").agents["a1"]
    assert dict(a1.memberships) == {"q1": Membership("q1", 2, 3), "q2": Membership("q2")}
    g.when(SetAgentQueues("a1", ("q1", "qx"))).invalid("queues[1]: unknown queue 'qx'")
    g.when(SetAgentQueues("zz", ("q1",))).invalid("unknown agent 'zz'")


# --- monitoring ---------------------------------------------------------------------------


def test_a_supervisor_joins_changes_mode_and_leaves_a_connected_contact() -> None:
    g = given(*on_call())
    g.when(MonitorContact("c1", "sup1", "whisper")).then(SupervisorJoined("c1", "a1", "sup1", "whisper"))
    joined = given(*on_call(MonitorContact("c1", "sup1", "monitor")))
    joined.when(MonitorContact("c1", "sup1", "monitor")).rejected("supervisor_already_monitoring")
    joined.when(MonitorContact("c1", "sup1", "barge")).then(SupervisorJoined("c1", "a1", "sup1", "barge"))
    joined.when(StopMonitoring("c1", "sup1")).then(SupervisorLeft("c1", "sup1"))
    g.when(StopMonitoring("c1", "sup1")).rejected("supervisor_not_monitoring")


def test_monitoring_needs_a_connected_contact_and_a_known_mode() -> None:
    g = given(*on_call(at(13_000), RouteContact("c2", "q1")))
    g.when(MonitorContact("c2", "sup1")).rejected("contact_not_connected")
    g.when(MonitorContact("c9", "sup1")).rejected("contact_not_found")
    g.when(MonitorContact("c1", "sup1", "listen")).invalid("mode must be one of monitor, whisper, barge")
    g.when(MonitorContact("c1", "")).invalid("supervisor_id must not be empty")


def test_supervisors_leave_when_the_caller_hangs_up() -> None:
    o = given(*on_call(MonitorContact("c1", "sup1"))).when(HangUpContact("c1", "caller"))
    assert o.events[0] == SupervisorLeft("c1", "sup1")


# --- dispositions and teams ---------------------------------------------------------------


def wrapping(*extra: object) -> tuple[object, ...]:
    return on_call(*extra, at(20_000), HangUpContact("c1", "caller"))


def test_without_dispositions_any_code_is_accepted() -> None:
    o = given(*wrapping()).when(CompleteWrapUp("c1", "a1", "anything"))
    assert o.events[0] == WrapUpCompleted("c1", "a1", "anything", "")


def test_defined_dispositions_are_enforced_per_queue() -> None:
    defs = (DefineDisposition("sale", "Sale", ("q1",)), DefineDisposition("info", "Info"))
    g = given(*wrapping(*defs))
    err = g.when(CompleteWrapUp("c1", "a1", "other")).rejected("unknown_disposition")
    assert "'other'" in err.reason and "info, sale" in err.reason
    assert g.when(CompleteWrapUp("c1", "a1", "sale")).events[0] == WrapUpCompleted("c1", "a1", "sale", "")
    only_q2 = given(*wrapping(DefineDisposition("refund", "Refund", ("q2",))))
    assert (
        "(none defined"
        in only_q2.when(CompleteWrapUp("c1", "a1", "refund")).rejected("unknown_disposition").reason
    )


def test_define_disposition_is_recorded_and_checked() -> None:
    g = given(DefineQueue("q1", "Sales"))
    g.when(DefineDisposition("sale", "Sale", ("q1",))).then(DispositionDefined("sale", "Sale", ("q1",)))
    g.when(DefineDisposition("", "Sale")).invalid("code must not be empty")
    g.when(DefineDisposition("sale", "Sale", ("q1", "q7"))).invalid("queues[1]: unknown queue 'q7'")


def test_an_agents_team_is_recorded() -> None:
    o = given(DefineQueue("q1", "Sales")).when(DefineAgent("a1", "A1", ("q1",), team="north"))
    [defined] = o.events
    assert isinstance(defined, AgentDefined) and defined.team == "north"
    assert o.state.tenant("t1").agents["a1"].team == "north"


# --- the CDR of a transferred contact -----------------------------------------------------


def cdr_of(*items: object) -> list[Any]:
    recorder = ContactRecorder()
    state = recorder.initial_state()
    out: list[Message[Any]] = []
    for m in run(*items):
        state, emitted = recorder.process(state, m)
        out += emitted
    return [m.body for m in out]


def test_a_transferred_contact_has_one_record_and_a_leg_per_queue_stint() -> None:
    out = cdr_of(
        *on_call(
            at(14_000),
            SetAgentReady("a3"),
            at(20_000),
            HoldContact("c1", "a1"),
            at(22_000),
            ResumeContact("c1", "a1"),
            at(30_000),
            TransferContact("c1", "a1", to_queue="q2"),
            at(33_000),
            AcceptOffer("c1", "a3"),
            at(35_000),
            SetAgentReady("a2"),
            at(40_000),
            ConsultAgent("c1", "a3", "a2"),
            at(41_000),
            AcceptOffer("c1", "a2"),
            at(45_000),
            CompleteTransfer("c1", "a3"),
            at(50_000),
            CompleteWrapUp("c1", "a1", "passed"),
            at(60_000),
            HangUpContact("c1", "caller"),
            at(62_000),
            CompleteWrapUp("c1", "a3", "passed"),
            at(70_000),
            CompleteWrapUp("c1", "a2", "solved"),
        )
    )
    records = [b for b in out if isinstance(b, ContactRecord)]
    legs = [b for b in out if isinstance(b, QueueLeg)]
    assert len(records) == 1 and isinstance(out[-1], ContactRecord)
    r = records[0]
    # connected 12-30 and 33-60 s, held 20-22 and 40-45 s (the consult)
    assert (r.agent_id, r.disposition, r.outcome, r.queue_id) == ("a2", "solved", "answered", "q2")
    assert (r.answered_at, r.ended_at, r.finished_at) == (12_000, 60_000, 70_000)
    assert (r.talk_ms, r.hold_ms, r.holds, r.wait_ms, r.wrap_up_ms) == (38_000, 7_000, 2, 2_000, 10_000)
    assert (r.agents, r.transfers) == (("a1", "a3", "a2"), 2)  # every agent in turn; blind + consult
    assert [(g.leg, g.queue_id, g.outcome, g.agent_id, g.to_queue) for g in legs] == [
        (1, "q1", "answered", "a1", "q2"),
        (2, "q2", "answered", "a3", ""),
    ]
    assert (legs[0].talk_ms, legs[0].hold_ms, legs[0].wrap_up_ms) == (16_000, 2_000, 0)
    assert (legs[0].wait_ms, legs[1].wait_ms) == (2_000, 5_000)  # the caller's wait: 2 s, then 3 s more
    assert (legs[1].talk_ms, legs[1].hold_ms, legs[1].wrap_up_ms, legs[1].queued_at) == (
        22_000,
        5_000,
        10_000,
        30_000,
    )


def test_live_stats_count_each_queue_stint_of_a_transferred_contact_once() -> None:
    stats = LiveStats()
    state = stats.initial_state()
    for m in run(
        *on_call(
            at(14_000),
            SetAgentReady("a3"),
            SetAgentReady("a2"),
            at(20_000),
            ConsultAgent("c1", "a1", "a2"),
            AcceptOffer("c1", "a2"),
            at(25_000),
            CompleteTransfer("c1", "a1"),
            CompleteWrapUp("c1", "a1", "passed"),  # a1 done while the caller talks on with a2
            at(30_000),
            TransferContact("c1", "a2", to_queue="q2"),
            at(33_000),
            AcceptOffer("c1", "a3"),
            at(40_000),
            HangUpContact("c1", "caller"),
            CompleteWrapUp("c1", "a2", "passed"),
            at(45_000),
            CompleteWrapUp("c1", "a3", "ok"),
        )
    ):
        state, _ = stats.process(state, m)
    per_queue = {q["queue_id"]: q for q in totals(state, "t1")["queues"]}
    assert per_queue["q1"]["offered"] == per_queue["q2"]["offered"] == 1
    assert per_queue["q1"]["answered"] == per_queue["q2"]["answered"] == 1
    assert not state.tenants["t1"].contacts  # nothing left in progress


# --- the switchboard: a supervisor joining a switch-routed call ---------------------------


def test_a_supervisor_joining_a_switch_routed_call_spies_on_the_agent_leg() -> None:
    h = Harness()
    h.connected("a1", channel="PJSIP/a1-00000002")
    assert h.feed(SupervisorJoined("100.1", "a1", "sup1", "whisper")) == [
        a.Spy("100.1", "SIP/sup1", "PJSIP/a1-00000002", "whisper")  # the endpoint pattern
    ]
    assert h.feed(SupervisorJoined("100.1", "a9", "sup1", "barge")) == []  # no such agent leg


# --- config files: teams and dispositions round-trip --------------------------------------


def test_config_files_carry_teams_and_dispositions(tmp_path: Path) -> None:
    f = tmp_path / "routing.yaml"
    f.write_text(
        "queues: [{id: q1, name: Sales}]\n"
        "agents: [{id: a1, name: Ann, queues: [q1], team: north}]\n"
        "dispositions: [{code: sale, name: Sale, queues: [q1]}, {code: info, name: Info}]\n"
    )
    _tenant, commands = parse_config(f)
    agent = next(c for c in commands if isinstance(c, DefineAgent))
    assert agent.team == "north"
    assert [c for c in commands if isinstance(c, DefineDisposition)] == [
        DefineDisposition("sale", "Sale", ("q1",)),
        DefineDisposition("info", "Info", ()),
    ]
    config: dict[str, dict[str, Any]] = {k: {} for k in ("skills", "schedules", "queues", "blocked")}
    config["agents"] = {"a1": AgentDefined("a1", "Ann", ("q1",), (Membership("q1"),), team="north")}
    config["dispositions"] = {"sale": DispositionDefined("sale", "Sale", ("q1",))}
    doc = to_document(config, "t1")
    assert doc["agents"][0]["team"] == "north"
    assert doc["dispositions"] == [{"code": "sale", "name": "Sale", "queues": ["q1"]}]
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [{id: q1, name: Sales}]\ndispositions: [{code: x, queues: [q9]}]\n")
    try:
        parse_config(bad)
    except Exception as e:  # ConfigError names the file, line and field
        assert "dispositions[0].queues" in str(e) and "q9" in str(e)
    else:
        raise AssertionError("an unknown queue in a disposition must be refused")
