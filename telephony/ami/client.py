"""The asyncio AMI connection: login, reconnect, resynchronise, and actions with ActionIDs.

`AmiClient.run()` keeps one connection to the switch alive until `close()`:

1. connect (with a timeout), read the banner, `Login` (the secret is sent, never logged nor
   shown in a repr); a refused login is fatal (`LoginFailed`): retrying a wrong secret only
   fills the switch's security log;
2. resynchronise: `CoreShowChannels` lists the live channels and `on_resync` gets them
   (the mapper turns what it missed into facts and skips what it already had); events that
   arrive from the login on are held back and delivered after the list, in order;
3. deliver every other message (events, and frames that failed to parse) to `on_items` in
   order, while a keepalive `Ping` checks the connection every `ping_interval`;
4. when the connection drops (or a ping goes unanswered), fail the actions in flight with
   `NotConnected`, and connect again after an exponential backoff with jitter
   (`backoff_initial` * 2^attempt, capped at `backoff_max`, times a random factor in
   [0.5, 1]); a successful login resets the backoff.

Actions are never re-sent by the client after a drop: an `Originate` or `Redirect` that may
or may not have reached the switch is the caller's to decide about (re-deciding from the
facts the resync produced), not something to repeat blindly. Every action carries a unique
`ActionID`; its response (and, for list actions, its events up to the `...Complete` event)
is matched by it and awaited with a timeout (`ActionTimeout`). A `Response: Error` raises
`ActionFailed` with the switch's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from telephony.ami.frames import Banner, Frame, FrameParser, Item, wire

__all__ = [
    "ActionFailed",
    "ActionTimeout",
    "AmiClient",
    "AmiConfig",
    "AmiError",
    "LoginFailed",
    "NotConnected",
    "SPY_OPTIONS",
]

log = logging.getLogger(__name__)

# ChanSpy options per supervisor mode: q = no beep or channel announcement; w = whisper
# (the supervisor talks to the spied channel only); B = barge (talks to both parties).
SPY_OPTIONS = {"monitor": "q", "whisper": "qw", "barge": "qB"}


class AmiError(Exception):
    """Something went wrong talking to the switch."""


class LoginFailed(AmiError):
    """The switch refused the username or secret."""


class NotConnected(AmiError):
    """No connection (or it dropped before the action's response came)."""


class ActionTimeout(AmiError):
    """The switch did not answer an action in time."""


class ActionFailed(AmiError):
    """The switch answered `Response: Error`; `response` holds its headers."""

    def __init__(self, action: str, response: Mapping[str, str]) -> None:
        super().__init__(f"{action} failed: {response.get('Message', 'no message')}")
        self.response = dict(response)


@dataclass(frozen=True, slots=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)
    events: str = "on"
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    ping_interval: float = 20.0
    """Seconds between keepalive pings; 0 for none."""


@dataclass(slots=True)
class _Pending:
    action: str
    complete: str  # the event that ends a list action ("" for a plain action)
    future: asyncio.Future[tuple[dict[str, str], list[dict[str, str]]]]
    response: dict[str, str] | None = None
    events: list[dict[str, str]] = field(default_factory=list)


class AmiClient:
    """One logical AMI connection that survives drops (see the module docstring)."""

    def __init__(
        self,
        config: AmiConfig,
        on_items: Callable[[list[Item]], None],
        on_resync: Callable[[list[dict[str, str]]], None],
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._on_items = on_items
        self._on_resync = on_resync
        self._rng = rng or random.Random()
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._held: list[Item] | None = None
        self._closed = False
        self.ready = asyncio.Event()
        self.version = ""
        self.connections = 0
        self.delays: list[float] = []
        """The backoff delays slept so far (for logs and tests)."""

    # -- the connection loop -----------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect after every drop, until `close()` (or a refused login)."""
        attempt = 0
        while not self._closed:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.config.host, self.config.port), self.config.connect_timeout
                )
            except (OSError, TimeoutError) as e:
                log.warning("AMI %s:%s unreachable: %s", self.config.host, self.config.port, e)
            else:
                self.connections += 1
                refused: LoginFailed | None = None
                try:
                    if await self._session(reader, writer):
                        attempt = 0
                except LoginFailed as e:
                    refused = e
                if refused is not None:
                    raise refused
            if self._closed:
                break
            delay = min(self.config.backoff_max, self.config.backoff_initial * 2**attempt)
            delay *= 0.5 + self._rng.random() / 2
            attempt += 1
            self.delays.append(delay)
            log.info("AMI reconnecting in %.2fs", delay)
            await asyncio.sleep(delay)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """One connection, until it drops; True when it got as far as a login."""
        self._writer = writer
        parser = FrameParser()
        reading = asyncio.create_task(self._read(reader, parser))
        pinging: asyncio.Task[None] | None = None
        logged_in = False
        self._held = []  # events from the login on wait for the channel list
        try:
            await self._login()
            logged_in = True
            _, channels = await self.send_list("CoreShowChannels", {}, "CoreShowChannelsComplete")
            self._on_resync(channels)
            held, self._held = self._held, None
            if held:
                self._on_items(held)
            self.ready.set()
            log.info(
                "AMI connected to %s:%s, %d live channels", self.config.host, self.config.port, len(channels)
            )
            if self.config.ping_interval > 0:
                pinging = asyncio.create_task(self._keepalive())
            await reading
        except LoginFailed:
            raise
        except (AmiError, OSError, asyncio.IncompleteReadError) as e:
            log.warning("AMI connection lost: %s", e)
        finally:
            self.ready.clear()
            self._held = None
            self._writer = None
            for task in (pinging, reading):
                if task is None:
                    continue
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            tail = parser.close(eof_ends_message=False)
            if tail:
                self._on_items(tail)
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(NotConnected(f"{pending.action}: the connection dropped"))
            self._pending.clear()
        return logged_in

    async def _read(self, reader: asyncio.StreamReader, parser: FrameParser) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                raise NotConnected("the switch closed the connection")
            items = parser.feed(data)
            if items:
                self._dispatch(items)

    def _dispatch(self, items: list[Item]) -> None:
        out: list[Item] = []
        for item in items:
            if isinstance(item, Banner):
                self.version = item.version
                continue
            if isinstance(item, Frame):
                pending = self._pending.get(item.headers.get("ActionID", ""))
                if pending is not None:
                    self._answer(item.headers, pending)
                    continue
            out.append(item)
        if not out:
            return
        if self._held is not None:
            self._held += out
        else:
            self._on_items(out)

    def _answer(self, headers: dict[str, str], pending: _Pending) -> None:
        if pending.response is None and "Response" in headers:
            pending.response = headers
            if headers["Response"] == "Error":
                pending.future.set_exception(ActionFailed(pending.action, headers))
            elif not pending.complete or headers.get("EventList", "").lower() != "start":
                pending.future.set_result((headers, []))
        elif pending.complete and headers.get("Event") == pending.complete:
            if not pending.future.done():
                pending.future.set_result((pending.response or {}, pending.events))
        elif "Event" in headers:
            pending.events.append(headers)
        else:
            return
        if pending.future.done():
            self._pending.pop(headers.get("ActionID", ""), None)

    async def _login(self) -> None:
        fields = {
            "Username": self.config.username,
            "Secret": self.config.secret,
            "Events": self.config.events,
        }
        try:
            await self.send_action("Login", fields)
        except ActionFailed as e:
            raise LoginFailed(f"the switch refused user {self.config.username!r}: {e}") from None

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.config.ping_interval)
            try:
                await self.send_action("Ping", {})
            except AmiError as e:
                log.warning("AMI ping failed (%s): dropping the connection", e)
                if self._writer is not None:
                    self._writer.close()
                return

    async def close(self) -> None:
        """Stop: log off if connected, close, and end `run()`."""
        self._closed = True
        if self._writer is not None:
            with contextlib.suppress(AmiError, OSError):
                await self.send_action("Logoff", {}, timeout=1.0)
            if self._writer is not None:
                self._writer.close()

    # -- actions -----------------------------------------------------------------------

    async def send_action(
        self, action: str, fields: Mapping[str, str], *, timeout: float | None = None
    ) -> dict[str, str]:
        """Send one action and return its response's headers."""
        response, _ = await self._send(action, fields, "", timeout)
        return response

    async def send_list(
        self, action: str, fields: Mapping[str, str], complete: str, *, timeout: float | None = None
    ) -> tuple[dict[str, str], list[dict[str, str]]]:
        """Send a list action (e.g. CoreShowChannels) and return its response and events."""
        return await self._send(action, fields, complete, timeout)

    async def _send(
        self, action: str, fields: Mapping[str, str], complete: str, timeout: float | None
    ) -> tuple[dict[str, str], list[dict[str, str]]]:
        writer = self._writer
        if writer is None:
            raise NotConnected(f"{action}: not connected")
        action_id = f"ccx-{self.connections}-{next(self._ids)}"
        future: asyncio.Future[tuple[dict[str, str], list[dict[str, str]]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[action_id] = _Pending(action, complete, future)
        writer.write(wire({"Action": action, "ActionID": action_id, **fields}))
        log.debug("AMI action %s (%s)", action, action_id)  # never the fields: Login carries the secret
        try:
            return await asyncio.wait_for(future, timeout or self.config.action_timeout)
        except TimeoutError:
            raise ActionTimeout(
                f"{action}: no answer within {timeout or self.config.action_timeout}s"
            ) from None
        finally:
            self._pending.pop(action_id, None)

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
    ) -> dict[str, str]:
        """Originate `channel` (e.g. an agent's endpoint) into a dialplan place or an application;
        `channel_id` sets the new channel's unique id (Asterisk 13+), so its events are known."""
        fields = {"Channel": channel, "Timeout": str(timeout_ms), "Async": "true"}
        if channel_id:
            fields["ChannelId"] = channel_id
        if application:
            fields.update(Application=application, Data=data)
        else:
            fields.update(Context=context, Exten=exten, Priority=priority)
        if caller_id:
            fields["CallerID"] = caller_id
        if variables:
            fields["Variable"] = "\n".join(f"{k}={v}" for k, v in variables.items())
        return await self.send_action("Originate", fields)

    async def redirect(self, channel: str, context: str, exten: str, priority: str = "1") -> dict[str, str]:
        """Send a channel to another place in the dialplan (e.g. out of the holding context)."""
        fields = {"Channel": channel, "Context": context, "Exten": exten, "Priority": priority}
        return await self.send_action("Redirect", fields)

    async def setvar(self, channel: str, variable: str, value: str) -> dict[str, str]:
        """Set a channel variable (`Setvar`), e.g. the prompt an IVR play redirects to."""
        return await self.send_action("Setvar", {"Channel": channel, "Variable": variable, "Value": value})

    async def bridge(self, channel1: str, channel2: str, *, tone: bool = False) -> dict[str, str]:
        """Bridge two live channels (e.g. a waiting caller and the agent who answered)."""
        fields = {"Channel1": channel1, "Channel2": channel2, "Tone": "yes" if tone else "no"}
        return await self.send_action("Bridge", fields)

    async def hangup(self, channel: str, cause: int = 16) -> dict[str, str]:
        return await self.send_action("Hangup", {"Channel": channel, "Cause": str(cause)})

    async def mixmonitor(self, channel: str, file: str, options: str = "b") -> dict[str, str]:
        """Start recording `channel` into `file` (option b: only while bridged)."""
        return await self.send_action("MixMonitor", {"Channel": channel, "File": file, "Options": options})

    async def stop_mixmonitor(self, channel: str) -> dict[str, str]:
        return await self.send_action("StopMixMonitor", {"Channel": channel})

    async def pause_mixmonitor(self, channel: str, paused: bool = True) -> dict[str, str]:
        """Mute (pause) or unmute the channel's recording, both directions (`MixMonitorMute`)."""
        fields = {"Channel": channel, "Direction": "both", "State": "1" if paused else "0"}
        return await self.send_action("MixMonitorMute", fields)

    async def chanspy(self, supervisor: str, target: str, mode: str = "monitor") -> dict[str, str]:
        """Call the `supervisor`'s endpoint into ChanSpy on the `target` channel: "monitor"
        (listen), "whisper" (talk to the agent only) or "barge" (talk to both)."""
        if mode not in SPY_OPTIONS:
            raise ValueError(f"unknown spy mode {mode!r}; one of {', '.join(SPY_OPTIONS)}")
        return await self.originate(
            supervisor, application="ChanSpy", data=f"{target},{SPY_OPTIONS[mode]}", caller_id=f"{mode} <spy>"
        )
