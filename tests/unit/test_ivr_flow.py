"""IVR flow files: every node type parses; bad files are rejected with the line and reason,
every problem at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccx.ivr import FlowError, load_flow, load_flow_text
from telephony.ivr.model import (
    Branch,
    Callback,
    Collect,
    Goto,
    Hangup,
    Hours,
    Lookup,
    Menu,
    Play,
    Prompt,
    Route,
    SetAttributes,
    Survey,
    Voicemail,
)

ROOT = Path(__file__).resolve().parents[2]

EVERY_TYPE = """\
id: all
version: 2
start: hours
nodes:
  hours:
    type: hours
    timezone: Europe/Berlin
    days: mon-fri, sun
    from: "08:00"
    to: "18:30"
    holidays: [2026-12-25]
    open: hello
    closed: box
  hello:
    type: play
    prompt: {tts: "Hello {ani}"}
    next: who
  who:
    type: lookup
    method: POST
    url: "https://crm.example/c?ani={ani}"
    timeout_s: 2
    map: {vip: "{answer.customer.vip}"}
    next: vip
    on_failure: menu
  vip:
    type: branch
    value: "{vip}"
    cases: {"true": lang}
    default: menu
  lang:
    type: set
    attributes: {language: en, level: 3, vip: true}
    next: menu
  menu:
    type: menu
    prompt: menu.wav
    invalid_prompt: {file: invalid.wav}
    timeout_prompt: {tts: "Still there?"}
    options: {1: pin, 2: again, "#": survey, "*": cb, 0: queue}
    timeout_s: 4
    retries: 0
    fallback: queue
  again:
    type: goto
    next: menu
    limit: 2
    fallback: bye
  pin:
    type: collect
    prompt: pin.wav
    attribute: pin
    min_length: 4
    max_length: 6
    terminator: "*"
    pattern: "[0-9]+"
    sensitive: true
    timeout_s: 3
    retries: 1
    next: queue
    fallback: bye
  survey:
    type: survey
    question: csat
    prompt: {tts: "Rate us"}
    next: bye
  cb:
    type: callback
    queue: support
    number: "{ani}"
    priority: 3
  queue:
    type: route
    queue: "support_{language}"
    priority: "{level}"
    skills: {"lang_{language}": 2, vip: "{level}"}
    prompt: hold.wav
  box:
    type: voicemail
    box: general
  bye:
    type: hangup
    description: the end
"""


def problems(text: str) -> list[str]:
    with pytest.raises(FlowError) as e:
        load_flow_text(textwrap.dedent(text), "f.yaml")
    return e.value.problems


def test_every_node_type_parses_into_its_model() -> None:
    flow, warnings = load_flow_text(EVERY_TYPE, "all.yaml")
    assert warnings == []
    assert (flow.id, flow.version, flow.start) == ("all", 2, "hours")
    n = flow.by_id
    assert n["hours"] == Hours(
        "hours", "Europe/Berlin", (0, 1, 2, 3, 4, 6), 480, 1110, "hello", "box", ("2026-12-25",)
    )
    assert n["hello"] == Play("hello", Prompt(tts="Hello {ani}"), "who")
    assert n["who"] == Lookup(
        "who",
        "https://crm.example/c?ani={ani}",
        "vip",
        "menu",
        "POST",
        2,
        (("vip", "{answer.customer.vip}"),),
    )
    assert n["vip"] == Branch("vip", "{vip}", (("true", "lang"),), "menu")
    assert n["lang"] == SetAttributes("lang", (("language", "en"), ("level", "3"), ("vip", "true")), "menu")
    menu = n["menu"]
    assert isinstance(menu, Menu)
    assert menu.options == (("1", "pin"), ("2", "again"), ("#", "survey"), ("*", "cb"), ("0", "queue"))
    assert (menu.timeout_s, menu.retries, menu.fallback) == (4, 0, "queue")
    assert menu.invalid_prompt == Prompt(file="invalid.wav") and menu.timeout_prompt == Prompt(
        tts="Still there?"
    )
    assert n["again"] == Goto("again", "menu", 2, "bye")
    assert n["pin"] == Collect(
        "pin", Prompt(file="pin.wav"), "pin", "queue", "bye", 4, 6, "*", 3, 1, "[0-9]+", True, None
    )
    assert n["survey"] == Survey("survey", "csat", Prompt(tts="Rate us"), "bye", 5, 1)
    assert n["cb"] == Callback("cb", "support", "{ani}", "3")
    assert n["queue"] == Route(
        "queue",
        "support_{language}",
        "{level}",
        (("lang_{language}", "2"), ("vip", "{level}")),
        Prompt("hold.wav"),
    )
    assert n["box"] == Voicemail("box", "general")
    assert n["bye"] == Hangup("bye")
    assert flow.sensitive == {"pin"}


def test_the_examples_are_valid_without_warnings() -> None:
    for name in ("main.yaml", "survey.yaml"):
        flow, warnings = load_flow(ROOT / "docs/examples/ivr" / name)
        assert warnings == [], warnings
        assert flow.nodes


BAD = """\
id: bad
version: 0
start: nowhere
nodes:
  a:
    type: dance
    next: b
  b:
    type: menu
    prompt: m.wav
    options: {1: c, 12: c, x: c, 3: ghost, 4: [c]}
    retries: -1
    timeout_s: "5"
  c:
    type: play
    prompt: p.wav
  d:
    type: collect
    prompt: {tts: "card", file: x.wav}
    attribute: "card number"
    min_length: 6
    max_length: 4
    terminator: "x"
    pattern: "[0-9"
    sensitive: "yes"
    next: e
    fallback: e
  e:
    type: lookup
    method: DELETE
    url: "ftp://x/{card"
    next: f
    on_failure: f
    colour: red
  f:
    type: route
    queue: q
    priority: high
    skills: {es: 7}
  g: just text
"""


def test_every_problem_of_a_garbage_file_is_reported_at_once_with_its_line() -> None:
    got = problems(BAD)
    assert got == [
        "f.yaml:2: flow.version: must be >= 1, not 0",
        "f.yaml:3: start: unknown node 'nowhere'; nodes are a, b, c, d, e, f, g",
        "f.yaml:6: nodes.a.type: unknown node type 'dance'; use one of play, menu, collect, lookup, set, "
        "branch, hours, goto, route, voicemail, callback, survey, hangup",
        "f.yaml:9: nodes.b: missing 'fallback'",
        "f.yaml:11: nodes.b.options.12: '12' is not a DTMF digit (0 1 2 3 4 5 6 7 8 9 * #); quote # and *",
        "f.yaml:11: nodes.b.options.x: 'x' is not a DTMF digit (0 1 2 3 4 5 6 7 8 9 * #); quote # and *",
        "f.yaml:11: nodes.b.options.4: must name a node, not ['c']",
        "f.yaml:11: nodes.b.options.3: unknown node 'ghost'; nodes are a, b, c, d, e, f, g",
        "f.yaml:12: nodes.b.retries: must be >= 0, not -1",
        "f.yaml:13: nodes.b.timeout_s: must be a whole number, not '5'",
        "f.yaml:15: nodes.c: missing 'next'",
        "f.yaml:19: nodes.d.prompt: give exactly one of file or tts",
        "f.yaml:20: nodes.d.attribute: 'card number' is not an attribute name (letters, digits, _)",
        "f.yaml:22: nodes.d.max_length: must be >= min_length (6), not 4",
        'f.yaml:23: nodes.d.terminator: must be "#", "*" or "" (none), not \'x\'',
        "f.yaml:24: nodes.d.pattern: not a regular expression: unterminated character set at position 0",
        "f.yaml:25: nodes.d.sensitive: must be true or false, not 'yes'",
        "f.yaml:30: nodes.e.method: must be GET or POST, not 'DELETE'",
        "f.yaml:31: nodes.e.url: 'ftp://x/{card': a brace that is not part of a {name} (names are letters, "
        "digits, _ and .)",
        "f.yaml:31: nodes.e.url: must start with http:// or https://, not 'ftp://x/{card'",
        "f.yaml:34: nodes.e.colour: unknown key; allowed: description, map, method, next, on_failure, "
        "timeout_s, type, url",
        "f.yaml:38: nodes.f.priority: must be a whole number or a template like '{prio}', not 'high'",
        "f.yaml:39: nodes.f.skills.es: level must be 1 to 5 or a template, not 7",
        "f.yaml:40: nodes.g: must be a mapping with a type, not 'just text'",
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("id: x\nversion: 1\nstart: a\nnodes: {a: {type: hangup}\n", "f.yaml:5: not valid YAML"),
        ("- just\n- a list\n", "f.yaml:1: a flow file is a mapping"),
        (  # a node id given twice: PyYAML would keep the second silently
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: hangup}\n  a: {type: hangup}\n",
            "f.yaml:6: not valid YAML: duplicate key 'a'",
        ),
        ("id: x\nversion: 1\nstart: a\n", "f.yaml:1: flow: missing 'nodes'"),
        ("id: x\nversion: 1\nstart: a\nnodes: []\n", "f.yaml:4: nodes: must map node ids to nodes"),
        (
            "id: x\nversion: one\nstart: a\nnodes: {a: {type: hangup}}\n",
            "f.yaml:2: flow.version: must be a whole",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes: {a: {type: hangup}}\nowner: me\n",
            "f.yaml:5: flow.owner: unknown key",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: play, prompt: 5, next: a}\n",
            "f.yaml:5: nodes.a.prompt: must be a prompt file name or {tts: text}, not 5",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: menu, prompt: m, options: {}, fallback: b}\n"
            "  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.options: must be a non-empty mapping",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: menu, prompt: m, options: {1: b}, fallback: b,"
            " retries: -1, timeout_s: 0}\n  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.retries: must be >= 0, not -1",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: goto, next: a, limit: 0, fallback: b}\n"
            "  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.limit: must be >= 1, not 0",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: hours, timezone: Mars/Base, days: mon-fri,"
            " from: '25:00', to: '08:00', open: b, closed: b}\n  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.from: '25:00' is not a time",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: hours, timezone: Mars/Base, days: someday,"
            " from: '08:00', to: '09:00', open: b, closed: b}\n  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.days: 'someday': use days like mon-fri",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: hours, timezone: Mars/Base, days: sat,"
            " from: '08:00', to: '09:00', open: b, closed: b}\n  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.timezone: unknown time zone 'Mars/Base'",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: survey, question: q, prompt: p, next: a2}\n"
            "  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.next: unknown node 'a2'; nodes are a, b",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: route, queue: ' '}\n",
            "f.yaml:5: nodes.a.queue: must not be empty",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: route}\n",
            "f.yaml:5: nodes.a: missing 'queue'",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: voicemail, box: 7}\n",
            "f.yaml:5: nodes.a.box: must be text (quote it), not 7",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  a: {type: set, attributes: {'bad name': 1}, next: b}\n"
            "  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.attributes.bad name: 'bad name' is not an attribute name",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n"
            "  a: {type: branch, value: '{x', cases: {1: b}, default: b}\n"
            "  b: {type: hangup}\n",
            "f.yaml:5: nodes.a.value: '{x': a brace that is not part of a {name}",
        ),
        (
            "id: x\nversion: 1\nstart: a\nnodes:\n  'a b': {type: hangup}\n  a: {type: hangup}\n",
            "f.yaml:5: nodes.a b: a node id is letters, digits, _ and -",
        ),
    ],
)
def test_a_bad_file_is_rejected_with_line_and_reason(text: str, want: str) -> None:
    got = problems(text)
    assert any(p.startswith(want) for p in got), "\n".join(got)


def test_a_loop_without_a_goto_is_rejected_and_a_goto_with_a_limit_allows_it() -> None:
    loop = """\
    id: x
    version: 1
    start: a
    nodes:
      a: {type: play, prompt: a.wav, next: b}
      b: {type: menu, prompt: b.wav, options: {1: a, 2: c}, fallback: c}
      c: {type: hangup}
    """
    (problem,) = problems(loop)
    assert problem.startswith("f.yaml:5: nodes.a: the flow loops without a goto node: a -> b -> a")
    fixed = (
        loop.replace("{1: a, 2: c}", "{1: back, 2: c}")
        + "  back: {type: goto, next: a, limit: 3, fallback: c}\n"
    )
    flow, warnings = load_flow_text(textwrap.dedent(fixed))
    assert warnings == [] and flow.by_id["back"] == Goto("back", "a", 3, "c")


def test_a_loop_through_a_goto_fallback_is_still_a_loop() -> None:
    text = """\
    id: x
    version: 1
    start: a
    nodes:
      a: {type: goto, next: c, limit: 1, fallback: b}
      b: {type: play, prompt: b.wav, next: a}
      c: {type: hangup}
    """
    (problem,) = problems(text)
    assert "the flow loops without a goto node: a -> b -> a" in problem


def test_unreachable_nodes_and_unset_attributes_are_warnings_not_problems() -> None:
    text = """\
    id: x
    version: 1
    start: a
    nodes:
      a: {type: play, prompt: {tts: "Hi {nickname}"}, next: b}
      b: {type: hangup}
      orphan: {type: hangup}
    """
    flow, warnings = load_flow_text(textwrap.dedent(text), "f.yaml")
    assert len(flow.nodes) == 3
    assert warnings == [
        "f.yaml:5: nodes.a.prompt.tts: warning: no node sets {nickname} (it renders empty unless given)",
        "f.yaml:7: nodes.orphan: warning: unreachable from start 'a'",
    ]


def test_a_sensitive_attribute_may_only_go_into_a_lookup_url() -> None:
    text = """\
    id: x
    version: 1
    start: card
    nodes:
      card: {type: collect, prompt: c.wav, attribute: card, sensitive: true, next: check, fallback: bye}
      check: {type: lookup, url: "https://bank/cards/{card}", next: say, on_failure: bye}
      say: {type: play, prompt: {tts: "You typed {card}"}, next: copy}
      copy: {type: set, attributes: {shown: "{card}"}, next: bye}
      bye: {type: hangup}
    """
    got = problems(text)
    assert [p.split(": {card}")[0] for p in got] == [
        "f.yaml:7: nodes.say.prompt.tts",
        "f.yaml:8: nodes.copy.attributes.shown",
    ]
    assert all("is sensitive: it may only be sent in a lookup url" in p for p in got)
