"""The pure IVR interpreter: every node type runs, node-visit events follow the path taken,
retries and timeouts, hang-ups close the open node, sensitive digits never reach an event,
and (property) random flows under random inputs never fail, pair every entered node with
one left event, and replay byte for byte."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccx.ivr import load_flow_text
from schemas.commands import RequestCallback, RouteContact
from schemas.ivr import (
    IvrAttribute,
    IvrEnded,
    IvrLookupAnswered,
    IvrLookupRequested,
    IvrNodeEntered,
    IvrNodeLeft,
    IvrStarted,
    SurveyAnswered,
)
from schemas.routing import SkillLevel
from telephony.ivr.drive import drive, tokens
from telephony.ivr.interpreter import IvrState, start, step
from telephony.ivr.messages import (
    CallerHungUp,
    Contact,
    Digit,
    HangUp,
    Input,
    LeaveVoicemail,
    LookupAnswered,
    LookupFailed,
    PlayPrompt,
    PromptFinished,
    StartLookup,
    Tick,
)
from telephony.ivr.model import Flow

C = Contact("c1", "+4930111", "800")
MONDAY_10 = 1767607200000  # 2026-01-05T10:00:00Z


def flow_of(nodes: str, start_node: str = "a") -> Flow:
    text = f"id: f\nversion: 1\nstart: {start_node}\nnodes:\n" + textwrap.indent(textwrap.dedent(nodes), "  ")
    flow, _warnings = load_flow_text(text)
    return flow


class Call:
    """A contact in a flow, fed one input at a time; `out` collects every output."""

    def __init__(self, flow: Flow, now: int = 0, contact: Contact = C) -> None:
        self.flow, self.now = flow, now
        self.state, outs = start(flow, contact, now)
        self.out: list[object] = list(outs)

    def feed(self, item: Input, after_ms: int = 0) -> tuple[object, ...]:
        self.now += after_ms
        self.state, outs = step(self.flow, self.state, item, self.now)
        self.out += outs
        return outs

    def finish_prompt(self, after_ms: int = 1000) -> tuple[object, ...]:
        return self.feed(PromptFinished(self.state.awaiting), after_ms)

    def of(self, kind: type) -> list[Any]:
        return [o for o in self.out if isinstance(o, kind)]

    def exits(self) -> list[tuple[str, str, str]]:
        return [(o.node_id, o.exit, o.next_node) for o in self.of(IvrNodeLeft)]

    @property
    def path(self) -> list[str]:
        return [o.node_id for o in self.of(IvrNodeEntered)]


# ---- the simplest flows, event by event ----


def test_play_then_hangup_emits_entered_and_left_for_each_node_in_order() -> None:
    flow = flow_of("""\
        a: {type: play, prompt: {tts: "Hello {ani}"}, next: b}
        b: {type: hangup, prompt: bye.wav}
    """)
    call = Call(flow, 5000)
    assert call.out == [
        IvrStarted("c1", "f", 1, "+4930111", "800"),
        IvrNodeEntered("c1", "f", "a", "play", 1),
        PlayPrompt("c1", "c1:p1", "", "Hello +4930111"),
    ]
    assert call.feed(Digit("1")) == ()  # a play node takes no digits
    assert call.feed(PromptFinished("c1:p0")) == ()  # a stale prompt id changes nothing
    assert call.finish_prompt() == (
        IvrNodeLeft("c1", "f", "a", "play", "next", "b"),
        IvrNodeEntered("c1", "f", "b", "hangup", 1),
        HangUp("c1", "bye.wav", ""),
        IvrNodeLeft("c1", "f", "b", "hangup", "end", ""),
        IvrEnded("c1", "f", "completed", "b"),
    )
    assert call.state.ended and call.state.result == "completed"
    assert call.feed(CallerHungUp()) == ()  # nothing after the end


# ---- menu: digits, invalid entries, timeouts, retries ----

MENU = """\
    a:
      type: menu
      prompt: menu.wav
      invalid_prompt: invalid.wav
      timeout_prompt: {tts: "Are you there?"}
      options: {1: sales, "#": support}
      timeout_s: 5
      retries: 1
      fallback: operator
    sales: {type: route, queue: sales}
    support: {type: route, queue: support}
    operator: {type: route, queue: operator, priority: 9}
"""


def test_a_menu_digit_takes_its_option_even_while_the_prompt_plays() -> None:
    call = Call(flow_of(MENU))
    call.feed(Digit("#"), 300)
    assert call.exits() == [("a", "digit", "support"), ("support", "end", "")]
    assert call.of(IvrNodeLeft)[0].digits == "#"
    assert call.of(RouteContact) == [RouteContact("c1", "support", "voice", 0, "+4930111", "800")]
    assert call.of(IvrEnded) == [IvrEnded("c1", "f", "routed", "support")]


def test_a_menu_times_out_only_after_its_prompt_finished_then_retries_then_falls_back() -> None:
    call = Call(flow_of(MENU))
    assert call.feed(Tick(), 60_000) == ()  # the prompt still plays: no timer yet
    call.finish_prompt()  # t = 61 s: the timer runs to 66 s
    assert call.state.deadline == 66_000
    assert call.feed(Tick(), 4_999) == ()
    outs = call.feed(Tick(), 1)
    assert [type(o) for o in outs] == [PlayPrompt, PlayPrompt]  # "are you there?", then the menu
    assert outs[0].text == "Are you there?" and outs[1].file == "menu.wav"  # type: ignore[attr-defined]
    assert call.feed(PromptFinished(outs[0].play_id)) == ()  # type: ignore[attr-defined]
    call.finish_prompt()
    call.feed(Tick(), 5000)
    assert call.exits() == [("a", "timeout", "operator"), ("operator", "end", "")]
    assert call.of(RouteContact)[0].priority == 9
    assert [e.visit for e in call.of(IvrNodeEntered)] == [1, 1]  # a retry is not a new visit


def test_an_invalid_digit_replays_the_invalid_prompt_and_the_menu_then_falls_back() -> None:
    call = Call(flow_of(MENU))
    outs = call.feed(Digit("7"))
    assert [o.file for o in outs if isinstance(o, PlayPrompt)] == ["invalid.wav", "menu.wav"]
    assert call.exits() == []
    call.feed(Digit("9"))
    assert call.exits() == [("a", "invalid", "operator"), ("operator", "end", "")]
    assert call.of(IvrNodeLeft)[0].digits == "9"


def test_a_digit_that_is_not_dtmf_is_ignored() -> None:
    call = Call(flow_of(MENU))
    assert call.feed(Digit("x")) == () and call.feed(Digit("12")) == ()


# ---- collect ----

COLLECT = """\
    a:
      type: collect
      prompt: enter.wav
      invalid_prompt: wrong.wav
      attribute: account
      min_length: 3
      max_length: 5
      pattern: "[1-8]+"
      timeout_s: 4
      retries: 1
      next: say
      fallback: bye
    say: {type: play, prompt: {tts: "Account {account}"}, next: bye}
    bye: {type: hangup}
"""


def test_collect_stores_the_digits_ended_by_the_terminator() -> None:
    call = Call(flow_of(COLLECT))
    call.finish_prompt()
    for d in "123#":
        call.feed(Digit(d), 500)
    assert call.exits() == [("a", "success", "say")]
    assert call.of(IvrNodeLeft)[0].digits == "123"
    assert dict(call.state.attributes)["account"] == "123"
    assert call.of(PlayPrompt)[-1].text == "Account 123"


def test_collect_ends_at_max_length_and_on_an_inter_digit_timeout() -> None:
    call = Call(flow_of(COLLECT))
    for d in "12345":
        call.feed(Digit(d))
    assert call.exits() == [("a", "success", "say")] and call.of(IvrNodeLeft)[0].digits == "12345"
    call = Call(flow_of(COLLECT))
    call.feed(Digit("4"), 100)
    call.feed(Digit("4"), 100)
    call.feed(Digit("4"), 3000)  # each digit restarts the 4 s timer
    assert call.feed(Tick(), 3999) == ()
    call.feed(Tick(), 1)
    assert call.exits() == [("a", "success", "say")] and call.of(IvrNodeLeft)[0].digits == "444"


def test_collect_rejects_short_or_unmatched_input_then_falls_back_with_the_digits() -> None:
    call = Call(flow_of(COLLECT))
    outs = call.feed(Digit("1")) + call.feed(Digit("#"))  # too short
    assert [o.file for o in outs if isinstance(o, PlayPrompt)] == ["wrong.wav", "enter.wav"]
    for d in "999#":  # 9 is not in the pattern
        call.feed(Digit(d))
    assert call.exits() == [("a", "invalid", "bye"), ("bye", "end", "")]
    assert call.of(IvrNodeLeft)[0].digits == "999"
    assert "account" not in dict(call.state.attributes)


def test_collect_with_nothing_typed_times_out() -> None:
    call = Call(flow_of(COLLECT.replace("retries: 1", "retries: 0")))
    call.finish_prompt()
    call.feed(Tick(), 4000)
    assert call.exits()[0] == ("a", "timeout", "bye") and call.of(IvrNodeLeft)[0].digits == ""


SENSITIVE = """\
    a:
      type: collect
      prompt: card.wav
      attribute: card
      sensitive: true
      min_length: 16
      max_length: 16
      retries: 0
      next: block
      fallback: block
    block:
      type: lookup
      method: POST
      url: "https://bank.example/cards/{card}/block?by={ani}"
      map: {ref: "{answer.ref}"}
      next: done
      on_failure: done
    done: {type: hangup, prompt: {tts: "Reference {ref}"}}
"""


def test_sensitive_digits_never_appear_in_an_event_but_reach_the_lookup_edge() -> None:
    card = "4111111111111111"
    call = Call(flow_of(SENSITIVE))
    for d in card:
        call.feed(Digit(d))
    (lookup,) = call.of(StartLookup)
    assert lookup.url == f"https://bank.example/cards/{card}/block?by=%2B4930111"  # the edge needs it
    call.feed(LookupAnswered(lookup.request_id, '{"ref": "R-1"}'))
    events = [o for o in call.out if type(o).__module__ == "schemas.ivr"]
    assert card not in repr(events)
    assert call.of(IvrNodeLeft)[0].digits == "***"
    assert call.of(IvrLookupRequested)[0].url == "https://bank.example/cards/***/block?by=%2B4930111"
    assert call.of(HangUp) == [HangUp("c1", "", "Reference R-1")]
    # a wrong card number (too short, then a timeout) is masked too
    call = Call(flow_of(SENSITIVE))
    for d in "4111#":
        call.feed(Digit(d))
    assert call.of(IvrNodeLeft)[0].exit == "invalid" and "4111" not in repr(call.out)


# ---- lookup ----

LOOKUP = """\
    a:
      type: lookup
      url: "https://crm.example/customers?ani={ani}"
      timeout_s: 2
      map: {vip: "{answer.customer.vip}", name: "{answer.customer.names.0}", tier: "{answer.tier}"}
      next: ok
      on_failure: ko
    ok: {type: route, queue: "{tier}", priority: "{vip_prio}", skills: {"{tier}": 2, bad: "{name}"}}
    ko: {type: voicemail, box: general}
"""


def test_a_lookup_is_an_effect_and_its_answer_maps_into_attributes() -> None:
    call = Call(flow_of(LOOKUP), 1000)
    (req,) = call.of(StartLookup)
    assert req == StartLookup("c1", "c1:l1", "GET", "https://crm.example/customers?ani=%2B4930111", 2000)
    assert call.of(IvrLookupRequested) == [
        IvrLookupRequested("c1", "f", "a", "c1:l1", "GET", "https://crm.example/customers?ani=%2B4930111")
    ]
    assert call.feed(LookupAnswered("c1:l0", "{}")) == ()  # another request's answer
    call.feed(LookupAnswered("c1:l1", '{"customer": {"vip": true, "names": ["Ada"]}, "tier": "gold"}'), 300)
    assert call.of(IvrLookupAnswered) == [
        IvrLookupAnswered(
            "c1",
            "f",
            "a",
            "c1:l1",
            True,
            "",
            (IvrAttribute("vip", "true"), IvrAttribute("name", "Ada"), IvrAttribute("tier", "gold")),
        )
    ]
    assert call.exits() == [("a", "success", "ok"), ("ok", "end", "")]
    # priority renders empty (no vip_prio): 0; the skill level "Ada" is no level: dropped
    assert call.of(RouteContact) == [
        RouteContact("c1", "gold", "voice", 0, "+4930111", "800", (SkillLevel("gold", 2),))
    ]


def test_a_lookup_fails_on_an_edge_error_on_a_bad_answer_and_on_its_timeout() -> None:
    call = Call(flow_of(LOOKUP))
    call.feed(LookupFailed("c1:l1", "HTTP 503"))
    assert call.of(IvrLookupAnswered)[0].reason == "HTTP 503"
    assert call.exits()[0] == ("a", "failure", "ko")
    assert call.of(LeaveVoicemail) == [LeaveVoicemail("c1", "general")]
    assert call.of(IvrEnded)[0].result == "voicemail"
    call = Call(flow_of(LOOKUP))
    call.feed(LookupAnswered("c1:l1", "<html>"))
    assert call.of(IvrLookupAnswered)[0].reason == "answer is not JSON"
    call = Call(flow_of(LOOKUP))
    assert call.feed(Tick(), 1999) == ()
    call.feed(Tick(), 1)
    assert call.of(IvrLookupAnswered)[0].reason == "timeout" and call.exits()[0][1] == "failure"
    assert call.feed(LookupAnswered("c1:l1", "{}")) == ()  # too late: the flow ended


# ---- set, branch, hours, goto ----


def test_set_and_branch_choose_by_attribute() -> None:
    nodes = """\
        a: {type: set, attributes: {vip: true, segment: "{dnis}-x"}, next: b}
        b: {type: branch, value: "{vip}", cases: {"true": v, "false": n}, default: n}
        v: {type: route, queue: vip, priority: 5, skills: {"seg_{segment}": 1}}
        n: {type: route, queue: normal}
    """
    call = Call(flow_of(nodes))
    assert call.path == ["a", "b", "v"]
    assert call.exits()[:2] == [("a", "next", "b"), ("b", "match", "v")]
    assert call.of(RouteContact)[0].skills == (SkillLevel("seg_800-x", 1),)
    call = Call(flow_of(nodes.replace("vip: true", "vip: maybe")))
    assert call.exits()[1] == ("b", "default", "n")


def test_hours_use_the_time_of_the_input_in_the_flow_time_zone() -> None:
    nodes = """\
        a: {type: hours, timezone: Europe/Berlin, days: mon-fri, from: "08:00", to: "18:00", open: o,
            closed: c, holidays: [2026-01-06]}
        o: {type: route, queue: q}
        c: {type: voicemail, box: closed}
    """
    assert Call(flow_of(nodes), MONDAY_10).path == ["a", "o"]  # 11:00 in Berlin
    assert Call(flow_of(nodes), MONDAY_10 + 7 * 3600_000).path == ["a", "c"]  # 18:00 in Berlin
    assert Call(flow_of(nodes), MONDAY_10 + 24 * 3600_000).path == ["a", "c"]  # a holiday
    assert Call(flow_of(nodes), MONDAY_10 - 2 * 24 * 3600_000).path == ["a", "c"]  # Saturday


def test_goto_loops_back_up_to_its_limit_then_takes_its_fallback() -> None:
    flow = flow_of("""\
        a: {type: menu, prompt: m.wav, options: {9: again, 1: q}, fallback: q}
        again: {type: goto, next: a, limit: 2, fallback: bye}
        q: {type: route, queue: q}
        bye: {type: hangup}
    """)
    call = Call(flow)
    for _ in range(3):
        call.feed(Digit("9"))
    assert call.path == ["a", "again", "a", "again", "a", "again", "bye"]
    assert [e.visit for e in call.of(IvrNodeEntered)] == [1, 1, 2, 2, 3, 3, 1]
    assert call.exits()[-2:] == [("again", "limit", "bye"), ("bye", "end", "")]


# ---- the session ends: callback, survey, hang-up ----


def test_callback_queues_the_contact_then_asks_for_the_callback() -> None:
    call = Call(flow_of('a: {type: callback, queue: support, number: "0049{dnis}", priority: 4}\n'))
    assert [o for o in call.out if isinstance(o, RouteContact | RequestCallback)] == [
        RouteContact("c1", "support", "voice", 4, "+4930111", "800"),
        RequestCallback("c1", "0049800"),
    ]
    assert call.of(IvrEnded)[0].result == "callback"


def test_a_survey_stores_scores_1_to_5_and_moves_on_without_one_too() -> None:
    flow = flow_of("""\
        a: {type: survey, question: resolved, prompt: q1.wav, next: b, retries: 1}
        b: {type: survey, question: csat, prompt: q2.wav, next: c, retries: 0, timeout_s: 3}
        c: {type: hangup}
    """)
    call = Call(flow)
    call.feed(Digit("0"))  # not a score: asked again
    call.feed(Digit("4"))
    call.finish_prompt()
    call.feed(Tick(), 3000)
    assert call.of(SurveyAnswered) == [SurveyAnswered("c1", "f", "resolved", 4)]
    assert call.exits() == [("a", "digit", "b"), ("b", "timeout", "c"), ("c", "end", "")]
    assert call.of(IvrEnded)[0].result == "completed"


def test_a_caller_hanging_up_closes_the_open_node_with_exit_hangup() -> None:
    call = Call(flow_of(MENU))
    call.feed(Digit("5"))
    outs = call.feed(CallerHungUp(), 800)
    assert outs == (IvrNodeLeft("c1", "f", "a", "menu", "hangup", ""), IvrEnded("c1", "f", "hung_up", "a"))
    assert call.state.ended and call.feed(Digit("1")) == () and call.feed(Tick(), 99_000) == ()


def test_node_visit_events_follow_the_path_a_scripted_caller_takes() -> None:
    flow = flow_of(MENU + COLLECT.replace("a:\n", "ask:\n").replace("next: say", "next: sales"), "a")
    t = drive(flow, C, tokens("7, timeout"))
    assert t.path == ("a", "operator")
    entered = [(o.node_id, o.visit) for _at, o in t.outputs if isinstance(o, IvrNodeEntered)]
    left = [o.node_id for _at, o in t.outputs if isinstance(o, IvrNodeLeft)]
    assert entered == [("a", 1), ("operator", 1)] and left == ["a", "operator"]


# ---- properties: random flows, random inputs ----

KINDS = ("play", "menu", "collect", "lookup", "set", "branch", "hours", "goto", "survey")
ENDS = ("route", "voicemail", "callback", "hangup")


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    """A valid random flow: nodes only point forward, except goto nodes, which may point back."""
    n = draw(st.integers(2, 8))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(n - 1)] + [draw(st.sampled_from(ENDS))]
    nodes: dict[str, dict[str, Any]] = {}

    def fwd(i: int) -> str:
        return f"n{draw(st.integers(i + 1, n - 1))}"

    for i, kind in enumerate(kinds):
        nid = f"n{i}"
        if kind in ENDS:
            nodes[nid] = {
                "type": kind,
                **{
                    "route": {"queue": "q", "priority": "{p}", "skills": {"s": "{p}"}},
                    "voicemail": {"box": "b"},
                    "callback": {"queue": "q"},
                    "hangup": {},
                }[kind],
            }
        elif kind == "play":
            nodes[nid] = {"type": "play", "prompt": {"tts": "hi {p}"}, "next": fwd(i)}
        elif kind == "menu":
            digits = draw(st.lists(st.sampled_from("0123456789*#"), min_size=1, max_size=3, unique=True))
            nodes[nid] = {
                "type": "menu",
                "prompt": "m.wav",
                "options": {d: fwd(i) for d in digits},
                "retries": draw(st.integers(0, 2)),
                "timeout_s": draw(st.integers(1, 5)),
                "invalid_prompt": "i.wav",
                "fallback": fwd(i),
            }
        elif kind == "collect":
            low = draw(st.integers(1, 3))
            sensitive = draw(st.booleans())
            nodes[nid] = {
                "type": "collect",
                "prompt": "c.wav",
                "attribute": "card" if sensitive else "p",
                "min_length": low,
                "max_length": low + draw(st.integers(0, 3)),
                "retries": draw(st.integers(0, 2)),
                "terminator": draw(st.sampled_from(["#", "*", ""])),
                "pattern": "[0-5]*",
                "sensitive": sensitive,
                "next": fwd(i),
                "fallback": fwd(i),
            }
        elif kind == "lookup":
            nodes[nid] = {
                "type": "lookup",
                "url": "https://x/{ani}/{card}",
                "map": {"p": "{answer.p}"},
                "next": fwd(i),
                "on_failure": fwd(i),
            }
        elif kind == "set":
            nodes[nid] = {
                "type": "set",
                "attributes": {"p": draw(st.sampled_from(["1", "3", "x"]))},
                "next": fwd(i),
            }
        elif kind == "branch":
            nodes[nid] = {
                "type": "branch",
                "value": "{p}",
                "cases": {"1": fwd(i), "3": fwd(i)},
                "default": fwd(i),
            }
        elif kind == "hours":
            nodes[nid] = {
                "type": "hours",
                "timezone": "UTC",
                "days": "mon-fri",
                "from": "09:00",
                "to": "17:00",
                "open": fwd(i),
                "closed": fwd(i),
            }
        elif kind == "goto":
            back = f"n{draw(st.integers(0, i))}" if i and kinds[0] != "goto" else fwd(i)
            nodes[nid] = {"type": "goto", "next": back, "limit": draw(st.integers(1, 3)), "fallback": fwd(i)}
        elif kind == "survey":
            nodes[nid] = {
                "type": "survey",
                "question": "q",
                "prompt": "s.wav",
                "retries": draw(st.integers(0, 1)),
                "next": fwd(i),
            }
    doc = {"id": "rnd", "version": 1, "start": "n0", "nodes": nodes}
    flow, _warnings = load_flow_text(yaml.safe_dump(doc, sort_keys=False), "rnd.yaml")
    return flow


@st.composite
def scripts(draw: st.DrawFn) -> list[tuple[str, int, str]]:
    """Raw inputs: (kind, ms later, detail); ids and due times are resolved against the state
    when fed, so a script hits the play and lookup ids the flow really waits for (and sometimes
    stale ones) and the times its timeouts fire."""
    kinds = st.sampled_from(
        ["digit"] * 4 + ["prompt"] * 3 + ["tick", "due", "due", "answer", "fail", "stale", "hangup"]
    )
    return draw(
        st.lists(
            st.tuples(kinds, st.integers(0, 8000), st.sampled_from([*"0123456789*#", '{"p": 3}', "{", "x"])),
            max_size=60,
        )
    )


def _input(kind: str, detail: str, state: IvrState) -> Input:
    if kind == "digit":
        return Digit(detail[0])
    if kind == "prompt":
        return PromptFinished(state.awaiting)
    if kind == "answer":
        return LookupAnswered(state.awaiting, detail)
    if kind == "fail":
        return LookupFailed(state.awaiting, "down")
    if kind == "stale":
        return PromptFinished("c1:p0")
    return CallerHungUp() if kind == "hangup" else Tick()


def _run(flow: Flow, script: Sequence[tuple[str, int, str]]) -> list[object]:
    now = MONDAY_10
    state, outs = start(flow, C, now)
    out = list(outs)
    for kind, later, detail in script:
        now = max(now, state.deadline) if kind == "due" else now + later  # "due": when a timeout fires
        state, outs = step(flow, state, _input(kind, detail, state), now)
        out += outs
    if not state.ended:
        state, outs = step(flow, state, CallerHungUp(), now)
        out += outs
    assert state.ended
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), scripts())
def test_random_flows_and_inputs_pair_every_node_and_replay_identically(
    flow: Flow, script: list[tuple[str, int, str]]
) -> None:
    out = _run(flow, script)
    events = [o for o in out if type(o).__module__ == "schemas.ivr"]
    assert isinstance(events[0], IvrStarted) and isinstance(events[-1], IvrEnded)
    assert sum(isinstance(e, IvrEnded) for e in events) == 1
    # entered and left alternate: every entered node is left exactly once, before the end
    visits = [e for e in events if isinstance(e, IvrNodeEntered | IvrNodeLeft)]
    assert len(visits) % 2 == 0
    for entered, left in zip(visits[::2], visits[1::2], strict=True):
        assert isinstance(entered, IvrNodeEntered) and isinstance(left, IvrNodeLeft)
        assert entered.node_id == left.node_id
    assert visits[-1].node_id == events[-1].node_id  # type: ignore[attr-defined]
    # sensitive digits never show: a sensitive node's digits are masked or empty
    for e in events:
        if isinstance(e, IvrNodeLeft) and e.node_type == "collect" and flow.sensitive:
            node = flow.by_id[e.node_id]
            if getattr(node, "sensitive", False):
                assert e.digits in ("", "***")
    # replaying the same inputs gives the same outputs, byte for byte
    assert repr(_run(flow, script)) == repr(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), st.lists(st.sampled_from([*"0123456789*#", "timeout"]), max_size=30), st.booleans())
def test_every_valid_flow_ends_once_a_scripted_caller_runs_out_of_input(
    flow: Flow, script: list[str], answers: bool
) -> None:
    """The cycle rule at work: goto limits and retries end every flow by timeouts and fallbacks."""
    t = drive(flow, C, script, start_ms=MONDAY_10, lookup='{"p": 1}' if answers else None)
    assert t.state.ended, t.path
    assert len(t.inputs) < 1000
    # the transcript's inputs, replayed one by one, give the same outputs
    state, outs = start(flow, C, MONDAY_10)
    replayed = list(outs)
    for at, item in t.inputs:
        state, outs = step(flow, state, item, MONDAY_10 + at)
        replayed += outs
    assert replayed == [o for _at, o in t.outputs]
