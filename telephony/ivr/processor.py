"""`IvrProcessor`: the IVR sessions of many contacts, in the processors' `process` shape.

`process(state, message)` takes one input message — `StartIvr` (a call enters a flow) or
an interpreter input (`telephony.ivr.messages`), the contact being the envelope's
`correlation_id` — and returns the new state and the output messages. Outputs carry
envelopes derived from the input (`schemas.envelope.derive`), so replaying the same input
messages gives the same outputs, ids included, byte for byte. A `Tick` (the interpreter's,
or the runtime's per-tenant `schemas.commands.Tick`) steps every open session of the
tenant, in contact id order.

The outputs are events for `cc.ivr-events`, commands for `cc.commands` and effects for
the edge; `split` tells them apart. Effects are never written to the log — they carry
sensitive values (a card number in a lookup URL) — and neither is the state, which holds
them while a contact is in a flow. So the processor runs inside the telephony edge, which
logs its input facts and the events; it has no input topic of its own yet (its facts come
from the AMI adapter's DTMF and hang-up events and the edge's prompt and lookup results)
and is not registered with the runner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.decider import Invalid
from schemas import commands
from schemas.envelope import Message, derive
from telephony.ivr.interpreter import IvrState, start, step
from telephony.ivr.messages import (
    CallerHungUp,
    Contact,
    Digit,
    HangUp,
    LeaveVoicemail,
    LookupAnswered,
    LookupFailed,
    PlayPrompt,
    PromptFinished,
    StartLookup,
    Tick,
)
from telephony.ivr.model import Flow

__all__ = ["EFFECTS", "IvrProcessor", "IvrSessions", "StartIvr", "split"]

EFFECTS = (PlayPrompt, StartLookup, LeaveVoicemail, HangUp)
_PER_CONTACT = (Digit, PromptFinished, LookupAnswered, LookupFailed, CallerHungUp)


@dataclass(frozen=True, slots=True)
class StartIvr:
    """The call `contact` enters the latest version of flow `flow_id`."""

    flow_id: str
    contact: Contact


@dataclass(frozen=True, slots=True)
class IvrSessions:
    """Open sessions by (tenant, contact id); a session is dropped when it ends."""

    sessions: Mapping[tuple[str, str], IvrState] = field(default_factory=dict)


def split(outputs: Sequence[Message[Any]]) -> tuple[list[Message[Any]], list[Message[Any]]]:
    """(messages for the log: events and commands, effects for the edge)."""
    log = [m for m in outputs if not isinstance(m.body, EFFECTS)]
    return log, [m for m in outputs if isinstance(m.body, EFFECTS)]


class IvrProcessor:
    name = "ivr"
    version = 1
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ("cc.ivr-events", "cc.commands")

    def __init__(self, flows: Sequence[Flow]) -> None:
        self.flows = {(f.id, f.version): f for f in flows}
        self.latest: dict[str, Flow] = {}
        for f in flows:
            if f.version >= self.latest.get(f.id, f).version:
                self.latest[f.id] = f

    def initial_state(self) -> IvrSessions:
        return IvrSessions()

    def process(self, state: IvrSessions, message: Message[Any]) -> tuple[IvrSessions, list[Message[Any]]]:
        env, body = message.envelope, message.body
        now = env.occurred_at
        sessions = dict(state.sessions)
        bodies: list[object] = []
        if isinstance(body, StartIvr):
            flow = self.latest.get(body.flow_id)
            if flow is None:
                raise Invalid(f"unknown IVR flow {body.flow_id!r}; known: {', '.join(sorted(self.latest))}")
            key = (env.tenant, body.contact.contact_id)
            if key in sessions:
                raise Invalid(f"contact {body.contact.contact_id!r} is already in an IVR flow")
            sessions[key], outs = start(flow, body.contact, now)
            bodies += outs
        elif isinstance(body, Tick | commands.Tick):
            for key in sorted(k for k in sessions if k[0] == env.tenant):
                s = sessions[key]
                sessions[key], outs = step(self.flows[(s.flow_id, s.flow_version)], s, Tick(), now)
                bodies += outs
        elif isinstance(body, _PER_CONTACT):
            key = (env.tenant, env.correlation_id)
            session = sessions.get(key)
            if session is None:
                return state, []  # not (or no longer) in a flow: a late fact changes nothing
            flow = self.flows[(session.flow_id, session.flow_version)]
            sessions[key], outs = step(flow, session, body, now)
            bodies += outs
        else:
            raise Invalid(f"{type(body).__name__} is not an IVR input")
        if not bodies and sessions == state.sessions:
            return state, []
        for key in [k for k, s in sessions.items() if s.ended]:
            del sessions[key]
        return replace(state, sessions=sessions), [_stamp(message, b, i) for i, b in enumerate(bodies)]


def _stamp(cause: Message[Any], body: object, index: int) -> Message[Any]:
    """`derive`, with the contact's id as the correlation id (a tick steps many contacts)."""
    out = derive(cause, body, index)
    contact_id = getattr(body, "contact_id", "")
    if contact_id and contact_id != out.envelope.correlation_id:
        out = Message(replace(out.envelope, correlation_id=contact_id), body)
    return out
