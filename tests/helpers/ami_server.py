"""A loopback AMI server that replays a recorded event stream and answers actions like Asterisk.

It binds 127.0.0.1 on a free port and, per connection: sends the `Asterisk Call Manager/x.y`
banner; answers `Login` (`Response: Success` / `Authentication accepted` then `FullyBooted`,
or `Response: Error` / `Authentication failed` and a close); answers `CoreShowChannels` as
an event list (`EventList: start`, one `CoreShowChannel` per live channel,
`CoreShowChannelsComplete`) from a model of the channels the replayed events created; answers
`Ping`, `Logoff`, `Originate`, `Redirect`, `Bridge`, `Hangup`, `MixMonitor`,
`StopMixMonitor`, `MixMonitorMute` with `Response: Success` or `Response: Error` and the
request's `ActionID` (the `silent` ones never); and, once the client has listed the
channels, sends the recording's events (in random fragments when `fragments` is set);
`early` events go out right after the login instead, before the list, as a busy switch
sends them.

The recording is the switch's timeline, shared by all connections: `drop_at=[n, ...]` closes
the connection right after the n-th event, and `lost` more events then "happen" while the
client is away (they change the channel model, so the next `CoreShowChannels` shows them,
but are never sent). `resend` re-sends that many events from before the drop on the next
connection, as a switch's duplicate delivery would. `inject` maps an event index to raw
bytes sent just before that event (garbage, malformed frames).

With `switch=True` it also plays the switch's side of ccx's actions (mode 1, the
switchboard): an `Originate` creates the endpoint's channel (`Newchannel` with the
requested `ChannelId` as `Uniqueid` and `Linkedid`, the requested context and exten, then
`Newstate` Ringing) and then does what `agents[endpoint]` says: "answer" (`Newstate` Up
after `answer_after` seconds, the default), "reject" (`Hangup` cause 21), "noanswer"
(`Hangup` cause 19), "ring" (keeps ringing) or "error" (the Originate itself is answered
`Response: Error`). A `Bridge` makes both channels enter one basic bridge (`BridgeEnter`),
a `Hangup` hangs the channel up (`BridgeLeave` if bridged, `Hangup` with the cause), a
`MixMonitorMute` of a live channel sends the `MixMonitorMute` event with its `State`.
`push(*events)` sends events of the test's making (a caller arriving, hanging up) to the
connected client at any time, through the same channel model; `dtmf(channel, digits)` makes
the caller on `channel` press keys (`DTMFEnd`, direction Received).

IVR prompts (`switch=True`): `Setvar` stores a channel variable; a `Redirect` to `ccx-play`
"plays" `CCX_PROMPT` for `play_s` seconds and then sends `UserEvent` `CcxPromptFinished`
with `PlayId` = `CCX_PLAY_ID`, as the dialplan does (infra/asterisk/extensions.conf) —
unless the channel hung up or was redirected again meanwhile (a new prompt cuts it short).
`plays` lists the prompts started, as (channel, prompt, play id).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence

from telephony.ami.frames import Frame, FrameParser, wire

__all__ = ["AmiServer"]


class AmiServer:
    def __init__(
        self,
        events: Sequence[Mapping[str, str]],
        *,
        username: str = "ccx",
        secret: str = "s3cret",
        drop_at: Sequence[int] = (),
        lost: int = 0,
        resend: int = 0,
        inject: Mapping[int, bytes] | None = None,
        fragments: int = 0,
        silent: Sequence[str] = (),
        early: int = 0,
        seed: int = 1,
        switch: bool = False,
        agents: Mapping[str, str] | None = None,
        answer_after: float = 0.05,
        play_s: float = 0.05,
    ) -> None:
        self.events = [dict(e) for e in events]
        self.username, self.secret = username, secret
        self.drop_at = sorted(drop_at)
        self.lost, self.resend = lost, resend
        self.inject = dict(inject or {})
        self.fragments = fragments
        self.silent = set(silent)  # actions never answered (to test timeouts)
        self.early = early  # events sent right after the first login, before any list
        self.rng = random.Random(seed)
        self.pos = 0  # the next event of the timeline
        self.channels: dict[str, dict[str, str]] = {}
        self.gone: set[str] = set()  # channels hung up (later events about them change nothing)
        self.actions: list[dict[str, str]] = []
        self.logins: list[tuple[str, bool]] = []
        self.connections = 0
        self.done = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._resend: tuple[int, int] | None = None
        self.switch = switch
        self.agents = dict(agents or {})
        self.answer_after = answer_after
        self.play_s = play_s
        self.variables: dict[str, dict[str, str]] = {}  # channel name -> Setvar variables
        self.plays: list[tuple[str, str, str]] = []
        self._playing: dict[str, int] = {}  # channel name -> the current play's number
        self._writer: asyncio.StreamWriter | None = None  # the connection that listed channels
        self._seq = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- the channel model -------------------------------------------------------------

    def _apply(self, ev: Mapping[str, str]) -> None:
        uid = ev.get("Uniqueid", "")
        name = ev.get("Event", "")
        if not uid or uid in self.gone:
            return
        if name == "Hangup":
            self.channels.pop(uid, None)
            self.gone.add(uid)
            return
        ch = self.channels.get(uid)
        if ch is None:
            if not ev.get("Channel"):
                return
            ch = self.channels[uid] = {"Uniqueid": uid, "BridgeId": ""}
        for key in ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Context"):
            if key in ev:
                ch[key] = ev[key]
        ch["Exten"] = ev.get("Exten", ch.get("Exten", ""))
        ch["Linkedid"] = ev.get("Linkedid", ch.get("Linkedid", uid))
        if name == "BridgeEnter":
            ch["BridgeId"] = ev.get("BridgeUniqueid", "")
        elif name == "BridgeLeave":
            ch["BridgeId"] = ""

    # -- a connection ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        parser = FrameParser()
        streaming: asyncio.Task[None] | None = None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                for item in parser.feed(data):
                    if not isinstance(item, Frame):
                        continue
                    request = item.headers
                    self.actions.append(request)
                    if request.get("Action") in self.silent:
                        continue
                    answer, more, close = self._answer(request)
                    if self.switch and answer.get("Response") == "Success":
                        reactions = self._react(request)
                        for ev in reactions:
                            self._apply(ev)
                        more = [*more, *reactions]
                    writer.write(wire(answer))
                    for ev in more:
                        writer.write(wire(ev))
                    await writer.drain()
                    if close:
                        writer.close()
                        return
                    if request.get("Action") == "CoreShowChannels" and streaming is None:
                        self._writer = writer
                        streaming = asyncio.create_task(self._stream(writer))
        except (ConnectionError, OSError):
            return
        finally:
            if streaming is not None and not streaming.done():
                streaming.cancel()

    def _answer(self, req: Mapping[str, str]) -> tuple[dict[str, str], list[dict[str, str]], bool]:
        action = req.get("Action", "")
        aid = {"ActionID": req["ActionID"]} if "ActionID" in req else {}

        def ok(message: str, **extra: str) -> dict[str, str]:
            return {"Response": "Success", **aid, "Message": message, **extra}

        def error(message: str) -> dict[str, str]:
            return {"Response": "Error", **aid, "Message": message}

        if action == "Login":
            good = req.get("Username") == self.username and req.get("Secret") == self.secret
            self.logins.append((req.get("Username", ""), good))
            if not good:
                return error("Authentication failed"), [], True
            booted = {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}
            first = self.events[self.pos : self.pos + self.early]
            for ev in first:
                self._apply(ev)
            self.pos += len(first)
            self.early = 0
            return ok("Authentication accepted"), [booted, *first], False
        if action == "Logoff":
            return {"Response": "Goodbye", **aid, "Message": "Thanks for all the fish."}, [], True
        if action == "Ping":
            return {"Response": "Success", **aid, "Ping": "Pong", "Timestamp": "1598887681.000000"}, [], False
        if action == "CoreShowChannels":
            items = [{"Event": "CoreShowChannel", **aid, **ch} for ch in self.channels.values()]
            done = {
                "Event": "CoreShowChannelsComplete",
                **aid,
                "EventList": "Complete",
                "ListItems": str(len(items)),
            }
            return ok("Channels will follow", EventList="start"), [*items, done], False
        channel_actions = {
            "Originate": ("Channel", "Originate successfully queued"),
            "Redirect": ("Channel", "Redirect successful"),
            "Setvar": ("Channel", "Variable Set"),
            "Bridge": ("Channel1", "Channels have been bridged"),
            "Hangup": ("Channel", "Channel Hungup"),
            "MixMonitor": ("Channel", "Started MixMonitor"),
            "StopMixMonitor": ("Channel", "Stopped MixMonitor"),
            "MixMonitorMute": ("Channel", "MixMonitor muted"),
        }
        if action in channel_actions:
            key, message = channel_actions[action]
            if not req.get(key):
                return error(f"{key} not specified"), [], False
            if action == "Originate" and self.agents.get(req[key]) == "error":
                return error("Originate failed"), [], False
            live = {ch.get("Channel") for ch in self.channels.values()}
            if action != "Originate" and req[key] not in live:
                return error("No such channel"), [], False
            return ok(message), [], False
        return error("Invalid/unknown command"), [], False

    # -- the switch's side of ccx's actions (switch=True) ---------------------------------

    def _channel(self, name: str) -> dict[str, str] | None:
        return next((ch for ch in self.channels.values() if ch.get("Channel") == name), None)

    def _react(self, req: Mapping[str, str]) -> list[dict[str, str]]:
        """The events an action causes right away (after its response); later ones are
        scheduled."""
        action = req.get("Action", "")
        if action == "Originate" and not req.get("Application"):
            self._seq += 1
            endpoint = req["Channel"]
            uid = req.get("ChannelId") or f"1700000000.{self._seq}"
            ch = {"Channel": f"{endpoint}-{self._seq:08x}", "Uniqueid": uid, "Linkedid": uid}
            ch |= {
                "CallerIDNum": req.get("CallerID", ""),
                "Context": req.get("Context", ""),
                "Exten": req.get("Exten", ""),
            }
            behaviour = self.agents.get(endpoint, "answer")
            events = [
                {"Event": "Newchannel", **ch, "ChannelState": "0", "ChannelStateDesc": "Down"},
                {"Event": "Newstate", **ch, "ChannelState": "5", "ChannelStateDesc": "Ringing"},
            ]
            if behaviour in ("reject", "noanswer"):
                cause = {"reject": ("21", "Call Rejected"), "noanswer": ("19", "No answer")}[behaviour]
                events.append({"Event": "Hangup", **ch, "Cause": cause[0], "Cause-txt": cause[1]})
            elif behaviour == "answer":
                up = {"Event": "Newstate", **ch, "ChannelState": "6", "ChannelStateDesc": "Up"}
                self._later(self.answer_after, [up])
            return events
        if action == "Bridge":
            self._seq += 1
            bridge = f"bridge-{self._seq}"
            out = []
            for n, key in enumerate(("Channel1", "Channel2"), 1):
                live = self._channel(req[key])
                if live is not None:
                    base = {k: live[k] for k in ("Channel", "Uniqueid", "Linkedid")}
                    out.append({"Event": "BridgeEnter", **base, "BridgeUniqueid": bridge,
                                "BridgeType": "basic", "BridgeNumChannels": str(n)})  # fmt: skip
            return out
        if action == "Hangup":
            return self.hangup_events(req["Channel"], req.get("Cause", "16"))
        if action == "MixMonitorMute":
            live = self._channel(req["Channel"])
            if live is None:
                return []
            base = {k: live[k] for k in ("Channel", "Uniqueid", "Linkedid")}
            state = req.get("State", "1")
            return [
                {"Event": "MixMonitorMute", **base, "Direction": req.get("Direction", "both"), "State": state}
            ]
        if action == "Setvar":
            self.variables.setdefault(req["Channel"], {})[req.get("Variable", "")] = req.get("Value", "")
            return []
        if action == "Redirect":
            name = req["Channel"]
            n = self._playing[name] = self._playing.get(name, 0) + 1
            if req.get("Context") == "ccx-play":
                self._play(name, n)
        return []

    def _play(self, name: str, n: int) -> None:
        variables = self.variables.get(name, {})
        prompt, play_id = variables.get("CCX_PROMPT", ""), variables.get("CCX_PLAY_ID", "")
        self.plays.append((name, prompt, play_id))

        async def finish() -> None:
            await asyncio.sleep(self.play_s)
            ch = self._channel(name)
            if ch is None or self._playing.get(name) != n:
                return  # hung up, or cut short by another redirect
            base = {k: ch[k] for k in ("Channel", "Uniqueid", "Linkedid")}
            await self.push(
                {
                    "Event": "UserEvent",
                    "Privilege": "user,all",
                    **base,
                    "UserEvent": "CcxPromptFinished",
                    "PlayId": play_id,
                    "Prompt": prompt,
                    "Status": "SUCCESS",
                }
            )

        task = asyncio.create_task(finish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def dtmf(self, channel: str, digits: str) -> None:
        """The caller on `channel` presses `digits` (one `DTMFEnd` each)."""
        ch = self._channel(channel)
        assert ch is not None, f"no live channel {channel}"
        base = {k: ch[k] for k in ("Channel", "Uniqueid", "Linkedid")}
        await self.push(
            *(
                {"Event": "DTMFEnd", **base, "Digit": d, "DurationMs": "120", "Direction": "Received"}
                for d in digits
            )
        )

    def hangup_events(self, channel: str, cause: str = "16") -> list[dict[str, str]]:
        """What the switch reports when `channel` hangs up (nothing if it is not live)."""
        ch = self._channel(channel)
        if ch is None:
            return []
        base = {k: ch[k] for k in ("Channel", "Uniqueid", "Linkedid")}
        out = []
        if ch.get("BridgeId"):
            out.append({"Event": "BridgeLeave", **base, "BridgeUniqueid": ch["BridgeId"]})
        out.append({"Event": "Hangup", **base, "Cause": cause, "Cause-txt": "Normal Clearing"})
        return out

    def _later(self, delay: float, events: list[dict[str, str]]) -> None:
        async def send() -> None:
            await asyncio.sleep(delay)
            await self.push(*events)

        task = asyncio.create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def push(self, *events: Mapping[str, str]) -> None:
        """Send events now to the client that listed the channels (and model them)."""
        writer = self._writer
        for ev in events:
            self._apply(ev)
            if writer is not None and not writer.is_closing():
                writer.write(wire(dict(ev)))
        if writer is not None and not writer.is_closing():
            await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        if self._resend is not None:  # duplicates of what the last connection delivered
            start, end = self._resend
            for ev in self.events[start:end]:
                writer.write(wire(ev))
            self._resend = None
        while self.pos < len(self.events):
            i = self.pos
            data = self.inject.get(i, b"") + wire(self.events[i])
            self._apply(self.events[i])
            self.pos += 1
            await self._send(writer, data)
            if self.drop_at and self.pos >= self.drop_at[0]:
                self.drop_at.pop(0)
                if self.resend:
                    self._resend = (max(0, self.pos - self.resend), self.pos)
                for ev in self.events[self.pos : self.pos + self.lost]:
                    self._apply(ev)  # happens while the client is away: never sent
                self.pos = min(len(self.events), self.pos + self.lost)
                writer.transport.abort()
                return
        self.done.set()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if not self.fragments:
            writer.write(data)
        else:
            i = 0
            while i < len(data):
                n = self.rng.randint(1, self.fragments)
                writer.write(data[i : i + n])
                await writer.drain()
                i += n
        await writer.drain()
