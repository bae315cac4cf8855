"""`GET /v1/trunks/live` over the embedded log: switch facts and IVR events appended as the
AMI edge and the IVR engine would, folded by the `trunks` runner, served by the API.

The facts come from a public recording, `goami2/call_dial_answer_hangup.ami` (one call
dialled, answered and hung up; github.com/staskobzar/goami2, MIT licence,
../shared/data/ami/goami2/LICENSE.goami2.txt), cut just after the call was bridged.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.live import LiveView
from ccx.bootstrap import open_pipeline
from ccx.settings import Settings, parse_capacity
from schemas import telephony as t
from schemas.envelope import Envelope, Message
from schemas.ivr import IvrStarted
from schemas.system import DeadLetter
from telephony.ami.adapter import AmiAdapter
from telephony.ami.frames import Frame, read_recording

AMI = Path(__file__).resolve().parents[3] / "shared/data/ami"


def get(app: FastAPI, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ccx") as client:
            return await client.get(path)

    return asyncio.run(call())


def facts_until_bridged(tenant: str) -> list[Message[Any]]:
    _, items = read_recording((AMI / "goami2/call_dial_answer_hangup.ami").read_bytes())
    adapter = AmiAdapter(tenant)
    out: list[Message[Any]] = []
    for item in items:
        if isinstance(item, Frame):
            out += [m for m in adapter.feed_event(item.headers) if not isinstance(m.body, DeadLetter)]
            if any(isinstance(m.body, t.CallBridged) for m in out):
                return out
    raise AssertionError("the recording bridges its call")


def test_without_a_trunk_monitor_the_route_says_so() -> None:
    r = get(create_app(LiveView(state=lambda: None)), "/v1/trunks/live")
    assert r.status_code == 503 and "trunk monitor" in r.json()["detail"]


def test_the_live_trunks_of_an_embedded_log(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, tenant="acme", trunk_capacity=(("SIP/okon.ferry.sip.com", 2),))
    pipeline = open_pipeline(settings, with_warehouse=False, runners=("trunks",))
    try:
        ivr = Message(Envelope("ivr-1", "acme", 5, "k1"), IvrStarted("k1", "main", 1))
        messages = [*facts_until_bridged("acme"), ivr]
        pipeline.log.append([pipeline.serde.out(m) for m in messages])
        assert pipeline.run_until_idle() == len(messages)
        app = create_app(LiveView(state=lambda: None, tenant="acme"))
        runner = pipeline.runners["trunks"]
        app.state.trunks = (lambda: runner.state, "acme", dict(settings.trunk_capacity))
        r = get(app, "/v1/trunks/live")
    finally:
        pipeline.close()
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["tenant"] == "acme" and doc["as_of"] > 0 and doc["channels_in_use"] == 2
    rows = {row["trunk"]: row for row in doc["trunks"]}
    assert {k: (v["in_use"], v["up"], v["peak_today"]) for k, v in rows.items()} == {
        "SIP/9170-12": (1, 1, 1),
        "SIP/okon.ferry.sip.com": (1, 1, 1),
    }
    carrier = rows["SIP/okon.ferry.sip.com"]
    assert (carrier["capacity"], carrier["free"], carrier["utilization"]) == (2, 1, 0.5)
    # Erlang B(1 E, 2 channels) = 0.2: one channel busy all day on two would block 1 call in 5
    assert carrier["blocking_now"] == pytest.approx(0.2, abs=1e-4) and carrier["hint"] == "tight"
    assert carrier["channels_for_peak"] == 5  # 1 Erlang at P.01
    assert "capacity" not in rows["SIP/9170-12"]
    assert doc["ivr"]["ports_busy"] == 1 and doc["ivr"]["by_flow"] == [{"flow_id": "main", "busy": 1}]


def test_trunk_capacity_is_read_as_trunk_equals_channels() -> None:
    assert parse_capacity("PJSIP/carrier=30, PJSIP/backup=10,") == (
        ("PJSIP/carrier", 30),
        ("PJSIP/backup", 10),
    )
    assert parse_capacity("") == ()
    with pytest.raises(ValueError, match="'PJSIP/carrier' is not TRUNK=CHANNELS"):
        parse_capacity("PJSIP/carrier")
