"""Mode 1 end to end: a call waits in Asterisk's holding context until ccx connects it.

Real components throughout — the embedded log on a temp data dir, the real runners of
the ACD, the switchboard and the CDR builder, the `AmiClient` + `AmiAdapter` + `Executor`
of `ccx run ami` (`ccx.ami_live.AmiEdge`) — except the switch: Asterisk cannot run here,
so the loopback AMI server (`tests/helpers/ami_server.py`, `switch=True`) stands in for it,
answering the actions and reacting to them with the events Asterisk sends (the agent
channel of an Originate ringing and going up, BridgeEnter, Hangup).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ccx.ami_live import AmiEdge, wall_ms
from ccx.bootstrap import Pipeline, build_processors, open_pipeline
from ccx.settings import Settings
from processors.switchboard import Switchboard, SwitchboardConfig
from schemas import commands as c
from schemas import contact as ev
from schemas import switch_actions as a
from schemas import telephony as t
from schemas.cdr import ContactRecord
from schemas.envelope import Envelope, Message
from schemas.legs import QueueLeg
from streams.tail import read_all
from telephony.ami.client import AmiConfig
from tests.helpers.ami_server import AmiServer

TENANT = "acme"
CALLER = {"Channel": "PJSIP/trunk-00000001", "Uniqueid": "1700.1", "Linkedid": "1700.1"}
ARRIVES = [
    {"Event": "Newchannel", **CALLER, "ChannelState": "4", "ChannelStateDesc": "Ring",
     "CallerIDNum": "+4930111", "CallerIDName": "Ann", "Context": "ccx-inbound", "Exten": "8000"},
    {"Event": "Newstate", **CALLER, "ChannelState": "6", "ChannelStateDesc": "Up"},
]  # fmt: skip
HANGS_UP = [{"Event": "Hangup", **CALLER, "Cause": "16", "Cause-txt": "Normal Clearing"}]
CONFIG = SwitchboardConfig(dnis_queues={"8000": "sales"}, agent_endpoints={"a1": "PJSIP/a1"})


class Call:
    """The pipeline and the AMI edge on one embedded log, driven from one event loop."""

    def __init__(self, pipeline: Pipeline, server: AmiServer, edge: AmiEdge) -> None:
        self.pipeline, self.server, self.edge = pipeline, server, edge
        self.n = 0

    def command(self, body: object) -> None:
        self.n += 1
        env = Envelope(f"setup-{self.n}", TENANT, wall_ms(), f"setup-{self.n}", None, "admin")
        self.pipeline.log.append([self.pipeline.serde.out(Message(env, body))])

    def tick(self, ahead_ms: int) -> None:
        self.n += 1
        env = Envelope(f"tick-{self.n}", TENANT, wall_ms() + ahead_ms, f"tick-{self.n}", None, "system")
        self.pipeline.log.append([self.pipeline.serde.out(Message(env, c.Tick()))])

    def messages(self, topic: str) -> list[Message[Any]]:
        return [m for _, m in read_all(self.pipeline.log, self.pipeline.serde, [topic])]

    def bodies(self, topic: str) -> list[Any]:
        return [m.body for m in self.messages(topic)]

    async def until(self, what: str, done: Callable[[], bool], timeout_s: float = 15.0) -> None:
        """Run the processors and let the edge work until `done()`."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not done():
            self.pipeline.run_until_idle()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(tmp_path: Path, agent: str = "answer") -> AsyncIterator[Call]:
    settings = Settings(data_dir=tmp_path / "data", tenant=TENANT)
    processors = {**build_processors(), "switchboard": Switchboard(CONFIG)}
    pipeline = open_pipeline(
        settings, with_warehouse=False, runners=("acd", "switchboard", "cdr"), processors=processors
    )
    server = AmiServer([], switch=True, agents={"PJSIP/a1": agent})
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


def setup_acd(call: Call) -> None:
    for cmd in (
        c.DefineQueue("sales", "Sales", ring_timeout_s=20, wrap_up_s=5),
        c.DefineAgent("a1", "Alice", ("sales",)),
        c.LogInAgent("a1"),
        c.SetAgentReady("a1"),
    ):
        call.command(cmd)
    call.pipeline.run_until_idle()


def test_a_call_is_routed_offered_originated_answered_bridged_and_recorded(tmp_path: Path) -> None:
    asyncio.run(answered_call(tmp_path))


async def answered_call(tmp_path: Path) -> None:
    async with running(tmp_path) as call:
        setup_acd(call)
        await call.server.push(*ARRIVES)
        # the ACD offers, the executor originates, the agent answers, the ACD connects, bridge
        await call.until("the bridge", lambda: any(x.get("Action") == "Bridge" for x in call.server.actions))
        originate = next(x for x in call.server.actions if x.get("Action") == "Originate")
        [action] = [m for m in call.messages("cc.switch-actions") if isinstance(m.body, a.OriginateAgent)]
        assert originate["Channel"] == "PJSIP/a1" and originate["Context"] == "ccx-agent"
        assert originate["ChannelId"] == action.body.channel_id
        assert f"CCX_CONTACT=1700.1\nCCX_ACTION={action.envelope.event_id}" in originate["Variable"]
        agent_channel = call.server.channels[action.body.channel_id]["Channel"]
        bridge = next(x for x in call.server.actions if x.get("Action") == "Bridge")
        assert (bridge["Channel1"], bridge["Channel2"]) == (CALLER["Channel"], agent_channel)

        await call.server.push(*HANGS_UP)
        await call.until(
            "the wrap-up",
            lambda: any(isinstance(b, ev.WrapUpStarted) for b in call.bodies("cc.contact-events")),
        )
        call.tick(10_000)  # the wrap-up times out: the contact's record is complete
        await call.until("the CDR", lambda: bool(call.bodies("cc.cdr")))
        await call.until("the agent hung up", lambda: action.body.channel_id not in call.server.channels)

        commands = [b for b in call.bodies("cc.commands") if type(b).__name__ not in ("Tick",)][4:]
        assert commands == [
            c.RouteContact("1700.1", "sales", "voice", 0, "+4930111", "8000"),
            c.AcceptOffer("1700.1", "a1"),
            c.HangUpContact("1700.1", "caller"),
        ]
        kinds = [type(b).__name__ for b in call.bodies("cc.contact-events")]
        assert kinds == [
            "ContactArrived", "ContactQueued", "ContactOffered", "OfferAccepted", "ContactConnected",
            "ContactEnded", "WrapUpStarted", "WrapUpCompleted",
        ]  # fmt: skip
        ended = call.bodies("cc.contact-events")[5]
        assert ended == ev.ContactEnded("1700.1", "sales", "completed", "caller", "a1", ended.wait_ms)
        assert [type(b).__name__ for b in call.bodies("cc.switch-actions")] == [
            "OriginateAgent", "BridgeCall", "HangupChannel",
        ]  # fmt: skip
        assert call.bodies("cc.switch-actions")[2] == a.HangupChannel("1700.1", agent_channel, 16)
        facts = call.bodies("cc.telephony")
        assert [type(f).__name__ for f in facts if f.call_id == action.body.channel_id] == [
            "CallStarted", "ChannelRinging", "ChannelAnswered", "CallBridged", "CallUnbridged", "CallHungUp",
        ]  # fmt: skip
        assert not any(isinstance(f, t.SwitchActionFailed) for f in facts)
        [record] = call.bodies("cc.cdr")
        assert isinstance(record, ContactRecord) and record.contact_id == "1700.1" and record.agent_id == "a1"
        [leg] = call.bodies("cc.contact-legs")
        assert isinstance(leg, QueueLeg) and leg.contact_id == "1700.1" and leg.queue_id == "sales"
        assert call.bodies("cc.dead-letter") == []
        assert call.edge.executor.stats.executed == 3


def test_an_agent_who_cannot_be_called_is_declined_and_the_abandoned_call_is_recorded(
    tmp_path: Path,
) -> None:
    asyncio.run(refused_originate(tmp_path))


async def refused_originate(tmp_path: Path) -> None:
    async with running(tmp_path, agent="error") as call:  # the switch refuses the Originate
        setup_acd(call)
        await call.server.push(*ARRIVES)
        await call.until(
            "the decline",
            lambda: any(isinstance(b, ev.OfferDeclined) for b in call.bodies("cc.contact-events")),
        )
        [failed] = [f for f in call.bodies("cc.telephony") if isinstance(f, t.SwitchActionFailed)]
        assert (failed.action, failed.contact_id, failed.error) == (
            "OriginateAgent",
            "1700.1",
            "ActionFailed",
        )
        assert "Originate failed" in failed.reason
        await call.server.push(*HANGS_UP)
        await call.until("the CDR", lambda: bool(call.bodies("cc.cdr")))
        ended = [b for b in call.bodies("cc.contact-events") if isinstance(b, ev.ContactEnded)]
        assert [(e.reason, e.party) for e in ended] == [("abandoned", "caller")]
        assert call.bodies("cc.dead-letter") == []
