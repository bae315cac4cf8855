"""The switchboard: switch facts to ACD commands, ACD decisions to switch actions.

Scenario tests feed facts (`schemas.telephony`) and contact events (`schemas.contact`) and
check the commands and actions decided; the property drives the real ACD decider and a
small model of the switch with hypothesis-chosen behaviour (answers, rejects, rings out,
hang-ups, failed originates, duplicated facts, ticks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.acd import acd_processor
from processors.decider import Invalid
from processors.switchboard import Switchboard, SwitchboardConfig
from schemas import commands as c
from schemas import contact as ev
from schemas import switch_actions as a
from schemas import telephony as t
from schemas.envelope import Envelope, Message
from schemas.system import DeadLetter
from streams.ports import Record
from streams.runner import step
from streams.serde import MemorySchemaStore, Serde

CONFIG = SwitchboardConfig(
    dnis_queues={"8000": "sales"}, agent_endpoints={"a1": "PJSIP/a1"}, endpoint_pattern="SIP/{agent_id}"
)
CALLER = "PJSIP/trunk-00000001"


def started(uid: str = "100.1", *, dnis: str = "8000", context: str = "ccx-inbound", channel: str = CALLER,
            trunk: str = "PJSIP/trunk") -> t.CallStarted:  # fmt: skip
    return t.CallStarted(uid, channel, uid, "+4930111", "Ann", dnis, context, dnis, trunk, "Newchannel", 0)


def answered(uid: str, channel: str = "") -> t.ChannelAnswered:
    return t.ChannelAnswered(uid, channel, uid, "Newstate", 0)


def hung_up(uid: str, cause: int = 16, channel: str = "") -> t.CallHungUp:
    return t.CallHungUp(uid, channel, uid, cause, "", True, "Hangup", 0)


def offered(agent: str = "a1", contact: str = "100.1", expires_at: int = 25_000) -> ev.ContactOffered:
    return ev.ContactOffered(contact, "sales", agent, "longest_idle", 1, (), "", expires_at)


class Harness:
    """Feeds one message at a time; `now` is the scenario clock (ms)."""

    def __init__(self, config: SwitchboardConfig = CONFIG, tenant: str = "acme") -> None:
        self.sb = Switchboard(config)
        self.state = self.sb.initial_state()
        self.tenant, self.now, self.n = tenant, 10_000, 0
        self.out: list[Message[Any]] = []

    def feed(self, body: object, at: int | None = None) -> list[object]:
        self.n += 1
        self.now = at if at is not None else self.now + 100
        msg = Message(Envelope(f"in-{self.n}", self.tenant, self.now, f"corr-{self.n}", None, "switch"), body)
        self.state, outs = self.sb.process(self.state, msg)
        self.out += outs
        return [o.body for o in outs]

    def leg(self, agent: str = "a1") -> a.OriginateAgent:
        return [
            o.body for o in self.out if isinstance(o.body, a.OriginateAgent) and o.body.agent_id == agent
        ][-1]

    def connected(self, agent: str = "a1", channel: str = "PJSIP/a1-00000002") -> str:
        """Route, offer, ring and answer; the agent leg's unique id."""
        self.feed(started())
        self.feed(offered(agent))
        uid = self.leg(agent).channel_id
        self.feed(started(uid, context="ccx-agent", dnis="s", channel=channel, trunk=f"PJSIP/{agent}"))
        assert self.feed(answered(uid)) == [c.AcceptOffer("100.1", agent)]
        self.feed(ev.OfferAccepted("100.1", agent))
        self.feed(ev.ContactConnected("100.1", "sales", agent, 3_000))
        return uid


def test_a_call_entering_the_holding_context_is_routed_to_its_dnis_queue() -> None:
    h = Harness()
    assert h.feed(started()) == [c.RouteContact("100.1", "sales", "voice", 0, "+4930111", "8000")]
    out = h.out[0].envelope
    assert (out.correlation_id, out.causation_id, out.tenant) == ("100.1", "in-1", "acme")


def test_calls_elsewhere_or_to_unmapped_numbers_are_left_alone() -> None:
    h = Harness()
    assert h.feed(started("1.1", context="from-internal")) == []
    assert h.feed(started("1.2", dnis="9999")) == []
    assert h.feed(started()) != [] and h.feed(started()) == []  # a duplicate routes nothing
    h = Harness(replace(CONFIG, default_queue="support"))
    assert h.feed(started("1.2", dnis="9999")) == [
        c.RouteContact("1.2", "support", "voice", 0, "+4930111", "9999")
    ]


def test_an_offer_originates_the_agents_endpoint() -> None:
    h = Harness()
    h.feed(started())
    [orig] = h.feed(offered("a1", expires_at=h.now + 100 + 14_500), at=h.now + 100)
    assert orig == a.OriginateAgent(
        "100.1", "a1", "PJSIP/a1", CALLER, "ccx-in-2", "ccx-agent", "s", "100.1", 15
    )
    assert h.feed(offered("a2"))[0].endpoint == "SIP/a2"  # type: ignore[attr-defined]
    h = Harness(replace(CONFIG, endpoint_pattern=""))
    h.feed(started())
    assert h.feed(offered("a2")) == [c.DeclineOffer("100.1", "a2")]  # no endpoint: declined


def test_the_agent_answers_the_acd_connects_and_the_call_is_bridged() -> None:
    h = Harness(replace(CONFIG, record_file="/rec/{contact_id}.wav"))
    h.feed(started())
    h.feed(offered())
    uid = h.leg().channel_id
    assert h.feed(started(uid, context="ccx-agent", channel="PJSIP/a1-00000002", trunk="PJSIP/a1")) == []
    assert h.feed(t.ChannelRinging(uid, "PJSIP/a1-00000002", uid, "Newstate", 0)) == []
    assert h.feed(answered(uid)) == [c.AcceptOffer("100.1", "a1")]
    assert h.feed(answered(uid)) == []  # a repeated answer is one
    assert h.feed(ev.ContactConnected("100.1", "sales", "a1", 3_000)) == [
        a.BridgeCall("100.1", CALLER, "PJSIP/a1-00000002"),
        a.StartRecording("100.1", CALLER, "/rec/100.1.wav"),
    ]


def test_the_caller_hangs_up_the_contact_ends_and_the_agent_leg_is_hung_up() -> None:
    h = Harness()
    uid = h.connected()
    assert h.feed(hung_up("100.1")) == [
        c.HangUpContact("100.1", "caller"),
        a.HangupChannel("100.1", "PJSIP/a1-00000002", 16),
    ]
    assert h.feed(hung_up("100.1")) == []
    assert h.feed(ev.ContactEnded("100.1", "sales", "completed", "caller", "a1", 3_000)) == []
    assert h.feed(hung_up(uid)) == []
    assert dict(h.state.boards["acme"].calls) == {}  # both down, contact ended: forgotten
    assert h.feed(started()) == []  # a late repeat of its start routes nothing


def test_the_agent_hangs_up_and_the_caller_is_hung_up_when_the_contact_ends() -> None:
    h = Harness()
    uid = h.connected()
    assert h.feed(hung_up(uid)) == [c.HangUpContact("100.1", "agent")]
    ended = ev.ContactEnded("100.1", "sales", "completed", "agent", "a1", 3_000)
    assert h.feed(ended) == [a.HangupChannel("100.1", CALLER, 16)]
    assert h.feed(hung_up("100.1")) == []
    assert dict(h.state.boards["acme"].calls) == {}


def test_a_ring_timeout_hangs_the_agent_leg_up() -> None:
    h = Harness()
    h.feed(started())
    h.feed(offered())
    uid = h.leg().channel_id
    h.feed(started(uid, context="ccx-agent", channel="PJSIP/a1-00000002", trunk="PJSIP/a1"))
    assert h.feed(ev.OfferTimedOut("100.1", "a1")) == [a.HangupChannel("100.1", "PJSIP/a1-00000002", 16)]
    assert h.feed(hung_up(uid)) == []  # our own hang-up: no decline
    assert h.feed(answered(uid)) == []  # too late


def test_a_leg_withdrawn_before_its_channel_is_named_is_hung_up_when_it_is() -> None:
    h = Harness()
    h.feed(started())
    h.feed(offered())
    uid = h.leg().channel_id
    assert h.feed(ev.OfferWithdrawn("100.1", "a1", "answered_elsewhere")) == []
    channel = "PJSIP/a1-00000009"
    assert h.feed(started(uid, context="ccx-agent", channel=channel)) == [
        a.HangupChannel("100.1", channel, 16)
    ]


def test_a_busy_or_rejecting_agent_declines_and_no_answer_is_left_to_the_ring_timeout() -> None:
    for cause, expected in (
        (17, [c.DeclineOffer("100.1", "a1")]),
        (21, [c.DeclineOffer("100.1", "a1")]),
        (19, []),
    ):
        h = Harness()
        h.feed(started())
        h.feed(offered())
        assert h.feed(hung_up(h.leg().channel_id, cause)) == expected
        assert h.feed(ev.OfferTimedOut("100.1", "a1")) == []  # the leg is already down


def test_the_caller_abandons_while_the_agent_rings() -> None:
    h = Harness()
    h.feed(started())
    h.feed(offered())
    uid = h.leg().channel_id
    h.feed(started(uid, context="ccx-agent", channel="PJSIP/a1-00000002"))
    assert h.feed(hung_up("100.1")) == [
        c.HangUpContact("100.1", "caller"),
        a.HangupChannel("100.1", "PJSIP/a1-00000002", 16),
    ]
    assert h.feed(ev.ContactEnded("100.1", "sales", "abandoned", "caller", "", 900)) == []


def test_an_originate_that_failed_declines_the_offer_and_a_failed_bridge_ends_the_contact() -> None:
    h = Harness()
    h.feed(started())
    h.feed(offered())
    orig = h.leg()
    failed = t.SwitchActionFailed(
        "act-1", "OriginateAgent", "100.1", "PJSIP/a1", orig.channel_id, "ActionFailed", "x"
    )
    assert h.feed(failed) == [c.DeclineOffer("100.1", "a1")]
    assert h.feed(failed) == []
    h = Harness()
    h.connected()
    bridge = t.SwitchActionFailed(
        "act-2", "BridgeCall", "100.1", CALLER, "", "ActionFailed", "No such channel"
    )
    assert h.feed(bridge) == [c.HangUpContact("100.1", "system")]
    ended = ev.ContactEnded("100.1", "sales", "completed", "system", "a1", 3_000)
    assert h.feed(ended) == [
        a.HangupChannel("100.1", CALLER, 16),
        a.HangupChannel("100.1", "PJSIP/a1-00000002", 16),
    ]


def test_hold_on_the_switch_holds_the_contact() -> None:
    h = Harness()
    uid = h.connected()
    held = t.CallHeld(uid, "PJSIP/a1-00000002", uid, "default", "Hold", 0)
    assert h.feed(held) == [c.HoldContact("100.1", "a1")]
    assert h.feed(replace(held, uniqueid="100.1", call_id="100.1")) == []  # once
    assert h.feed(t.CallResumed(uid, "PJSIP/a1-00000002", uid, "Unhold", 0)) == [
        c.ResumeContact("100.1", "a1")
    ]


def test_a_switch_that_ignores_channel_id_is_matched_by_endpoint() -> None:
    h = Harness()
    h.feed(started())
    h.feed(offered())
    h.feed(started("200.7", context="ccx-agent", channel="PJSIP/a1-00000003", trunk="PJSIP/a1"))
    assert h.feed(answered("200.7")) == [c.AcceptOffer("100.1", "a1")]
    assert h.feed(ev.ContactConnected("100.1", "sales", "a1", 1)) == [
        a.BridgeCall("100.1", CALLER, "PJSIP/a1-00000003")
    ]


def test_facts_and_events_of_calls_it_does_not_know_change_nothing() -> None:
    h = Harness()
    for body in (
        answered("9.9"),
        hung_up("9.9"),
        t.DtmfReceived("9.9", "X", "9.9", "1", "Received", 100, "DTMFEnd", 0),
        t.QueueMemberPaused("support", "PJSIP/a1", "A1", "lunch", "QueueMemberPause", 0),
        offered(contact="sim-1"),
        ev.ContactEnded("sim-1", "sales", "abandoned", "caller", "", 1),
    ):
        assert h.feed(body) == []
    assert h.state == h.sb.initial_state()


def test_bad_input_is_dead_lettered_by_the_runner() -> None:
    h = Harness()
    try:
        h.feed(c.LogInAgent("a1"))
    except Invalid as e:
        assert "not LogInAgent" in e.reason
    else:
        raise AssertionError("a command is no input of the switchboard")
    serde = Serde(MemorySchemaStore())
    sb = Switchboard(CONFIG)
    garbage = Record("cc.telephony", 0, 7, b"acme", b"\x00\x00\x00\xff\xffnot avro")
    _, [letter], dead = step(sb, serde, sb.initial_state(), garbage, {})
    assert dead and serde.decode(letter.value).body.error == "DecodeError"
    nameless = Message(Envelope("e1", "acme", 5, "x"), replace(started(), uniqueid=""))
    record = Record("cc.telephony", 0, 8, b"acme", serde.encode(nameless))
    _, [letter], dead = step(sb, serde, sb.initial_state(), record, {})
    body = serde.decode(letter.value).body
    assert dead and isinstance(body, DeadLetter) and body.error == "Invalid" and "uniqueid" in body.reason


# -- the property: the real ACD, a model of the switch, hypothesis picks what happens --------

AGENTS = ("a1", "a2")
SETUP = (
    c.DefineQueue("sales", "Sales", ring_timeout_s=10, wrap_up_s=1, rona_not_ready=False),
    *(c.DefineAgent(ag, ag.upper(), ("sales",)) for ag in AGENTS),
    *(c.LogInAgent(ag) for ag in AGENTS),
    *(c.SetAgentReady(ag) for ag in AGENTS),
)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["call", "answer", "reject", "ring_out", "agent_hangup", "caller_hangup", "tick", "dup"]
        ),
        st.integers(0, 3),
    ),
    max_size=40,
)


class World:
    """The switchboard between the real ACD and a model of Asterisk; inputs recorded."""

    def __init__(self, fail: frozenset[int]) -> None:
        self.sb, self.acd = Switchboard(CONFIG), acd_processor()
        self.sb_state, self.acd_state = self.sb.initial_state(), self.acd.initial_state()
        self.now, self.n, self.fail = 1_000, 0, fail
        self.inputs: list[Message[Any]] = []
        self.outputs: list[Message[Any]] = []
        self.live: dict[str, str] = {}  # uid -> channel name, channels up or ringing
        self.answered: set[str] = set()
        self.callers: list[str] = []
        self.legs: list[str] = []  # agent leg uids in origination order
        self.facts: list[object] = []
        self.originated = 0
        for cmd in SETUP:
            self.command(cmd)

    def msg(self, body: object) -> Message[Any]:
        self.n += 1
        return Message(Envelope(f"w{self.n}", "acme", self.now, f"w{self.n}", None, "switch"), body)

    def command(self, body: object, cause: Message[Any] | None = None) -> None:
        msg = Message(replace(cause.envelope), body) if cause is not None else self.msg(body)
        self.acd_state, events = self.acd.process(self.acd_state, msg)
        for e in events:
            if type(e.body).__module__ == "schemas.contact":
                self.switchboard(e)

    def fact(self, body: object) -> None:
        self.facts.append(body)
        self.switchboard(self.msg(body))

    def switchboard(self, msg: Message[Any]) -> None:
        self.inputs.append(msg)
        self.sb_state, outs = self.sb.process(self.sb_state, msg)
        self.outputs += outs
        for o in outs:
            self.react(o)

    def react(self, o: Message[Any]) -> None:
        body = o.body
        if isinstance(body, a.OriginateAgent):
            self.originated += 1
            if self.originated in self.fail:
                fid, cid = o.envelope.event_id, body.contact_id
                failed = t.SwitchActionFailed(
                    fid, "OriginateAgent", cid, "", body.channel_id, "ActionFailed", ""
                )
                self.fact(failed)
                return
            channel = f"{body.endpoint}-{self.originated:08x}"
            self.live[body.channel_id] = channel
            self.legs.append(body.channel_id)
            self.fact(
                started(body.channel_id, context="ccx-agent", dnis="s", channel=channel, trunk=body.endpoint)
            )
        elif isinstance(body, a.HangupChannel):
            uid = next((u for u, ch in self.live.items() if ch == body.channel), None)
            if uid is not None:
                self.hang_up(uid, 16)
        elif isinstance(body, (c.RouteContact, c.AcceptOffer, c.DeclineOffer, c.HangUpContact,
                               c.HoldContact, c.ResumeContact)):  # fmt: skip
            self.command(body, o)

    def hang_up(self, uid: str, cause: int) -> None:
        channel = self.live.pop(uid)
        self.fact(hung_up(uid, cause, channel))

    def step(self, kind: str, i: int) -> None:
        self.now += 700
        ringing = [u for u in self.legs if u in self.live and u not in self.answered]
        talking = [u for u in self.legs if u in self.answered and u in self.live]
        callers = [u for u in self.callers if u in self.live]
        if kind == "call":
            uid = f"{self.n}.{i}"
            self.callers.append(uid)
            self.live[uid] = f"PJSIP/trunk-{uid}"
            self.fact(started(uid, channel=self.live[uid]))
        elif kind == "answer" and ringing:
            uid = ringing[i % len(ringing)]
            self.answered.add(uid)
            self.fact(answered(uid, self.live[uid]))
        elif kind in ("reject", "ring_out") and ringing:
            self.hang_up(ringing[i % len(ringing)], 21 if kind == "reject" else 19)
        elif kind == "agent_hangup" and talking:
            self.hang_up(talking[i % len(talking)], 16)
        elif kind == "caller_hangup" and callers:
            self.hang_up(callers[i % len(callers)], 16)
        elif kind == "tick":
            self.now += 5_000 * i
            self.command(c.Tick())
        elif kind == "dup" and self.facts:
            self.switchboard(self.msg(self.facts[-1 - i % len(self.facts)]))

    def drain(self) -> None:
        """Every caller hangs up, time passes, every agent hangs up."""
        for uid in [u for u in self.callers if u in self.live]:
            self.hang_up(uid, 16)
        for _ in range(3):
            self.now += 20_000
            self.command(c.Tick())
        for uid in [u for u in self.legs if u in self.live]:
            self.hang_up(uid, 16)


@settings(max_examples=150, deadline=None)
@given(STEPS, st.frozensets(st.integers(1, 8), max_size=2))
def test_replay_is_identical_and_every_agent_leg_is_handled_once(
    steps: list[tuple[str, int]], fail: frozenset[int]
) -> None:
    w = World(fail)
    for kind, i in steps:
        w.step(kind, i)
    w.drain()
    # replaying the recorded inputs through a fresh switchboard decides the same, byte for byte
    sb = Switchboard(CONFIG)
    state, again = sb.initial_state(), list[Message[Any]]()
    for msg in w.inputs:
        state, outs = sb.process(state, msg)
        again += outs
    assert again == w.outputs
    assert len({o.envelope.event_id for o in w.outputs}) == len(w.outputs)
    # every originated leg: answered or declined at most once, hung up by us at most once,
    # and in the end handled (answered, declined, hung up by us or by the switch)
    bodies = [o.body for o in w.outputs]
    originated = [b for b in bodies if isinstance(b, a.OriginateAgent)]
    verdicts: Counter[tuple[str, str]] = Counter(
        (b.contact_id, b.agent_id) for b in bodies if isinstance(b, c.AcceptOffer | c.DeclineOffer)
    )
    hangups = Counter(b.channel for b in bodies if isinstance(b, a.HangupChannel))
    assert all(n == 1 for n in hangups.values()), hangups
    per_offer = Counter((b.contact_id, b.agent_id) for b in originated)
    assert all(verdicts[k] <= per_offer[k] for k in verdicts), (verdicts, per_offer)
    assert not w.live  # every channel went down
    assert all(not b.calls for b in w.sb_state.boards.values())  # and the switchboard forgot them all


# -- the IVR in front of the queue ---------------------------------------------------------

IVR_CONFIG = replace(CONFIG, dnis_flows={"8000": "hotline"})


def ivr_ended(result: str, contact: str = "100.1") -> object:
    from schemas.ivr import IvrEnded

    return IvrEnded(contact, "hotline", result, "sales")


def test_a_call_with_a_flow_is_left_to_the_ivr_and_taken_over_when_the_flow_routes_it() -> None:
    h = Harness(IVR_CONFIG)
    assert h.feed(started()) == []  # the IVR processor routes it
    assert h.feed(ivr_ended("routed")) == []
    [originate] = h.feed(offered())
    assert isinstance(originate, a.OriginateAgent) and originate.caller_channel == CALLER


def test_a_caller_who_hangs_up_in_the_ivr_is_not_the_acds() -> None:
    h = Harness(IVR_CONFIG)
    h.feed(started())
    assert h.feed(hung_up("100.1")) == []  # no HangUpContact: the ACD never knew the contact
    assert h.feed(ivr_ended("hung_up")) == []
    board = h.state.boards.get("acme")
    assert board is not None and "100.1" not in board.calls


def test_a_caller_gone_before_the_switchboard_saw_the_flow_route_abandons_after_the_route() -> None:
    h = Harness(IVR_CONFIG)
    h.feed(started())
    h.feed(hung_up("100.1"))
    assert h.feed(ivr_ended("routed")) == [c.HangUpContact("100.1", "caller")]


def test_a_flow_that_ends_in_the_ivr_is_forgotten() -> None:
    h = Harness(IVR_CONFIG)
    h.feed(started())
    assert h.feed(ivr_ended("completed")) == []
    assert h.feed(hung_up("100.1")) == []
    board = h.state.boards.get("acme")
    assert board is not None and "100.1" not in board.calls
