"""Live IVR lookups over real HTTP, and the recording paused while a card number is typed.

As `test_ivr_live.py`: the embedded log on a temp data dir, the real runners of the IVR
(`LiveIvr`) and the recordings decider, the AMI edge of `ccx run ami` against the loopback
AMI server playing the switch, plus the lookup edge of `ccx run ivr`
(`telephony.ivr.lookups.LookupEdge`) against a real HTTP server on 127.0.0.1 (port 0).

The flow is `docs/examples/ivr/main.yaml`, copied with two changes: the lookup URLs point
at the local server instead of crm.example.com / cards.example.com, and it starts at
`welcome` (its `hours` node would send a test run at night to voicemail).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ccx.ami_live import AmiEdge
from ccx.bootstrap import open_pipeline
from ccx.ivr import load_flow_text
from ccx.settings import Settings
from processors.recording_catalog import CatalogState, fold, search
from processors.recordings import RecordingsProcessor
from processors.switchboard import SwitchboardConfig
from schemas import commands as c
from schemas import ivr
from schemas import switch_actions as a
from schemas import telephony as t
from streams import topics
from streams.tail import read_all
from telephony.ami.client import AmiConfig
from telephony.ivr.live import LiveIvr
from telephony.ivr.lookups import LookupEdge
from tests.helpers.ami_server import AmiServer
from tests.integration.test_switchboard_ami import ARRIVES, CALLER, TENANT, Call

ROOT = Path(__file__).resolve().parents[2]
CARD = "4111111111111111"
CONFIG = SwitchboardConfig(dnis_flows={"8000": "bank-main"})
VIP = {"customer": {"vip": True, "first_name": "Ada", "segment": "private", "priority": 10}}
REGULAR = {"customer": {"vip": False, "first_name": "Bob", "segment": "retail", "priority": 2}}
RECORDING_STARTS = [{"Event": "MixMonitorStart", **CALLER}]


class Crm:
    """A tiny HTTP server: the CRM's customer lookup answers by `mode` ("vip", "regular",
    "slow": 3 s, longer than the node's 2 s, "500"); the card service blocks any card."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[tuple[str, str]] = []
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                crm.requests.append((self.command, self.path))
                if self.path.startswith("/api/cards/"):
                    self._json(200, {"reference": "B-1"})
                elif crm.mode == "500":
                    self._json(500, {"error": "boom"})
                else:
                    if crm.mode == "slow":
                        time.sleep(3)
                    self._json(200, VIP if crm.mode == "vip" else REGULAR)

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (the slow case)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def flow_text(base: str) -> str:
    text = (ROOT / "docs/examples/ivr/main.yaml").read_text()
    text = text.replace("https://crm.example.com", base).replace("https://cards.example.com", base)
    return text.replace("start: opening_hours", "start: welcome")


class LookupCall(Call):
    def __init__(self, call: Call, ivr_: LiveIvr, edge: LookupEdge, crm: Crm) -> None:
        super().__init__(call.pipeline, call.server, call.edge)
        self.ivr, self.lookups, self.crm = ivr_, edge, crm

    async def until(self, what: str, done: Callable[[], bool], timeout_s: float = 15.0) -> None:
        """Run the processors, hand the IVR's lookups to the edge, let the switch work."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not done():
            self.pipeline.run_until_idle()
            self.lookups.pump(self.ivr)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def crm_server(mode: str) -> Iterator[Crm]:
    crm = Crm(mode)
    try:
        yield crm
    finally:
        crm.close()


@contextlib.asynccontextmanager
async def running(tmp_path: Path, mode: str) -> AsyncIterator[LookupCall]:
    with crm_server(mode) as crm:
        flow, _warnings = load_flow_text(flow_text(crm.base))
        settings = Settings(data_dir=tmp_path / "data", tenant=TENANT)
        live = LiveIvr([flow], CONFIG)
        processors = {"ivr": live, "recordings": RecordingsProcessor()}
        pipeline = open_pipeline(
            settings, with_warehouse=False, runners=("ivr", "recordings"), processors=processors
        )
        lock = threading.Lock()

        def append(messages: list[Any]) -> None:
            with lock:
                pipeline.log.append([pipeline.serde.out(m) for m in messages])

        lookups = LookupEdge(append)
        server = AmiServer([], switch=True)
        port = await server.start()
        config = AmiConfig(port=port, username="ccx", secret="s3cret", ping_interval=0, action_timeout=2.0)
        edge = AmiEdge.open(pipeline.log, pipeline.serde, config, TENANT)
        stop = asyncio.Event()
        task = asyncio.create_task(edge.run(stop))
        try:
            await asyncio.wait_for(edge.client.ready.wait(), 10)
            yield LookupCall(Call(pipeline, server, edge), live, lookups, crm)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            lookups.close(wait=False)
            edge.close()
            await server.stop()
            pipeline.close()


def has(call: Call, topic: str, pred: Callable[[Any], bool]) -> Callable[[], bool]:
    return lambda: any(pred(b) for b in call.bodies(topic))


def results(call: Call) -> list[t.IvrLookupResult]:
    return [b for b in call.bodies("cc.telephony") if isinstance(b, t.IvrLookupResult)]


def exits(call: Call) -> list[tuple[str, str]]:
    return [(e.node_id, e.exit) for e in call.bodies("cc.ivr-events") if isinstance(e, ivr.IvrNodeLeft)]


def test_a_vip_is_recognised_by_the_crm_lookup_and_routed_to_private_banking(tmp_path: Path) -> None:
    asyncio.run(vip(tmp_path))


async def vip(tmp_path: Path) -> None:
    async with running(tmp_path, "vip") as call:
        await call.server.push(*ARRIVES)
        await call.until("the route", has(call, "cc.commands", lambda b: isinstance(b, c.RouteContact)))
        assert call.crm.requests == [("GET", "/api/customers?ani=%2B4930111")]
        [result] = results(call)
        assert (result.contact_id, result.ok, result.status, result.reason) == ("1700.1", True, 200, "")
        assert json.loads(result.answer_json) == VIP
        [answered] = [b for b in call.bodies("cc.ivr-events") if isinstance(b, ivr.IvrLookupAnswered)]
        assert answered.ok and {x.name: x.value for x in answered.attributes}["first_name"] == "Ada"
        assert ("identify", "success") in exits(call) and ("vip_check", "match") in exits(call)
        [route] = [b for b in call.bodies("cc.commands") if isinstance(b, c.RouteContact)]
        assert (route.queue_id, route.priority) == ("private_banking", 10)
        [message] = [m for m in call.messages("cc.telephony") if isinstance(m.body, t.IvrLookupResult)]
        assert (message.envelope.correlation_id, message.envelope.actor) == ("1700.1", "ivr-lookup")
        assert call.bodies("cc.dead-letter") == []


def test_a_slow_crm_times_out_and_a_500_fails_both_to_on_failure(tmp_path: Path) -> None:
    asyncio.run(failing(tmp_path / "slow", "slow", "timeout"))
    asyncio.run(failing(tmp_path / "500", "500", "http 500"))


async def failing(tmp_path: Path, mode: str, reason: str) -> None:
    async with running(tmp_path, mode) as call:
        await call.server.push(*ARRIVES)
        await call.until("the lookup's result", lambda: bool(results(call)))
        [result] = results(call)
        assert (result.ok, result.reason, result.answer_json) == (False, reason, "")
        if mode == "slow":
            assert 1_500 <= result.elapsed_ms < 3_000  # the node's 2 s, not the server's 3 s
        await call.until("the language menu", lambda: ("identify", "failure") in exits(call))
        [answered] = [b for b in call.bodies("cc.ivr-events") if isinstance(b, ivr.IvrLookupAnswered)]
        assert (answered.ok, answered.reason) == (False, reason)
        entered = [e.node_id for e in call.bodies("cc.ivr-events") if isinstance(e, ivr.IvrNodeEntered)]
        assert entered[-1] == "language"


def test_a_card_number_is_sent_to_the_card_service_paused_in_the_recording_and_never_logged(
    tmp_path: Path,
) -> None:
    asyncio.run(card(tmp_path))


async def card(tmp_path: Path) -> None:
    async with running(tmp_path, "regular") as call:
        await call.server.push(*ARRIVES, *RECORDING_STARTS)

        def plays(n: int) -> Callable[[], bool]:
            return lambda: len(call.server.plays) >= n

        # welcome, (identify: regular customer), language menu
        await call.until("the language menu", plays(2))
        await call.server.dtmf(CALLER["Channel"], "2")  # English
        await call.until("the main menu", plays(3))
        await call.server.dtmf(CALLER["Channel"], "1")  # cards
        await call.until("the cards menu", plays(4))
        await call.server.dtmf(CALLER["Channel"], "1")  # block a card: the card number node
        await call.until("the card number prompt", plays(5))
        await call.server.dtmf(CALLER["Channel"], CARD)
        await call.until(
            "the hang-up", has(call, "cc.switch-actions", lambda b: isinstance(b, a.HangupChannel))
        )
        await call.until(
            "the recording's end",
            has(call, "cc.recording-events", lambda b: type(b).__name__ == "CallRecordingStopped"),
        )
        # the card service got the real number, over HTTP, from the process holding the effect
        assert ("POST", f"/api/cards/{CARD}/block?caller=%2B4930111") in call.crm.requests
        assert ("block_card", "success") in exits(call) and ("card_blocked", "next") in exits(call)
        # the recording: muted while the number was typed, with the reason
        mutes = [
            (x["State"], x["Direction"]) for x in call.server.actions if x.get("Action") == "MixMonitorMute"
        ]
        assert mutes == [("1", "both"), ("0", "both")]
        actions = call.bodies("cc.switch-actions")
        assert a.PauseRecording("1700.1", CALLER["Channel"], "card_data") in actions
        assert a.ResumeRecording("1700.1", CALLER["Channel"]) in actions
        paused = [
            b for b in call.bodies("cc.telephony") if isinstance(b, t.RecordingPaused | t.RecordingResumed)
        ]
        assert [type(b).__name__ for b in paused] == ["RecordingPaused", "RecordingResumed"]
        state = CatalogState()
        for m in call.messages("cc.recording-events"):
            state = fold(state, m)
        [entry] = search(state, TENANT, contact_id="1700.1")
        assert entry.paused_ms > 0 and entry.pause_reasons == ("card_data",) and entry.status == "stopped"
        assert call.bodies("cc.dead-letter") == []
        # the number is nowhere in the log: not in any record of any topic ...
        names = [topic.name for topic in topics.ALL]
        for record, message in read_all(call.pipeline.log, call.pipeline.serde, names):
            assert CARD.encode() not in record.value and CARD.encode() not in record.key, record.topic
            assert CARD not in repr(message), record.topic
        digits = [b.digit for b in call.bodies("cc.telephony") if isinstance(b, t.DtmfReceived)]
        assert "".join(digits).endswith(CARD)  # (the switch's digits, one fact each, are there)
        # ... nor in the log's files (snapshots and offsets included)
        call.pipeline.run_until_idle()
        for path in (tmp_path / "data").rglob("*"):
            if path.is_file():
                assert CARD.encode() not in path.read_bytes(), path
