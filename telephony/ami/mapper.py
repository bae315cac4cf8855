"""AMI events to switch facts (`schemas.telephony`): correlated per call, deduplicated, in order.

A pure translator: no I/O, no clock; what it returns depends only on the events fed to it,
in order. It keeps what it has learned of the live channels (call, state, bridges, hold,
recording, queues, conferences), which is how it

- **correlates**: every fact carries the call's id, Asterisk's `Linkedid` (falling back
  to the `Uniqueid` when a switch does not send it, or to a channel already known by name);
- **deduplicates**: a fact is a change of that state, so an event that changes nothing (the
  same event delivered twice, after a reconnect, or twice by Asterisk itself) yields no fact.
  Events with no state to compare (DTMF, transfers, queue-member calls) are recognised by
  their content: the whole event when it carries a `Timestamp`, else their identifying fields;
- **learns late**: the first event seen of a channel it never saw created (it connected
  mid-call, or a frame was lost) registers the channel, with `CallStarted` when it is the
  call's first channel; and `resync` compares a fresh `CoreShowChannels` list with what it
  knows after a lost connection (new channels, answers and bridges it missed, channels gone).

`translate` returns a `Translation`: the facts, or why there are none — `skipped` for
events ccx deliberately does not record, duplicates and protocol messages; `unmapped` for
what it does not understand (unknown events, missing or malformed fields), which the caller
logs and dead-letters.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from schemas import telephony as t
from schemas.channel_names import trunk_of

__all__ = ["IGNORED", "AmiMapper", "Translation", "ami_time_ms", "trunk_of"]

Event = Mapping[str, str]

# Events ccx knows and deliberately records nothing from (skipped, not dead-lettered).
IGNORED = frozenset(
    {
        "AGIExecEnd", "AGIExecStart", "AgentLogin", "AgentLogoff", "AsyncAGIEnd", "AsyncAGIExec",
        "AsyncAGIStart", "BridgeCreate", "BridgeDestroy", "BridgeMerge", "BridgeInfoChannel",
        "BridgeInfoComplete", "Cdr", "CEL", "ChallengeResponseFailed", "ChallengeSent", "ChannelUpdate",
        "ConfbridgeEnd", "ConfbridgeList", "ConfbridgeListComplete", "ConfbridgeMute", "ConfbridgeStart",
        "ConfbridgeTalking", "ConfbridgeUnmute", "ContactStatus", "CoreShowChannel",
        "CoreShowChannelsComplete", "DTMFBegin", "DeviceStateChange", "DialState", "ExtensionStatus",
        "FullyBooted", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest",
        "InvalidAccountID", "InvalidPassword", "LocalBridge", "LocalOptimizationBegin",
        "LocalOptimizationEnd", "MessageWaiting", "NewAccountCode", "NewCallerid", "NewConnectedLine",
        "NewPeerAccount", "Newexten", "OriginateResponse", "PeerStatus", "Pickup", "QueueEntry",
        "QueueMember", "QueueParams", "QueueStatusComplete", "QueueSummary", "QueueSummaryComplete",
        "RTCPReceived", "RTCPSent", "Registry", "Reload", "Shutdown", "SoftHangupRequest", "Status",
        "StatusComplete", "SuccessfulAuth", "VarSet",
    }
)  # fmt: skip

_DEVICE = (
    "UNKNOWN",
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
)
_RESYNC_GONE = "gone when the AMI connection came back (hung up while it was down)"


@dataclass(frozen=True, slots=True)
class Translation:
    """The facts one AMI message became, or why none: `skipped` (known, nothing to record,
    or a duplicate) or `unmapped` (not understood; to be dead-lettered)."""

    facts: tuple[object, ...] = ()
    skipped: str = ""
    unmapped: str = ""


class _Unmapped(Exception):
    pass


class _Skip(Exception):
    pass


@dataclass(slots=True)
class _Channel:
    call_id: str
    channel: str
    uniqueid: str
    ringing: bool = False
    up: bool = False
    held: bool = False
    recording: bool = False
    muted: bool = False
    file: str = ""
    bridges: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    conferences: set[str] = field(default_factory=set)
    dials: set[str] = field(default_factory=set)
    dials_ended: set[str] = field(default_factory=set)


class _Recent:
    """A bounded set remembering the last `size` keys added."""

    def __init__(self, size: int) -> None:
        self._keys: OrderedDict[object, None] = OrderedDict()
        self._size = size

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: object) -> None:
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)


def ami_time_ms(event: Event) -> int:
    """The event's `Timestamp` (seconds, e.g. "1409169929.412068") in ms; 0 when absent."""
    ts = event.get("Timestamp", "")
    if not ts:
        return 0
    try:
        return round(float(ts) * 1000)
    except ValueError:
        raise _Unmapped(f"Timestamp {ts!r} is not a number") from None


def _int(event: Event, key: str) -> int:
    text = event.get(key, "")
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise _Unmapped(f"field {key} {text!r} is not an integer") from None


def _need(event: Event, key: str) -> str:
    value = event.get(key, "")
    if not value:
        raise _Unmapped(f"{event.get('Event', '?')} without {key}")
    return value


class AmiMapper:
    """Translates AMI events, in order, into switch facts (see the module docstring)."""

    def __init__(self, memory: int = 100_000, *, recording_by_varset: bool = False) -> None:
        """`memory` bounds what is remembered of ended channels and one-off events;
        `recording_by_varset` is for switches older than Asterisk 12, which report no
        MixMonitorStart/Stop: a recording then starts when MIXMONITOR_FILENAME is set."""
        self._recording_by_varset = recording_by_varset
        self._channels: dict[str, _Channel] = {}  # live channels by uniqueid
        self._by_name: dict[str, str] = {}  # channel name -> uniqueid
        self._calls: dict[str, set[str]] = {}  # call id -> live channel uniqueids
        self._started: _Recent = _Recent(memory)  # call ids with a CallStarted
        self._ended: _Recent = _Recent(memory)  # uniqueids hung up
        self._once: _Recent = _Recent(memory)  # keys of stateless facts already emitted
        self._members: dict[tuple[str, str, str], tuple[object, ...]] = {}
        self._hold_events = False
        self._out: list[object] = []
        self._handlers: dict[str, Callable[[Event, str, int], str]] = {
            "Newchannel": self._newchannel,
            "Newstate": self._newstate,
            "DialBegin": self._dial_begin,
            "DialEnd": self._dial_end,
            "BridgeEnter": self._bridge_enter,
            "BridgeLeave": self._bridge_leave,
            "Hold": self._hold,
            "Unhold": self._unhold,
            "MusicOnHoldStart": self._moh_start,
            "MusicOnHoldStop": self._moh_stop,
            "Hangup": self._hangup,
            "DTMFEnd": self._dtmf,
            "UserEvent": self._user_event,
            "BlindTransfer": self._blind_transfer,
            "AttendedTransfer": self._attended_transfer,
            "MixMonitorStart": self._mixmonitor_start,
            "MixMonitorStop": self._mixmonitor_stop,
            "MixMonitorMute": self._mixmonitor_mute,
            "VarSet": self._varset,
            "QueueCallerJoin": self._queue_join,
            "QueueCallerLeave": self._queue_leave,
            "QueueCallerAbandon": self._queue_abandon,
            "AgentCalled": self._agent_called,
            "AgentRingNoAnswer": self._agent_no_answer,
            "AgentConnect": self._agent_connect,
            "AgentComplete": self._agent_complete,
            "QueueMemberPause": self._member_pause,
            "QueueMemberPaused": self._member_pause,  # Asterisk 11's name
            "QueueMemberStatus": self._member_status,
            "QueueMemberAdded": self._member_added,
            "QueueMemberRemoved": self._member_removed,
            "ConfbridgeJoin": self._conf_join,
            "ConfbridgeLeave": self._conf_leave,
        }

    # -- the entry points -------------------------------------------------------------

    def translate(self, event: Event) -> Translation:
        """The facts of one AMI message (an event; responses and actions are skipped)."""
        name = event.get("Event")
        if not name:
            if "Response" in event:
                return Translation(skipped="a response to an action, not an event")
            if "Action" in event:
                return Translation(skipped="an action sent by a client, not an event")
            return Translation(unmapped="no Event header")
        handler = self._handlers.get(name)
        if handler is None:
            if name in IGNORED:
                return Translation(skipped=f"{name} carries nothing ccx records")
            return Translation(unmapped=f"unknown event {name!r}")
        out: list[object] = []
        self._out = out
        try:
            ms = ami_time_ms(event)
            if ms and name not in ("VarSet",):
                key = ("ts", hash(tuple(event.items())))
                if key in self._once:
                    raise _Skip("duplicate: the same event (same Timestamp) was seen before")
                self._once.add(key)
            reason = handler(event, name, ms)
        except _Unmapped as e:
            return Translation(tuple(out), unmapped=str(e))
        except _Skip as e:
            reason = str(e)
        if out:
            return Translation(tuple(out))
        return Translation(skipped=reason or "no change")

    def resync(self, channels: Iterable[Event], source_event: str = "CoreShowChannel") -> tuple[object, ...]:
        """Facts that bring what the mapper knows up to a fresh list of the live channels
        (`CoreShowChannel` events): channels it missed, answers and bridges it missed, and
        a `CallHungUp` for each channel it thought live that is gone."""
        out: list[object] = []
        self._out = out
        live: set[str] = set()
        for ev in channels:
            uid = ev.get("Uniqueid", "")
            if not uid or uid in self._ended:
                continue
            live.add(uid)
            try:
                ch = self._channel(ev, source_event, 0)
            except (_Unmapped, _Skip):
                continue
            state = ev.get("ChannelState", "")
            if state == "6" and not ch.up:
                ch.up = True
                out.append(t.ChannelAnswered(ch.call_id, ch.channel, uid, source_event, 0))
            elif state == "5" and not (ch.up or ch.ringing):
                ch.ringing = True
                out.append(t.ChannelRinging(ch.call_id, ch.channel, uid, source_event, 0))
            bridge = ev.get("BridgeId", "")
            for old in sorted(ch.bridges - {bridge}):
                ch.bridges.discard(old)
                out.append(t.CallUnbridged(ch.call_id, ch.channel, uid, old, source_event, 0))
            if bridge and bridge not in ch.bridges:
                ch.bridges.add(bridge)
                out.append(t.CallBridged(ch.call_id, ch.channel, uid, bridge, "", 0, source_event, 0))
        for uid in [u for u in self._channels if u not in live]:
            self._end(self._channels[uid], 0, _RESYNC_GONE, "CoreShowChannelsComplete", 0)
        return tuple(out)

    def live_channels(self) -> dict[str, str]:
        """The channels the mapper thinks are up: uniqueid -> call id."""
        return {u: c.call_id for u, c in self._channels.items()}

    # -- correlation -------------------------------------------------------------------

    def _channel(self, ev: Event, source: str, ms: int, prefix: str = "") -> _Channel:
        """The live channel an event is about; registered (and its call started) if new."""
        uid = ev.get(prefix + "Uniqueid", "")
        name = ev.get(prefix + "Channel", "")
        if not uid:
            uid = self._by_name.get(name, "")
            if not uid:
                raise _Unmapped(
                    f"{ev.get('Event', '?')} without {prefix}Uniqueid (and no known {prefix}Channel)"
                )
        ch = self._channels.get(uid)
        if ch is not None:
            return ch
        if uid in self._ended:
            raise _Skip(f"duplicate: channel {name or uid} already hung up")
        if not name:
            raise _Unmapped(f"{ev.get('Event', '?')} without {prefix}Channel")
        call_id = ev.get(prefix + "Linkedid", "") or uid
        ch = self._channels[uid] = _Channel(call_id, name, uid)
        self._by_name[name] = uid
        self._calls.setdefault(call_id, set()).add(uid)
        if call_id == uid and call_id not in self._started:
            self._started.add(call_id)
            self._out.append(
                t.CallStarted(
                    call_id,
                    name,
                    uid,
                    ev.get(prefix + "CallerIDNum", ""),
                    ev.get(prefix + "CallerIDName", ""),
                    ev.get(prefix + "Exten", "") or ev.get(prefix + "Extension", ""),
                    ev.get(prefix + "Context", ""),
                    ev.get(prefix + "Exten", "") or ev.get(prefix + "Extension", ""),
                    trunk_of(name),
                    source,
                    ms,
                )
            )
        return ch

    def _once_key(self, key: tuple[object, ...]) -> None:
        if key in self._once:
            raise _Skip("duplicate: this event was seen before")
        self._once.add(key)

    def _end(self, ch: _Channel, cause: int, text: str, source: str, ms: int) -> None:
        del self._channels[ch.uniqueid]
        if self._by_name.get(ch.channel) == ch.uniqueid:
            del self._by_name[ch.channel]
        self._ended.add(ch.uniqueid)
        rest = self._calls.get(ch.call_id, set())
        rest.discard(ch.uniqueid)
        if not rest:
            self._calls.pop(ch.call_id, None)
        self._out.append(t.CallHungUp(ch.call_id, ch.channel, ch.uniqueid, cause, text, not rest, source, ms))

    # -- channels and calls ------------------------------------------------------------

    def _newchannel(self, ev: Event, name: str, ms: int) -> str:
        uid = ev.get("Uniqueid", "")
        if uid in self._channels:
            return "duplicate: channel already known"
        ch = self._channel(ev, name, ms)
        return f"channel {ch.channel} joins call {ch.call_id}"

    def _newstate(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        state = ev.get("ChannelState", "")
        if state == "6" or (not state and ev.get("ChannelStateDesc") == "Up"):
            if ch.up:
                return "duplicate: channel already up"
            ch.up = True
            self._out.append(t.ChannelAnswered(ch.call_id, ch.channel, ch.uniqueid, name, ms))
        elif state == "5" or (not state and ev.get("ChannelStateDesc") == "Ringing"):
            if ch.up or ch.ringing:
                return "duplicate: channel already ringing or up"
            ch.ringing = True
            self._out.append(t.ChannelRinging(ch.call_id, ch.channel, ch.uniqueid, name, ms))
        return f"state {ev.get('ChannelStateDesc', state)!r} is no fact"

    def _dial_begin(self, ev: Event, name: str, ms: int) -> str:
        if ev.get("Uniqueid") or ev.get("Channel"):
            ch = self._channel(ev, name, ms)
        else:  # an Originate dials with no calling channel
            ch = self._channel(ev, name, ms, "Dest")
        dest = _need(ev, "DestUniqueid")
        if dest in ch.dials:
            return "duplicate: dial already begun"
        ch.dials.add(dest)
        if ch.uniqueid != dest and dest not in self._ended:
            self._channel(ev, name, ms, "Dest")
        self._out.append(
            t.DialStarted(
                ch.call_id, ch.channel, ev.get("DestChannel", ""), dest, ev.get("DialString", ""), name, ms
            )
        )
        return ""

    def _dial_end(self, ev: Event, name: str, ms: int) -> str:
        if ev.get("Uniqueid") or ev.get("Channel"):
            ch = self._channel(ev, name, ms)
        else:
            ch = self._channel(ev, name, ms, "Dest")
        dest = _need(ev, "DestUniqueid")
        if dest in ch.dials_ended:
            return "duplicate: dial already ended"
        ch.dials_ended.add(dest)
        status = ev.get("DialStatus", "")
        self._out.append(
            t.DialEnded(ch.call_id, ch.channel, ev.get("DestChannel", ""), dest, status, name, ms)
        )
        return ""

    def _bridge_enter(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        bridge = _need(ev, "BridgeUniqueid")
        if bridge in ch.bridges:
            return "duplicate: channel already in this bridge"
        ch.bridges.add(bridge)
        self._out.append(
            t.CallBridged(
                ch.call_id,
                ch.channel,
                ch.uniqueid,
                bridge,
                ev.get("BridgeType", ""),
                _int(ev, "BridgeNumChannels"),
                name,
                ms,
            )
        )
        return ""

    def _bridge_leave(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        bridge = _need(ev, "BridgeUniqueid")
        if bridge not in ch.bridges:
            return "duplicate: channel not in this bridge"
        ch.bridges.discard(bridge)
        self._out.append(t.CallUnbridged(ch.call_id, ch.channel, ch.uniqueid, bridge, name, ms))
        return ""

    def _hold(self, ev: Event, name: str, ms: int) -> str:
        self._hold_events = True
        ch = self._channel(ev, name, ms)
        if ch.held:
            return "duplicate: channel already on hold"
        ch.held = True
        self._out.append(t.CallHeld(ch.call_id, ch.channel, ch.uniqueid, ev.get("MusicClass", ""), name, ms))
        return ""

    def _unhold(self, ev: Event, name: str, ms: int) -> str:
        self._hold_events = True
        ch = self._channel(ev, name, ms)
        if not ch.held:
            return "duplicate: channel not on hold"
        ch.held = False
        self._out.append(t.CallResumed(ch.call_id, ch.channel, ch.uniqueid, name, ms))
        return ""

    def _moh_start(self, ev: Event, name: str, ms: int) -> str:
        if self._hold_events:
            return "holds are reported by Hold events"
        ch = self._channel(ev, name, ms)
        if not ch.bridges:
            return "music on hold outside a bridge (waiting in a queue or IVR) is no hold"
        if ch.held:
            return "duplicate: channel already on hold"
        ch.held = True
        self._out.append(t.CallHeld(ch.call_id, ch.channel, ch.uniqueid, ev.get("Class", ""), name, ms))
        return ""

    def _moh_stop(self, ev: Event, name: str, ms: int) -> str:
        if self._hold_events:
            return "holds are reported by Hold events"
        ch = self._channel(ev, name, ms)
        if not ch.held:
            return "music on hold ended on a channel not on hold"
        ch.held = False
        self._out.append(t.CallResumed(ch.call_id, ch.channel, ch.uniqueid, name, ms))
        return ""

    def _hangup(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        self._end(ch, _int(ev, "Cause"), ev.get("Cause-txt", ""), name, ms)
        return ""

    def _dtmf(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        digit = _need(ev, "Digit")
        self._out.append(
            t.DtmfReceived(
                ch.call_id,
                ch.channel,
                ch.uniqueid,
                digit,
                ev.get("Direction", ""),
                _int(ev, "DurationMs"),
                name,
                ms,
            )
        )
        return ""

    def _user_event(self, ev: Event, name: str, ms: int) -> str:
        """ccx's own dialplan events (`UserEvent(CcxPromptFinished, PlayId: ...)` in
        `ccx-play`); any other user event is skipped."""
        kind = ev.get("UserEvent", "")
        if kind != "CcxPromptFinished":
            raise _Skip(f"UserEvent {kind!r} is not one of ccx's")
        play_id = _need(ev, "PlayId")
        ch = self._channel(ev, name, ms)
        self._once_key((name, ch.uniqueid, play_id))
        self._out.append(
            t.PromptFinished(
                ch.call_id,
                ch.channel,
                ch.uniqueid,
                play_id,
                ev.get("Prompt", ""),
                ev.get("Status", ""),
                name,
                ms,
            )
        )
        return ""

    def _blind_transfer(self, ev: Event, name: str, ms: int) -> str:
        transferer = _need(ev, "TransfererChannel")
        uid = ev.get("TransfererUniqueid", "")
        self._once_key((name, uid or transferer, ev.get("BridgeUniqueid", ""), ev.get("Extension", "")))
        call_id = ev.get("TransfererLinkedid", "") or uid
        if not call_id:
            raise _Unmapped("BlindTransfer without TransfererLinkedid or TransfererUniqueid")
        target = ev.get("Extension", "")
        if ev.get("Context"):
            target += "@" + ev["Context"]
        self._out.append(
            t.CallTransferred(
                call_id,
                "blind",
                transferer,
                ev.get("TransfereeChannel", ""),
                target,
                "",
                "",
                ev.get("Result", ""),
                name,
                ms,
            )
        )
        return ""

    def _attended_transfer(self, ev: Event, name: str, ms: int) -> str:
        transferer = _need(ev, "OrigTransfererChannel")
        uid = ev.get("OrigTransfererUniqueid", "")
        self._once_key((name, uid or transferer, ev.get("SecondTransfererUniqueid", "")))
        call_id = ev.get("OrigTransfererLinkedid", "") or uid
        if not call_id:
            raise _Unmapped("AttendedTransfer without OrigTransfererLinkedid or OrigTransfererUniqueid")
        dest_type = ev.get("DestType", "")
        target = {
            "Bridge": "bridge:" + ev.get("DestBridgeUniqueid", ""),
            "App": "app:" + ev.get("DestApp", ""),
            "Link": "link:" + ev.get("LocalOneChannel", ""),
            "Threeway": "threeway:" + ev.get("DestBridgeUniqueid", ""),
        }.get(dest_type, dest_type.lower())
        self._out.append(
            t.CallTransferred(
                call_id,
                "attended",
                transferer,
                ev.get("TransfereeChannel", ""),
                target,
                ev.get("TransferTargetChannel", "") or ev.get("SecondTransfererChannel", ""),
                ev.get("SecondTransfererLinkedid", "") or ev.get("SecondTransfererUniqueid", ""),
                ev.get("Result", ""),
                name,
                ms,
            )
        )
        return ""

    # -- recordings --------------------------------------------------------------------

    def _start_recording(self, ch: _Channel, name: str, ms: int) -> str:
        if ch.recording:
            return "duplicate: channel already recorded"
        ch.recording, ch.muted = True, False
        self._out.append(t.RecordingStarted(ch.call_id, ch.channel, ch.uniqueid, ch.file, name, ms))
        return ""

    def _mixmonitor_start(self, ev: Event, name: str, ms: int) -> str:
        return self._start_recording(self._channel(ev, name, ms), name, ms)

    def _mixmonitor_stop(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        if not ch.recording:
            return "duplicate: channel not recorded"
        ch.recording = False
        self._out.append(t.RecordingStopped(ch.call_id, ch.channel, ch.uniqueid, ch.file, name, ms))
        return ""

    def _mixmonitor_mute(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        muted = ev.get("State", "") in ("1", "on", "yes", "true")
        if not ch.recording or muted == ch.muted:
            return "duplicate: recording already in that state"
        ch.muted = muted
        fact = t.RecordingPaused if muted else t.RecordingResumed
        self._out.append(fact(ch.call_id, ch.channel, ch.uniqueid, name, ms))
        return ""

    def _varset(self, ev: Event, name: str, ms: int) -> str:
        if ev.get("Variable") != "MIXMONITOR_FILENAME":
            return "VarSet carries nothing ccx records"
        ch = self._channel(ev, name, ms)
        ch.file = ev.get("Value", "")
        if not self._recording_by_varset:  # MixMonitorStart follows; the name is noted
            return "recording file name noted"
        return self._start_recording(ch, name, ms)

    # -- app_queue ---------------------------------------------------------------------

    def _queue_join(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        queue = _need(ev, "Queue")
        if queue in ch.queues:
            return "duplicate: caller already in this queue"
        ch.queues.add(queue)
        self._out.append(
            t.QueueCallerJoined(
                ch.call_id, ch.channel, ch.uniqueid, queue, _int(ev, "Position"), _int(ev, "Count"), name, ms
            )
        )
        return ""

    def _caller(self, ev: Event, name: str, ms: int) -> _Channel:
        """The caller an app_queue event is about, even after its Hangup (app_queue reports
        through its own subscription, so AgentComplete or QueueCallerLeave may come after
        the caller's Hangup): then a detached copy, not registered again."""
        try:
            return self._channel(ev, name, ms)
        except _Skip:
            uid = ev.get("Uniqueid", "")
            return _Channel(ev.get("Linkedid", "") or uid, ev.get("Channel", ""), uid)

    def _queue_leave(self, ev: Event, name: str, ms: int) -> str:
        ch = self._caller(ev, name, ms)
        queue = _need(ev, "Queue")
        key = (name, ch.uniqueid, queue)
        if queue not in ch.queues and key in self._once:
            return "duplicate: caller not in this queue"
        self._once.add(key)  # a Leave of a caller ccx saw join, or one that joined unseen
        ch.queues.discard(queue)
        self._out.append(
            t.QueueCallerLeft(
                ch.call_id, ch.channel, ch.uniqueid, queue, _int(ev, "Position"), _int(ev, "Count"), name, ms
            )
        )
        return ""

    def _queue_abandon(self, ev: Event, name: str, ms: int) -> str:
        ch = self._caller(ev, name, ms)
        queue = _need(ev, "Queue")
        self._once_key((name, ch.uniqueid, queue))
        self._out.append(
            t.QueueCallerAbandoned(
                ch.call_id,
                ch.channel,
                ch.uniqueid,
                queue,
                _int(ev, "Position"),
                _int(ev, "OriginalPosition"),
                _int(ev, "HoldTime"),
                name,
                ms,
            )
        )
        return ""

    def _agent(self, ev: Event, name: str, ms: int) -> tuple[_Channel, str, str]:
        ch = self._caller(ev, name, ms)
        queue = _need(ev, "Queue")
        interface = ev.get("Interface", "") or ev.get("Location", "") or ev.get("AgentName", "")
        if not interface:
            raise _Unmapped(f"{name} without Interface")
        self._once_key((name, ch.uniqueid, queue, interface, ev.get("DestUniqueid", "")))
        return ch, queue, interface

    def _agent_called(self, ev: Event, name: str, ms: int) -> str:
        ch, queue, interface = self._agent(ev, name, ms)
        member = ev.get("MemberName", "")
        self._out.append(
            t.QueueMemberRinging(
                ch.call_id, ch.channel, queue, interface, member, ev.get("DestChannel", ""), name, ms
            )
        )
        return ""

    def _agent_no_answer(self, ev: Event, name: str, ms: int) -> str:
        ch, queue, interface = self._agent(ev, name, ms)
        member = ev.get("MemberName", "")
        self._out.append(
            t.QueueMemberNoAnswer(
                ch.call_id, ch.channel, queue, interface, member, _int(ev, "RingTime"), name, ms
            )
        )
        return ""

    def _agent_connect(self, ev: Event, name: str, ms: int) -> str:
        ch, queue, interface = self._agent(ev, name, ms)
        self._out.append(
            t.QueueMemberConnected(
                ch.call_id,
                ch.channel,
                queue,
                interface,
                ev.get("MemberName", ""),
                ev.get("DestChannel", ""),
                _int(ev, "HoldTime"),
                _int(ev, "RingTime"),
                name,
                ms,
            )
        )
        return ""

    def _agent_complete(self, ev: Event, name: str, ms: int) -> str:
        ch, queue, interface = self._agent(ev, name, ms)
        self._out.append(
            t.QueueMemberCompleted(
                ch.call_id,
                ch.channel,
                queue,
                interface,
                ev.get("MemberName", ""),
                _int(ev, "HoldTime"),
                _int(ev, "TalkTime"),
                ev.get("Reason", ""),
                name,
                ms,
            )
        )
        return ""

    # -- queue members -----------------------------------------------------------------

    def _member(self, ev: Event, kind: str, state: tuple[object, ...]) -> tuple[str, str, str]:
        interface = ev.get("Interface", "") or ev.get("Location", "")
        if not interface:
            raise _Unmapped(f"{ev.get('Event')} without Interface")
        queue = ev.get("Queue", "")
        key = (kind, queue, interface)
        if self._members.get(key) == state:
            raise _Skip("duplicate: member already in that state")
        self._members[key] = state
        return queue, interface, ev.get("MemberName", "")

    def _member_pause(self, ev: Event, name: str, ms: int) -> str:
        paused = ev.get("Paused", "") in ("1", "true", "yes")
        reason = ev.get("PausedReason", "") or ev.get("Reason", "")
        queue, interface, member = self._member(ev, "pause", (paused,))
        if paused:
            self._out.append(t.QueueMemberPaused(queue, interface, member, reason, name, ms))
        else:
            self._out.append(t.QueueMemberUnpaused(queue, interface, member, name, ms))
        return ""

    def _member_status(self, ev: Event, name: str, ms: int) -> str:
        status = _int(ev, "Status")
        paused = ev.get("Paused", "") == "1"
        in_call = ev.get("InCall", "") == "1"
        queue, interface, member = self._member(ev, "status", (status, paused, in_call))
        text = _DEVICE[status] if 0 <= status < len(_DEVICE) else str(status)
        self._out.append(
            t.QueueMemberStatusChanged(queue, interface, member, status, text, paused, in_call, name, ms)
        )
        return ""

    def _member_added(self, ev: Event, name: str, ms: int) -> str:
        queue, interface, member = self._member(ev, "member", (True,))
        self._out.append(t.QueueMemberAdded(queue, interface, member, ev.get("Paused", "") == "1", name, ms))
        return ""

    def _member_removed(self, ev: Event, name: str, ms: int) -> str:
        queue, interface, member = self._member(ev, "member", (False,))
        self._out.append(t.QueueMemberRemoved(queue, interface, member, name, ms))
        return ""

    # -- conferences -------------------------------------------------------------------

    def _conf_join(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        conference = _need(ev, "Conference")
        if conference in ch.conferences:
            return "duplicate: channel already in this conference"
        ch.conferences.add(conference)
        self._out.append(
            t.ConferenceJoined(
                ch.call_id,
                ch.channel,
                ch.uniqueid,
                conference,
                ev.get("BridgeUniqueid", ""),
                ev.get("Admin", "") == "Yes",
                ev.get("Muted", "") == "Yes",
                name,
                ms,
            )
        )
        return ""

    def _conf_leave(self, ev: Event, name: str, ms: int) -> str:
        ch = self._channel(ev, name, ms)
        conference = _need(ev, "Conference")
        if conference not in ch.conferences:
            if (name, ch.uniqueid, conference) in self._once:
                return "duplicate: channel not in this conference"
            self._once.add((name, ch.uniqueid, conference))
        ch.conferences.discard(conference)
        self._out.append(t.ConferenceLeft(ch.call_id, ch.channel, ch.uniqueid, conference, name, ms))
        return ""
