"""Run a flow offline against a scripted caller: the simulator's and `ccx ivr run`'s IVR.

A script is a list of tokens: DTMF digits ("1", "#", or "4111#" for several), "timeout"
(wait until the open node times out) and "hangup". Prompts finish `prompt_ms` after they
start, each digit takes `digit_ms`, and every lookup is answered with `lookup` (JSON text)
or fails when it is None. When the script is used up, the flow is left to time out until it
ends. Everything is derived from the script and `start_ms`: two drives of the same script
give the same transcript.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.ivr import IvrNodeEntered
from telephony.ivr.flow import DTMF
from telephony.ivr.interpreter import IvrState, start, step
from telephony.ivr.messages import (
    CallerHungUp,
    Contact,
    Digit,
    Input,
    LookupAnswered,
    LookupFailed,
    PlayPrompt,
    PromptFinished,
    StartLookup,
    Tick,
)
from telephony.ivr.model import Flow

__all__ = ["Transcript", "drive", "tokens"]


@dataclass(frozen=True, slots=True)
class Transcript:
    path: tuple[str, ...]
    """The node ids entered, in order."""
    outputs: tuple[tuple[int, object], ...]
    """(ms since the start, output) in order."""
    inputs: tuple[tuple[int, Input], ...]
    """(ms since the start, input) as fed: replaying them gives the same outputs."""
    state: IvrState


def tokens(text: str) -> list[str]:
    """`1,2,#` or `2, 4111#, timeout` as script tokens; ValueError names a bad one."""
    out: list[str] = []
    for raw in text.split(","):
        tok = raw.strip().lower()
        if not tok:
            continue
        if tok in ("timeout", "hangup"):
            out.append(tok)
        elif all(c in DTMF for c in tok):
            out.extend(tok)
        else:
            raise ValueError(f"{raw.strip()!r}: use DTMF digits 0-9 * #, 'timeout' or 'hangup'")
    return out


def drive(
    flow: Flow,
    contact: Contact,
    script: Sequence[str],
    *,
    start_ms: int = 0,
    lookup: str | None = None,
    prompt_ms: int = 2000,
    digit_ms: int = 500,
    max_inputs: int = 10_000,
) -> Transcript:
    now = start_ms
    state, outs = start(flow, contact, now)
    outputs: list[tuple[int, object]] = []
    inputs: list[tuple[int, Input]] = []
    pending: deque[Input] = deque()
    todo = deque(script)

    def record(outs: Sequence[object]) -> None:
        for o in outs:
            outputs.append((now - start_ms, o))
            if isinstance(o, PlayPrompt):
                pending.append(PromptFinished(o.play_id))
            elif isinstance(o, StartLookup):
                pending.append(
                    LookupAnswered(o.request_id, lookup)
                    if lookup is not None
                    else LookupFailed(o.request_id, "no lookup answer given")
                )

    record(outs)
    while not state.ended and len(inputs) < max_inputs:
        item: Input
        if pending:
            item = pending.popleft()
            now += prompt_ms if isinstance(item, PromptFinished) else 100
        elif todo:
            tok = todo.popleft()
            if tok == "hangup":
                item = CallerHungUp()
            elif tok == "timeout":
                if state.deadline < 0:
                    continue
                now, item = max(now, state.deadline), Tick()
            else:
                now, item = now + digit_ms, Digit(tok)
        elif state.deadline >= 0:
            now, item = max(now, state.deadline), Tick()
        else:
            break
        inputs.append((now - start_ms, item))
        state, outs = step(flow, state, item, now)
        record(outs)
    path = tuple(o.node_id for _at, o in outputs if isinstance(o, IvrNodeEntered))
    return Transcript(path, tuple(outputs), tuple(inputs), state)
