"""Switch actions (internal topic `cc.switch-actions`): what ccx asks the switch to do.

The switchboard (`processors.switchboard`) decides them from switch facts and the ACD's
decisions; the AMI executor (`telephony.ami.executor`) performs each one once, keyed by
its envelope's `event_id` (the **action id**, derived from the message that caused it, so
a replay derives the same ids). A failure comes back as a `SwitchActionFailed` fact on
`cc.telephony`. Imperative names, like commands: they are requests, not facts.

`contact_id` names the contact every action is for; channels are Asterisk channel names
(`PJSIP/a1-00000012`), endpoints dialable ones (`PJSIP/a1`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BridgeCall",
    "HangupChannel",
    "OriginateAgent",
    "PauseRecording",
    "PlayPrompt",
    "RedirectCall",
    "ResumeRecording",
    "Spy",
    "StartRecording",
    "StopRecording",
]


@dataclass(frozen=True, slots=True)
class OriginateAgent:
    """Call the agent's `endpoint` into `context`/`exten` (the agent dialplan) for the
    contact whose caller waits on `caller_channel`. The new channel's unique id is set to
    `channel_id` (AMI `ChannelId`), so its facts name the leg before anyone reads a
    channel variable; `caller_id` is shown on the agent's phone; `timeout_s` is how long
    it rings (the ACD's offer deadline)."""

    contact_id: str
    agent_id: str
    endpoint: str
    caller_channel: str
    channel_id: str
    context: str
    exten: str
    caller_id: str
    timeout_s: int


@dataclass(frozen=True, slots=True)
class BridgeCall:
    """Bridge the waiting caller with the agent's answered channel."""

    contact_id: str
    caller_channel: str
    agent_channel: str


@dataclass(frozen=True, slots=True)
class RedirectCall:
    """Send `channel` to `context`/`exten` in the dialplan (voicemail, a message, a transfer)."""

    contact_id: str
    channel: str
    context: str
    exten: str


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """Play a prompt of the IVR to the caller on `channel`: `prompt` is a sound file
    (`welcome`, without extension as Asterisk's Playback takes it) or text to speak; the
    switch reports the end as `PromptFinished` with the same `play_id` (the interpreter's
    id of this play). The AMI executor sets `CCX_PROMPT`/`CCX_PLAY_ID` on the channel and
    redirects it to the dialplan context `context` (`ccx-play`)."""

    contact_id: str
    channel: str
    prompt: str
    play_id: str
    tts: bool
    context: str


@dataclass(frozen=True, slots=True)
class HangupChannel:
    """Hang `channel` up with a Q.850 `cause` (16 normal clearing, 21 call rejected)."""

    contact_id: str
    channel: str
    cause: int


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Record `channel` (MixMonitor, while bridged) into `file`."""

    contact_id: str
    channel: str
    file: str


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Stop recording `channel` (`file` names the recording being stopped)."""

    contact_id: str
    channel: str
    file: str


@dataclass(frozen=True, slots=True)
class PauseRecording:
    """Pause (mute, both directions) the recording of `channel` for `reason` ("card_data":
    the IVR's `sensitive` collect node). The executor sends `MixMonitorMute` State 1; the
    switch's `RecordingPaused` fact follows, and the recordings decider takes the reason
    from this action (docs/recordings.md)."""

    contact_id: str
    channel: str
    reason: str


@dataclass(frozen=True, slots=True)
class ResumeRecording:
    """Resume a paused recording of `channel` (`MixMonitorMute` State 0)."""

    contact_id: str
    channel: str


@dataclass(frozen=True, slots=True)
class Spy:
    """Call the supervisor's endpoint into ChanSpy on the agent's channel: `mode` "monitor"
    (listen), "whisper" (talk to the agent only) or "barge" (talk to both)."""

    contact_id: str
    supervisor_endpoint: str
    agent_channel: str
    mode: str
