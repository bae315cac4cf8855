"""The AMI executor: switch actions (`cc.switch-actions`) performed on Asterisk, once each.

`Executor.execute(message)` takes one action message (`schemas.switch_actions`) and runs it
with the `AmiClient`'s actions:

| action | AMI |
| --- | --- |
| `OriginateAgent` | `Originate` of the endpoint into the agent context, `ChannelId` = the leg's id |
| | channel variables `CCX_CONTACT`, `CCX_ACTION` (the action id), `CCX_CALLER` (caller channel) |
| `BridgeCall` | `Bridge` of the caller and agent channels |
| `RedirectCall` | `Redirect` |
| `PlayPrompt` | `Setvar` `CCX_PROMPT`, `CCX_PROMPT_TTS` (1/0), `CCX_PLAY_ID`; `Redirect` to `ccx-play` |
| `HangupChannel` | `Hangup` with the cause |
| `StartRecording` / `StopRecording` | `MixMonitor` / `StopMixMonitor` |
| `PauseRecording` / `ResumeRecording` | `MixMonitorMute` State 1 / 0, Direction both |
| `Spy` | `Originate` of the supervisor into `ChanSpy` (monitor, whisper, barge) |

The action id is the message's `event_id` (derived by the switchboard, so a replay derives
the same ids). An id already executed by this executor is skipped: a replayed or
re-delivered action is not performed twice **within a process** (the last `MEMORY` ids are
remembered). Across restarts, the executor's committed position in the log is the memory:
an action is committed after it was performed, so a crash between the two performs the
batch's actions again on restart; actions older than `max_age_ms` (by the action's time,
against the clock) are skipped rather than performed late, so a restart or a new consumer
group never replays a day of originates onto live phones.

A failure (`Response: Error`, no answer in time, no connection) becomes a
`SwitchActionFailed` fact for `cc.telephony`, whose event id is derived from the action's,
so the switchboard can decide again (an agent that cannot be called is declined). A
`PauseRecording`/`ResumeRecording` of a channel that is not recorded fails so ("No such
channel" or MixMonitor's error): a fact, not an error of the executor; nobody reacts to it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from schemas import switch_actions as a
from schemas.envelope import Message, derive
from schemas.telephony import SwitchActionFailed
from telephony.ami.client import AmiError

__all__ = ["ACTIONS", "ActionPort", "Executor", "ExecutorStats"]

log = logging.getLogger(__name__)

ACTIONS = tuple(getattr(a, n) for n in a.__all__)


class ActionPort(Protocol):
    """The actions of `AmiClient` the executor uses."""

    async def originate(
        self,
        channel: str,
        *,
        context: str = "",
        exten: str = "",
        priority: str = "1",
        application: str = "",
        data: str = "",
        caller_id: str = "",
        timeout_ms: int = 30_000,
        variables: Mapping[str, str] | None = None,
        channel_id: str = "",
    ) -> dict[str, str]: ...

    async def bridge(self, channel1: str, channel2: str, *, tone: bool = False) -> dict[str, str]: ...

    async def redirect(
        self, channel: str, context: str, exten: str, priority: str = "1"
    ) -> dict[str, str]: ...

    async def hangup(self, channel: str, cause: int = 16) -> dict[str, str]: ...

    async def setvar(self, channel: str, variable: str, value: str) -> dict[str, str]: ...

    async def mixmonitor(self, channel: str, file: str, options: str = "b") -> dict[str, str]: ...

    async def stop_mixmonitor(self, channel: str) -> dict[str, str]: ...

    async def pause_mixmonitor(self, channel: str, paused: bool = True) -> dict[str, str]: ...

    async def chanspy(self, supervisor: str, target: str, mode: str = "monitor") -> dict[str, str]: ...


@dataclass(slots=True)
class ExecutorStats:
    executed: int = 0
    failed: int = 0
    duplicates: int = 0
    stale: int = 0


class Executor:
    """Performs switch actions through `client` (see the module docstring)."""

    MEMORY = 100_000

    def __init__(
        self, client: ActionPort, *, clock: Callable[[], int] | None = None, max_age_ms: int = 60_000
    ) -> None:
        self.client = client
        self.stats = ExecutorStats()
        self._clock = clock
        self._max_age_ms = max_age_ms
        self._done: OrderedDict[str, None] = OrderedDict()

    def seen(self, action_id: str) -> bool:
        return action_id in self._done

    async def execute(self, message: Message[Any]) -> list[Message[Any]]:
        """Perform one action; the `SwitchActionFailed` fact if it failed, else []."""
        body, env = message.body, message.envelope
        if not isinstance(body, ACTIONS):
            raise TypeError(f"{type(body).__name__} is not a switch action")
        action_id = env.event_id
        if action_id in self._done:
            self.stats.duplicates += 1
            return []
        self._remember(action_id)
        if self._clock is not None and self._max_age_ms > 0:
            age = self._clock() - env.occurred_at
            if age > self._max_age_ms:
                self.stats.stale += 1
                log.warning("skipping %s %s: %d ms old", message.type, action_id, age)
                return []
        try:
            await self._perform(body, action_id)
        except AmiError as e:
            self.stats.failed += 1
            log.warning("%s %s failed: %s", message.type, action_id, e)
            return [self._failure(message, type(e).__name__, str(e))]
        self.stats.executed += 1
        return []

    def _remember(self, action_id: str) -> None:
        self._done[action_id] = None
        if len(self._done) > self.MEMORY:
            self._done.popitem(last=False)

    async def _perform(self, body: object, action_id: str) -> None:
        c = self.client
        match body:
            case a.OriginateAgent():
                await c.originate(
                    body.endpoint,
                    context=body.context,
                    exten=body.exten,
                    caller_id=body.caller_id,
                    timeout_ms=body.timeout_s * 1000,
                    variables={
                        "CCX_CONTACT": body.contact_id,
                        "CCX_ACTION": action_id,
                        "CCX_CALLER": body.caller_channel,
                    },
                    channel_id=body.channel_id,
                )
            case a.BridgeCall():
                await c.bridge(body.caller_channel, body.agent_channel)
            case a.RedirectCall():
                await c.redirect(body.channel, body.context, body.exten)
            case a.HangupChannel():
                await c.hangup(body.channel, body.cause)
            case a.PlayPrompt():
                await c.setvar(body.channel, "CCX_PROMPT", body.prompt)
                await c.setvar(body.channel, "CCX_PROMPT_TTS", "1" if body.tts else "0")
                await c.setvar(body.channel, "CCX_PLAY_ID", body.play_id)
                await c.redirect(body.channel, body.context, "s")
            case a.StartRecording():
                await c.mixmonitor(body.channel, body.file)
            case a.StopRecording():
                await c.stop_mixmonitor(body.channel)
            case a.PauseRecording():
                await c.pause_mixmonitor(body.channel, True)
            case a.ResumeRecording():
                await c.pause_mixmonitor(body.channel, False)
            case a.Spy():
                await c.chanspy(body.supervisor_endpoint, body.agent_channel, body.mode)

    def _failure(self, message: Message[Any], error: str, reason: str) -> Message[Any]:
        body = message.body
        channel = (
            getattr(body, "endpoint", "")
            or getattr(body, "channel", "")
            or getattr(body, "agent_channel", "")
            or getattr(body, "supervisor_endpoint", "")
        )
        fact = SwitchActionFailed(
            message.envelope.event_id,
            message.type,
            body.contact_id,
            channel,
            getattr(body, "channel_id", ""),
            error,
            reason,
        )
        out = derive(message, fact, 0)
        at = self._clock() if self._clock is not None else out.envelope.occurred_at
        return Message(replace(out.envelope, occurred_at=at, actor="switch"), fact)
