"""Simulated callers in an IVR flow: random but seeded keypresses (`ccx simulate --ivr`).

`walk(flow, contact, rng, start_ms)` runs the pure interpreter for one caller, as
`telephony.ivr.drive` does for a script, but the caller decides at each node that waits
for a key: in a menu mostly one of its options (sometimes a wrong key, sometimes nothing:
a timeout), in a collect node a string of digits of an allowed length (then the
terminator), in a survey a score; and now and then hangs up. Prompts take `prompt_ms`,
digits `digit_ms` each, lookups fail at once (no lookup service in a simulation: the flow
takes `on_failure`). Returns the interpreter's events and commands with their times —
effects are the switch's business and are dropped. Everything comes from `rng` and
`start_ms`: the same draws give the same walk.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence

from telephony.ivr.flow import DTMF
from telephony.ivr.interpreter import start, step
from telephony.ivr.messages import (
    CallerHungUp,
    Contact,
    Digit,
    HangUp,
    Input,
    LeaveVoicemail,
    LookupFailed,
    PlayPrompt,
    PromptFinished,
    StartLookup,
    Tick,
)
from telephony.ivr.model import Collect, Flow, Menu, Survey

__all__ = ["HANGUP_P", "TIMEOUT_P", "WRONG_KEY_P", "walk"]

HANGUP_P = 0.03
"""Chance a caller hangs up instead of answering a node that waits for a key."""
TIMEOUT_P = 0.08
"""Chance a caller presses nothing (the node times out)."""
WRONG_KEY_P = 0.07
"""Chance a caller presses a key that is not a menu option."""
_EFFECTS = (PlayPrompt, StartLookup, LeaveVoicemail, HangUp)


def walk(
    flow: Flow,
    contact: Contact,
    rng: random.Random,
    start_ms: int,
    *,
    prompt_ms: int = 3000,
    digit_ms: int = 700,
    max_inputs: int = 1000,
) -> list[tuple[int, object]]:
    """The events and commands of one simulated caller's session, as (ms, body) in order."""
    now = start_ms
    out: list[tuple[int, object]] = []
    pending: deque[Input] = deque()
    typing: deque[str] = deque()
    typing_for: tuple[str, int, int] = ("", -1, -1)

    def record(outs: Sequence[object]) -> None:
        for o in outs:
            if isinstance(o, PlayPrompt):
                pending.append(PromptFinished(o.play_id))
            elif isinstance(o, StartLookup):
                pending.append(LookupFailed(o.request_id, "no lookup service in a simulation"))
            if not isinstance(o, _EFFECTS):
                out.append((now, o))

    state, outs = start(flow, contact, now)
    record(outs)
    for _ in range(max_inputs):
        if state.ended:
            break
        item: Input
        if pending:
            item = pending.popleft()
            now += prompt_ms if isinstance(item, PromptFinished) else 100
        else:
            node = flow.by_id.get(state.node_id)
            if isinstance(node, Menu | Collect | Survey):
                key = (state.node_id, dict(state.visits).get(state.node_id, 0), state.attempts)
                if isinstance(node, Collect) and typing and key == typing_for:
                    now, item = now + digit_ms, Digit(typing.popleft())
                else:
                    draw = rng.random()
                    if draw < HANGUP_P:
                        item = CallerHungUp()
                    elif draw < HANGUP_P + TIMEOUT_P and state.deadline >= 0:
                        now, item = max(now, state.deadline), Tick()
                    else:
                        digits = _keys(node, rng)
                        typing, typing_for = deque(digits[1:]), key
                        now, item = now + digit_ms, Digit(digits[0])
            elif state.deadline >= 0:
                now, item = max(now, state.deadline), Tick()
            else:
                break
        state, outs = step(flow, state, item, now)
        record(outs)
    return out


def _keys(node: Menu | Collect | Survey, rng: random.Random) -> str:
    if isinstance(node, Menu):
        if rng.random() < WRONG_KEY_P or not node.options:
            return rng.choice(DTMF)
        return rng.choice([digit for digit, _target in node.options])
    if isinstance(node, Survey):
        return rng.choice("12345")
    length = rng.randint(node.min_length, max(node.min_length, min(node.max_length, 16)))
    digits = "".join(rng.choice("0123456789") for _ in range(length))
    return digits + node.terminator if len(digits) < node.max_length else digits
