"""The IVR in front of the queue, live: DTMF from AMI drives a flow, the flow routes the call.

As `test_switchboard_ami.py`: the embedded log on a temp data dir, the real runners of the
ACD, the switchboard, the IVR (`telephony.ivr.live.LiveIvr`) and the CDR builder, the AMI
edge of `ccx run ami` against the loopback AMI server playing the switch (`switch=True`:
a `Redirect` to `ccx-play` plays the prompt and answers `UserEvent CcxPromptFinished`, the
test presses keys with `DTMFEnd`). And `ccx simulate --ivr`: simulated callers walk a flow,
the warehouse reports the sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ccx.ami_live import AmiEdge
from ccx.bootstrap import build_processors, open_pipeline
from ccx.cli import main
from ccx.ivr import load_flow_text
from ccx.settings import Settings
from processors.switchboard import Switchboard, SwitchboardConfig
from schemas import commands as c
from schemas import contact as ev
from schemas import ivr
from schemas import switch_actions as a
from schemas.cdr import ContactRecord
from telephony.ami.client import AmiConfig
from telephony.ivr.live import LiveIvr
from tests.helpers.ami_server import AmiServer
from tests.integration.test_switchboard_ami import ARRIVES, CALLER, HANGS_UP, TENANT, Call, setup_acd

FLOW = """
id: hotline
version: 1
start: welcome
nodes:
  welcome:
    type: play
    prompt: welcome
    next: menu
  menu:
    type: menu
    prompt: {tts: "Press 1 for billing, 2 for sales."}
    options: {"1": billing, "2": sales}
    fallback: bye
    timeout_s: 5
  sales:
    type: route
    queue: sales
    priority: 3
  billing:
    type: route
    queue: billing
  bye:
    type: hangup
"""
CONFIG = SwitchboardConfig(dnis_flows={"8000": "hotline"}, agent_endpoints={"a1": "PJSIP/a1"})


@contextlib.asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Call]:
    flow, _warnings = load_flow_text(FLOW)
    settings = Settings(data_dir=tmp_path / "data", tenant=TENANT)
    processors = {**build_processors(), "switchboard": Switchboard(CONFIG), "ivr": LiveIvr([flow], CONFIG)}
    pipeline = open_pipeline(
        settings, with_warehouse=False, runners=("acd", "switchboard", "ivr", "cdr"), processors=processors
    )
    server = AmiServer([], switch=True, agents={"PJSIP/a1": "answer"})
    port = await server.start()
    config = AmiConfig(port=port, username="ccx", secret="s3cret", ping_interval=0, action_timeout=2.0)
    edge = AmiEdge.open(pipeline.log, pipeline.serde, config, TENANT)
    stop = asyncio.Event()
    task = asyncio.create_task(edge.run(stop))
    try:
        await asyncio.wait_for(edge.client.ready.wait(), 10)
        yield Call(pipeline, server, edge)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        edge.close()
        await server.stop()
        pipeline.close()


def kinds(bodies: list[Any]) -> list[str]:
    return [type(b).__name__ for b in bodies]


def has(call: Call, topic: str, pred: Callable[[Any], bool]) -> Callable[[], bool]:
    return lambda: any(pred(b) for b in call.bodies(topic))


def test_a_caller_hears_the_menu_presses_2_and_is_routed_offered_answered_and_recorded(
    tmp_path: Path,
) -> None:
    asyncio.run(menu_then_agent(tmp_path))


async def menu_then_agent(tmp_path: Path) -> None:
    async with running(tmp_path) as call:
        setup_acd(call)
        await call.server.push(*ARRIVES)
        # welcome plays, then the menu prompt plays: two PlayPrompt actions, two Redirects
        await call.until("the menu prompt", lambda: len(call.server.plays) >= 2)
        assert [p[1] for p in call.server.plays] == ["welcome", "Press 1 for billing, 2 for sales."]
        await call.server.dtmf(CALLER["Channel"], "2")
        await call.until("the bridge", lambda: any(x.get("Action") == "Bridge" for x in call.server.actions))
        await call.server.push(*HANGS_UP)
        await call.until(
            "the wrap-up", has(call, "cc.contact-events", lambda b: isinstance(b, ev.WrapUpStarted))
        )
        call.tick(10_000)
        await call.until("the CDR", lambda: bool(call.bodies("cc.cdr")))

        events = call.bodies("cc.ivr-events")
        assert kinds(events) == [
            "IvrStarted",
            "IvrNodeEntered", "IvrNodeLeft",  # welcome
            "IvrNodeEntered", "IvrNodeLeft",  # menu: digit 2
            "IvrNodeEntered", "IvrNodeLeft",  # sales: route
            "IvrEnded",
        ]  # fmt: skip
        assert [(e.node_id, e.exit) for e in events if isinstance(e, ivr.IvrNodeLeft)] == [
            ("welcome", "next"),
            ("menu", "digit"),
            ("sales", "end"),
        ]
        assert events[-1] == ivr.IvrEnded("1700.1", "hotline", "routed", "sales")
        routes = [b for b in call.bodies("cc.commands") if isinstance(b, c.RouteContact)]
        assert [(r.contact_id, r.queue_id, r.priority, r.ani, r.dnis) for r in routes] == [
            ("1700.1", "sales", 3, "+4930111", "8000")
        ]
        actions = call.bodies("cc.switch-actions")
        assert kinds(actions) == ["PlayPrompt", "PlayPrompt", "OriginateAgent", "BridgeCall", "HangupChannel"]
        play = actions[0]
        assert isinstance(play, a.PlayPrompt)
        assert (play.channel, play.prompt, play.tts, play.context) == (
            CALLER["Channel"],
            "welcome",
            False,
            "ccx-play",
        )
        redirects = [x for x in call.server.actions if x.get("Action") == "Redirect"]
        assert [x["Context"] for x in redirects] == ["ccx-play", "ccx-play"]
        setvars = [(x["Variable"], x["Value"]) for x in call.server.actions if x.get("Action") == "Setvar"]
        assert ("CCX_PLAY_ID", play.play_id) in setvars and ("CCX_PROMPT", "welcome") in setvars
        contact_kinds = kinds(call.bodies("cc.contact-events"))
        assert contact_kinds[:5] == [
            "ContactArrived", "ContactQueued", "ContactOffered", "OfferAccepted", "ContactConnected",
        ]  # fmt: skip
        [record] = call.bodies("cc.cdr")
        assert isinstance(record, ContactRecord) and record.contact_id == "1700.1" and record.agent_id == "a1"
        assert call.bodies("cc.dead-letter") == []


def test_a_caller_who_hangs_up_in_the_ivr_is_never_routed(tmp_path: Path) -> None:
    asyncio.run(hangs_up_in_menu(tmp_path))


async def hangs_up_in_menu(tmp_path: Path) -> None:
    async with running(tmp_path) as call:
        setup_acd(call)
        await call.server.push(*ARRIVES)
        await call.until("the menu prompt", lambda: len(call.server.plays) >= 2)
        await call.server.push(*HANGS_UP)
        await call.until("the end", has(call, "cc.ivr-events", lambda b: isinstance(b, ivr.IvrEnded)))
        call.pipeline.run_until_idle()
        events = call.bodies("cc.ivr-events")
        assert events[-1] == ivr.IvrEnded("1700.1", "hotline", "hung_up", "menu")
        assert [(e.node_id, e.exit) for e in events if isinstance(e, ivr.IvrNodeLeft)][-1] == (
            "menu",
            "hangup",
        )
        commands = call.bodies("cc.commands")
        assert not any(isinstance(b, c.RouteContact | c.HangUpContact) for b in commands)
        assert call.bodies("cc.contact-events") == []
        assert kinds(call.bodies("cc.switch-actions")) == ["PlayPrompt", "PlayPrompt"]
        assert call.bodies("cc.dead-letter") == []
        board = call.pipeline.runners["switchboard"].state.boards.get(TENANT)
        assert board is not None and "1700.1" not in board.calls  # forgotten
        assert call.pipeline.runners["ivr"].state.sessions.sessions == {}


def test_a_menu_timeout_fires_on_the_ticks(tmp_path: Path) -> None:
    asyncio.run(menu_timeout(tmp_path))


async def menu_timeout(tmp_path: Path) -> None:
    async with running(tmp_path) as call:
        setup_acd(call)
        await call.server.push(*ARRIVES)

        def finished(at_least: int) -> Callable[[], bool]:
            return lambda: (
                sum(type(b).__name__ == "PromptFinished" for b in call.bodies("cc.telephony")) >= at_least
            )

        for n in range(3):  # timeout, re-prompt (retries 2), timeout, re-prompt, timeout: fallback
            await call.until(f"prompt {n + 2} finished", finished(n + 2))
            call.pipeline.run_until_idle()
            call.tick(6_000 * (n + 1))
        await call.until("the end", has(call, "cc.ivr-events", lambda b: isinstance(b, ivr.IvrEnded)))
        events = call.bodies("cc.ivr-events")
        assert ("menu", "timeout") in [(e.node_id, e.exit) for e in events if isinstance(e, ivr.IvrNodeLeft)]
        assert events[-1] == ivr.IvrEnded("1700.1", "hotline", "completed", "bye")
        assert kinds(call.bodies("cc.switch-actions"))[-1] == "HangupChannel"
        await call.until("the caller hung up", lambda: not any(
            ch.get("Channel") == CALLER["Channel"] for ch in call.server.channels.values()
        ))  # fmt: skip


def test_simulated_callers_walk_a_flow_and_the_reports_show_it(tmp_path: Path) -> None:
    data = tmp_path / "sim"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "simulate",
            "--data-dir",
            str(data),
            "--duration",
            "10m",
            "--seed",
            "3",
            "--ivr",
            "docs/examples/ivr/main.yaml",
        ],
    )
    assert result.exit_code == 0, result.output
    report = runner.invoke(main, ["report", "ivr-flows", "--data-dir", str(data), "--format", "json"])
    assert report.exit_code == 0, report.output
    rows = json.loads(report.output)
    assert rows and rows[0]["flow_id"] == "bank-main" and rows[0]["sessions"] > 0
