"""Switch facts (internal topic `cc.telephony`): what the switch reports, in ccx's words.

The AMI adapter (`telephony.ami`) translates Asterisk Manager events into these facts; the
simulator or another switch adapter may produce them too. They are facts, not decisions:
the ACD and the recording and reporting processors decide what they mean.

Common fields: `call_id` is the switch's id of the whole call (Asterisk's `Linkedid`, the
`Uniqueid` of the call's first channel; every channel of a call shares it), `channel` the
channel's name (`PJSIP/alice-00000012`) and `uniqueid` the channel's own id. The facts about
queue members that are not about a call (pause, status, membership) have no `call_id`.
`source_event` names the AMI event the fact came from (`CoreShowChannel` when it was learned
by resynchronising after a lost connection) and `ami_time` is that event's `Timestamp` in ms
since the epoch, 0 when the switch sent none. Durations from the switch are whole seconds
(`_s`) or ms (`_ms`) as named.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CallBridged",
    "CallHeld",
    "CallHungUp",
    "CallResumed",
    "CallStarted",
    "CallTransferred",
    "CallUnbridged",
    "ChannelAnswered",
    "ChannelRinging",
    "ConferenceJoined",
    "ConferenceLeft",
    "DialEnded",
    "DialStarted",
    "DtmfReceived",
    "IvrLookupResult",
    "PromptFinished",
    "QueueCallerAbandoned",
    "QueueCallerJoined",
    "QueueCallerLeft",
    "QueueMemberAdded",
    "QueueMemberCompleted",
    "QueueMemberConnected",
    "QueueMemberNoAnswer",
    "QueueMemberPaused",
    "QueueMemberRemoved",
    "QueueMemberRinging",
    "QueueMemberStatusChanged",
    "QueueMemberUnpaused",
    "RecordingPaused",
    "RecordingResumed",
    "RecordingStarted",
    "RecordingStopped",
    "SwitchActionFailed",
]


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A call's first channel appeared: who called (`ani`, `ani_name`), what they dialled
    (`dnis`), where the dialplan took it (`context`, `exten`) and through which `trunk`
    (the channel name without its sequence suffix, e.g. `PJSIP/provider`)."""

    call_id: str
    channel: str
    uniqueid: str
    ani: str
    ani_name: str
    dnis: str
    context: str
    exten: str
    trunk: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class ChannelRinging:
    """A channel of the call rings (the far end is alerted, e.g. an agent's phone)."""

    call_id: str
    channel: str
    uniqueid: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class ChannelAnswered:
    """A channel of the call went up (answered)."""

    call_id: str
    channel: str
    uniqueid: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class DialStarted:
    """`channel` dials `dest_channel` (`dial_string` as given to Dial or Queue)."""

    call_id: str
    channel: str
    dest_channel: str
    dest_uniqueid: str
    dial_string: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class DialEnded:
    """A dial attempt ended: `status` ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL…"""

    call_id: str
    channel: str
    dest_channel: str
    dest_uniqueid: str
    status: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallBridged:
    """A channel entered a bridge (two parties talk; `channels` counts the bridge's channels)."""

    call_id: str
    channel: str
    uniqueid: str
    bridge_id: str
    bridge_type: str
    channels: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallUnbridged:
    """A channel left a bridge."""

    call_id: str
    channel: str
    uniqueid: str
    bridge_id: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallHeld:
    """A channel was put on hold (`Hold`, or music on hold while bridged when the switch
    reports no `Hold` events)."""

    call_id: str
    channel: str
    uniqueid: str
    music_class: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallResumed:
    """A held channel was taken off hold."""

    call_id: str
    channel: str
    uniqueid: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """A DTMF digit ended on a channel; `direction` is "Received" (from the party) or "Sent"."""

    call_id: str
    channel: str
    uniqueid: str
    digit: str
    direction: str
    duration_ms: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class PromptFinished:
    """An IVR prompt (`PlayPrompt` on `cc.switch-actions`) ended on a channel: the dialplan's
    `UserEvent(CcxPromptFinished)` in `ccx-play` after `Playback`. `play_id` is the action's
    play id, `status` Asterisk's `PLAYBACKSTATUS` (`SUCCESS`, `FAILED`: a missing file)."""

    call_id: str
    channel: str
    uniqueid: str
    play_id: str
    prompt: str
    status: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """A transfer: `kind` "blind" (to `target`, an extension@context) or "attended" (the
    transferer's two calls joined: `target_channel` and `target_call_id` are the consulted
    party's side). `result` is the switch's ("Success", "Fail", "Invalid", "Not Permitted")."""

    call_id: str
    kind: str
    transferer_channel: str
    transferee_channel: str
    target: str
    target_channel: str
    target_call_id: str
    result: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class CallHungUp:
    """A channel hung up with a Q.850 `cause` code and its text; `ends_call` when it was the
    call's last live channel."""

    call_id: str
    channel: str
    uniqueid: str
    cause: int
    cause_text: str
    ends_call: bool
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueCallerJoined:
    """The caller entered a switch queue (app_queue) at `position` of `count` waiting."""

    call_id: str
    channel: str
    uniqueid: str
    queue: str
    position: int
    count: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueCallerLeft:
    """The caller left a switch queue (connected, timed out or hung up); `count` remain."""

    call_id: str
    channel: str
    uniqueid: str
    queue: str
    position: int
    count: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueCallerAbandoned:
    """The caller hung up while waiting in a switch queue, after `hold_s` seconds."""

    call_id: str
    channel: str
    uniqueid: str
    queue: str
    position: int
    original_position: int
    hold_s: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberRinging:
    """app_queue rings a member (`interface`, e.g. `PJSIP/agent7`) for the call."""

    call_id: str
    channel: str
    queue: str
    interface: str
    member_name: str
    dest_channel: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberNoAnswer:
    """A member rang `ring_ms` without answering (ring-no-answer)."""

    call_id: str
    channel: str
    queue: str
    interface: str
    member_name: str
    ring_ms: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberConnected:
    """A member answered a queue call after the caller waited `hold_s` and it rang `ring_s`."""

    call_id: str
    channel: str
    queue: str
    interface: str
    member_name: str
    dest_channel: str
    hold_s: int
    ring_s: int
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberCompleted:
    """A queue call a member handled ended: waited `hold_s`, talked `talk_s` (durations in
    seconds in real streams, whatever the AMI documentation says); `reason` "caller",
    "agent" or "transfer" (who ended it)."""

    call_id: str
    channel: str
    queue: str
    interface: str
    member_name: str
    hold_s: int
    talk_s: int
    reason: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberPaused:
    """A queue member was paused (in `queue`, or in every queue when `queue` is "")."""

    queue: str
    interface: str
    member_name: str
    reason: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberUnpaused:
    """A queue member was unpaused."""

    queue: str
    interface: str
    member_name: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberStatusChanged:
    """A member's device status changed (`status` is app_queue's AST_DEVICE_* number, with
    `status_text`), with whether it is paused and on a queue call."""

    queue: str
    interface: str
    member_name: str
    status: int
    status_text: str
    paused: bool
    in_call: bool
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberAdded:
    """A member joined a switch queue (logged in to it)."""

    queue: str
    interface: str
    member_name: str
    paused: bool
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class QueueMemberRemoved:
    """A member left a switch queue (logged out of it)."""

    queue: str
    interface: str
    member_name: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    """MixMonitor started recording the channel into `file` ("" when the switch did not say)."""

    call_id: str
    channel: str
    uniqueid: str
    file: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class RecordingPaused:
    """The channel's recording was muted (e.g. while card data is read out)."""

    call_id: str
    channel: str
    uniqueid: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class RecordingResumed:
    """The channel's recording was unmuted."""

    call_id: str
    channel: str
    uniqueid: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    """MixMonitor stopped recording the channel."""

    call_id: str
    channel: str
    uniqueid: str
    file: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class ConferenceJoined:
    """A channel joined a conference (ConfBridge) `conference`."""

    call_id: str
    channel: str
    uniqueid: str
    conference: str
    bridge_id: str
    admin: bool
    muted: bool
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class ConferenceLeft:
    """A channel left a conference."""

    call_id: str
    channel: str
    uniqueid: str
    conference: str
    source_event: str
    ami_time: int


@dataclass(frozen=True, slots=True)
class SwitchActionFailed:
    """A switch action (`schemas.switch_actions`, on `cc.switch-actions`) the executor could
    not perform: `action_id` is the action's event id, `action` its type, `channel` the
    channel or endpoint it was about and `uniqueid` the channel id it set (Originate), else
    "". `error` is "ActionFailed" (the switch answered `Response: Error`; `reason` is its
    message), "ActionTimeout" or "NotConnected" (it may or may not have been done)."""

    action_id: str
    action: str
    contact_id: str
    channel: str
    uniqueid: str
    error: str
    reason: str


@dataclass(frozen=True, slots=True)
class IvrLookupResult:
    """The outcome of an IVR `lookup` node's HTTP request, performed by the lookup edge of
    `ccx run ivr` (`telephony.ivr.lookups`): `request_id` is the interpreter's id of the
    request (`IvrLookupRequested`). `ok` with the answer's JSON text in `answer_json` and
    the HTTP `status`; else `reason` says why ("timeout", "http 500", "not json: …",
    "error: …") and `answer_json` is "". The IVR feeds it to the flow as `LookupAnswered` /
    `LookupFailed`, so a replay decides from this fact alone. The answer may hold customer
    data (names, segments, account ids): it is kept as long as `cc.telephony` is. The
    request's URL is never written (it may carry sensitive digits)."""

    contact_id: str
    request_id: str
    ok: bool
    answer_json: str
    reason: str
    status: int
    elapsed_ms: int
