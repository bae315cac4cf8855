"""`LiveIvr`: switch facts and ticks drive the IVR sessions; prompts become switch actions,
routing goes to the ACD, and no snapshot holds sensitive digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccx.ivr import load_flow_text
from processors.switchboard import SwitchboardConfig
from schemas import commands as c
from schemas import ivr
from schemas import switch_actions as a
from schemas import telephony as t
from schemas.envelope import Envelope, Message
from streams import topics
from streams.embedded import EmbeddedLog
from streams.runner import Runner
from streams.serde import Serde
from telephony.ivr.live import LiveIvr

FLOW = """
id: cards
version: 1
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options: {"1": card, "2": sales}
    fallback: sales
    timeout_s: 5
    retries: 0
  card:
    type: collect
    prompt: {tts: "Your card number, then hash."}
    attribute: pan
    sensitive: true
    min_length: 4
    max_length: 4
    next: block
    fallback: sales
  block:
    type: lookup
    url: "https://cards.example/block/{pan}"
    timeout_s: 2
    next: sales
    on_failure: sales
  sales:
    type: route
    queue: sales
"""
CONFIG = SwitchboardConfig(dnis_flows={"8000": "cards"})
CALLER = "PJSIP/trunk-00000001"


def started(dnis: str = "8000", context: str = "ccx-inbound") -> t.CallStarted:
    return t.CallStarted(
        "1.1", CALLER, "1.1", "+4930111", "", dnis, context, dnis, "PJSIP/trunk", "Newchannel", 0
    )


def dtmf(d: str) -> t.DtmfReceived:
    return t.DtmfReceived("1.1", CALLER, "1.1", d, "Received", 100, "DTMFEnd", 0)


def finished(play_id: str) -> t.PromptFinished:
    return t.PromptFinished("1.1", CALLER, "1.1", play_id, "", "SUCCESS", "UserEvent", 0)


class Harness:
    def __init__(self) -> None:
        flow, _ = load_flow_text(FLOW)
        self.ivr = LiveIvr([flow], CONFIG)
        self.state = self.ivr.initial_state()
        self.n, self.now = 0, 1_000
        self.inputs: list[Message[Any]] = []
        self.out: list[Message[Any]] = []

    def feed(self, body: object, at: int | None = None) -> list[object]:
        self.n += 1
        self.now = at if at is not None else self.now + 100
        msg = Message(Envelope(f"in-{self.n}", "acme", self.now, f"corr-{self.n}", None, "switch"), body)
        self.inputs.append(msg)
        self.state, outs = self.ivr.process(self.state, msg)
        self.out += outs
        return [o.body for o in outs]

    def play_ids(self) -> list[str]:
        return [o.body.play_id for o in self.out if isinstance(o.body, a.PlayPrompt)]


def test_calls_without_a_flow_and_other_facts_change_nothing() -> None:
    h = Harness()
    assert h.feed(started(dnis="9999")) == []
    assert h.feed(started(context="elsewhere")) == []
    assert h.feed(dtmf("1")) == []
    assert h.feed(c.Tick()) == []
    assert h.feed(c.RouteContact("x", "sales")) == []
    assert h.state == h.ivr.initial_state()


def test_the_menu_plays_a_digit_collects_sensitive_digits_and_the_flow_routes() -> None:
    h = Harness()
    out = h.feed(started())
    assert [type(b).__name__ for b in out] == ["IvrStarted", "IvrNodeEntered", "PlayPrompt"]
    play = out[2]
    assert isinstance(play, a.PlayPrompt)
    assert play == a.PlayPrompt("1.1", CALLER, "menu", play.play_id, False, "ccx-play")
    h.feed(finished(play.play_id))
    h.feed(dtmf("1"))
    assert h.ivr.snapshot_ok(h.state)
    h.feed(dtmf("4"))
    assert not h.ivr.snapshot_ok(h.state)  # raw digits of a sensitive node in the state
    for d in "111":
        h.feed(dtmf(d))
    assert not h.ivr.snapshot_ok(h.state)  # the card number is an attribute until the flow ends
    lookup_at = h.now
    out = h.feed(c.Tick(), at=lookup_at + 2_000)  # the lookup is not executed live: it times out
    assert c.RouteContact("1.1", "sales", "voice", 0, "+4930111", "8000") in out
    assert isinstance(out[-1], ivr.IvrEnded) and out[-1].result == "routed"
    assert h.ivr.snapshot_ok(h.state) and h.state.sessions.sessions == {} and h.state.channels == {}
    logged = [o for o in h.out if isinstance(o.body, ivr.IvrNodeLeft) and o.body.node_id == "card"]
    assert logged[0].body.digits == "***"


def test_a_menu_timeout_fires_on_a_tick_and_a_hangup_ends_the_session() -> None:
    h = Harness()
    [play] = [b for b in h.feed(started()) if isinstance(b, a.PlayPrompt)]
    h.feed(finished(play.play_id), at=2_000)
    assert h.feed(c.Tick(), at=6_000) == []  # not yet due
    out = h.feed(c.Tick(), at=7_000)
    assert any(isinstance(b, c.RouteContact) for b in out)  # retries 0: fallback to sales
    h2 = Harness()
    h2.feed(started())
    out = h2.feed(t.CallHungUp("1.1", CALLER, "1.1", 16, "", True, "Hangup", 0))
    assert isinstance(out[-1], ivr.IvrEnded) and out[-1].result == "hung_up"
    assert not any(isinstance(b, c.RouteContact | a.HangupChannel) for b in out)


def test_replaying_the_inputs_gives_the_same_outputs_byte_for_byte() -> None:
    h = Harness()
    [play] = [b for b in h.feed(started()) if isinstance(b, a.PlayPrompt)]
    h.feed(finished(play.play_id))
    h.feed(dtmf("2"))
    again = Harness()
    state, outs = again.ivr.initial_state(), []
    for m in h.inputs:
        state, o = again.ivr.process(state, m)
        outs += o
    assert outs == h.out and state == h.state


def test_the_runner_never_snapshots_a_state_with_sensitive_digits(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.db")
    log.ensure_topics(topics.ALL)
    serde = Serde(log)
    h = Harness()

    def append(body: object, at: int) -> None:
        h.n += 1
        env = Envelope(f"in-{h.n}", "acme", at, "1.1", None, "switch")
        log.append([serde.out(Message(env, body))])

    try:
        runner = Runner(h.ivr, log, serde, batch_size=1, snapshot_every=1)
        append(started(), 1_000)
        runner.run_until_idle()
        play_id = runner.state.sessions.sessions[("acme", "1.1")].awaiting
        append(finished(play_id), 2_000)
        append(dtmf("1"), 2_500)
        runner.run_until_idle()
        snap = log.load_snapshot("ivr")
        assert snap is not None
        for i, d in enumerate("4111"):
            append(dtmf(d), 3_000 + i * 100)
            runner.run_until_idle()
            assert log.load_snapshot("ivr") == snap  # vetoed: the state holds digits
        append(c.Tick(), 9_000)  # the lookup times out, the flow routes, the session ends
        runner.run_until_idle()
        later = log.load_snapshot("ivr")
        assert later is not None and later != snap and b"4111" not in later.state
        runner.close()
    finally:
        log.close()


def recording_started() -> t.RecordingStarted:
    return t.RecordingStarted("1.1", CALLER, "1.1", "1.1.wav", "MixMonitorStart", 0)


def into_card_node(h: Harness) -> None:
    """The caller hears the menu and presses 1: the sensitive collect node is entered."""
    [play] = [b for b in h.feed(started()) if isinstance(b, a.PlayPrompt)]
    h.feed(finished(play.play_id))
    h.feed(dtmf("1"))


def test_a_lookup_is_handed_to_the_edge_with_its_real_url_and_its_result_fact_decides() -> None:
    for ok, exit_ in ((True, "success"), (False, "failure")):
        h = Harness()
        into_card_node(h)
        for d in "4111":
            h.feed(dtmf(d))
        [pending] = h.ivr.take_lookups()
        assert h.ivr.take_lookups() == []  # taken once
        assert pending.effect.url == "https://cards.example/block/4111" and pending.tenant == "acme"
        assert pending.effect.timeout_ms == 2_000 and pending.occurred_at == h.now
        [requested] = [o.body for o in h.out if isinstance(o.body, ivr.IvrLookupRequested)]
        assert "4111" not in requested.url  # the log has it masked
        assert not any(isinstance(o.body, a.PlayPrompt) and "4111" in o.body.prompt for o in h.out)
        assert h.feed(t.IvrLookupResult("other", pending.effect.request_id, True, "{}", "", 200, 5)) == []
        fact = t.IvrLookupResult(
            "1.1", pending.effect.request_id, ok, '{"blocked": true}' if ok else "", "" if ok else "http 500",
            200 if ok else 500, 12,
        )  # fmt: skip
        out = h.feed(fact)
        [answered] = [b for b in out if isinstance(b, ivr.IvrLookupAnswered)]
        assert (answered.ok, answered.reason) == (ok, "" if ok else "http 500")
        left = [b for b in out if isinstance(b, ivr.IvrNodeLeft) and b.node_id == "block"]
        assert [b.exit for b in left] == [exit_]
        assert isinstance(out[-1], ivr.IvrEnded) and out[-1].result == "routed"
        assert h.feed(fact) == []  # a second result of the same request: the session is over


def test_a_recorded_call_is_paused_for_card_data_in_a_sensitive_node_and_resumed_after() -> None:
    h = Harness()
    h.feed(started())
    h.feed(recording_started())
    [play] = [o.body for o in h.out if isinstance(o.body, a.PlayPrompt)]
    h.feed(finished(play.play_id))
    out = h.feed(dtmf("1"))
    names = [type(b).__name__ for b in out]
    assert names[names.index("IvrNodeEntered") : names.index("IvrNodeEntered") + 3] == [
        "IvrNodeEntered",
        "PauseRecording",
        "PlayPrompt",
    ]  # fmt: skip  (paused before the prompt asks for the number)
    assert a.PauseRecording("1.1", CALLER, "card_data") in out
    for d in "411":
        assert not any(isinstance(b, a.ResumeRecording) for b in h.feed(dtmf(d)))
    out = h.feed(dtmf("1"))
    names = [type(b).__name__ for b in out]
    left = next(i for i, b in enumerate(out) if isinstance(b, ivr.IvrNodeLeft) and b.node_id == "card")
    assert out[left + 1] == a.ResumeRecording("1.1", CALLER)
    assert names.count("PauseRecording") == names.count("ResumeRecording") - 1 == 0
    ids = [o.envelope.event_id for o in h.out]
    assert len(ids) == len(set(ids))  # the added actions have ids of their own


def test_no_pause_without_a_recording_at_once_when_one_starts_inside_and_no_resume_after_a_hangup() -> None:
    h = Harness()
    into_card_node(h)
    assert not any(isinstance(o.body, a.PauseRecording | a.ResumeRecording) for o in h.out)
    assert h.feed(recording_started()) == [a.PauseRecording("1.1", CALLER, "card_data")]
    assert h.feed(recording_started()) == []  # already known
    out = h.feed(t.CallHungUp("1.1", CALLER, "1.1", 16, "", True, "Hangup", 0))
    assert isinstance(out[-1], ivr.IvrEnded) and not any(isinstance(b, a.ResumeRecording) for b in out)
    assert h.state.recorded == frozenset() and h.state.paused == frozenset()
    h2 = Harness()
    into_card_node(h2)
    h2.feed(recording_started())
    h2.feed(t.RecordingStopped("1.1", CALLER, "1.1", "1.1.wav", "MixMonitorStop", 0))
    for d in "4111":
        h2.feed(dtmf(d))
    assert not any(isinstance(o.body, a.ResumeRecording) for o in h2.out)  # nothing left to resume
