"""The `/v1` command round trip against a real pipeline: the embedded log, the ACD running
in its own thread, the gateway following its outputs. Each endpoint answers with the
events the command caused (200), the ACD's rejection (409), invalid input (422), and
refuses tokens that may not ask (401/403); every event records who asked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams import topics
from streams.tail import read_all
from tests.helpers.api_pipeline import Api, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as a:
        yield a


def _types(doc: dict[str, Any]) -> list[str]:
    return [e["type"] for e in doc["events"]]


def test_an_agents_day_round_trips_through_the_acd(api: Api) -> None:
    r = api.call("POST", "/v1/agents/a1/login", "a1")
    assert r.status_code == 200, r.text
    assert "AgentStateChanged" in _types(r.json())
    assert all(e["actor"] == "agent:a1" for e in r.json()["events"])

    r = api.call("POST", "/v1/agents/a1/ready", "a1")
    assert r.status_code == 200
    changed = [e for e in r.json()["events"] if e["type"] == "AgentStateChanged"]
    assert changed[-1]["body"]["state"] == "available"

    api.route("k1")
    doc = api.wait_for("a1", lambda d: any(c["phase"] == "offered" for c in d["contacts"]), "a1")
    assert doc["contacts"][0]["contact_id"] == "k1"
    assert doc["contacts"][0]["ani"] == "+4930123456"

    r = api.call("POST", "/v1/agents/a1/contacts/k1/accept", "a1")
    assert r.status_code == 200, r.text
    assert "ContactConnected" in _types(r.json())
    assert (
        api.call("POST", "/v1/agents/a1/contacts/k1/hold", "a1").json()["events"][0]["type"] == "ContactHeld"
    )
    assert (
        api.call("POST", "/v1/agents/a1/contacts/k1/resume", "a1").json()["events"][0]["type"]
        == "ContactResumed"
    )
    r = api.call("POST", "/v1/agents/a1/contacts/k1/hangup", "a1")
    assert r.status_code == 200
    assert "ContactEnded" in _types(r.json())
    r = api.call(
        "POST",
        "/v1/agents/a1/contacts/k1/wrap-up",
        "a1",
        {
            "disposition": "resolved",
            "notes": "reset password",
            "next_state": "not_ready",
            "not_ready_reason": "break",
        },
    )
    assert r.status_code == 200, r.text
    assert "WrapUpCompleted" in _types(r.json())
    assert api.wait_for("a1", lambda d: d["state"] == "not_ready")["reason"] == "break"

    # Every command the API appended names its actor, and so does every event it caused.
    commands = [m for _r, m in read_all(api.pipeline.log, api.pipeline.serde, [topics.COMMANDS.name])]
    mine = [m for m in commands if m.envelope.actor == "agent:a1"]
    assert [m.type for m in mine] == [
        "LogInAgent",
        "SetAgentReady",
        "AcceptOffer",
        "HoldContact",
        "ResumeContact",
        "HangUpContact",
        "CompleteWrapUp",
    ]


def test_state_conflicts_are_409_with_the_acds_code_and_reason(api: Api) -> None:
    r = api.call("POST", "/v1/agents/a1/ready", "a1")  # not logged in
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert detail["code"] and detail["reason"] and detail["command_id"]

    api.call("POST", "/v1/agents/a1/login", "a1")
    r = api.call("POST", "/v1/agents/a1/contacts/nope/accept", "a1")
    assert r.status_code in (409, 422), r.text
    assert "nope" in r.text

    r = api.call("POST", "/v1/agents/a1/logout", "a1")
    assert r.status_code == 200
    r = api.call("POST", "/v1/agents/a1/logout", "a1")
    assert r.status_code == 409


def test_invalid_input_is_422_naming_the_field(api: Api) -> None:
    r = api.call("POST", "/v1/agents/a1/not-ready", "a1", {})
    assert r.status_code == 422
    assert "reason" in r.text
    r = api.call("POST", "/v1/agents/a1/not-ready", "a1", {"reason": "break", "colour": "red"})
    assert r.status_code == 422 and "colour" in r.text
    r = api.call("PUT", "/v1/config/queues/q9", "admin", {"name": "X", "strategy": "coin_toss"})
    assert r.status_code == 422, r.text
    assert "coin_toss" in r.text  # the ACD's reason, from the dead letter of the command
    r = api.call("PUT", "/v1/config/agents/a9", "admin", {"name": "X", "queues": ["no-such-queue"]})
    assert r.status_code == 422 and "no-such-queue" in r.text
    r = api.call("PUT", "/v1/config/queues/q9", "admin", {"name": "X", "sl_threshold_s": "soon"})
    assert r.status_code == 422 and "sl_threshold_s" in r.text
    r = api.call(
        "POST", "/v1/agents/a1/contacts/k1/wrap-up", "a1", {"disposition": "ok", "next_state": "not_ready"}
    )
    assert r.status_code == 422 and "not_ready_reason" in r.text
    # Nothing was lost: the refused commands are in the dead-letter topic with the reason.
    letters = [m.body for _r, m in read_all(api.pipeline.log, api.pipeline.serde, [topics.DEAD_LETTER.name])]
    assert any("coin_toss" in d.reason for d in letters)


def test_who_may_do_what(api: Api) -> None:
    assert api.call("POST", "/v1/agents/a1/login", "").status_code == 401
    bad = api.client.post("/v1/agents/a1/login", headers={"Authorization": "Bearer ccx_forged"})
    assert bad.status_code == 401
    r = api.call("POST", "/v1/agents/a2/login", "a1")  # agents act only on themselves
    assert r.status_code == 403 and "only on itself" in r.text
    assert api.call("POST", "/v1/agents/a1/login", "analyst").status_code == 403
    assert api.call("PUT", "/v1/config/skills/s1", "a1", {"name": "French"}).status_code == 403
    assert api.call("PUT", "/v1/config/skills/s1", "sup", {"name": "French"}).status_code == 403
    assert api.call("PUT", "/v1/config/skills/s1", "admin", {"name": "French"}).status_code == 200
    # Supervisors act on their team only.
    assert api.call("POST", "/v1/agents/a1/login", "a1").status_code == 200
    assert api.call("POST", "/v1/agents/a2/login", "a2").status_code == 200
    r = api.call("POST", "/v1/supervisor/agents/a1/force-ready", "sup")
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["actor"] == "supervisor:sue"
    r = api.call("POST", "/v1/supervisor/agents/a2/force-ready", "sup")
    assert r.status_code == 403 and "t2" in r.text
    assert api.call("POST", "/v1/supervisor/agents/a1/force-ready", "a1").status_code == 403
    r = api.call("POST", "/v1/supervisor/agents/a1/force-not-ready", "sup", {"reason": "meeting"})
    assert r.status_code == 200
    r = api.call("POST", "/v1/supervisor/agents/a1/force-logout", "sup")
    assert r.status_code == 200
    # Tenants are isolated: another tenant's admin sees none of this tenant's agents.
    r = api.call("GET", "/v1/agents/a1/live", "other-tenant")
    assert r.status_code == 404
    assert api.call("GET", "/v1/queues/live", "other-tenant").status_code == 403
    assert api.call("GET", "/v1/agents/live", "other-tenant").json()["agents"] == []


def test_queries(api: Api) -> None:
    me = api.call("GET", "/v1/me", "sup").json()
    assert me == {"subject": "sue", "role": "supervisor", "tenant": "demo", "agent_id": "", "teams": ["t1"]}
    config = api.call("GET", "/v1/config", "analyst").json()
    assert [q["queue_id"] for q in config["queues"]] == ["q1", "q2"]
    assert {a["agent_id"]: a["team"] for a in config["agents"]} == {"a1": "t1", "a2": "t2"}
    board = api.call("GET", "/v1/agents/live", "analyst").json()
    assert [a["state"] for a in board["agents"]] == ["logged_out", "logged_out"]
    assert api.call("GET", "/v1/agents/zz/live", "admin").status_code == 404
    assert api.call("GET", "/v1/agents/a2/live", "a1").status_code == 403


def test_the_agent_stream_pushes_its_own_state(api: Api) -> None:
    with api.client.websocket_connect(f"/v1/stream/agent/a1?token={api.tokens['a1']}") as ws:
        first = ws.receive_json()
        assert first["agent_id"] == "a1" and first["state"] == "logged_out"
        api.call("POST", "/v1/agents/a1/login", "a1")
        for _ in range(50):
            doc = ws.receive_json()
            if doc["state"] == "not_ready":
                break
        assert doc["state"] == "not_ready" and doc["reason"] == "login"


def test_the_agent_stream_refuses_others(api: Api) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as e,
        api.client.websocket_connect(f"/v1/stream/agent/a2?token={api.tokens['a1']}") as ws,
    ):
        ws.receive_json()
    assert e.value.code == 4403
    with pytest.raises(WebSocketDisconnect) as e, api.client.websocket_connect("/v1/stream/wallboard") as ws:
        ws.receive_json()
    assert e.value.code == 4401


def _offered_to(api: Api, contact_id: str) -> str:
    for _ in range(500):
        for agent in api.call("GET", "/v1/agents/live", "admin").json()["agents"]:
            if any(c["contact_id"] == contact_id and c["phase"] == "offered" for c in agent["contacts"]):
                return str(agent["agent_id"])
        time.sleep(0.01)
    raise AssertionError(f"{contact_id} was never offered")


def _ready(api: Api, *agents: str) -> None:
    for agent_id in agents:
        assert api.call("POST", f"/v1/agents/{agent_id}/login", agent_id).status_code == 200
        assert api.call("POST", f"/v1/agents/{agent_id}/ready", agent_id).status_code == 200


def test_blind_transfer_and_consult_conference(api: Api) -> None:
    _ready(api, "a1", "a2")
    api.route("k1")
    first = _offered_to(api, "k1")
    other = "a2" if first == "a1" else "a1"
    assert api.call("POST", f"/v1/agents/{first}/contacts/k1/accept", first).status_code == 200
    r = api.call(
        "POST", f"/v1/agents/{first}/contacts/k1/transfer", first, {"to_queue": "q1", "to_agent": "a2"}
    )
    assert r.status_code == 422 and "exactly one" in r.text
    r = api.call("POST", f"/v1/agents/{first}/contacts/k1/transfer", first, {"to_agent": other})
    assert r.status_code == 200, r.text
    assert "ContactTransferred" in _types(r.json())
    assert api.call("POST", f"/v1/agents/{other}/contacts/k1/accept", other).status_code == 200
    # The first agent is in wrap-up for k1; the other has the caller.
    assert api.wait_for(first, lambda d: d["state"] == "wrap_up")["contacts"][0]["contact_id"] == "k1"
    r = api.call("POST", f"/v1/agents/{first}/contacts/k1/wrap-up", first, {"disposition": "transferred"})
    assert r.status_code == 200, r.text
    # Consult back and conference all three.
    assert api.call("POST", f"/v1/agents/{first}/ready", first).status_code in (200, 409)
    r = api.call("POST", f"/v1/agents/{other}/contacts/k1/consult", other, {"to_agent": first})
    assert r.status_code == 200, r.text
    assert "ConsultOffered" in _types(r.json())
    mine = api.wait_for(other, lambda d: d["contacts"] and d["contacts"][0]["phase"] == "consulting")
    assert mine["contacts"][0]["consult_to"] == first and mine["contacts"][0]["role"] == "caller"
    theirs = api.wait_for(first, lambda d: any(c["phase"] == "offered" for c in d["contacts"]))
    assert [c["role"] for c in theirs["contacts"] if c["phase"] == "offered"] == ["consulted"]
    assert api.call("POST", f"/v1/agents/{first}/contacts/k1/accept", first).status_code == 200
    r = api.call("POST", f"/v1/agents/{other}/contacts/k1/conference", other)
    assert r.status_code == 200, r.text
    assert "ConferenceStarted" in _types(r.json())
    for agent_id in (first, other):
        doc = api.wait_for(agent_id, lambda d: any(c["phase"] == "conference" for c in d["contacts"]))
        assert sorted(next(c for c in doc["contacts"] if c["phase"] == "conference")["conference"]) == [
            "a1",
            "a2",
        ]
    # A supervisor of team t1 monitors when the call's agent is in t1 (a1) and is refused otherwise.
    r = api.call("POST", "/v1/supervisor/contacts/k1/monitor", "sup", {"mode": "whisper"})
    holder = api.call("GET", "/v1/agents/live", "admin").json()
    assert r.status_code in (200, 403), r.text
    if r.status_code == 200:
        joined = [e for e in r.json()["events"] if e["type"] == "SupervisorJoined"]
        assert joined and joined[0]["body"]["mode"] == "whisper" and joined[0]["actor"] == "supervisor:sue"
    assert holder["agents"]
    r = api.call("POST", "/v1/supervisor/contacts/k1/monitor", "sup", {"mode": "shout"})
    assert r.status_code == 422 and "mode" in r.text
    r = api.call("POST", f"/v1/agents/{other}/contacts/k1/leave", other)
    assert r.status_code == 200, r.text


def test_move_agent_and_dispositions(api: Api) -> None:
    r = api.call("PUT", "/v1/supervisor/agents/a1/queues", "sup", {"queues": ["q2"]})
    assert r.status_code == 200, r.text
    assert api.call("GET", "/v1/config", "admin").json()["agents"][0]["queues"] == ["q2"]
    r = api.call("PUT", "/v1/supervisor/agents/a1/queues", "sup", {"queues": ["nowhere"]})
    assert r.status_code == 422 and "nowhere" in r.text
    assert api.call("PUT", "/v1/supervisor/agents/a2/queues", "sup", {"queues": ["q2"]}).status_code == 403
    r = api.call("PUT", "/v1/config/dispositions/resolved", "admin", {"name": "Resolved"})
    assert r.status_code == 200, r.text
    assert [d["code"] for d in api.call("GET", "/v1/config", "a1").json()["dispositions"]] == ["resolved"]
    _ready(api, "a1")
    api.route("k2", "q2")
    assert _offered_to(api, "k2") == "a1"
    api.call("POST", "/v1/agents/a1/contacts/k2/accept", "a1")
    api.call("POST", "/v1/agents/a1/contacts/k2/hangup", "a1")
    r = api.call("POST", "/v1/agents/a1/contacts/k2/wrap-up", "a1", {"disposition": "made_up"})
    assert r.status_code == 409 and "resolved" in r.json()["detail"]["reason"]
    assert (
        api.call("POST", "/v1/agents/a1/contacts/k2/wrap-up", "a1", {"disposition": "resolved"}).status_code
        == 200
    )
