"""The AMI edge end to end over loopback: `AmiClient` + `AmiAdapter` against a loopback AMI
server (`tests/helpers/ami_server.py`) replaying real recorded Asterisk event streams.

Data: `../shared/data/ami/` (see its README): cacofonisk fixtures (VoIPGRID/cacofonisk
`tests/fixtures/`, MIT) and goami2 fixtures (staskobzar/goami2 `fixtures_test.go`, MIT),
read in place, never copied. The hold and recording scenarios are synthetic streams
(no public recording has Hold or MixMonitor events), marked as such.

Each scenario checks the facts that arrive over the connection against the same recording
translated offline, and the facts that matter for it; the connection scenarios drop the
connection mid-call (with and without events lost meanwhile, and with events delivered
twice) and feed garbage, and check that nothing is duplicated or lost and the adapter goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from schemas import telephony as t
from schemas.envelope import Message
from schemas.system import DeadLetter
from telephony.ami.adapter import AmiAdapter, client_for
from telephony.ami.client import ActionFailed, ActionTimeout, AmiClient, AmiConfig, LoginFailed
from telephony.ami.frames import Frame, read_recording
from tests.helpers.ami_server import AmiServer

ROOT = Path(__file__).resolve().parents[2]
AMI = ROOT.parent / "shared/data/ami"
SECRET = "s3cret-do-not-log"


def recording(rel: str) -> list[dict[str, str]]:
    _, items = read_recording((AMI / rel).read_bytes())
    return [i.headers for i in items if isinstance(i, Frame)]


def offline(events: list[dict[str, str]]) -> list[Message[object]]:
    adapter = AmiAdapter("acme")
    out: list[Message[object]] = []
    for e in events:
        out += adapter.feed_event(e)
    return [m for m in out if not isinstance(m.body, DeadLetter)]


def config(port: int, **more: Any) -> AmiConfig:
    base: dict[str, Any] = dict(
        port=port,
        username="ccx",
        secret=SECRET,
        backoff_initial=0.01,
        backoff_max=0.05,
        ping_interval=0,
        action_timeout=2.0,
    )
    return AmiConfig(**(base | more))


async def session(server: AmiServer, **more: Any) -> tuple[list[Message[object]], AmiClient, AmiAdapter]:
    """Run a client until the server has streamed its whole recording; then the client
    pings (its answer comes after every event) and closes."""
    port = await server.start()
    adapter = AmiAdapter("acme", f"ami://127.0.0.1:{port}")
    got: list[Message[object]] = []
    client = client_for(adapter, config(port, **more), got.extend)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(server.done.wait(), 20)
        await asyncio.wait_for(client.ready.wait(), 5)
        await client.send_action("Ping", {})
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)
        await server.stop()
    return got, client, adapter


def facts(messages: list[Message[object]]) -> list[Any]:
    return [m.body for m in messages if not isinstance(m.body, DeadLetter)]


def fact_key(f: Any) -> tuple[str, ...]:
    """What makes a fact unique: its type and the channel, dial or bridge it is about."""
    fields = ("uniqueid", "dest_uniqueid", "bridge_id", "channel")
    return (type(f).__name__, *(str(getattr(f, k, "")) for k in fields))


def kinds(fs: list[Any]) -> list[str]:
    return [type(f).__name__ for f in fs]


# -- scenarios over the wire --------------------------------------------------------------

A = {"Channel": "PJSIP/trunk-00000001", "Uniqueid": "100.1", "Linkedid": "100.1", "CallerIDNum": "+4930111"}
B = {"Channel": "PJSIP/agent7-00000002", "Uniqueid": "100.2", "Linkedid": "100.1"}
# SYNTHETIC: no public recording has Hold/Unhold or MixMonitor events (Asterisk 13+ fields)
HOLD_AND_RECORDING = [
    {"Event": "Newchannel", **A, "ChannelState": "4", "ChannelStateDesc": "Ring", "Exten": "800"},
    {"Event": "Newchannel", **B, "ChannelState": "0", "ChannelStateDesc": "Down"},
    {"Event": "Newstate", **B, "ChannelState": "6", "ChannelStateDesc": "Up"},
    {"Event": "Newstate", **A, "ChannelState": "6", "ChannelStateDesc": "Up"},
    {"Event": "BridgeEnter", **A, "BridgeUniqueid": "br1", "BridgeType": "basic", "BridgeNumChannels": "1"},
    {"Event": "BridgeEnter", **B, "BridgeUniqueid": "br1", "BridgeType": "basic", "BridgeNumChannels": "2"},
    {"Event": "VarSet", **A, "Variable": "MIXMONITOR_FILENAME", "Value": "/rec/100.1.wav"},
    {"Event": "MixMonitorStart", **A},
    {"Event": "Hold", **A, "MusicClass": "default"},
    {"Event": "MixMonitorMute", **A, "Direction": "both", "State": "1"},
    {"Event": "MixMonitorMute", **A, "Direction": "both", "State": "0"},
    {"Event": "Unhold", **A},
    {"Event": "MixMonitorStop", **A},
    {"Event": "BridgeLeave", **A, "BridgeUniqueid": "br1"},
    {"Event": "BridgeLeave", **B, "BridgeUniqueid": "br1"},
    {"Event": "Hangup", **A, "Cause": "16", "Cause-txt": "Normal Clearing"},
    {"Event": "Hangup", **B, "Cause": "16", "Cause-txt": "Normal Clearing"},
]

SCENARIOS = {
    "inbound call answered": ("goami2/call_dial_answer_hangup.ami", ["ChannelAnswered", "CallBridged"]),
    "queue call answered": ("cacofonisk/queue/queue_simple.json", ["DialEnded", "ChannelAnswered"]),
    "caller abandons in queue": ("cacofonisk/queue/queue_a_cancel.json", ["QueueCallerAbandoned"]),
    "blind transfer": ("cacofonisk/xfer_blind/xfer_blind_abbcac.json", ["CallTransferred"]),
    "attended transfer": ("cacofonisk/xfer_attended/xfer_abbcac.json", ["CallTransferred"]),
    "conference": ("goami2/confbridge_join_talk_kick.ami", ["ConferenceJoined", "ConferenceLeft"]),
    "hold, resume and recording (synthetic)": (
        "",
        [
            "CallHeld",
            "CallResumed",
            "RecordingStarted",
            "RecordingPaused",
            "RecordingResumed",
            "RecordingStopped",
        ],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_recorded_scenario_over_the_wire_gives_the_offline_facts(name: str) -> None:
    rel, wanted = SCENARIOS[name]
    events = recording(rel) if rel else HOLD_AND_RECORDING
    server = AmiServer(events, secret=SECRET, fragments=7)
    got, client, adapter = asyncio.run(session(server))
    expected = offline(events)
    assert [m.body for m in got] == [m.body for m in expected]
    assert [m.envelope for m in got] == [m.envelope for m in expected]  # deterministic ids
    for kind in wanted:
        assert kind in kinds(facts(got)), kind
    assert client.connections == 1 and client.version == "5.0.1"
    if name != "conference":  # goami2's conference fixture stops before the host hangs up
        assert [f for f in facts(got) if isinstance(f, t.CallHungUp) and f.ends_call]
        assert adapter.mapper.live_channels() == {}
    assert {m.envelope.tenant for m in got} == {"acme"}
    assert all(m.envelope.actor == "switch" for m in got)


def test_the_synthetic_hold_and_recording_facts_in_order() -> None:
    got = facts(offline(HOLD_AND_RECORDING))
    assert kinds(got) == [
        "CallStarted",
        "ChannelAnswered",
        "ChannelAnswered",
        "CallBridged",
        "CallBridged",
        "RecordingStarted",
        "CallHeld",
        "RecordingPaused",
        "RecordingResumed",
        "CallResumed",
        "RecordingStopped",
        "CallUnbridged",
        "CallUnbridged",
        "CallHungUp",
        "CallHungUp",
    ]
    assert got[5].file == "/rec/100.1.wav"


# -- the connection ---------------------------------------------------------------------

QUEUE = "cacofonisk/queue/queue_simple.json"


def test_a_drop_with_duplicate_delivery_loses_and_duplicates_nothing() -> None:
    events = recording(QUEUE)
    # dropped twice mid-call; the switch re-sends the last 5 events each time
    server = AmiServer(events, secret=SECRET, drop_at=[30, 45], resend=5)
    got, client, adapter = asyncio.run(session(server))
    assert client.connections == 3 and len(client.delays) == 2
    assert [m.body for m in got] == [m.body for m in offline(events)]
    # every event once, the 10 re-sent ones again, and a FullyBooted per login
    assert adapter.stats.frames == len(events) + 10 + 3 and adapter.stats.duplicates >= 1


def test_events_that_arrive_before_the_channel_list_wait_for_it() -> None:
    events = recording(QUEUE)
    # 30 events reach the client between its login and the channel list's answer: the list
    # already shows their channels; they are delivered after it and add nothing twice
    server = AmiServer(events, secret=SECRET, early=30)
    got, _, adapter = asyncio.run(session(server))
    fs = facts(got)
    keys = Counter(fact_key(f) for f in fs)
    assert max(keys.values()) == 1
    assert kinds(fs)[0] == "CallStarted" and fs[0].source_event == "CoreShowChannel"
    assert adapter.stats.duplicates > 0
    assert [f.call_id for f in fs if isinstance(f, t.CallHungUp) and f.ends_call] == [
        "195176c06ab8-1529939196.518"
    ]


def test_events_lost_while_disconnected_are_recovered_by_resync() -> None:
    events = recording(QUEUE)
    # connected until event 22 (the agents' phones ring); the answer, the bridges and
    # two hang-ups happen while the connection is down
    server = AmiServer(events, secret=SECRET, drop_at=[22], lost=25)
    got, client, adapter = asyncio.run(session(server))
    assert client.connections == 2
    fs = facts(got)
    learned = [f for f in fs if f.source_event in ("CoreShowChannel", "CoreShowChannelsComplete")]
    assert learned, kinds(fs)
    # nothing twice: one fact per channel and state change
    keys = Counter(fact_key(f) for f in fs)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    # nothing lost: every channel ccx saw hangs up once, the call ends once, and the
    # channels that were up at the end are answered exactly once
    offline_facts = facts(offline(events))
    seen = {f.uniqueid for f in fs if hasattr(f, "uniqueid") and not isinstance(f, t.DialStarted)}
    hung = [f.uniqueid for f in fs if isinstance(f, t.CallHungUp)]
    assert sorted(hung) == sorted(seen)
    assert [f.call_id for f in fs if isinstance(f, t.CallHungUp) and f.ends_call] == [
        "195176c06ab8-1529939196.518"
    ]
    answered_offline = {f.uniqueid for f in offline_facts if isinstance(f, t.ChannelAnswered)}
    answered = {f.uniqueid for f in fs if isinstance(f, t.ChannelAnswered)}
    assert answered == answered_offline & seen
    assert adapter.mapper.live_channels() == {}


def test_garbage_is_dead_lettered_and_the_adapter_goes_on() -> None:
    events = recording("goami2/call_dial_answer_hangup.ami")
    junk = {
        3: b"\x00\xff\xfe\x81 binary junk\r\n\r\n",
        10: b"this is not a header\r\nEvent: Newexten\r\n\r\n",
        20: b"Event: QuantumEntangle\r\nChannel: SIP/x-1\r\n\r\n",
        30: b"Event: Hangup\r\nCause: 16\r\n\r\n",
    }
    server = AmiServer(events, secret=SECRET, inject=junk, fragments=5)
    got, client, adapter = asyncio.run(session(server))
    letters = [m.body for m in got if isinstance(m.body, DeadLetter)]
    assert [(d.error, d.reason) for d in letters] == [
        ("MalformedFrame", "not UTF-8 text (invalid start byte at byte 1)"),
        ("MalformedFrame", "not a 'Key: Value' header: 'this is not a header'"),
        ("UnmappedEvent", "QuantumEntangle: unknown event 'QuantumEntangle'"),
        ("UnmappedEvent", "Hangup: Hangup without Uniqueid (and no known Channel)"),
    ]
    assert letters[0].value.startswith(b"\x00\xff\xfe") and letters[2].value.startswith(b"Event: Quantum")
    assert {(d.source_topic, d.processor) for d in letters} == {(adapter.source, "telephony.ami")}
    assert client.connections == 1
    assert facts(got) == [m.body for m in offline(events)]


def test_a_refused_login_is_fatal_and_the_secret_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        server = AmiServer([], secret="the-right-one")
        port = await server.start()
        client = AmiClient(config(port), on_items=lambda items: None, on_resync=lambda ch: None)
        with pytest.raises(LoginFailed, match="refused user 'ccx'"):
            await asyncio.wait_for(client.run(), 5)
        await server.stop()
        assert server.logins == [("ccx", False)]

    caplog.set_level(logging.DEBUG)
    asyncio.run(main())
    assert SECRET not in caplog.text
    assert SECRET not in repr(config(1))


def test_actions_are_matched_by_action_id_and_fail_or_time_out_clearly() -> None:
    events = HOLD_AND_RECORDING[:6]  # a bridged call stays up

    async def main() -> AmiServer:
        server = AmiServer(events, secret=SECRET, silent=["Bridge"])
        port = await server.start()
        client = AmiClient(
            config(port, action_timeout=0.3), on_items=lambda i: None, on_resync=lambda c: None
        )
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(server.done.wait(), 5)
        caller, agent = A["Channel"], B["Channel"]
        results = await asyncio.gather(
            client.originate("PJSIP/agent9", context="ccx-agent", exten="connect", variables={"CCX": "c1"}),
            client.redirect(caller, "ccx-hold", "s"),
            client.mixmonitor(caller, "/rec/c1.wav"),
            client.pause_mixmonitor(caller),
            client.pause_mixmonitor(caller, paused=False),
            client.stop_mixmonitor(caller),
            client.chanspy("PJSIP/supervisor1", agent, "whisper"),
            client.hangup(agent),
        )
        assert [r["Response"] for r in results] == ["Success"] * 8
        with pytest.raises(ActionFailed, match="No such channel"):
            await client.hangup("PJSIP/nobody-00000099")
        with pytest.raises(ActionFailed, match="Invalid/unknown command"):
            await client.send_action("Teleport", {})
        with pytest.raises(ActionTimeout):
            await client.bridge(caller, agent)
        with pytest.raises(ValueError, match="unknown spy mode"):
            await client.chanspy("PJSIP/supervisor1", agent, "shout")
        await client.close()
        await task
        await server.stop()
        return server

    server = asyncio.run(main())
    sent: dict[str, dict[str, str]] = {}
    for a in server.actions:
        sent.setdefault(a["Action"], a)
    assert len({a["ActionID"] for a in server.actions}) == len(server.actions)
    assert sent["Originate"]["Variable"] == "CCX=c1" and sent["Originate"]["Context"] == "ccx-agent"
    spy = next(a for a in server.actions if a.get("Application") == "ChanSpy")
    assert spy["Data"] == "PJSIP/agent7-00000002,qw" and spy["Channel"] == "PJSIP/supervisor1"
    assert sent["MixMonitorMute"]["Direction"] == "both"
    assert [a["Action"] for a in server.actions][:2] == ["Login", "CoreShowChannels"]
    assert sent["Logoff"]


def test_an_unanswered_ping_drops_the_connection_and_the_client_reconnects() -> None:
    async def main() -> tuple[AmiClient, AmiServer]:
        server = AmiServer([], secret=SECRET, silent=["Ping"])
        port = await server.start()
        client = AmiClient(
            config(port, ping_interval=0.05, action_timeout=0.1),
            on_items=lambda i: None,
            on_resync=lambda c: None,
        )
        task = asyncio.create_task(client.run())
        for _ in range(100):
            if client.connections >= 2:
                break
            await asyncio.sleep(0.05)
        await client.close()
        await asyncio.wait_for(task, 5)
        await server.stop()
        return client, server

    client, server = asyncio.run(main())
    assert client.connections >= 2 and server.connections >= 2
