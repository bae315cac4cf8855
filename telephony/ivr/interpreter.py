"""The pure IVR interpreter: `start(flow, contact, now)` and `step(flow, state, input, now)`.

Both return the new state and the outputs, in order: events (`schemas.ivr`, for
`cc.ivr-events`), effects for edges (`telephony.ivr.messages`) and ACD commands
(`RouteContact`, `RequestCallback`). No clock, no I/O, no randomness: time is the `now`
(ms) given with each input, timeouts fire on a `Tick` at or after their deadline, play and
lookup ids are derived from the contact id and a counter, and an HTTP lookup is an effect
whose answer comes back as an input. The same inputs at the same times give the same
outputs, byte for byte.

Every node entered is left exactly once (`IvrNodeEntered`, then `IvrNodeLeft` with the
exit); a node that ends the session (route, voicemail, callback, hangup) is left with exit
"end", a caller hanging up leaves the open node with exit "hangup"; `IvrEnded` comes last.
Inputs that do not apply (a digit during a play node, a stale play id, anything after the
end) change nothing. Menu, collect and survey nodes take digits while their prompt plays
(barge-in); their timeout runs from the end of the prompt, and for collect from each digit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from processors.schedule import is_open
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
from schemas.routing import SkillLevel, Window
from telephony.ivr.flow import DTMF
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
from telephony.ivr.model import (
    Branch,
    Callback,
    Collect,
    Flow,
    Goto,
    Hangup,
    Hours,
    Lookup,
    Menu,
    Node,
    Play,
    Prompt,
    Route,
    SetAttributes,
    Survey,
    Voicemail,
)
from telephony.ivr.template import render

__all__ = ["MASK", "TICKET_ATTRIBUTE", "IvrState", "start", "step"]

MASK = "***"
TICKET_ATTRIBUTE = "ticket_id"
"""The contact attribute naming the contact's ticket: survey answers carry it."""
_MAX_HOPS = 10_000  # a valid flow cannot chain this many nodes without waiting (goto limits)


@dataclass(frozen=True, slots=True)
class IvrState:
    """One contact's place in a flow. `node_id` is the open node ("" once ended, then
    `result` says how); `awaiting` the play or lookup id the node waits for; `deadline`
    the ms at which its timeout fires (-1: none); `attempts` and `digits` the open node's
    failed tries and collected digits."""

    contact: Contact
    flow_id: str
    flow_version: int
    node_id: str = ""
    result: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    visits: tuple[tuple[str, int], ...] = ()
    seq: int = 0
    attempts: int = 0
    digits: str = ""
    deadline: int = -1
    awaiting: str = ""

    @property
    def ended(self) -> bool:
        return bool(self.result)


class _Run:
    """One call of start/step: a mutable draft of the state and the outputs so far."""

    def __init__(self, flow: Flow, state: IvrState, now: int) -> None:
        self.flow, self.now, self.s = flow, now, state
        self.attrs = dict(state.attributes)
        self.visits = dict(state.visits)
        self.out: list[object] = []

    @property
    def cid(self) -> str:
        return self.s.contact.contact_id

    @property
    def node(self) -> Node:
        return self.flow.by_id[self.s.node_id]

    def set(self, **changes: Any) -> None:
        self.s = replace(self.s, **changes)

    def state(self) -> IvrState:
        return replace(
            self.s, attributes=tuple(sorted(self.attrs.items())), visits=tuple(sorted(self.visits.items()))
        )

    def text(self, tpl: str) -> str:
        return render(tpl, self.attrs)

    def play(self, prompt: Prompt) -> None:
        play_id = f"{self.cid}:p{self.s.seq + 1}"
        self.set(seq=self.s.seq + 1, awaiting=play_id, deadline=-1)
        self.out.append(PlayPrompt(self.cid, play_id, self.text(prompt.file), self.text(prompt.tts)))

    # ---- moving between nodes ----

    def enter(self, node_id: str) -> None:
        hops = 0
        target: str | None = node_id
        while target:
            hops += 1
            if hops > _MAX_HOPS:
                raise RuntimeError(f"flow {self.flow.id!r} chains nodes without end: {target!r}")
            target = self._enter_one(target)

    def _enter_one(self, node_id: str) -> str | None:
        """Enter the node; the node to go on to at once, or None when it waits (or ended)."""
        node = self.flow.by_id[node_id]
        visit = self.visits.get(node_id, 0) + 1
        self.visits[node_id] = visit
        self.set(node_id=node_id, attempts=0, digits="", deadline=-1, awaiting="")
        self.out.append(IvrNodeEntered(self.cid, self.flow.id, node_id, node.type, visit))
        match node:
            case Play() | Menu() | Collect() | Survey():
                self.play(node.prompt)
                return None
            case Lookup():
                request_id = f"{self.cid}:l{self.s.seq + 1}"
                self.set(seq=self.s.seq + 1, awaiting=request_id, deadline=self.now + node.timeout_s * 1000)
                url = render(node.url, self.attrs, escape=lambda v: quote(v, safe=""))
                masked = {**self.attrs, **{a: MASK for a in self.flow.sensitive if a in self.attrs}}
                shown = render(node.url, masked, escape=lambda v: v if v == MASK else quote(v, safe=""))
                self.out.append(
                    IvrLookupRequested(self.cid, self.flow.id, node_id, request_id, node.method, shown)
                )
                self.out.append(StartLookup(self.cid, request_id, node.method, url, node.timeout_s * 1000))
                return None
            case SetAttributes():
                for name, tpl in node.values:
                    self.attrs[name] = self.text(tpl)
                return self.leave("next", node.next)
            case Branch():
                value = self.text(node.value)
                target = dict(node.cases).get(value)
                return self.leave("match", target) if target else self.leave("default", node.default)
            case Hours():
                windows = tuple(Window(d, node.start_min, node.end_min) for d in node.days)
                if is_open(node.timezone, windows, node.holidays, self.now):
                    return self.leave("open", node.open)
                return self.leave("closed", node.closed)
            case Goto():
                return (
                    self.leave("next", node.next)
                    if visit <= node.limit
                    else self.leave("limit", node.fallback)
                )
            case Route():
                self.announce(node.prompt)
                self.out.append(self.route(node.queue, node.priority, node.skills))
                self.finish("routed")
                return None
            case Callback():
                self.announce(node.prompt)
                self.out.append(self.route(node.queue, node.priority, ()))
                self.out.append(RequestCallback(self.cid, self.text(node.number)))
                self.finish("callback")
                return None
            case Voicemail():
                p = node.prompt or Prompt()
                self.out.append(
                    LeaveVoicemail(self.cid, self.text(node.box), self.text(p.file), self.text(p.tts))
                )
                self.finish("voicemail")
                return None
            case Hangup():
                p = node.prompt or Prompt()
                self.out.append(HangUp(self.cid, self.text(p.file), self.text(p.tts)))
                self.finish("completed")
                return None
        raise AssertionError(node)  # pragma: no cover - every node type is matched

    def announce(self, prompt: Prompt | None) -> None:
        if prompt is not None:
            self.play(prompt)

    def route(self, queue: str, priority: str, skills: tuple[tuple[str, str], ...]) -> RouteContact:
        levels = []
        for skill, level in skills:
            lv = _whole(self.text(level))
            if lv is not None and 1 <= lv <= 5 and self.text(skill):
                levels.append(SkillLevel(self.text(skill), lv))
        c = self.s.contact
        prio = _whole(self.text(priority)) or 0
        return RouteContact(c.contact_id, self.text(queue), "voice", prio, c.ani, c.dnis, tuple(levels))

    def leave(self, exit_: str, target: str, digits: str = "") -> str | None:
        node = self.node
        if digits and isinstance(node, Collect) and node.sensitive:
            digits = MASK
        self.out.append(IvrNodeLeft(self.cid, self.flow.id, node.id, node.type, exit_, target, digits))
        self.set(attempts=0, digits="", deadline=-1, awaiting="")
        return target or None

    def finish(self, result: str, exit_: str = "end") -> None:
        node_id = self.s.node_id
        self.leave(exit_, "")
        self.out.append(IvrEnded(self.cid, self.flow.id, result, node_id))
        self.set(node_id="", result=result)

    # ---- inputs ----

    def failed(self, kind: str, digits: str = "") -> None:
        """An invalid entry or a timeout at a menu, collect or survey node: prompt again, or
        after `retries` failures leave by `kind` to the fallback (a survey: to `next`)."""
        node = self.node
        assert isinstance(node, Menu | Collect | Survey)
        attempts = self.s.attempts + 1
        if attempts > node.retries:
            self.enter_next(
                self.leave(kind, node.next if isinstance(node, Survey) else node.fallback, digits)
            )
            return
        self.set(attempts=attempts, digits="")
        extra = None
        if isinstance(node, Menu):
            extra = node.invalid_prompt if kind == "invalid" else node.timeout_prompt
        elif isinstance(node, Collect) and kind == "invalid":
            extra = node.invalid_prompt
        if extra is not None:
            self.play(extra)
        self.play(node.prompt)

    def enter_next(self, target: str | None) -> None:
        if target:
            self.enter(target)

    def collected(self) -> None:
        node = self.node
        assert isinstance(node, Collect)
        digits = self.s.digits
        ok = node.min_length <= len(digits) <= node.max_length
        if ok and node.pattern:
            ok = re.fullmatch(node.pattern, digits) is not None
        if not ok:
            self.failed("invalid", digits)
            return
        self.attrs[node.attribute] = digits
        self.enter_next(self.leave("success", node.next, digits))

    def digit(self, d: str) -> None:
        node = self.node
        if isinstance(node, Menu):
            target = dict(node.options).get(d)
            if target:
                self.enter_next(self.leave("digit", target, d))
            else:
                self.failed("invalid", d)
        elif isinstance(node, Survey):
            if d in "12345":
                ticket = self.attrs.get(TICKET_ATTRIBUTE, "")
                self.out.append(SurveyAnswered(self.cid, self.flow.id, node.question, int(d), ticket))
                self.enter_next(self.leave("digit", node.next, d))
            else:
                self.failed("invalid", d)
        elif isinstance(node, Collect):
            self.set(awaiting="", deadline=self.now + node.timeout_s * 1000)
            if node.terminator and d == node.terminator:
                self.collected()
                return
            self.set(digits=self.s.digits + d)
            if len(self.s.digits) >= node.max_length:
                self.collected()

    def tick(self) -> None:
        if self.s.deadline < 0 or self.now < self.s.deadline:
            return
        node = self.node
        if isinstance(node, Lookup):
            self.out.append(
                IvrLookupAnswered(self.cid, self.flow.id, node.id, self.s.awaiting, False, "timeout")
            )
            self.enter_next(self.leave("failure", node.on_failure))
        elif isinstance(node, Collect) and self.s.digits:
            self.collected()
        else:
            self.failed("timeout")

    def lookup(self, request_id: str, answer: str | None, reason: str) -> None:
        node = self.node
        if not isinstance(node, Lookup) or request_id != self.s.awaiting:
            return
        if answer is not None:
            try:
                parsed = json.loads(answer)
            except ValueError:
                reason = "answer is not JSON"
            else:
                values = [(name, render(tpl, self.attrs, parsed)) for name, tpl in node.map]
                self.attrs.update(values)
                self.out.append(
                    IvrLookupAnswered(
                        self.cid,
                        self.flow.id,
                        node.id,
                        request_id,
                        True,
                        "",
                        tuple(IvrAttribute(n, v) for n, v in values),
                    )
                )
                self.enter_next(self.leave("success", node.next))
                return
        self.out.append(IvrLookupAnswered(self.cid, self.flow.id, node.id, request_id, False, reason))
        self.enter_next(self.leave("failure", node.on_failure))


def _whole(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def start(flow: Flow, contact: Contact, now: int) -> tuple[IvrState, tuple[object, ...]]:
    """The contact enters `flow` at `now` (ms): the state and the first outputs."""
    builtins = {
        "ani": contact.ani,
        "dnis": contact.dnis,
        "contact_id": contact.contact_id,
        "flow_id": flow.id,
    }
    state = IvrState(
        contact,
        flow.id,
        flow.version,
        attributes=tuple(sorted({**builtins, **dict(contact.attributes)}.items())),
    )
    run = _Run(flow, state, now)
    run.out.append(IvrStarted(contact.contact_id, flow.id, flow.version, contact.ani, contact.dnis))
    run.enter(flow.start)
    return run.state(), tuple(run.out)


def step(flow: Flow, state: IvrState, input: Input, now: int) -> tuple[IvrState, tuple[object, ...]]:
    """The state and outputs after `input` at `now` (ms); inputs that do not apply change nothing."""
    if state.ended:
        return state, ()
    run = _Run(flow, state, now)
    match input:
        case CallerHungUp():
            run.finish("hung_up", "hangup")
        case Digit(digit=d) if len(d) == 1 and d in DTMF:
            run.digit(d)
        case PromptFinished(play_id=pid) if pid and pid == state.awaiting:
            if isinstance(run.node, Play):
                run.enter_next(run.leave("next", run.node.next))
            else:
                node = run.node
                timeout_s = node.timeout_s if isinstance(node, Menu | Collect | Survey) else 0
                run.set(awaiting="", deadline=now + timeout_s * 1000)
        case Tick():
            run.tick()
        case LookupAnswered(request_id=rid, answer=answer):
            run.lookup(rid, answer, "")
        case LookupFailed(request_id=rid, reason=reason):
            run.lookup(rid, None, reason or "failed")
        case _:
            return state, ()
    if not run.out and run.state() == state:
        return state, ()
    return run.state(), tuple(run.out)
