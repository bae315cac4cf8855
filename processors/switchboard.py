"""The switchboard: switch facts to ACD commands, ACD decisions to switch actions (mode 1).

It sits between the switch and the ACD when ccx routes (docs/telephony.md, "ccx routes";
why a separate decider: docs/adr/0014-switchboard.md). It reads `cc.telephony` (facts from
the AMI adapter and the executor's `SwitchActionFailed`) and `cc.contact-events` (the ACD's
decisions), and writes commands to `cc.commands` and actions to `cc.switch-actions`:

| input | output |
| --- | --- |
| `CallStarted` in the holding context | `RouteContact` (queue from the DNIS map); none with a flow |
| `IvrEnded` of a call in the IVR | routed, callback: wait for the ACD (caller gone: `HangUpContact`) |
| `ContactOffered` of one of its contacts | `OriginateAgent` (the agent's endpoint) |
| `ChannelAnswered` of an agent leg | `AcceptOffer` |
| `ContactConnected` | `BridgeCall` (and `StartRecording` when configured) |
| `CallHungUp` of the caller | `HangUpContact` party caller; `HangupChannel` of live agent legs |
| `CallHungUp` of the connected agent | `HangUpContact` party agent |
| `CallHungUp` of a ringing agent leg, busy or rejected | `DeclineOffer` (no answer: RONA decides) |
| `OfferTimedOut`, `OfferWithdrawn`, `OfferDeclined` | `HangupChannel` of that agent's leg |
| `ContactEnded`, `ContactBlocked` | `HangupChannel` of whatever is still up |
| `CallHeld` / `CallResumed` on a connected call | `HoldContact` / `ResumeContact` |
| `SwitchActionFailed` of an `OriginateAgent` / `BridgeCall` | `DeclineOffer` / `HangUpContact` party system |
| `SupervisorJoined` on an agent leg that is up | `Spy` (the supervisor's endpoint, derived like an agent's) |

A call whose DNIS has an IVR flow (`SwitchboardConfig.flow_for`) goes through the IVR
processor (`telephony.ivr.live`) first: it sends the `RouteContact` its flow decides, and
the switchboard takes the call over from the ACD's decisions as usual. A caller hanging up
in the IVR is the IVR's (no `HangUpContact`: the ACD never knew the contact).

A call's contact id is its call id (Asterisk's `Linkedid`); channels are known by their
unique id: the caller's from `CallStarted`, an agent leg's because the switchboard names
it (`OriginateAgent.channel_id`, AMI `ChannelId`); a switch that ignores `ChannelId`
is matched by endpoint (the leg's `CallStarted.trunk`). Facts of calls it does not know,
and contact events of contacts it did not route (the simulator's, the API's), change
nothing. A message that is neither a fact nor a contact event, or a fact missing the id
that names its channel, is `Invalid` (dead-lettered by the runner).

Pure like every processor: state per tenant in persistent maps, outputs stamped with
envelopes derived from the input (`schemas.envelope.derive`) and correlated by contact, so
a replay derives the same commands and the same action ids byte for byte. Its configuration
(`SwitchboardConfig`) is part of the decision, like code: change it and later decisions
follow the new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.decider import Invalid
from processors.pmap import PMap
from schemas import commands as c
from schemas import contact as ev
from schemas import ivr as iv
from schemas import switch_actions as a
from schemas import telephony as t
from schemas.envelope import Message, derive

__all__ = ["NO_ANSWER_CAUSES", "Call", "Leg", "Switchboard", "SwitchboardConfig", "SwitchboardState"]

NO_ANSWER_CAUSES = frozenset({18, 19})
"""Q.850 no user responding / no answer: a ringing leg that ends so is left to the ACD's
ring timeout (RONA). Any other cause before answer (17 busy, 21 rejected, …) declines."""
NORMAL, REJECTED = 16, 21
GONE_MEMORY = 10_000
_FACTS = tuple(getattr(t, n) for n in t.__all__)
_EVENTS = tuple(getattr(ev, n) for n in ev.__all__)
_IVR_EVENTS = tuple(getattr(iv, n) for n in iv.__all__ if isinstance(getattr(iv, n), type))
_CHANNEL_FACTS = (t.CallStarted, t.ChannelAnswered, t.CallHungUp, t.CallHeld, t.CallResumed)


@dataclass(frozen=True, slots=True)
class SwitchboardConfig:
    """Where calls wait and how agents are reached (docs/telephony.md, "Configuration").

    `dnis_queues` maps a dialled number to a queue; `default_queue` takes the other calls
    entering `holding_context` ("": they are left alone). `agent_endpoints` maps an agent to
    a dialable endpoint; agents not in it get `endpoint_pattern` with `{agent_id}` filled
    ("": no endpoint, their offers are declined). Agent legs are originated into
    `agent_context`/`agent_exten`. `record_file` (a pattern with `{contact_id}`), when set,
    records every connected call.

    `dnis_flows` maps a dialled number to an IVR flow id, `default_flow` the other calls
    entering `holding_context` ("": none): such a call goes through the IVR processor
    (`telephony.ivr.live`) first, which sends the `RouteContact` its flow decides; a flow
    wins over a queue. `play_context` is where prompts are played (`PlayPrompt`).
    """

    holding_context: str = "ccx-inbound"
    dnis_queues: Mapping[str, str] = field(default_factory=dict)
    default_queue: str = ""
    agent_endpoints: Mapping[str, str] = field(default_factory=dict)
    endpoint_pattern: str = "PJSIP/{agent_id}"
    agent_context: str = "ccx-agent"
    agent_exten: str = "s"
    record_file: str = ""
    dnis_flows: Mapping[str, str] = field(default_factory=dict)
    default_flow: str = ""
    play_context: str = "ccx-play"

    def queue_for(self, dnis: str) -> str:
        return self.dnis_queues.get(dnis, self.default_queue)

    def flow_for(self, dnis: str) -> str:
        """The IVR flow a call to `dnis` entering the holding context goes through ("": none)."""
        return self.dnis_flows.get(dnis, self.default_flow)

    def endpoint_for(self, agent_id: str) -> str:
        endpoint = self.agent_endpoints.get(agent_id)
        if endpoint is not None:
            return endpoint
        return self.endpoint_pattern.replace("{agent_id}", agent_id) if self.endpoint_pattern else ""


# Leg states: "dialing" (originated, not answered), "up", "closing" (hang-up asked), "down".
LIVE = ("dialing", "up")


@dataclass(frozen=True, slots=True)
class Leg:
    """An agent leg: the channel originated to `agent_id` for an offer."""

    agent_id: str
    endpoint: str
    uniqueid: str
    channel: str = ""
    state: str = "dialing"
    offered: bool = True
    """The ACD's offer is still open (no accept, decline, timeout or withdrawal yet)."""


@dataclass(frozen=True, slots=True)
class Call:
    """A contact the switchboard routed: its caller channel, agent legs and progress."""

    contact_id: str
    call_id: str
    caller_uid: str
    caller_channel: str
    caller: str = "up"  # "up", "closing", "down"
    ended: bool = False
    agent_id: str = ""  # the connected agent
    held: bool = False
    legs: Mapping[str, Leg] = field(default_factory=dict)
    in_ivr: bool = False
    """In an IVR flow: the ACD does not know the contact until the flow routes it."""

    def leg(self, agent_id: str, **changes: Any) -> Call:
        return replace(self, legs={**self.legs, agent_id: replace(self.legs[agent_id], **changes)})

    @property
    def finished(self) -> bool:
        return self.ended and self.caller == "down" and all(g.state == "down" for g in self.legs.values())


@dataclass(frozen=True, slots=True)
class Board:
    """One tenant: calls by contact id, unique id -> (contact id, agent id or ""), and the
    unique ids of the last `GONE_MEMORY` finished channels (a late or repeated fact of a
    finished call must not route it again), numbered in the order they finished."""

    calls: PMap[Call] = field(default_factory=PMap)
    channels: PMap[tuple[str, str]] = field(default_factory=PMap)
    gone: PMap[int] = field(default_factory=PMap)
    gone_order: PMap[str] = field(default_factory=PMap)
    gone_count: int = 0

    def forget(self, uids: Sequence[str]) -> Board:
        channels, gone, order, n = self.channels, self.gone, self.gone_order, self.gone_count
        for uid in uids:
            if uid in channels:
                channels = channels.delete(uid)
            gone, order = gone.set(uid, n), order.set(str(n), uid)
            old = order.get(str(n - GONE_MEMORY))
            if old is not None:
                order = order.delete(str(n - GONE_MEMORY))
                if gone.get(old) == n - GONE_MEMORY:
                    gone = gone.delete(old)
            n += 1
        return replace(self, channels=channels, gone=gone, gone_order=order, gone_count=n)


@dataclass(frozen=True, slots=True)
class SwitchboardState:
    boards: PMap[Board] = field(default_factory=PMap)


class _Draft:
    """One input's working copy of a tenant's board and the bodies decided so far."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.out: list[object] = []

    def call(self, contact_id: str) -> Call | None:
        return self.board.calls.get(contact_id)

    def put(self, call: Call) -> None:
        b = self.board
        channels = b.channels
        if call.finished:
            b = b.forget((call.caller_uid, *(g.uniqueid for g in call.legs.values())))
            calls = b.calls.delete(call.contact_id) if call.contact_id in b.calls else b.calls
            self.board = replace(b, calls=calls)
            return
        for agent_id, g in call.legs.items():
            if g.uniqueid not in channels:
                channels = channels.set(g.uniqueid, (call.contact_id, agent_id))
        if call.caller_uid not in channels:
            channels = channels.set(call.caller_uid, (call.contact_id, ""))
        self.board = replace(b, calls=b.calls.set(call.contact_id, call), channels=channels)

    def hang_up_leg(self, call: Call, agent_id: str) -> Call:
        """Hang the agent's leg up if it is live; a leg whose channel is not known yet
        closes when its `CallStarted` names it."""
        g = call.legs[agent_id]
        if g.state not in LIVE:
            return call
        if g.channel:
            self.out.append(a.HangupChannel(call.contact_id, g.channel, NORMAL))
        return call.leg(agent_id, state="closing", offered=False)

    def hang_up_all(self, call: Call, cause: int = NORMAL) -> Call:
        if call.caller == "up":
            self.out.append(a.HangupChannel(call.contact_id, call.caller_channel, cause))
            call = replace(call, caller="closing")
        for agent_id in sorted(call.legs):
            call = self.hang_up_leg(call, agent_id)
        return call


class Switchboard:
    """The switchboard processor (see the module docstring); `process` as the runner drives it."""

    name = "switchboard"
    version = 1
    inputs: tuple[str, ...] = ("cc.telephony", "cc.contact-events", "cc.ivr-events")
    outputs: tuple[str, ...] = ("cc.commands", "cc.switch-actions")

    def __init__(self, config: SwitchboardConfig | None = None) -> None:
        self.config = config or SwitchboardConfig()

    def initial_state(self) -> SwitchboardState:
        return SwitchboardState()

    def process(
        self, state: SwitchboardState, message: Message[Any]
    ) -> tuple[SwitchboardState, Sequence[Message[Any]]]:
        body, tenant = message.body, message.envelope.tenant
        board = state.boards.get(tenant) or Board()
        d = _Draft(board)
        if isinstance(body, _FACTS):
            self._fact(d, message)
        elif isinstance(body, _EVENTS):
            self._event(d, message)
        elif isinstance(body, iv.IvrEnded):
            self._ivr_ended(d, body)
        elif isinstance(body, _IVR_EVENTS):
            pass  # the other IVR events: the IVR processor's business
        else:
            raise Invalid(
                f"the switchboard reads switch facts, contact and IVR events, not {type(body).__name__}"
            )
        if d.board is board and not d.out:
            return state, ()
        outputs = [_stamp(message, b, i) for i, b in enumerate(d.out)]
        return SwitchboardState(state.boards.set(tenant, d.board)), outputs

    # -- switch facts --------------------------------------------------------------------

    def _fact(self, d: _Draft, message: Message[Any]) -> None:
        body = message.body
        if isinstance(body, t.SwitchActionFailed):
            self._failed(d, body)
            return
        if not isinstance(body, _CHANNEL_FACTS):
            return  # dials, bridges, transfers, queue members, recordings: nothing to act on
        uid = body.uniqueid
        if not uid:
            raise Invalid(f"{type(body).__name__} without a uniqueid: cannot tell which channel")
        if isinstance(body, t.CallStarted):
            self._started(d, body, message.envelope.event_id)
            return
        where = d.board.channels.get(uid)
        if where is None:
            return
        call = d.call(where[0])
        agent_id = where[1]
        if call is None or (agent_id and call.legs[agent_id].uniqueid != uid):
            return  # a leg replaced by a new offer to the same agent
        match body:
            case t.ChannelAnswered() if agent_id:
                g = call.legs[agent_id]
                if g.state == "dialing" and g.offered:
                    d.out.append(c.AcceptOffer(call.contact_id, agent_id))
                    call = call.leg(agent_id, state="up", channel=g.channel or body.channel)
            case t.CallHungUp() if agent_id:
                call = self._agent_gone(d, call, agent_id, body.cause)
            case t.CallHungUp():
                if call.caller != "down":
                    if not call.ended and call.caller == "up" and not call.in_ivr:
                        d.out.append(c.HangUpContact(call.contact_id, "caller"))
                    call = replace(call, caller="down")
                    for other in sorted(call.legs):
                        call = d.hang_up_leg(call, other)
            case t.CallHeld() if call.agent_id and not call.held and not call.ended:
                d.out.append(c.HoldContact(call.contact_id, call.agent_id))
                call = replace(call, held=True)
            case t.CallResumed() if call.held and not call.ended:
                d.out.append(c.ResumeContact(call.contact_id, call.agent_id))
                call = replace(call, held=False)
            case _:
                return
        d.put(call)

    def _started(self, d: _Draft, f: t.CallStarted, event_id: str) -> None:
        if f.uniqueid in d.board.channels:
            contact_id, agent_id = d.board.channels[f.uniqueid]
            call = d.call(contact_id)
            if call is not None and agent_id and not call.legs[agent_id].channel:
                self._named(d, call, agent_id, f.channel)
            return
        # A switch that ignored ChannelId: the first unnamed leg dialling this endpoint.
        for call in d.board.calls.values():
            for agent_id, g in sorted(call.legs.items()):
                if not g.channel and g.state in ("dialing", "closing") and g.endpoint == f.trunk:
                    d.board = replace(
                        d.board, channels=d.board.channels.set(f.uniqueid, (call.contact_id, agent_id))
                    )
                    self._named(d, call.leg(agent_id, uniqueid=f.uniqueid), agent_id, f.channel)
                    return
        if f.context != self.config.holding_context or f.uniqueid in d.board.gone:
            return
        contact_id = f.call_id or f.uniqueid
        if contact_id in d.board.calls:
            return
        if self.config.flow_for(f.dnis):  # the IVR processor starts the flow on the same fact
            d.put(Call(contact_id, f.call_id, f.uniqueid, f.channel, in_ivr=True))
            return
        queue_id = self.config.queue_for(f.dnis)
        if not queue_id:
            return
        d.out.append(c.RouteContact(contact_id, queue_id, "voice", 0, f.ani, f.dnis))
        d.put(Call(contact_id, f.call_id, f.uniqueid, f.channel))

    def _ivr_ended(self, d: _Draft, e: iv.IvrEnded) -> None:
        """The flow of a call in the IVR ended. Routed (or a callback): the IVR processor
        appended its `RouteContact` in the same commit as this event, so a `HangUpContact`
        decided now follows it on `cc.commands` — the caller who left meanwhile abandons.
        Else the IVR processor closes the call (hang-up, voicemail): forget it."""
        call = d.call(e.contact_id)
        if call is None or not call.in_ivr:
            return
        if e.result in ("routed", "callback"):
            call = replace(call, in_ivr=False)
            if call.caller != "up" and not call.ended:
                d.out.append(c.HangUpContact(call.contact_id, "caller"))
            d.put(call)
            return
        d.put(replace(call, in_ivr=False, ended=True, caller="down"))

    def _named(self, d: _Draft, call: Call, agent_id: str, channel: str) -> None:
        """The agent leg's channel name is known now; a leg already asked to close closes."""
        g = call.legs[agent_id]
        if g.state == "closing":
            d.out.append(a.HangupChannel(call.contact_id, channel, NORMAL))
        d.put(call.leg(agent_id, channel=channel))

    def _agent_gone(self, d: _Draft, call: Call, agent_id: str, cause: int) -> Call:
        g = call.legs[agent_id]
        if g.state == "down":
            return call
        if g.state == "dialing" and g.offered and cause not in NO_ANSWER_CAUSES:
            d.out.append(c.DeclineOffer(call.contact_id, agent_id))
            return call.leg(agent_id, state="down", offered=False)
        if g.state == "up" and call.agent_id == agent_id and not call.ended:
            d.out.append(c.HangUpContact(call.contact_id, "agent"))
        # Answered but not connected yet: `ContactConnected` will find the leg down.
        return call.leg(agent_id, state="down")

    def _failed(self, d: _Draft, f: t.SwitchActionFailed) -> None:
        call = d.call(f.contact_id)
        if call is None:
            return
        if f.action == "OriginateAgent":
            where = d.board.channels.get(f.uniqueid)
            if where is None or not where[1]:
                return
            g = call.legs[where[1]]
            if g.state == "dialing" and g.offered:
                d.out.append(c.DeclineOffer(call.contact_id, g.agent_id))
                d.put(call.leg(g.agent_id, state="down", offered=False))
        elif f.action == "BridgeCall" and not call.ended:
            d.out.append(c.HangUpContact(call.contact_id, "system"))
            d.put(replace(call, ended=True))

    # -- the ACD's decisions -------------------------------------------------------------

    def _event(self, d: _Draft, message: Message[Any]) -> None:
        body = message.body
        call = d.call(getattr(body, "contact_id", ""))
        if call is None:
            return
        match body:
            case ev.ContactOffered(agent_id=agent_id):
                old = call.legs.get(agent_id)
                if call.ended or call.caller != "up" or (old is not None and old.state in LIVE):
                    return
                endpoint = self.config.endpoint_for(agent_id)
                if not endpoint:
                    d.out.append(c.DeclineOffer(call.contact_id, agent_id))
                    return
                env = message.envelope
                uid = f"ccx-{env.event_id}"
                timeout_s = max(1, -(-(body.expires_at - env.occurred_at) // 1000))
                d.out.append(
                    a.OriginateAgent(
                        call.contact_id,
                        agent_id,
                        endpoint,
                        call.caller_channel,
                        uid,
                        self.config.agent_context,
                        self.config.agent_exten,
                        call.contact_id,
                        timeout_s,
                    )
                )
                call = replace(call, legs={**call.legs, agent_id: Leg(agent_id, endpoint, uid)})
                if old is not None and old.uniqueid in d.board.channels:  # offered to them again
                    d.board = replace(d.board, channels=d.board.channels.delete(old.uniqueid))
            case ev.ContactConnected(agent_id=agent_id) if agent_id in call.legs:
                call = replace(call, agent_id=agent_id).leg(agent_id, offered=False)
                g = call.legs[agent_id]
                if g.state == "down":
                    d.out.append(c.HangUpContact(call.contact_id, "agent"))
                elif g.state == "up" and call.caller == "up":
                    d.out.append(a.BridgeCall(call.contact_id, call.caller_channel, g.channel))
                    if self.config.record_file:
                        file = self.config.record_file.replace("{contact_id}", call.contact_id)
                        d.out.append(a.StartRecording(call.contact_id, call.caller_channel, file))
            case ev.OfferTimedOut() | ev.OfferWithdrawn() | ev.OfferDeclined() if body.agent_id in call.legs:
                call = d.hang_up_leg(call.leg(body.agent_id, offered=False), body.agent_id)
            case ev.ContactEnded() | ev.ContactBlocked():
                cause = REJECTED if isinstance(body, ev.ContactBlocked) else NORMAL
                call = d.hang_up_all(replace(call, ended=True), cause)
            case ev.SupervisorJoined(agent_id=agent_id, supervisor_id=supervisor_id, mode=mode):
                spied = call.legs.get(agent_id)
                endpoint = self.config.endpoint_for(supervisor_id)
                if (
                    spied is not None
                    and spied.state == "up"
                    and spied.channel
                    and endpoint
                    and not call.ended
                ):
                    d.out.append(a.Spy(call.contact_id, endpoint, spied.channel, mode))
                return
            case _:
                return
        d.put(call)


def _stamp(cause: Message[Any], body: object, index: int) -> Message[Any]:
    """`derive`, correlated by the contact (a fact's correlation id is its call)."""
    out = derive(cause, body, index)
    contact_id = getattr(body, "contact_id", "")
    if contact_id and contact_id != out.envelope.correlation_id:
        out = Message(replace(out.envelope, correlation_id=contact_id), body)
    return out
