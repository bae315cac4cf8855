"""`IvrProcessor`: many contacts' sessions from input messages; ticks step a tenant's
sessions; outputs carry derived envelopes, so a replay reproduces them, ids included."""

from __future__ import annotations

from typing import Any

import pytest

from ccx.ivr import load_flow_text
from processors.decider import Invalid
from schemas import commands
from schemas.commands import RouteContact
from schemas.envelope import Envelope, Message
from schemas.ivr import IvrEnded, IvrNodeLeft
from telephony.ivr.messages import CallerHungUp, Contact, Digit, HangUp, PlayPrompt, PromptFinished
from telephony.ivr.processor import IvrProcessor, IvrSessions, StartIvr, split

FLOW = """\
id: hotline
version: 2
start: menu
nodes:
  menu: {type: menu, prompt: m.wav, options: {1: sales}, timeout_s: 3, retries: 0, fallback: bye}
  sales: {type: route, queue: sales}
  bye: {type: hangup}
"""


def msg(n: int, at: int, body: object, contact: str = "c1", tenant: str = "acme") -> Message[Any]:
    return Message(Envelope(f"in-{n}", tenant, at, contact, None, "switch"), body)


def run(inputs: list[Message[Any]]) -> tuple[IvrSessions, list[Message[Any]]]:
    flow, _ = load_flow_text(FLOW)
    older, _ = load_flow_text(FLOW.replace("version: 2", "version: 1"))
    p = IvrProcessor([flow, older])
    state, out = p.initial_state(), []
    for m in inputs:
        state, outs = p.process(state, m)
        out += outs
    return state, out


INPUTS = [
    msg(1, 0, StartIvr("hotline", Contact("c1", "+491"))),
    msg(2, 0, StartIvr("hotline", Contact("c2", "+492")), "c2"),
    msg(3, 100, StartIvr("hotline", Contact("c3", "+493")), "c3", tenant="other"),
    msg(4, 1000, PromptFinished("c1:p1")),
    msg(5, 1000, PromptFinished("c2:p1"), "c2"),
    msg(6, 1500, Digit("1")),
    msg(7, 4000, commands.Tick(), "acme"),  # the runtime's per-tenant tick
    msg(8, 4100, Digit("1"), "c2"),
    msg(9, 5000, CallerHungUp(), "c3", tenant="other"),
]


def test_sessions_per_contact_and_tenant_with_derived_envelopes() -> None:
    state, out = run(INPUTS)
    assert state.sessions == {}  # all three ended
    log, effects = split(out)
    assert [type(m.body) for m in effects] == [PlayPrompt, PlayPrompt, PlayPrompt, HangUp]
    ended = {m.body.contact_id: m.body.result for m in log if isinstance(m.body, IvrEnded)}
    assert ended == {"c1": "routed", "c2": "completed", "c3": "hung_up"}
    # the tick stepped c2 (timed out), not c3 of the other tenant, and c1 had left the flow
    (timeout,) = [m for m in log if isinstance(m.body, IvrNodeLeft) and m.body.exit == "timeout"]
    assert timeout.envelope.causation_id == "in-7" and timeout.envelope.correlation_id == "c2"
    (route,) = [m for m in log if isinstance(m.body, RouteContact)]
    assert route.envelope.causation_id == "in-6" and route.envelope.tenant == "acme"
    assert all(m.envelope.event_id != m.envelope.causation_id for m in out)


def test_a_replay_reproduces_every_output_byte_for_byte() -> None:
    assert repr(run(INPUTS)[1]) == repr(run(INPUTS)[1])


def test_the_latest_version_starts_and_bad_inputs_are_invalid() -> None:
    state, _out = run(INPUTS[:1])
    (session,) = state.sessions.values()
    assert session.flow_version == 2
    with pytest.raises(Invalid, match="unknown IVR flow 'nope'; known: hotline"):
        run([msg(1, 0, StartIvr("nope", Contact("c1")))])
    with pytest.raises(Invalid, match="already in an IVR flow"):
        run([INPUTS[0], INPUTS[0]])
    with pytest.raises(Invalid, match="str is not an IVR input"):
        run([msg(1, 0, "hello")])
    assert run([msg(1, 0, Digit("1"), "nobody")]) == (IvrSessions(), [])
