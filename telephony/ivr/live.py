"""`LiveIvr`: the IVR in front of the queue in mode 1, as a processor the runner drives (`ccx run ivr`).

It reads `cc.telephony` (the AMI adapter's facts) and `cc.commands` (only the runtime's
per-tenant `Tick`, so menu and collect timeouts fire on the log's time and replay exactly)
and wraps `IvrProcessor` (the pure sessions of many contacts):

| input | to the interpreter |
| --- | --- |
| `CallStarted` in the holding context, DNIS with a flow (`flow_for`) | `StartIvr` (contact = call id) |
| `DtmfReceived` on the caller's channel (direction `Received`) | `Digit` |
| `PromptFinished` on the caller's channel | `PromptFinished(play_id)` |
| `CallHungUp` of the caller | `CallerHungUp` |
| `IvrLookupResult` (the lookup edge's fact) | `LookupAnswered` (ok) / `LookupFailed` (reason) |
| `RecordingStarted` / `RecordingStopped` of the caller's channel | nothing: noted (see below) |
| `Tick` (`schemas.commands`) | `Tick`: the tenant's due timeouts fire |

and turns the interpreter's outputs into log records: events to `cc.ivr-events`, its
`RouteContact`/`RequestCallback` to `cc.commands`, and its effects into switch actions on
`cc.switch-actions`: `PlayPrompt` → `PlayPrompt` (the executor's Setvar + Redirect to
`ccx-play`), `HangUp` and `LeaveVoicemail` → `HangupChannel` (the goodbye and the voicemail
recording are not played live yet). `StartLookup` is not written anywhere (its URL may
carry sensitive digits): it is kept in memory for the process's lookup edge
(`telephony.ivr.lookups.LookupEdge`, which takes them with `take_lookups()` after each batch,
performs the HTTP request and appends an `IvrLookupResult` fact to `cc.telephony`); the
flow decides from that fact, so a replay decides the same without any HTTP. Without an edge
(or when it is too late) the lookup times out to `on_failure` after its `timeout_s`.

**Recording paused for card data.** While the caller's channel is recorded (the switch's
`RecordingStarted` / `RecordingStopped` facts of it, e.g. a MixMonitor of the whole call
from the dialplan), entering a `sensitive` collect node emits `PauseRecording(reason
"card_data")` right after `IvrNodeEntered` (before the prompt), and leaving it
`ResumeRecording` right after `IvrNodeLeft` (not when the caller hung up). A recording that
starts inside such a node is paused at once.

The switchboard decides from the same `CallStarted` and the same configuration that the
call is in the IVR (it sends no `RouteContact` for it), and from `IvrEnded` on
`cc.ivr-events` when the ACD takes over; see docs/ivr.md, "Live: the IVR in front of the
queue".

**Sensitive digits.** While a caller is in a `sensitive` collect node, or holds an
attribute such a node collected, the state holds the raw digits. `snapshot_ok` tells the
runner not to snapshot such a state (it postpones the snapshot to a later commit), so a
snapshot never contains them; restoring re-runs the input tail from the last clean one.
The raw digits are in `cc.telephony` as `DtmfReceived` facts anyway (the switch reported
them): keep that topic's retention short where card numbers are typed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.switchboard import NORMAL, SwitchboardConfig
from schemas import commands as c
from schemas import ivr as ev
from schemas import switch_actions as a
from schemas import telephony as t
from schemas.envelope import Message, derive
from telephony.ivr.interpreter import IvrState
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
)
from telephony.ivr.model import Collect, Flow
from telephony.ivr.processor import IvrProcessor, IvrSessions, StartIvr

__all__ = ["CARD_DATA", "LiveIvr", "LiveIvrState", "PendingLookup"]

CARD_DATA = "card_data"
MAX_PENDING_LOOKUPS = 10_000
"""Lookups kept for an edge that has not taken them (a replay without an edge drops the oldest)."""
_ACTION_INDEX = 900
"""`derive` index of the recording actions the IVR adds (apart from the engine's outputs)."""


@dataclass(frozen=True, slots=True)
class PendingLookup:
    """A `StartLookup` effect for the process's lookup edge: `occurred_at` is the time of the
    input that asked for it (the edge skips requests whose timeout passed already),
    `cause_id` that input's event id (the result fact's causation)."""

    tenant: str
    occurred_at: int
    cause_id: str
    effect: StartLookup


@dataclass(frozen=True, slots=True)
class LiveIvrState:
    """The sessions, and the caller channel of each contact in a flow: (tenant, contact id)
    -> (unique id, channel name); (tenant, unique id) -> contact id."""

    sessions: IvrSessions = field(default_factory=IvrSessions)
    channels: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    by_uid: dict[tuple[str, str], str] = field(default_factory=dict)
    recorded: frozenset[tuple[str, str]] = frozenset()
    """(tenant, contact id) whose caller channel is being recorded."""
    paused: frozenset[tuple[str, str]] = frozenset()
    """(tenant, contact id) whose recording the IVR paused (a sensitive node)."""


class LiveIvr:
    name = "ivr"
    version = 1
    inputs: tuple[str, ...] = ("cc.telephony", "cc.commands")
    outputs: tuple[str, ...] = ("cc.ivr-events", "cc.commands", "cc.switch-actions")

    def __init__(self, flows: Sequence[Flow], config: SwitchboardConfig | None = None) -> None:
        self.config = config or SwitchboardConfig()
        self.engine = IvrProcessor(flows)
        self.flows = {(f.id, f.version): f for f in flows}
        self._sensitive = {key: f.sensitive for key, f in self.flows.items()}
        self._secret_nodes = {
            (f.id, f.version, n.id) for f in flows for n in f.nodes if isinstance(n, Collect) and n.sensitive
        }
        self._lookups: deque[PendingLookup] = deque(maxlen=MAX_PENDING_LOOKUPS)
        for flow_id in {*self.config.dnis_flows.values(), self.config.default_flow} - {""}:
            if flow_id not in self.engine.latest:
                known = ", ".join(sorted(self.engine.latest)) or "none"
                raise ValueError(f"IVR flow {flow_id!r} is configured but not loaded; loaded: {known}")

    def initial_state(self) -> LiveIvrState:
        return LiveIvrState()

    def take_lookups(self) -> list[PendingLookup]:
        """The `StartLookup` effects decided since the last call (for the lookup edge)."""
        taken = list(self._lookups)
        self._lookups.clear()
        return taken

    def snapshot_ok(self, state: LiveIvrState) -> bool:
        """False while any session holds sensitive digits (see the module docstring)."""
        return not any(self._holds_secret(s) for s in state.sessions.sessions.values())

    def _holds_secret(self, s: IvrState) -> bool:
        secret = self._sensitive.get((s.flow_id, s.flow_version), frozenset())
        if not secret:
            return False
        node = self.flows[(s.flow_id, s.flow_version)].by_id.get(s.node_id)
        if isinstance(node, Collect) and node.sensitive and s.digits:
            return True
        return any(name in secret for name, _value in s.attributes)

    def process(self, state: LiveIvrState, message: Message[Any]) -> tuple[LiveIvrState, list[Message[Any]]]:
        body, env = message.body, message.envelope
        tenant = env.tenant
        channels, by_uid = state.channels, state.by_uid
        recorded, paused = state.recorded, state.paused
        inner: Message[Any] | None = None
        if isinstance(body, c.Tick):
            inner = message
        elif isinstance(body, t.CallStarted):
            flow_id = self.config.flow_for(body.dnis)
            contact_id = body.call_id or body.uniqueid
            if (
                body.context != self.config.holding_context
                or not flow_id
                or (tenant, contact_id) in channels
                or (tenant, contact_id) in state.sessions.sessions
            ):
                return state, []
            contact = Contact(contact_id, body.ani, body.dnis)
            inner = _with(message, StartIvr(flow_id, contact), contact_id)
            channels = {**channels, (tenant, contact_id): (body.uniqueid, body.channel)}
            by_uid = {**by_uid, (tenant, body.uniqueid): contact_id}
        elif isinstance(body, t.IvrLookupResult):
            if (tenant, body.contact_id) not in state.sessions.sessions:
                return state, []  # late: the flow went on (timed out) or ended
            answer: object = (
                LookupAnswered(body.request_id, body.answer_json)
                if body.ok
                else LookupFailed(body.request_id, body.reason or "failed")
            )
            inner = _with(message, answer, body.contact_id)
        elif isinstance(body, t.RecordingStarted | t.RecordingStopped):
            contact_id = by_uid.get((tenant, body.uniqueid), "")
            if not contact_id:
                return state, []
            key = (tenant, contact_id)
            if isinstance(body, t.RecordingStopped):
                if key not in recorded:
                    return state, []
                return replace(state, recorded=recorded - {key}, paused=paused - {key}), []
            if key in recorded:
                return state, []
            recorded = recorded | {key}
            session = state.sessions.sessions.get(key)
            if session is not None and self._in_secret(
                session.flow_id, session.flow_version, session.node_id
            ):
                pause = a.PauseRecording(contact_id, channels[key][1], CARD_DATA)
                return replace(state, recorded=recorded, paused=paused | {key}), [
                    derive(_with(message, pause, contact_id), pause, _ACTION_INDEX)
                ]
            return replace(state, recorded=recorded), []
        elif isinstance(body, t.DtmfReceived | t.PromptFinished | t.CallHungUp):
            contact_id = by_uid.get((tenant, body.uniqueid), "")
            if not contact_id:
                return state, []
            if isinstance(body, t.DtmfReceived):
                if body.direction not in ("Received", ""):
                    return state, []
                inner = _with(message, Digit(body.digit), contact_id)
            elif isinstance(body, t.PromptFinished):
                inner = _with(message, PromptFinished(body.play_id), contact_id)
            else:
                inner = _with(message, CallerHungUp(), contact_id)
                channels = {k: v for k, v in channels.items() if k != (tenant, contact_id)}
                by_uid = {k: v for k, v in by_uid.items() if k != (tenant, body.uniqueid)}
        else:
            return state, []  # other facts and commands are not the IVR's
        sessions, outs = self.engine.process(state.sessions, inner)
        out: list[Message[Any]] = []
        for m in outs:
            key = (tenant, m.envelope.correlation_id)
            channel = channels.get(key)
            if isinstance(m.body, StartLookup):
                self._lookups.append(
                    PendingLookup(tenant, m.envelope.occurred_at, m.envelope.causation_id or "", m.body)
                )
                continue
            mapped = self._edge(m, channel)
            if mapped is not None:
                out.append(mapped)
            # the recording is paused while the caller is in a sensitive collect node
            if (
                channel is None
                or key not in recorded
                or not isinstance(m.body, ev.IvrNodeEntered | ev.IvrNodeLeft)
            ):
                continue
            s = sessions.sessions.get(key) or state.sessions.sessions.get(key)
            if s is None or not self._in_secret(m.body.flow_id, s.flow_version, m.body.node_id):
                continue
            if isinstance(m.body, ev.IvrNodeEntered) and key not in paused:
                paused = paused | {key}
                out.append(
                    derive(m, a.PauseRecording(m.body.contact_id, channel[1], CARD_DATA), _ACTION_INDEX)
                )
            elif isinstance(m.body, ev.IvrNodeLeft) and key in paused:
                paused = paused - {key}
                if m.body.exit != "hangup":
                    out.append(derive(m, a.ResumeRecording(m.body.contact_id, channel[1]), _ACTION_INDEX))
        # a contact whose session ended is no longer the IVR's (its channel is the switchboard's)
        live = {k for k in channels if k in sessions.sessions}
        if len(live) != len(channels):
            gone = {channels[k][0] for k in channels if k not in live}
            channels = {k: v for k, v in channels.items() if k in live}
            by_uid = {k: v for k, v in by_uid.items() if k[1] not in gone}
        if recorded or paused:
            recorded = frozenset(k for k in recorded if k in channels)
            paused = frozenset(k for k in paused if k in channels)
        new = LiveIvrState(sessions, channels, by_uid, recorded, paused)
        if (
            sessions is state.sessions
            and channels == state.channels
            and by_uid == state.by_uid
            and recorded == state.recorded
            and paused == state.paused
            and not out
        ):
            return state, []
        return new, out

    def _in_secret(self, flow_id: str, version: int, node_id: str) -> bool:
        return (flow_id, version, node_id) in self._secret_nodes

    def _edge(self, m: Message[Any], channel: tuple[str, str] | None) -> Message[Any] | None:
        """An interpreter output as a log record: effects become switch actions."""
        body = m.body
        if not isinstance(body, PlayPrompt | HangUp | LeaveVoicemail | StartLookup):
            return m
        if channel is None or isinstance(body, StartLookup):
            return None
        _uid, name = channel
        if isinstance(body, PlayPrompt):
            prompt = body.file or body.text
            action: object = a.PlayPrompt(
                body.contact_id, name, prompt, body.play_id, not body.file, self.config.play_context
            )
        else:
            action = a.HangupChannel(body.contact_id, name, NORMAL)
        return Message(m.envelope, action)


def _with(message: Message[Any], body: object, contact_id: str) -> Message[Any]:
    """The input `message` carrying another body, correlated by the contact."""
    return Message(replace(message.envelope, correlation_id=contact_id), body)
